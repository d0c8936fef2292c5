// stackgrowth grows memory outside the Go heap: each request parks a goroutine at the
// bottom of a deep recursion whose frames hold large locals, so its stack grows to
// hundreds of KiB (StackInuse and RSS climb while the live heap stays flat). The
// goroutines wait on a global channel, so they stay reachable: the runtime's
// goroutineleak profile does not report them; only the memory gives them away.
//
//	/deep?depth=D   start one goroutine recursing D frames of ~1 KiB, then parking
package main

import (
	"fmt"
	"net/http"
	"strconv"

	"leakhunter.dev/lab/internal/labhttp"
)

// park is never closed: everything parked here stays parked.
var park = make(chan struct{})

//go:noinline
func descend(d int) byte {
	var frame [1024]byte
	for i := 0; i < len(frame); i += 64 {
		frame[i] = byte(d + i)
	}
	if d <= 0 {
		<-park
		return frame[0]
	}
	return descend(d-1) + frame[d%len(frame)]
}

func deep(w http.ResponseWriter, r *http.Request) {
	d, _ := strconv.Atoi(r.URL.Query().Get("depth"))
	if d <= 0 {
		d = 256
	}
	started := make(chan struct{})
	go func() {
		close(started)
		descend(d)
	}()
	<-started
	fmt.Fprintln(w, "ok")
}

func main() {
	mux := labhttp.Mux()
	mux.HandleFunc("/deep", deep)
	labhttp.Serve(mux)
}
