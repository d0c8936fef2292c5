// sleeper is the lab service for LH105 sleeping-goroutine: every request schedules an
// expiry by starting a goroutine that sleeps for a day. The goroutines are not blocked
// on anything unreachable, so the runtime's goroutineleak profile never lists them;
// only their growing count in state `sleep` shows the leak.
//
//	/leak?every=N   one request in N starts a sleeping goroutine
//	/fixed?every=N  the wait is bounded by the request's context
package main

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

const ttl = 24 * time.Hour

var expired atomic.Int64

func expire(key string) { expired.Add(int64(len(key))) }

// scheduleExpiryLeaky forgets key after ttl, one goroutine per call.
func scheduleExpiryLeaky(key string) {
	go func() {
		time.Sleep(ttl) // LEAK: LH105 one goroutine per request sleeps for a day
		expire(key)
	}()
}

// scheduleExpiryFixed waits for ttl or for ctx, whichever ends first.
func scheduleExpiryFixed(ctx context.Context, key string) {
	go func() {
		t := time.NewTimer(ttl)
		defer t.Stop()
		select {
		case <-t.C:
			expire(key)
		case <-ctx.Done():
		}
	}()
}

func main() {
	var leakCalls, fixedCalls atomic.Int64
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", func(w http.ResponseWriter, r *http.Request) {
		if knob.Nth(&leakCalls, knob.Int(r, "every", 1)) {
			scheduleExpiryLeaky(r.URL.Path)
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/fixed", func(w http.ResponseWriter, r *http.Request) {
		if knob.Nth(&fixedCalls, knob.Int(r, "every", 1)) {
			scheduleExpiryFixed(r.Context(), r.URL.Path)
		}
		fmt.Fprintln(w, "ok")
	})
	labhttp.Serve(mux)
}
