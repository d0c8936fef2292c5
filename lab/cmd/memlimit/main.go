// memlimit is a control that must never be called a leak: the GC is off (GOGC=off) and a
// memory limit (GOMEMLIMIT) is the only thing that starts a collection, the setting
// recommended for containers. Each request makes short-lived garbage, so the heap climbs
// to the limit between GCs and drops at each; the live heap stays flat. The settings are
// applied in code (debug.SetGCPercent(-1), debug.SetMemoryLimit) so the service needs no
// environment; run it with GOGC=off GOMEMLIMIT=... for the same effect.
//
//	/work?kb=N   allocate N KiB of garbage (default 64)
package main

import (
	"flag"
	"fmt"
	"net/http"
	"runtime/debug"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

var limit = flag.Int64("limit", 64<<20, "memory limit in bytes (GOMEMLIMIT)")

func main() {
	flag.Parse()
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(*limit)
	mux := labhttp.Mux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, knob.Int(r, "kb", 64)<<10)
		for i := 0; i < len(b); i += 512 {
			b[i] = byte(i)
		}
		fmt.Fprintln(w, len(b))
	})
	labhttp.Serve(mux)
}
