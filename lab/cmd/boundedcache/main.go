// boundedcache is a control that must be called a plateau, not a leak: a cache with
// a fixed capacity fills under load (the heap climbs), then evicts the oldest entry
// for each new one (the heap stays flat).
//
//	/get?key=K&size=S   look K up; on a miss store S bytes (default 16 KiB) under K;
//	                    every request also builds a 256 KiB scratch response (garbage),
//	                    as a real handler would, so the GC runs regularly
//	-max N              capacity in entries (default 1000)
package main

import (
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"leakhunter.dev/lab/internal/labhttp"
)

var (
	maxEntries = flag.Int("max", 1000, "cache capacity in entries")
	mu         sync.Mutex
	entries    = map[string][]byte{}
	order      []string // FIFO of keys, oldest first
)

func get(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	size, _ := strconv.Atoi(r.URL.Query().Get("size"))
	if size <= 0 {
		size = 16 << 10
	}
	scratch := make([]byte, 256<<10)
	for i := 0; i < len(scratch); i += 4096 {
		scratch[i] = byte(i)
	}
	defer func() { _ = scratch[len(scratch)-1] }()
	mu.Lock()
	defer mu.Unlock()
	if v, ok := entries[key]; ok {
		fmt.Fprintln(w, "hit", len(v))
		return
	}
	for len(order) >= *maxEntries {
		delete(entries, order[0])
		order = order[1:]
	}
	v := make([]byte, size)
	for i := 0; i < len(v); i += 512 {
		v[i] = byte(i)
	}
	entries[key] = v
	order = append(order, key)
	fmt.Fprintln(w, "miss", len(entries))
}

func main() {
	flag.Parse()
	mux := labhttp.Mux()
	mux.HandleFunc("/get", get)
	labhttp.Serve(mux)
}
