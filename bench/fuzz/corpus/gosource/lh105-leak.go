// Package lh105 holds sleeping-goroutine cases: leaking ones carry a want marker.
package lh105

import (
	"net/http"
	"sync"
	"time"
)

var (
	mu    sync.Mutex
	store = map[string]string{}
)

const evictAfter = 10 * time.Minute

func evict(k string) {
	mu.Lock()
	defer mu.Unlock()
	delete(store, k)
}

// Handle parks one goroutine per request for ten minutes.
func Handle(w http.ResponseWriter, r *http.Request) {
	k := r.URL.Path
	go func() {
		time.Sleep(evictAfter) // want LH105
		evict(k)
	}()
	w.WriteHeader(http.StatusNoContent)
}

// Remember waits on time.After for a day.
func Remember(k string) {
	go func() {
		<-time.After(24 * time.Hour) // want LH105
		evict(k)
	}()
}

// Pointless sleeps in a goroutine of its own.
func Pointless() {
	go time.Sleep(2 * time.Hour) // want LH105
}
