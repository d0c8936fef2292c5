// fdchurn is a control that must never be called a leak: node-exporter's pattern. Every
// request reads many small /proc and /sys files, in a few goroutines at once (as
// node-exporter runs its collectors), and closes each one itself; none is left to a
// garbage collection. At 50 requests/s that is thousands of files opened and closed per
// second, so whenever a reading of the open descriptors falls inside a request it sees
// some of them open (a healthy Debian node-exporter was called "files the code never
// closed" by soak's files-closed-by-the-GC test: bench/RESULTS-realservices.md, case 5).
//
//	/work?files=N&par=P   read N files in P goroutines (defaults 64 and 4); respond when done
//	/work?ms=M&par=P      the same for at least M ms (whatever the machine's speed)
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

// The files node-exporter's collectors read, or their like; all exist on any Linux.
var paths = []string{
	"/proc/self/stat", "/proc/self/status", "/proc/self/statm", "/proc/self/limits",
	"/proc/stat", "/proc/meminfo", "/proc/loadavg", "/proc/uptime", "/proc/vmstat",
	"/proc/net/dev", "/proc/net/snmp", "/proc/diskstats", "/sys/kernel/mm/transparent_hugepage/enabled",
}

// readOne opens path, reads it whole and closes it: the file lives for microseconds.
func readOne(path string, buf []byte) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	for {
		m, err := f.Read(buf)
		n += m
		if err == io.EOF || err != nil || m == 0 {
			return n
		}
	}
}

func work(files, par int, d time.Duration) int64 {
	deadline := time.Now().Add(d)
	var total atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < par; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 8192)
			for {
				i := next.Add(1) - 1
				if (d == 0 && i >= int64(files)) || (d > 0 && time.Now().After(deadline)) {
					return
				}
				total.Add(int64(readOne(paths[i%int64(len(paths))], buf)))
			}
		}()
	}
	wg.Wait()
	return total.Load()
}

func main() {
	mux := labhttp.Mux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		ms := 0
		if r.URL.Query().Has("ms") {
			ms = knob.Int(r, "ms", 0)
		}
		n := work(knob.Int(r, "files", 64), knob.Int(r, "par", 4), time.Duration(ms)*time.Millisecond)
		fmt.Fprintf(w, "read %d bytes\n", n)
	})
	labhttp.Serve(mux)
}
