// lazypool is a control that must never be called a leak: a worker pool started on the
// first request (sync.Once), the usual Go idiom for an expensive resource. The goroutine
// count jumps by -workers once and then stays there: a step, not a trend.
//
//	/work   hands a job to the pool and waits for its answer
package main

import (
	"flag"
	"fmt"
	"net/http"
	"sync"

	"leakhunter.dev/lab/internal/labhttp"
)

var (
	workers = flag.Int("workers", 64, "workers the pool starts on first use")

	once sync.Once
	jobs chan chan int
)

func start() {
	jobs = make(chan chan int)
	for i := 0; i < *workers; i++ {
		go func() {
			buf := make([]byte, 32<<10) // each worker's scratch buffer
			for reply := range jobs {
				buf[0]++
				reply <- len(buf)
			}
		}()
	}
}

func main() {
	flag.Parse()
	mux := labhttp.Mux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		once.Do(start)
		reply := make(chan int, 1)
		jobs <- reply
		fmt.Fprintln(w, <-reply)
	})
	labhttp.Serve(mux)
}
