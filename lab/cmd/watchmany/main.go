// watchmany simulates a fleet for the watch capacity benchmark: one process serving
// the pprof + expvar mux on N loopback ports, as if N services each exposed their own
// /debug/pprof. Every port answers from the same real runtime, so each scrape costs
// what scraping a real small service costs.
//
//	-n N    number of listeners (default 500); each prints "listening on http://..."
//
// /debug/pprof/goroutineleak answers 404 here, as on a Go 1.25 service: the fleet
// shares one runtime, and that profile runs a GC cycle per request, so N simulated
// services would make this one process run N collections per interval — a cost a
// real fleet spreads over N processes.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"leakhunter.dev/lab/internal/labhttp"
)

func main() {
	n := flag.Int("n", 500, "number of listeners")
	flag.Parse()
	mux := labhttp.Mux()
	mux.HandleFunc("/debug/pprof/goroutineleak", http.NotFound)
	for i := 0; i < *n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(os.Stdout, "listening on http://%s\n", ln.Addr())
		go func() { log.Fatal(http.Serve(ln, mux)) }()
	}
	fmt.Fprintln(os.Stdout, "ready")
	select {}
}
