// bigheap is a control that must never be called a leak: a large, fixed live heap
// (-mb of reference data loaded at start) and little garbage per request, so GCs are
// rare (the heap goal is twice the live heap): HeapAlloc climbs for a long time
// between collections, the live heap does not move.
//
//	/work   a small request that reads the reference data
package main

import (
	"flag"
	"fmt"
	"net/http"

	"leakhunter.dev/lab/internal/labhttp"
)

var (
	mb   = flag.Int("mb", 256, "MiB of reference data")
	data [][]byte
)

func main() {
	flag.Parse()
	for i := 0; i < *mb; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = byte(i + j)
		}
		data = append(data, b)
	}
	mux := labhttp.Mux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 4096)
		b[0] = data[len(b)%len(data)][0]
		fmt.Fprintln(w, len(b))
	})
	labhttp.Serve(mux)
}
