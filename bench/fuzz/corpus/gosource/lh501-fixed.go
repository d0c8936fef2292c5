package lh501

import (
	"net/http"
	"reflect"
	"sync"
)

const maxEntries = 1000

type kind int

const (
	kindA kind = iota
	kindB
)

var (
	fmu      sync.Mutex
	cache    = map[string]string{}    // deleted from in evict.go
	capped   = map[string]int{}       // size-checked before inserting
	queue    []string                 // re-sliced when consumed
	byKind   = map[kind]int{}         // keyed by an enum: bounded
	byType   = map[reflect.Type]int{} // keyed by types: bounded by the program
	drivers  = map[string]string{}    // filled by Register from init: bounded by code
	settings = map[string]string{}    // constant keys only
	lazy     map[string]int           // lazily created, then cleared
	once     sync.Once
	onceMap  = map[string]int{}
	onExit   []func() // callback registry: filled by code, not by traffic
)

// OnExit registers a hook.
func OnExit(f func()) {
	fmu.Lock()
	defer fmu.Unlock()
	onExit = append(onExit, f)
}

func init() {
	drivers["builtin"] = "yes"
}

// Register is how other packages' init functions add drivers.
func Register(name, d string) {
	fmu.Lock()
	defer fmu.Unlock()
	drivers[name] = d
}

func put(k, v string) {
	fmu.Lock()
	defer fmu.Unlock()
	cache[k] = v
	if len(capped) >= maxEntries {
		return
	}
	capped[k]++
	queue = append(queue, k)
	byKind[kindA]++
	byType[reflect.TypeOf(v)]++
	settings["last"] = v
	if lazy == nil {
		lazy = make(map[string]int)
	}
	lazy[k]++
	once.Do(func() { onceMap[k] = 1 })
}

func take() string {
	fmu.Lock()
	defer fmu.Unlock()
	if len(queue) == 0 {
		return ""
	}
	q := queue[0]
	queue = queue[1:]
	clear(lazy)
	return q
}

func handler(w http.ResponseWriter, r *http.Request) {
	// a local map shadows nothing long-lived
	cache := map[string]int{}
	cache[r.URL.Path]++
	_ = cache
	w.WriteHeader(http.StatusOK)
}

// perRequest has a mutex and a map but no package-level instance: it lives as long as its owner.
type perRequest struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (p *perRequest) mark(k string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen[k] = true
}

// Fixed keeps the functions referenced so the package vets clean.
func Fixed() {
	put("a", "b")
	_ = take()
	Register("x", "y")
	OnExit(func() {})
	http.HandleFunc("/", handler)
	(&perRequest{seen: map[string]bool{}}).mark("a")
	_ = kindB
}
