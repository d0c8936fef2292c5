// Package lh304 holds AfterFunc timers stopped on some paths only.
package lh304

import (
	"net"
	"time"
)

// send stops the watchdog on success only.
func send(conn net.Conn, payload []byte, timeout time.Duration) error {
	t := time.AfterFunc(timeout, func() { conn.Close() }) // want LH304
	if _, err := conn.Write(payload); err != nil {
		return err
	}
	t.Stop()
	return nil
}
