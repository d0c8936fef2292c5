// Package lh501 holds long-lived maps and slices that only ever grow.
package lh501

import (
	"net/http"
	"sync"
)

type session struct{ id string }

var (
	mu       sync.Mutex
	sessions = map[string]*session{}
	byUser   = make(map[string][]string)
	events   []string
	visits   sync.Map
)

// login adds a session per id and never removes one.
func login(id string) {
	mu.Lock()
	defer mu.Unlock()
	sessions[id] = &session{id: id} // want LH501
}

func track(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	mu.Lock()
	byUser[user] = append(byUser[user], r.URL.Path) // want LH501
	events = append(events, r.URL.Path)             // want LH501
	mu.Unlock()
	visits.Store(r.URL.Path, true) // want LH501
	w.WriteHeader(http.StatusNoContent)
}

// registry is a shared, mutex-guarded cache whose entries are never dropped.
type registry struct {
	mu      sync.Mutex
	clients map[string]int
}

var defaultRegistry = &registry{clients: map[string]int{}}

func (r *registry) add(name string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clients[name] += n // want LH501
}

// Use keeps the functions referenced so the package vets clean.
func Use() {
	login("a")
	defaultRegistry.add("a", 1)
	http.HandleFunc("/track", track)
}
