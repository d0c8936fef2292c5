// bursty is a control that must never be called a leak: traffic comes in bursts and
// fans out to many goroutines, so the goroutine count swings widely, but every goroutine
// finishes.
//
//	/work?n=N&ms=M   fan out N goroutines that each work up to M ms; respond when all are done
//	-burst-every D -burst-n K   in the background, every D start K goroutines that finish
//	                            within about a second (a batch job, a cache refresh)
//
// /debug/vars publishes work_requests (requests served by /work) and work_inflight_max
// (most /work requests ever in progress at once): the load generator's tests read them.
package main

import (
	"expvar"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

var (
	requests    = expvar.NewInt("work_requests")
	inflight    atomic.Int64
	inflightMax = expvar.NewInt("work_inflight_max")
	maxMu       sync.Mutex

	burstEvery = flag.Duration("burst-every", 3*time.Second, "interval between background bursts (0: none)")
	burstN     = flag.Int("burst-n", 2000, "goroutines per background burst")
)

func work(maxMs int) int {
	time.Sleep(time.Duration(rand.IntN(maxMs*1000+1)) * time.Microsecond)
	buf := make([]byte, 4096)
	return len(buf)
}

func fanOut(n, maxMs int) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := work(maxMs)
			mu.Lock()
			total += v
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total
}

func bursts(every time.Duration, n int) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		go fanOut(n, 1000)
	}
}

func main() {
	flag.Parse()
	if *burstEvery > 0 {
		go bursts(*burstEvery, *burstN)
	}
	mux := labhttp.Mux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		maxMu.Lock()
		if n > inflightMax.Value() {
			inflightMax.Set(n)
		}
		maxMu.Unlock()
		defer inflight.Add(-1)
		fmt.Fprintln(w, fanOut(knob.Int(r, "n", 64), knob.Int(r, "ms", 200)))
		requests.Add(1)
	})
	labhttp.Serve(mux)
}
