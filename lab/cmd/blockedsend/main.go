// blockedsend is the lab service for LH101 blocked-send: a lookup runs in a goroutine
// that answers on an unbuffered channel; when the caller's deadline passes first, the
// caller stops listening and the worker blocks on its send forever.
//
//	/leak?every=N   one request in N has its deadline already spent: one goroutine leaks
//	/fixed?every=N  the same traffic, with a buffered channel: nothing leaks
package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

// lookupLeaky waits for a worker's answer or the deadline, whichever comes first.
func lookupLeaky(ctx context.Context, key string) (string, error) {
	ch := make(chan string)
	go func() {
		ch <- slowLookup(key) // LEAK: LH101 nobody receives once ctx is done
	}()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// lookupFixed is lookupLeaky with room for the answer: the worker's send never blocks.
func lookupFixed(ctx context.Context, key string) (string, error) {
	ch := make(chan string, 1)
	go func() {
		ch <- slowLookup(key)
	}()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func slowLookup(key string) string {
	time.Sleep(2 * time.Millisecond)
	return strings.ToUpper(key)
}

func handler(lookup func(context.Context, string) (string, error)) http.HandlerFunc {
	var calls atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		budget := time.Second
		if knob.Nth(&calls, knob.Int(r, "every", 1)) {
			budget = 0 // this request arrives with its deadline already spent
		}
		ctx, cancel := context.WithTimeout(r.Context(), budget)
		defer cancel()
		v, err := lookup(ctx, "key")
		if err != nil {
			v = "fallback"
		}
		fmt.Fprintln(w, v)
	}
}

func main() {
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", handler(lookupLeaky))
	mux.HandleFunc("/fixed", handler(lookupFixed))
	labhttp.Serve(mux)
}
