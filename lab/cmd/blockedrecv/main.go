// blockedrecv is the lab service for LH102 blocked-receive: a consumer goroutine ranges
// over a channel that its producer closes only on the success path; when the producer
// returns early with an error, the consumer waits for more items forever.
//
//	/leak?every=N   one request in N fails half way: one goroutine leaks
//	/fixed?every=N  the same traffic, with `defer close(ch)`: nothing leaks
package main

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

var errBadItem = errors.New("bad item")

var items = []string{"alpha", "beta", "gamma", "delta"}

// ingestLeaky feeds items to a consumer goroutine and closes the channel when done.
func ingestLeaky(fail bool) error {
	ch := make(chan string)
	var total atomic.Int64
	go func() {
		for it := range ch { // LEAK: LH102 ch is never closed when ingestLeaky fails
			total.Add(int64(len(it)))
		}
	}()
	for i, it := range items {
		if fail && i == len(items)/2 {
			return errBadItem // returns without close(ch)
		}
		ch <- it
	}
	close(ch)
	return nil
}

// ingestFixed closes the channel on every path, so the consumer always ends.
func ingestFixed(fail bool) error {
	ch := make(chan string)
	defer close(ch)
	var total atomic.Int64
	go func() {
		for it := range ch {
			total.Add(int64(len(it)))
		}
	}()
	for i, it := range items {
		if fail && i == len(items)/2 {
			return errBadItem
		}
		ch <- it
	}
	return nil
}

func handler(ingest func(bool) error) http.HandlerFunc {
	var calls atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		err := ingest(knob.Nth(&calls, knob.Int(r, "every", 1)))
		fmt.Fprintln(w, "ingest:", err)
	}
}

func main() {
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", handler(ingestLeaky))
	mux.HandleFunc("/fixed", handler(ingestFixed))
	labhttp.Serve(mux)
}
