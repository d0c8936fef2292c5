// goroutinelab starts goroutines in chosen blocking states so the goroutine-dump
// tests and benchmark read real dumps from a real runtime:
//
//	/block?kind=K&n=N   start N goroutines blocked in state K: chansend, chanrecv, select,
//	                    mutex, waitgroup, cond, sleep, iowait; and the edge cases deep (a
//	                    stack the runtime elides), inpanic (blocked in a deferred call while
//	                    panicking), labeled (pprof labels), spin (on the CPU for 20 s).
//	                    They stay reachable from globals: the runtime never calls them leaked
//	/leak?n=N           start N goroutines blocked on a channel nothing else references:
//	                    real leaks, reported by /debug/pprof/goroutineleak
//	/spawn?n=N          start N goroutines spread over several distinct blocking stacks
//	                    (the benchmark's realistic mix)
//	/panic[?kind=nilptr] crash the process from a new goroutine: a nil map write, or a
//	                    nil pointer (SIGSEGV); a real crash log on stderr (run with
//	                    GOTRACEBACK=all to get every goroutine in it)
//	/count              runtime.NumGoroutine()
//	/stacks             runtime.Stack(all) without net/http/pprof's 64 MB cap; header
//	                    X-Num-Goroutine: runtime.NumGoroutine, equal before and after it
//
// /debug/vars also publishes "goroutines" (runtime.NumGoroutine) through expvar.
package main

import (
	"context"
	"expvar"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"leakhunter.dev/lab/internal/labhttp"
)

// Everything blocked goroutines wait on hangs off these globals, so the runtime's
// leak detector sees them as reachable (blocked, not leaked).
var (
	sendCh  = make(chan int)
	recvCh  = make(chan int)
	selA    = make(chan int)
	selB    = make(chan string)
	heldMu  sync.Mutex     // locked in init, never unlocked
	wg      sync.WaitGroup // Add(1) in init, never Done
	condMu  sync.Mutex
	cond    = sync.NewCond(&condMu)
	pipesMu sync.Mutex
	pipes   []*os.File
)

func blockSend() { sendCh <- 1 }
func blockRecv() { <-recvCh }
func blockSelect() {
	select {
	case <-selA:
	case selB <- "x":
	}
}

func init() {
	heldMu.Lock()
	wg.Add(1)
}

func blockMutex()     { heldMu.Lock() }
func blockWaitGroup() { wg.Wait() }

func blockCond() {
	condMu.Lock()
	for {
		cond.Wait()
	}
}

func blockSleep() { time.Sleep(24 * time.Hour) }

func blockIO() {
	r, w, err := os.Pipe()
	if err != nil {
		return
	}
	pipesMu.Lock()
	pipes = append(pipes, r, w)
	pipesMu.Unlock()
	buf := make([]byte, 1)
	_, _ = r.Read(buf) // nobody writes: IO wait in the netpoller
}

// blockDeep recurses past the runtime's traceback limit (100 frames) before blocking,
// so debug=2 dumps elide the middle of its stack ("...N frames elided...").
//
//go:noinline
func blockDeep(depth int) {
	if depth > 0 {
		blockDeep(depth - 1)
		return
	}
	blockRecv()
}

// blockInPanic blocks inside a deferred call while panicking: its stack shows a
// `panic(...)` frame between the deferred function and the one that panicked.
func blockInPanic() {
	defer func() {
		<-recvCh
	}()
	var p *request
	_ = p.id // nil dereference: a runtime panic
}

// labeledN counts labeled goroutines, so each one carries its own label value.
var labeledN atomic.Int64

// blockLabeled blocks with pprof labels set (as a request-scoped worker would have):
// Go 1.27 prints them in debug=2 headers (`[chan receive] {job: 3, kind: export}:`)
// and debug=1 shows `# labels:` lines.
func blockLabeled() {
	id := strconv.FormatInt(labeledN.Add(1), 10)
	pprof.Do(context.Background(), pprof.Labels("job", id, "kind", "export"), func(context.Context) {
		blockRecv()
	})
}

// spin runs on the CPU (bounded to 20 s): a goroutine that is running, not parked.
func spin() {
	end := time.Now().Add(20 * time.Second)
	for x := 0; time.Now().Before(end); x++ {
		_ = x
	}
}

var kinds = map[string]func(){
	"deep":      func() { blockDeep(150) },
	"inpanic":   blockInPanic,
	"spin":      spin,
	"labeled":   blockLabeled,
	"chansend":  blockSend,
	"chanrecv":  blockRecv,
	"select":    blockSelect,
	"mutex":     blockMutex,
	"waitgroup": blockWaitGroup,
	"cond":      blockCond,
	"sleep":     blockSleep,
	"iowait":    blockIO,
}

