// Package labhttp is the common frame of every lab service: net/http/pprof and
// expvar on one loopback listener, the port printed once it accepts connections so
// a test can start the binary with -addr 127.0.0.1:0 and read where it listens.
package labhttp

import (
	"expvar"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
)

// Addr is the listen address; 127.0.0.1:0 picks a free port.
var Addr = flag.String("addr", "127.0.0.1:0", "listen address")

// memProfileRate, when set, records every N-th byte allocated from start-up on
// (1: every allocation), so tests get heap profiles whose rows do not depend on
// sampling luck.
var memProfileRate = flag.Int("memprofilerate", 0, "runtime.MemProfileRate (0: leave the default)")

// noVars and promStats make the service look like one with the Prometheus Go collector
// and no expvar (prometheus itself, and many others): /debug/vars answers 404 and
// /metrics serves the go_memstats_* gauges that collector exports.
var (
	noVars    = flag.Bool("novars", false, "do not serve /debug/vars")
	promStats = flag.Bool("metrics", false, "serve /metrics: go_memstats_* and go_goroutines in Prometheus text format")
)

// Mux returns a mux that already serves /debug/pprof/* and /debug/vars.
func Mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/vars", expvar.Handler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	return mux
}

// Serve listens on *Addr, prints "listening on http://HOST:PORT" to stdout and serves mux.
func Serve(mux *http.ServeMux) {
	if !flag.Parsed() {
		flag.Parse()
	}
	if *memProfileRate > 0 {
		runtime.MemProfileRate = *memProfileRate
	}
	ln, err := net.Listen("tcp", *Addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "listening on http://%s\n", ln.Addr())
	var h http.Handler = mux
	if *noVars || *promStats {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case *noVars && r.URL.Path == "/debug/vars":
				http.NotFound(w, r)
			case *promStats && r.URL.Path == "/metrics":
				writeMemStats(w)
			default:
				mux.ServeHTTP(w, r)
			}
		})
	}
	log.Fatal(http.Serve(ln, h))
}

func writeMemStats(w http.ResponseWriter) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	for _, g := range []struct {
		name string
		v    uint64
	}{
		{"go_memstats_heap_alloc_bytes", m.HeapAlloc},
		{"go_memstats_heap_inuse_bytes", m.HeapInuse},
		{"go_memstats_heap_idle_bytes", m.HeapIdle},
		{"go_memstats_heap_released_bytes", m.HeapReleased},
		{"go_memstats_heap_sys_bytes", m.HeapSys},
		{"go_memstats_stack_inuse_bytes", m.StackInuse},
		{"go_memstats_sys_bytes", m.Sys},
		{"go_goroutines", uint64(runtime.NumGoroutine())},
	} {
		fmt.Fprintf(w, "# TYPE %s gauge\n%s %d\n", g.name, g.name, g.v)
	}
}
