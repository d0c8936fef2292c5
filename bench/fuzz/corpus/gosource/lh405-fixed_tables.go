package lh405

import (
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"os"
)

// twoNets ranges over a local table of two entries: at most two listeners held.
func twoNets() error {
	nets := []string{"tcp", "tcp4"}
	for _, n := range nets {
		ln, err := net.Listen(n, "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
	}
	return nil
}

// keepAll needs every file after the loop: the deferred Close is the intended lifetime.
func keepAll(paths []string) ([]io.Reader, error) {
	var rs []io.Reader
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		rs = append(rs, f)
	}
	return rs, nil
}

// serveEach hands every conn to a goroutine that outlives its iteration.
func serveEach(addrs []string, done chan<- error) error {
	for _, a := range addrs {
		c, err := net.Dial("tcp", a)
		if err != nil {
			return err
		}
		defer c.Close()
		go func() { _, err := io.Copy(io.Discard, c); done <- err }()
	}
	return nil
}

// inMemory closes gzip readers over byte slices: nothing scarce is held.
func inMemory(blobs [][]byte) (int64, error) {
	var total int64
	for _, b := range blobs {
		in := bytes.NewReader(b)
		zr, err := gzip.NewReader(in)
		if err != nil {
			return 0, err
		}
		defer zr.Close()
		n, err := io.Copy(io.Discard, zr)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

var _, _, _, _ = twoNets, keepAll, serveEach, inMemory
