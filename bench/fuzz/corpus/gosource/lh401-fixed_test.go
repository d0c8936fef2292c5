package lh401

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Tests discard the responses of requests that are meant to fail.
func TestRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	if _, err := http.Get(srv.URL); err == nil {
		t.Fatal("want an error from a closed server")
	}
}
