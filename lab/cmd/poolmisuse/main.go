// poolmisuse is the lab service for LH503 pool-misuse: a sync.Pool of bytes.Buffers
// whose users append their request's bytes and Put the buffer back without Reset, so
// each pooled buffer keeps everything every earlier user wrote and grows for as long as
// it stays pooled. The runtime bounds that: a buffer its P did not reuse within one GC
// cycle moves to the pool's victim cache and is freed at the next GC (Go >= 1.13), so
// the live heap climbs and falls back; it climbs for good only while every pooled buffer
// is reused every cycle (steady, high concurrency).
//
//	/leak?bytes=B&every=N   one request in N appends B bytes to a pooled buffer for good
//	/fixed?bytes=B&every=N  Reset before Put, and buffers above 64 KiB are dropped
package main

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"net/http"
	"sync"
	"sync/atomic"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

const maxPooled = 64 << 10

var (
	bufPool   = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	fixedPool = sync.Pool{New: func() any { return new(bytes.Buffer) }} // its own, so /fixed never resets /leak's buffers
	template  = bytes.Repeat([]byte("leakhunter-lab.."), 1<<16)         // 1 MiB
)

// checksumLeaky encodes the payload in a pooled buffer and checksums this request's part.
func checksumLeaky(payload []byte) uint32 {
	buf := bufPool.Get().(*bytes.Buffer)
	start := buf.Len()
	buf.Write(payload) // LEAK: LH503 appends to every earlier payload: the buffer grows here
	sum := crc32.ChecksumIEEE(buf.Bytes()[start:])
	bufPool.Put(buf) // LEAK: LH503 Put without Reset: the pooled buffer keeps every earlier payload
	return sum
}

// checksumFixed resets the buffer before Put and does not pool oversized buffers.
func checksumFixed(payload []byte) uint32 {
	buf := fixedPool.Get().(*bytes.Buffer)
	buf.Reset()
	buf.Write(payload)
	sum := crc32.ChecksumIEEE(buf.Bytes())
	if buf.Cap() <= maxPooled {
		buf.Reset()
		fixedPool.Put(buf)
	}
	return sum
}

func handler(checksum func([]byte) uint32) http.HandlerFunc {
	var calls atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		size := min(knob.Int(r, "bytes", 1024), len(template))
		f := checksumFixed
		if knob.Nth(&calls, knob.Int(r, "every", 1)) {
			f = checksum
		}
		fmt.Fprintf(w, "%08x\n", f(template[:size]))
	}
}

func main() {
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", handler(checksumLeaky))
	mux.HandleFunc("/fixed", handler(checksumFixed))
	labhttp.Serve(mux)
}
