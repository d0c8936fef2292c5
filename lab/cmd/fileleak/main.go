// fileleak is the lab service for LH404 file-not-closed: each request opens a file (the
// service's own executable), reads its header and returns without Close. The runtime closes
// an unreachable *os.File only when a garbage collection finds it, so open descriptors climb
// between collections; a service whose heap is large (here: -ballast, the classic GC-tuning trick) collects
// rarely and runs out of descriptors first.
//
//	/leak?every=N   one request in N leaves its file open
//	/fixed?every=N  `defer f.Close()`
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
	"sync/atomic"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

// readHeaderLeaky returns the first bytes of path.
func readHeaderLeaky(path string) ([]byte, error) {
	f, err := os.Open(path) // LEAK: LH404 f is never closed: one descriptor per call until a GC finds it
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 16)
	n, err := f.Read(buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// readHeaderFixed closes the file on every path.
func readHeaderFixed(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 16)
	n, err := f.Read(buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

func handler(path string, read func(string) ([]byte, error)) http.HandlerFunc {
	var calls atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		f := readHeaderFixed
		if knob.Nth(&calls, knob.Int(r, "every", 1)) {
			f = read
		}
		hdr, err := f(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%q\n", hdr)
	}
}

var ballastMiB = flag.Int("ballast", 256, "MiB of never-touched ballast that makes collections rare (0: none)")

func main() {
	flag.Parse()
	// The file each request opens is the service's own executable: it exists for as long as the
	// service runs, so no run leaves a data file (or a temporary directory) behind.
	path, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	ballast := make([]byte, *ballastMiB<<20)
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", handler(path, readHeaderLeaky))
	mux.HandleFunc("/fixed", handler(path, readHeaderFixed))
	defer runtime.KeepAlive(ballast)
	labhttp.Serve(mux)
}
