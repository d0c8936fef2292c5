// cleanupcycle is the lab service for LH504 finalizer-cycle, shaped like OPA v1.18.0's leak
// (opa#8817, real leaks set 3): each request compiles a policy into a new set, then asks the set
// for a rule's labels. The set caches them under a weak pointer to the rule and registers a
// cleanup to drop the entry when the rule dies; the cleanup closure captures the set, and the set
// holds the rule. The runtime keeps a cleanup's function alive while its object lives, so the
// rule never dies, the cleanup never runs, and every compiled policy stays alive. The heap
// profile names where the policies were allocated (compile), never what keeps them: the leak's
// line is not on any of their stacks.
//
//	/leak?bytes=B&every=N   one request in N asks the caching set (B bytes of policy each)
//	/fixed?bytes=B&every=N  the set computes the labels on each call: no cache, no cleanup
package main

import (
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"weak"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

// Rule is one compiled rule: its name and its compiled body.
type Rule struct {
	Name string
	Body []byte
}

// Set holds a compile's rules with their labels, and a cache of merged labels.
type Set struct {
	byRule map[*Rule][]string
	merged sync.Map // weak.Pointer[Rule] -> []string
}

// compile builds a new set of one rule whose body is size bytes.
func compile(size int) (*Set, *Rule) {
	r := &Rule{Name: "allow", Body: make([]byte, size)}
	for i := range r.Body {
		r.Body[i] = byte(i)
	}
	return &Set{byRule: map[*Rule][]string{r: {"team=payments", "tier=1"}}}, r
}

// mergedLabelsLeaky caches the rule's labels and drops the entry when the rule is collected.
func (s *Set) mergedLabelsLeaky(r *Rule) []string {
	k := weak.Make(r)
	if v, ok := s.merged.Load(k); ok {
		return v.([]string)
	}
	labels := s.byRule[r]
	s.merged.Store(k, labels)
	runtime.AddCleanup(r, func(k weak.Pointer[Rule]) { s.merged.Delete(k) }, k) // LEAK: LH504 the closure holds s, s holds r
	return labels
}

// mergedLabelsFixed computes the labels on each call (OPA v1.18.1).
func (s *Set) mergedLabelsFixed(r *Rule) []string {
	return s.byRule[r]
}

func handler(leaky bool) http.HandlerFunc {
	var calls atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		set, rule := compile(knob.Int(r, "bytes", 1024))
		labels := set.mergedLabelsFixed(rule)
		if leaky && knob.Nth(&calls, knob.Int(r, "every", 1)) {
			labels = set.mergedLabelsLeaky(rule)
		}
		fmt.Fprintln(w, len(labels))
	}
}

func main() {
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", handler(true))
	mux.HandleFunc("/fixed", handler(false))
	labhttp.Serve(mux)
}
