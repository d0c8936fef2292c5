// wgdone is the lab service for LH106 waitgroup-missing-done: a background batch job
// counts a goroutine per item with wg.Add but skips wg.Done on the bad-item path, so
// the job's wg.Wait never returns.
//
//	/leak?every=N   one batch in N contains a bad item: the job's goroutine leaks
//	/fixed?every=N  `defer wg.Done()` first thing: every job finishes
package main

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

var processed atomic.Int64

// processBatchLeaky sums the items in parallel.
func processBatchLeaky(items []int) int64 {
	var wg sync.WaitGroup
	var sum atomic.Int64
	for _, it := range items {
		wg.Add(1)
		go func(it int) {
			if it < 0 {
				return // LEAK: LH106 this path never calls wg.Done
			}
			sum.Add(int64(it))
			wg.Done() // LEAK: LH106 not deferred: the early return above skips it
		}(it)
	}
	wg.Wait() // LEAK: LH106 waits forever for the missing Done
	return sum.Load()
}

// processBatchFixed calls Done on every path.
func processBatchFixed(items []int) int64 {
	var wg sync.WaitGroup
	var sum atomic.Int64
	for _, it := range items {
		wg.Add(1)
		go func(it int) {
			defer wg.Done()
			if it < 0 {
				return
			}
			sum.Add(int64(it))
		}(it)
	}
	wg.Wait()
	return sum.Load()
}

func handler(process func([]int) int64) http.HandlerFunc {
	var calls atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		batch := []int{1, 2, 3}
		if knob.Nth(&calls, knob.Int(r, "every", 1)) {
			batch = append(batch, -1)
		}
		go func() { processed.Add(process(batch)) }()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintln(w, "queued")
	}
}

func main() {
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", handler(processBatchLeaky))
	mux.HandleFunc("/fixed", handler(processBatchFixed))
	labhttp.Serve(mux)
}
