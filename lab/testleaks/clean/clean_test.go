package clean

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestBackground(t *testing.T) {
	var n atomic.Int32
	Background(func() { n.Add(1) })
}

func TestParallelJobs(t *testing.T) {
	var n atomic.Int32
	Parallel(8, func(int) { n.Add(1) })
	if n.Load() != 8 {
		t.Fatal(n.Load())
	}
}

func TestServerClosed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
}
