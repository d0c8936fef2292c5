// Package lh404 holds files and connections not closed on some path.
package lh404

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
)

// readErr returns on a read error before closing.
func readErr(path string) ([]byte, error) {
	f, err := os.Open(path) // want LH404
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	f.Close()
	return data, nil
}

// scannerNeverClosed wraps the file in a scanner and never closes it.
func scannerNeverClosed(path string) (int, error) {
	f, err := os.Open(path) // want LH404
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

// dialLeak returns on a write error with the connection open.
func dialLeak(addr string) error {
	c, err := net.Dial("tcp", addr) // want LH404
	if err != nil {
		return err
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		return err
	}
	return c.Close()
}

// dialerLeak never closes a connection from a net.Dialer.
func dialerLeak(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr) // want LH404
	if err != nil {
		return err
	}
	_, err = c.Write(nil)
	return err
}

// createLeak writes and forgets to close.
func createLeak(path string, data []byte) error {
	f, err := os.Create(path) // want LH404
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return err
}

// listenLeak returns on a failed Accept with the listener open.
func listenLeak() (net.Conn, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // want LH404
	if err != nil {
		return nil, err
	}
	c, err := ln.Accept()
	if err != nil {
		return nil, err
	}
	ln.Close()
	return c, nil
}
