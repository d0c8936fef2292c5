// sawtooth is a control that must never be called a leak: every request allocates
// large short-lived buffers (HeapAlloc climbs and drops with each GC, the classic
// sawtooth of a healthy Go service), while the live heap after GC stays flat.
//
//	/work?mb=N   allocate N MiB in 64 KiB chunks, each touched, summed and dropped
//	             before the next (HeapAlloc climbs by N MiB per request between GCs)
package main

import (
	"fmt"
	"net/http"
	"strconv"

	"leakhunter.dev/lab/internal/labhttp"
)

// keep is a small, fixed live set so the post-GC heap is not empty.
var keep = make([][]byte, 64)

// chunk is a variable, not a constant, so each make below is a real heap
// allocation (a constant 64 KiB make that does not escape may live on the stack).
var chunk = 64 << 10

func work(w http.ResponseWriter, r *http.Request) {
	mb, _ := strconv.Atoi(r.URL.Query().Get("mb"))
	if mb <= 0 {
		mb = 8
	}
	sum := 0
	for i := 0; i < mb*16; i++ {
		b := make([]byte, chunk)
		for j := 0; j < len(b); j += 4096 {
			b[j] = byte(i + j)
		}
		sum += int(b[len(b)/2])
	}
	fmt.Fprintln(w, sum)
}

func main() {
	for i := range keep {
		keep[i] = make([]byte, 16<<10)
	}
	mux := labhttp.Mux()
	mux.HandleFunc("/work", work)
	labhttp.Serve(mux)
}
