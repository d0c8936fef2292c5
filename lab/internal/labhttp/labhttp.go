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
	log.Fatal(http.Serve(ln, mux))
}
