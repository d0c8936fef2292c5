// watchheap leaks heap the way services usually do (LH501): each request builds a
// response with short-lived scratch memory (garbage, so the GC runs regularly) and
// also records the request in a global map that nothing ever prunes.
//
//	/leak?kb=K      remember K KiB (default 32) under a new key, forever
//	/fixed?kb=K     the same work with the record dropped after use (the fix)
package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"leakhunter.dev/lab/internal/labhttp"
)

var (
	mu      sync.Mutex
	history = map[int][]byte{}
	nextID  int
)

// respond allocates the scratch a real handler would (encoding, buffers).
func respond(w http.ResponseWriter) {
	scratch := make([]byte, 128<<10)
	for i := 0; i < len(scratch); i += 4096 {
		scratch[i] = byte(i)
	}
	fmt.Fprintln(w, len(scratch))
}

func record(kb int) []byte {
	b := make([]byte, kb<<10)
	for i := 0; i < len(b); i += 512 {
		b[i] = byte(i)
	}
	return b
}

func kb(r *http.Request) int {
	k, _ := strconv.Atoi(r.URL.Query().Get("kb"))
	if k <= 0 {
		k = 32
	}
	return k
}

func leak(w http.ResponseWriter, r *http.Request) {
	rec := record(kb(r))
	mu.Lock()
	nextID++
	history[nextID] = rec // never deleted
	mu.Unlock()
	respond(w)
}

func fixed(w http.ResponseWriter, r *http.Request) {
	rec := record(kb(r))
	_ = rec[0]
	respond(w)
}

func main() {
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", leak)
	mux.HandleFunc("/fixed", fixed)
	labhttp.Serve(mux)
}
