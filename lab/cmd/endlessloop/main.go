// endlessloop is the lab service for LH103 endless-goroutine: each session starts an
// event loop that has no way out (no return, no ctx.Done, no quit channel), so every
// session ever opened keeps one goroutine parked on its event channel.
//
//	/leak?every=N   one request in N opens a session: one goroutine leaks
//	/fixed?every=N  the loop returns on ctx.Done and the handler cancels it
package main

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

type session struct {
	events chan string
	seen   atomic.Int64
}

// openSessionLeaky starts the session's event loop; nothing can ever stop it.
func openSessionLeaky() *session {
	s := &session{events: make(chan string, 8)}
	go func() {
		for { // LEAK: LH103 no return, no ctx.Done: the loop outlives its session
			ev := <-s.events // LEAK: LH103 parked here forever once the session is dropped
			s.seen.Add(int64(len(ev)))
		}
	}()
	return s
}

// openSessionFixed starts the same loop, ended by the caller's context.
func openSessionFixed(ctx context.Context) *session {
	s := &session{events: make(chan string, 8)}
	go func() {
		for {
			select {
			case ev := <-s.events:
				s.seen.Add(int64(len(ev)))
			case <-ctx.Done():
				return
			}
		}
	}()
	return s
}

func main() {
	var leakCalls, fixedCalls atomic.Int64
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", func(w http.ResponseWriter, r *http.Request) {
		if knob.Nth(&leakCalls, knob.Int(r, "every", 1)) {
			s := openSessionLeaky()
			s.events <- r.URL.Path
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/fixed", func(w http.ResponseWriter, r *http.Request) {
		if knob.Nth(&fixedCalls, knob.Int(r, "every", 1)) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := openSessionFixed(ctx)
			s.events <- r.URL.Path
		}
		fmt.Fprintln(w, "ok")
	})
	labhttp.Serve(mux)
}
