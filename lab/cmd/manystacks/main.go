// manystacks allocates from a chosen number of distinct call stacks, so its heap profile
// has that many samples: the large input of bench/bench_top.py. Each number 0..N-1 is
// spelled out in the call path, one frame per decimal digit (digitD calls walk, which
// calls the next digit's function), and MemProfileRate=1 records every allocation.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"sync"

	"leakhunter.dev/lab/internal/labhttp"
)

var (
	mu   sync.Mutex
	keep [][]byte // every allocation stays live, so inuse_* shows it too
)

func init() {
	runtime.MemProfileRate = 1
}

// walk descends one digit of n per call; at depth 0 it allocates, so the allocation's
// stack spells the number.
func walk(n, depth int) {
	if depth == 0 {
		b := make([]byte, 16+n%64)
		mu.Lock()
		keep = append(keep, b)
		mu.Unlock()
		return
	}
	switch n % 10 {
	case 0:
		digit0(n/10, depth-1)
	case 1:
		digit1(n/10, depth-1)
	case 2:
		digit2(n/10, depth-1)
	case 3:
		digit3(n/10, depth-1)
	case 4:
		digit4(n/10, depth-1)
	case 5:
		digit5(n/10, depth-1)
	case 6:
		digit6(n/10, depth-1)
	case 7:
		digit7(n/10, depth-1)
	case 8:
		digit8(n/10, depth-1)
	case 9:
		digit9(n/10, depth-1)
	}
}

//go:noinline
func digit0(n, depth int) { walk(n, depth) }

//go:noinline
func digit1(n, depth int) { walk(n, depth) }

//go:noinline
func digit2(n, depth int) { walk(n, depth) }

//go:noinline
func digit3(n, depth int) { walk(n, depth) }

//go:noinline
func digit4(n, depth int) { walk(n, depth) }

//go:noinline
func digit5(n, depth int) { walk(n, depth) }

//go:noinline
func digit6(n, depth int) { walk(n, depth) }

//go:noinline
func digit7(n, depth int) { walk(n, depth) }

//go:noinline
func digit8(n, depth int) { walk(n, depth) }

//go:noinline
func digit9(n, depth int) { walk(n, depth) }

// spell allocates once from the stack of every number in [from, to).
func spell(from, to int) {
	for i := from; i < to; i++ {
		depth := len(strconv.Itoa(i))
		walk(i, depth)
	}
}

func main() {
	stacks := flag.Int("stacks", 1000, "distinct allocation stacks to create at start")
	flag.Parse()
	spell(0, *stacks)
	runtime.GC() // publish the allocations in the heap profile
	mux := labhttp.Mux()
	// /alloc?from=&to= adds allocations from more stacks (for diffs between two captures).
	mux.HandleFunc("/alloc", func(w http.ResponseWriter, r *http.Request) {
		from, _ := strconv.Atoi(r.URL.Query().Get("from"))
		to, _ := strconv.Atoi(r.URL.Query().Get("to"))
		if to-from > 10_000_000 {
			http.Error(w, "too many", http.StatusBadRequest)
			return
		}
		spell(from, to)
		runtime.GC()
		fmt.Fprintln(w, "ok")
	})
	labhttp.Serve(mux)
}
