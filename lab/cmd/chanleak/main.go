// chanleak leaks goroutines blocked on a channel send (LH101) and grows a global map
// (LH501): the two most common leaks, used by the profile-engine tests.
package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"leakhunter.dev/lab/internal/labhttp"
)

var (
	mu    sync.Mutex
	cache = map[string][]byte{}
)

// leakSend starts a goroutine whose send nobody receives once the caller timed out.
func leakSend(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if n <= 0 {
		n = 1
	}
	for i := 0; i < n; i++ {
		ch := make(chan int)
		go func() {
			ch <- compute() // blocks forever: the receiver below gave up
		}()
		select {
		case v := <-ch:
			_ = v
		case <-time.After(time.Millisecond):
		}
	}
	fmt.Fprintln(w, "ok")
}

func compute() int {
	time.Sleep(5 * time.Millisecond)
	return 42
}

// grow stores a fresh buffer under a new key on every call and never deletes.
func grow(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if n <= 0 {
		n = 1
	}
	size, _ := strconv.Atoi(r.URL.Query().Get("size"))
	if size <= 0 {
		size = 4096
	}
	mu.Lock()
	for i := 0; i < n; i++ {
		cache[strconv.Itoa(len(cache))] = make([]byte, size)
	}
	mu.Unlock()
	fmt.Fprintln(w, "ok")
}

func main() {
	mux := labhttp.Mux()
	mux.HandleFunc("/leak/send", leakSend)
	mux.HandleFunc("/leak/map", grow)
	labhttp.Serve(mux)
}
