// warmup is a control that must never be called a leak: after start it loads a fixed
// data set slowly (-warm, 100 steps, -total bytes), the way a service fills its caches or
// reference tables, and then stays flat. A soak whose own warm-up is shorter than this
// sees the heap climb for a while and then level off: a plateau, not a leak.
//
//	/work   reads from the loaded table
package main

import (
	"flag"
	"fmt"
	"net/http"
	"sync"
	"time"

	"leakhunter.dev/lab/internal/labhttp"
)

const steps = 100

var (
	warm  = flag.Duration("warm", 25*time.Second, "how long loading the table takes")
	total = flag.Int("total", 48<<20, "bytes in the table once loaded")

	mu     sync.RWMutex
	table  [steps][]byte // fixed size: the data set is bounded by construction
	loaded int
)

func load() {
	chunk := *total / steps
	for i := 0; i < steps; i++ {
		b := make([]byte, chunk)
		for j := range b {
			b[j] = byte(i + j)
		}
		mu.Lock()
		table[i] = b
		loaded = i + 1
		mu.Unlock()
		time.Sleep(*warm / steps)
	}
}

func main() {
	flag.Parse()
	go load()
	mux := labhttp.Mux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		mu.RLock()
		n := loaded
		var sum int
		if n > 0 && len(table[n-1]) > 0 {
			sum = int(table[n-1][0])
		}
		mu.RUnlock()
		fmt.Fprintln(w, n, sum)
	})
	labhttp.Serve(mux)
}
