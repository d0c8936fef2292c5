// unreadsends is the lab service for LH104 unread-sends: a request asks every replica
// and takes the first answer from an unbuffered channel; the other replicas' senders
// block forever.
//
//	/leak?replicas=R&every=N   one request in N asks R replicas: R-1 goroutines leak
//	/fixed?replicas=R&every=N  the channel has room for every answer: nothing leaks
package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

func query(key string, replica int) string {
	time.Sleep(time.Duration(replica) * 100 * time.Microsecond)
	return key + "@" + strconv.Itoa(replica)
}

// firstReplicaLeaky returns the fastest replica's answer.
func firstReplicaLeaky(key string, replicas int) string {
	ch := make(chan string)
	for i := 0; i < replicas; i++ {
		go func(i int) {
			ch <- query(key, i) // LEAK: LH104 only the first answer is read; the others block forever
		}(i)
	}
	return <-ch
}

// firstReplicaFixed is the same with a buffer for every sender.
func firstReplicaFixed(key string, replicas int) string {
	ch := make(chan string, replicas)
	for i := 0; i < replicas; i++ {
		go func(i int) {
			ch <- query(key, i)
		}(i)
	}
	return <-ch
}

func handler(first func(string, int) string) http.HandlerFunc {
	var calls atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		replicas := 1
		if knob.Nth(&calls, knob.Int(r, "every", 1)) {
			replicas = knob.Int(r, "replicas", 2)
		}
		fmt.Fprintln(w, first("k", replicas))
	}
}

func main() {
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", handler(firstReplicaLeaky))
	mux.HandleFunc("/fixed", handler(firstReplicaFixed))
	labhttp.Serve(mux)
}
