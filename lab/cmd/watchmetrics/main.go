// watchmetrics serves Prometheus text metrics the way a service instrumented with the
// Prometheus Go client does (process_* from /proc/self, go_* from the runtime), so
// `watch --metrics URL` is tested against real numbers of a real process. It also
// leaks file descriptors on request (LH404: a file opened and never closed).
//
//	/metrics          process_resident_memory_bytes, process_open_fds,
//	                  process_start_time_seconds, go_goroutines, go_threads, go_memstats_*
//	/leak/fd?n=N      open N handles on /dev/null and keep them forever
package main

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"

	"leakhunter.dev/lab/internal/labhttp"
)

var (
	mu    sync.Mutex
	files []*os.File
)

func leakFD(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if n <= 0 {
		n = 1
	}
	for i := 0; i < n; i++ {
		f, err := os.Open(os.DevNull)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		mu.Lock()
		files = append(files, f) // never closed
		mu.Unlock()
	}
	fmt.Fprintln(w, "ok")
}

func startTime() float64 {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ticks, _ := strconv.ParseFloat(fields[19], 64)
	uptime, _ := os.ReadFile("/proc/stat")
	for _, line := range strings.Split(string(uptime), "\n") {
		if strings.HasPrefix(line, "btime ") {
			btime, _ := strconv.ParseFloat(strings.TrimSpace(line[6:]), 64)
			return btime + ticks/100 // USER_HZ is 100 on Linux
		}
	}
	return 0
}

var started = startTime()

func metrics(w http.ResponseWriter, r *http.Request) {
	statm, _ := os.ReadFile("/proc/self/statm")
	f := strings.Fields(string(statm))
	rssPages, _ := strconv.ParseFloat(f[1], 64)
	fds, _ := os.ReadDir("/proc/self/fd")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(w, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n")
	fmt.Fprintf(w, "# TYPE process_resident_memory_bytes gauge\n")
	fmt.Fprintf(w, "process_resident_memory_bytes %g\n", rssPages*float64(os.Getpagesize()))
	fmt.Fprintf(w, "process_open_fds %d\n", len(fds))
	fmt.Fprintf(w, "process_start_time_seconds %g\n", started)
	fmt.Fprintf(w, "go_goroutines %d\n", runtime.NumGoroutine())
	fmt.Fprintf(w, "go_threads %d\n", pprof.Lookup("threadcreate").Count())
	fmt.Fprintf(w, "go_memstats_heap_alloc_bytes %d\n", ms.HeapAlloc)
	fmt.Fprintf(w, "go_memstats_heap_inuse_bytes %d\n", ms.HeapInuse)
	fmt.Fprintf(w, "go_memstats_heap_idle_bytes %d\n", ms.HeapIdle)
	fmt.Fprintf(w, "go_memstats_heap_released_bytes %d\n", ms.HeapReleased)
	fmt.Fprintf(w, "go_memstats_heap_sys_bytes %d\n", ms.HeapSys)
	fmt.Fprintf(w, "go_memstats_stack_inuse_bytes %d\n", ms.StackInuse)
	fmt.Fprintf(w, "go_memstats_sys_bytes %d\n", ms.Sys)
	fmt.Fprintf(w, "go_gc_duration_seconds{quantile=\"0.5\"} 1e-05\n")
}

func main() {
	mux := labhttp.Mux()
	mux.HandleFunc("/metrics", metrics)
	mux.HandleFunc("/leak/fd", leakFD)
	labhttp.Serve(mux)
}
