// slowwarm is a control that must never be called a leak: a cache over a bounded key
// space (-keys, 4500 by default), each request asking for a key drawn at random, the
// answer built (-size bytes) and kept on the key's first request. After r requests it
// holds keys x (1 - exp(-r/keys)) entries: at 50 requests/s the live heap climbs with
// a decay time of keys/50 = 90 s and levels off (95%) after about 4.5 minutes, slower
// and slower all along. A soak shorter than that sees the whole window climb, as
// node-exporter's heap did over a 3-minute soak (issue 9); only the rate falls.
//
//	/get   the cached answer for a random key (built and kept on its first request)
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"

	"leakhunter.dev/lab/internal/labhttp"
)

var (
	keys = flag.Int("keys", 4500, "size of the key space: the cache's bound")
	size = flag.Int("size", 1024, "bytes per cached answer")

	mu    sync.Mutex
	cache [][]byte // one slot per key, allocated at start: bounded by construction
)

func get(key int) int {
	mu.Lock()
	defer mu.Unlock()
	if cache[key] == nil {
		v := make([]byte, *size)
		for i := range v {
			v[i] = byte(key + i)
		}
		cache[key] = v
	}
	return len(cache[key])
}

func main() {
	flag.Parse()
	cache = make([][]byte, *keys)
	mux := labhttp.Mux()
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		// Some garbage per request, as a real handler makes, so the GC runs on its own too.
		scratch := make([]byte, 16<<10)
		scratch[0] = 1
		fmt.Fprintln(w, get(rand.IntN(*keys)), len(scratch))
	})
	labhttp.Serve(mux)
}
