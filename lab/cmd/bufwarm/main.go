// bufwarm is a control that must never be called a leak: a journal kept in one bytes.Buffer
// that every request appends to until it holds -max bytes (12 MiB), after which requests are
// served without writing. A bytes.Buffer grows by doubling, so the live heap climbs in steps
// whose treads double (at 100 requests/s of 4 KiB: 2, 4, 8 and 16 MiB of capacity at about
// 5, 10 and 20 s) and then stays flat for good: the staircase a leaking pooled buffer draws
// (poolmisuse) up to its bound, the honest control for any rule that reads steps.
//
//	/add?bytes=B   append B bytes to the journal while it is below its bound
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"sync"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

var (
	limit = flag.Int("max", 12<<20, "bytes the journal holds at most")

	mu      sync.Mutex
	journal bytes.Buffer
	chunk   = bytes.Repeat([]byte("leakhunter-lab.."), 1<<12) // 64 KiB
)

func add(n int) int {
	mu.Lock()
	defer mu.Unlock()
	if journal.Len()+n <= *limit {
		journal.Write(chunk[:min(n, len(chunk))])
	}
	return journal.Len()
}

func main() {
	mux := labhttp.Mux()
	mux.HandleFunc("/add", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, add(knob.Int(r, "bytes", 4096)))
	})
	labhttp.Serve(mux)
}
