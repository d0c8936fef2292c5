// bodyleak is the lab service for LH401 http-body-not-closed: each request asks an
// upstream (an in-process server on loopback) for its status and never closes the
// response body, so the connection can be neither reused nor closed: its two transport
// goroutines (readLoop, writeLoop), the upstream's serving goroutine and two file
// descriptors stay for the life of the process.
//
//	/leak?every=N   one request in N drops an unclosed body
//	/fixed?every=N  the body is drained and closed: one kept-alive connection serves all
package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

// No Client.Timeout on purpose: its timer would eventually cancel the body and hide the leak,
// as the default client does not.
var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}

// fetchStatusLeaky returns the upstream's status code.
func fetchStatusLeaky(url string) (int, error) {
	resp, err := client.Get(url) // LEAK: LH401 the body is never closed: its connection and goroutines stay
	if err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// fetchStatusFixed drains and closes the body so the connection goes back to the pool.
func fetchStatusFixed(url string) (int, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func handler(upstream string, fetch func(string) (int, error)) http.HandlerFunc {
	var calls atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		f := fetchStatusFixed
		if knob.Nth(&calls, knob.Int(r, "every", 1)) {
			f = fetch
		}
		code, err := f(upstream)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintln(w, "upstream:", code)
	}
}

func main() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `{"status":"ok"}`)
	}))
	defer upstream.Close()
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", handler(upstream.URL, fetchStatusLeaky))
	mux.HandleFunc("/fixed", handler(upstream.URL, fetchStatusFixed))
	labhttp.Serve(mux)
}
