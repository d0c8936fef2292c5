// tickerleak is the lab service for LH301 ticker-not-stopped. It lives in its own module
// with `go 1.22` in go.mod because since Go 1.23 an unreferenced ticker is collected even
// when nobody stops it, but only for main modules that say go >= 1.23: below that, the
// toolchain sets GODEBUG asynctimerchan=1 and every ticker that is never stopped stays in
// the runtime's timer heap forever. Go 1.27 removed asynctimerchan, so built with 1.27 this
// service no longer leaks (lab/README.md has the measurements).
//
//	/leak?n=K&every=N   one request in N waits on K tickers it never stops
//	/fixed?n=K&every=N  `defer t.Stop()`
package main

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"leakhunter.dev/lab/go122/internal/labhttp"
)

var ready = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// waitReadyLeaky waits until ready, giving up after an hour.
func waitReadyLeaky(ready <-chan struct{}) bool {
	t := time.NewTicker(time.Hour) // LEAK: LH301 never stopped: with go 1.22 semantics it is never collected
	select {
	case <-ready:
		return true
	case <-t.C:
		return false
	}
}

// waitReadyFixed stops its ticker on return.
func waitReadyFixed(ready <-chan struct{}) bool {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	select {
	case <-ready:
		return true
	case <-t.C:
		return false
	}
}

func intParam(r *http.Request, name string, def int) int {
	var v int
	if _, err := fmt.Sscan(r.URL.Query().Get(name), &v); err != nil || v <= 0 {
		return def
	}
	return v
}

func handler(wait func(<-chan struct{}) bool) http.HandlerFunc {
	var calls atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		ok := 0
		if calls.Add(1)%int64(intParam(r, "every", 1)) == 0 {
			for i := 0; i < intParam(r, "n", 8); i++ {
				if wait(ready) {
					ok++
				}
			}
		}
		fmt.Fprintln(w, "ready", ok)
	}
}

func main() {
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", handler(waitReadyLeaky))
	mux.HandleFunc("/fixed", handler(waitReadyFixed))
	labhttp.Serve(mux)
}
