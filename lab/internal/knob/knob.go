// Package knob reads the per-request leak-rate knobs every lab service shares, so a
// test or benchmark sets how much a request leaks (?bytes=1024, ?every=100) without
// rebuilding the service.
package knob

import (
	"net/http"
	"strconv"
	"sync/atomic"
)

// Int returns the query parameter name as an int, or def when it is absent or not positive.
func Int(r *http.Request, name string, def int) int {
	v, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || v <= 0 {
		return def
	}
	return v
}

// Nth counts a call and reports whether it is the every-th one (every=1: each call),
// so "one leak per 100 requests" is ?every=100.
func Nth(counter *atomic.Int64, every int) bool {
	if every <= 0 {
		every = 1
	}
	return counter.Add(1)%int64(every) == 0
}
