// unboundedmap is the lab service for LH501 unbounded-map: a package-level map gets a
// new entry per request and nothing ever deletes from it.
//
//	/leak?bytes=B&every=N   one request in N stores B more bytes, forever
//	/fixed?bytes=B&every=N  the same store with a size cap and eviction (-cap entries)
package main

import (
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

var (
	mu      sync.Mutex
	seen    = map[string][]byte{}
	bounded = map[string][]byte{}
	maxSize = flag.Int("cap", 256, "entries the fixed store keeps")
	nextID  atomic.Int64
)

// rememberLeaky keeps a copy of the request's payload under a new key.
func rememberLeaky(key string, size int) {
	mu.Lock()
	seen[key] = make([]byte, size) // LEAK: LH501 a new entry per request; nothing ever deletes
	mu.Unlock()
}

// rememberFixed keeps at most *maxSize entries, evicting an arbitrary one when full.
func rememberFixed(key string, size int) {
	mu.Lock()
	defer mu.Unlock()
	if len(bounded) >= *maxSize {
		for k := range bounded {
			delete(bounded, k)
			break
		}
	}
	bounded[key] = make([]byte, size)
}

func handler(remember func(string, int)) http.HandlerFunc {
	var calls atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		if knob.Nth(&calls, knob.Int(r, "every", 1)) {
			remember(strconv.FormatInt(nextID.Add(1), 10), knob.Int(r, "bytes", 1024))
		}
		fmt.Fprintln(w, "ok")
	}
}

func main() {
	flag.Parse()
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", handler(rememberLeaky))
	mux.HandleFunc("/fixed", handler(rememberFixed))
	labhttp.Serve(mux)
}
