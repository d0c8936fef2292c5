// warmcache is a control that must never be called a leak: a response cache that is
// filled by the traffic itself for its first -fill (20 s) after the first request, one
// -size entry per request, and then stops growing (later requests are served from it).
// Under a soak with the default 10 s warm-up the observed heap climbs for ~10 s and then
// stays flat: a warm-up, not a leak.
//
//	/get?key=K   the cached answer for K (filled while the cache is warming)
package main

import (
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"leakhunter.dev/lab/internal/labhttp"
)

var (
	fill = flag.Duration("fill", 20*time.Second, "how long the cache keeps filling after the first request")
	size = flag.Int("size", 8192, "bytes per cached entry")

	mu    sync.Mutex
	first time.Time
	cache = map[string][]byte{}
)

func get(key string) int {
	mu.Lock()
	defer mu.Unlock()
	if first.IsZero() {
		first = time.Now()
	}
	if v, ok := cache[key]; ok {
		return len(v)
	}
	if time.Since(first) < *fill {
		v := make([]byte, *size)
		for i := range v {
			v[i] = byte(i)
		}
		cache[key] = v
		return len(v)
	}
	return 0
}

func main() {
	flag.Parse()
	mux := labhttp.Mux()
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Query().Get("key")
		if key == "" {
			key = strconv.Itoa(int(time.Now().UnixNano() % 1000))
		}
		fmt.Fprintln(w, get(key))
	})
	labhttp.Serve(mux)
}