// leakOne blocks forever sending on a channel that only this goroutine knows:
// unreachable from any runnable goroutine, so goroutineleak reports it.
func leakOne() {
	ch := make(chan int)
	go func() {
		ch <- 1
	}()
}

func count(r *http.Request) int {
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if n <= 0 {
		n = 1
	}
	return n
}

func block(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("kind")
	f, ok := kinds[kind]
	if !ok {
		http.Error(w, "unknown kind "+kind, http.StatusBadRequest)
		return
	}
	n := count(r)
	for i := 0; i < n; i++ {
		go f()
	}
	settle(n)
	fmt.Fprintln(w, "ok")
}

func leak(w http.ResponseWriter, r *http.Request) {
	n := count(r)
	for i := 0; i < n; i++ {
		leakOne()
	}
	settle(n)
	fmt.Fprintln(w, "ok")
}

// request is per-goroutine state: its address, printed as an argument in debug=2
// dumps, differs between goroutines of one stack, as in a real service.
type request struct {
	id  int
	buf [48]byte
}

// Deeper call chains for the benchmark, so stacks look like a service's, not a toy's.
//
//go:noinline
func serveA(depth int, req *request) {
	if depth > 0 {
		serveA(depth-1, req)
		req.buf[1]++ // live across the call: spilled, so the dump prints the real pointer
		return
	}
	req.buf[0] = byte(req.id)
	blockSend()
	req.buf[2]++
}

//go:noinline
func serveB(depth int, req *request) {
	if depth > 0 {
		serveB(depth-1, req)
		req.buf[1]++
		return
	}
	req.buf[0] = byte(req.id)
	blockSelect()
	req.buf[2]++
}

//go:noinline
func workerLoop(id int, req *request) {
	req.id = id
	blockRecv()
	req.buf[id%len(req.buf)]++
}

// spawn starts n goroutines over a realistic mix: most blocked on channel work,
// some waiting on locks and timers.
func spawn(w http.ResponseWriter, r *http.Request) {
	n := count(r)
	for i := 0; i < n; i++ {
		switch i % 10 {
		case 0, 1, 2:
			go serveA(3, &request{id: i})
		case 3:
			go serveA(6, &request{id: i})
		case 4, 5:
			go serveB(2, &request{id: i})
		case 6, 7:
			go workerLoop(i, &request{id: i})
		case 8:
			go blockMutex()
		default:
			go blockSleep()
		}
	}
	settle(n)
	fmt.Fprintln(w, "ok")
}

// settle gives the new goroutines time to run up to their blocking call and park,
// so a dump taken right after the response shows them blocked, not runnable.
func settle(n int) {
	runtime.Gosched()
	time.Sleep(50*time.Millisecond + time.Duration(n/1000)*time.Millisecond)
}

func crash() {
	var m map[string]int
	m["boom"]++ // assignment to entry in nil map: a runtime panic, as in a real crash
}

func crashNil() {
	var p *request
	p.buf[3] = 1 // nil pointer dereference: SIGSEGV, reported as a panic
}

func stacks(w http.ResponseWriter, r *http.Request) {
	// NumGoroutine and Stack(all) are two moments: goroutines of a connection that just
	// closed may exit in between. Take the count before and after and retry until they
	// agree, so the header is the number of goroutines the dump holds.
	var buf []byte
	n := 0
	for attempt := 0; attempt < 20; attempt++ {
		before := runtime.NumGoroutine()
		buf = dumpAll(before)
		n = runtime.NumGoroutine()
		if n == before {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.Header().Set("X-Num-Goroutine", strconv.Itoa(n))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(buf)
}

// dumpAll is runtime.Stack(all) without net/http/pprof's 64 MB cap.
func dumpAll(n int) []byte {
	// Each attempt walks every stack with the world stopped: size the buffer for the
	// goroutines there are (about 1 KB each) instead of doubling up from 1 MB.
	buf := make([]byte, max(1<<20, n*1024))
	for {
		m := runtime.Stack(buf, true)
		if m < len(buf) {
			return buf[:m]
		}
		buf = make([]byte, 2*len(buf))
	}
}

func main() {
	expvar.Publish("goroutines", expvar.Func(func() any { return runtime.NumGoroutine() }))
	mux := labhttp.Mux()
	mux.HandleFunc("/block", block)
	mux.HandleFunc("/leak", leak)
	mux.HandleFunc("/spawn", spawn)
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, runtime.NumGoroutine())
	})
	mux.HandleFunc("/stacks", stacks)
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
		w.(http.Flusher).Flush()
		if r.URL.Query().Get("kind") == "nilptr" {
			go crashNil()
		} else {
			go crash()
		}
		time.Sleep(time.Second)
	})
	labhttp.Serve(mux)
}
