package lh105

import (
	"context"
	"net/http"
	"time"
)

// HandleAfterFunc: no parked goroutine.
func HandleAfterFunc(w http.ResponseWriter, r *http.Request) {
	k := r.URL.Path
	time.AfterFunc(evictAfter, func() { evict(k) })
	w.WriteHeader(http.StatusNoContent)
}

// ShortSleep: a short, bounded delay.
func ShortSleep(k string) {
	go func() {
		time.Sleep(50 * time.Millisecond)
		evict(k)
	}()
}

// Bounded: the wait also ends with ctx.
func Bounded(ctx context.Context, k string) {
	go func() {
		select {
		case <-time.After(time.Hour):
			evict(k)
		case <-ctx.Done():
		}
	}()
}

// Periodic: a sleep inside a loop is a periodic job (LH103's business).
func Periodic(ctx context.Context) {
	go func() {
		for ctx.Err() == nil {
			time.Sleep(time.Hour)
		}
	}()
}

// Variable: not a constant; we do not guess.
func Variable(d time.Duration, k string) {
	go func() {
		time.Sleep(d)
		evict(k)
	}()
}
