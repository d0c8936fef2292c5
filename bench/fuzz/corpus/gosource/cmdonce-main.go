// Command cmdonce: a command's background loop started once from main is the
// process's own service, not a leak; the same loop started from a handler is.
package main

import (
	"net/http"
	"time"
)

type stats struct{ n int }

// startSampler runs once per process: it is only called from main.
func startSampler(s *stats) {
	go func() {
		for {
			time.Sleep(time.Second)
			s.n++
		}
	}()
}

// perRequest is called from a handler, so each request leaves one more loop.
func perRequest(s *stats) {
	go func() {
		for { // want LH103
			time.Sleep(time.Second)
			s.n++
		}
	}()
}

func main() {
	s := &stats{}
	startSampler(s)
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { perRequest(&stats{}) })
	_ = http.ListenAndServe("127.0.0.1:0", nil)
}
