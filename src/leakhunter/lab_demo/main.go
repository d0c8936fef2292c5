// The `leakhunter demo` service: a tiny shop whose price lookup leaks a goroutine every
// time the pricing backend is slower than the request's deadline. Standard library only,
// one file, so `leakhunter demo` can build it anywhere Go is installed.
//
//	/price?item=NAME   the item's price, or a cached fallback when the backend is slow
//	/debug/pprof/      net/http/pprof, which leakhunter watches
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

// fetchPrice asks the pricing backend, giving up when ctx is done.
func fetchPrice(ctx context.Context, item string) (int, error) {
	result := make(chan int)
	go func() {
		result <- backendPrice(item) // blocks forever once fetchPrice has given up
	}()
	select {
	case p := <-result:
		return p, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// backendPrice is the slow dependency: 0-10 ms.
func backendPrice(item string) int {
	time.Sleep(time.Duration(rand.Intn(10_000)) * time.Microsecond)
	return 100 + len(item)
}

func price(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Millisecond)
	defer cancel()
	item := r.URL.Query().Get("item")
	p, err := fetchPrice(ctx, item)
	if err != nil {
		p = 99 // the cached fallback price
	}
	fmt.Fprintf(w, "%s: %d\n", item, p)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/price", price)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "listening on http://%s\n", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}
