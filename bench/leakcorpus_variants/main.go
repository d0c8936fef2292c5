// Leaks the runtime's goroutineleak profile cannot see, in the style of the Go
// toolchain's testgoroutineleakprofile corpus: the blocked goroutine waits on something
// still reachable from a global (so it could, in principle, be woken), or it is not
// blocked at all but sleeping. Used by bench/leakcorpus.py.
//
//	variants NAME            run one case and print the goroutineleak profile (debug=2)
//	variants -serve NAME     serve /leak (one more leak per request) and net/http/pprof on
//	                         -addr, so `leakhunter soak` can watch it grow
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	rpprof "runtime/pprof"
	"sync"
	"time"
)

var (
	results = make(chan int) // package-level: reachable forever, nobody receives
	jobs    = make(chan int) // package-level: reachable forever, nobody sends or closes
	pending sync.WaitGroup   // package-level: Add without Done
)

// GlobalChanSend blocks sending on a channel reachable from a global.
func GlobalChanSend() {
	go func() {
		results <- 42
	}()
}

// GlobalChanRecv blocks receiving from a channel reachable from a global.
func GlobalChanRecv() {
	go func() {
		for j := range jobs {
			_ = j
		}
	}()
}

// GlobalWaitGroup waits on a package-level WaitGroup whose Done never comes.
func GlobalWaitGroup() {
	pending.Add(1)
	go func() {
		pending.Wait()
	}()
}

// Sleeping parks a goroutine for a day.
func Sleeping() {
	go func() {
		time.Sleep(24 * time.Hour)
	}()
}

var cases = map[string]func(){
	"GlobalChanSend":  GlobalChanSend,
	"GlobalChanRecv":  GlobalChanRecv,
	"GlobalWaitGroup": GlobalWaitGroup,
	"Sleeping":        Sleeping,
}

func main() {
	serve := flag.Bool("serve", false, "serve /leak and pprof instead of printing one profile")
	addr := flag.String("addr", "127.0.0.1:0", "listen address with -serve")
	flag.Parse()
	f := cases[flag.Arg(0)]
	if f == nil {
		fmt.Fprintln(os.Stderr, "unknown case:", flag.Arg(0))
		os.Exit(2)
	}
	if !*serve {
		f()
		for i := 0; i < 10; i++ {
			runtime.Gosched()
		}
		time.Sleep(10 * time.Millisecond)
		if err := rpprof.Lookup("goroutineleak").WriteTo(os.Stdout, 2); err != nil {
			log.Fatal(err)
		}
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/leak", func(w http.ResponseWriter, r *http.Request) {
		f()
		fmt.Fprintln(w, "ok")
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}
