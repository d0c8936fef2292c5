// wave is a control that must never be called a leak: besides the steady load it
// serves, it runs its own traffic wave (a batch consumer whose arrival rate follows a
// sine of period -period between 0 and -peak jobs/s). Each job is a goroutine holding
// -size bytes for -hold, so goroutines and live heap rise for half a period and fall for
// the other half.
//
//	/work   a small steady request
package main

import (
	"flag"
	"fmt"
	"math"
	"net/http"
	"time"

	"leakhunter.dev/lab/internal/labhttp"
)

var (
	period = flag.Duration("period", 40*time.Second, "period of the wave")
	peak   = flag.Float64("peak", 40, "jobs per second at the crest")
	hold   = flag.Duration("hold", time.Second, "how long a job lives")
	size   = flag.Int("size", 32<<10, "bytes a job holds")
)

func job() {
	b := make([]byte, *size)
	for i := range b {
		b[i] = byte(i)
	}
	time.Sleep(*hold)
	_ = b[len(b)-1]
}

func waves() {
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	acc := 0.0
	for range tick.C {
		phase := 2 * math.Pi * time.Since(start).Seconds() / period.Seconds()
		rate := *peak * (1 - math.Cos(phase)) / 2
		acc += rate * 0.01
		for ; acc >= 1; acc-- {
			go job()
		}
	}
}

func main() {
	flag.Parse()
	go waves()
	mux := labhttp.Mux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 2048)
		fmt.Fprintln(w, len(b))
	})
	labhttp.Serve(mux)
}
