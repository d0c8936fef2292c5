// subslice is the lab service for LH502 subslice-retention: each request reads a record
// of B bytes and keeps its first 16 bytes as a tag in a ring of recent tags. The tag is a
// sub-slice, so it pins the whole record: the ring, meant to hold 16 bytes a slot, holds B.
// The ring is bounded (-ring slots), so the heap grows until the ring wraps, then stays
// -ring×B bytes too large.
//
//	/leak?bytes=B&every=N   one request in N keeps a tag that pins B bytes
//	/fixed?bytes=B&every=N  the tag is copied into the ring's own 16 bytes
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

const tagLen = 16

var (
	ringSlots = flag.Int("ring", 16384, "slots in the ring of recent tags")
	ringMu    sync.Mutex
	tags      [][]byte
	tagCopies [][tagLen]byte
	pos       int
	template  = bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB of record bytes
)

func record(size int) io.Reader {
	return bytes.NewReader(template[:min(max(size, tagLen), len(template))])
}

// recordTagLeaky reads a record and remembers its tag.
func recordTagLeaky(src io.Reader) error {
	rec, err := io.ReadAll(src) // LEAK: LH502 allocated here, kept alive by its tag below
	if err != nil {
		return err
	}
	ringMu.Lock()
	tags[pos%len(tags)] = rec[0:tagLen] // LEAK: LH502 the 16-byte tag pins the whole record
	pos++
	ringMu.Unlock()
	return nil
}

// recordTagFixed copies the tag out of the record, which is then garbage.
func recordTagFixed(src io.Reader) error {
	rec, err := io.ReadAll(src)
	if err != nil {
		return err
	}
	ringMu.Lock()
	copy(tagCopies[pos%len(tagCopies)][:], rec[:tagLen])
	pos++
	ringMu.Unlock()
	return nil
}

func handler(recordTag func(io.Reader) error) http.HandlerFunc {
	var calls atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		size := knob.Int(r, "bytes", 1024)
		f := recordTagFixed
		if knob.Nth(&calls, knob.Int(r, "every", 1)) {
			f = recordTag
		}
		if err := f(record(size)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	}
}

func main() {
	flag.Parse()
	tags = make([][]byte, *ringSlots)
	tagCopies = make([][tagLen]byte, *ringSlots)
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", handler(recordTagLeaky))
	mux.HandleFunc("/fixed", handler(recordTagFixed))
	labhttp.Serve(mux)
}
