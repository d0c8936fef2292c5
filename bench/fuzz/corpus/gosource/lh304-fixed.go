package lh304

import (
	"net"
	"time"
)

// deferStop cancels the callback on every path.
func deferStop(conn net.Conn, payload []byte, timeout time.Duration) error {
	t := time.AfterFunc(timeout, func() { conn.Close() })
	defer t.Stop()
	_, err := conn.Write(payload)
	return err
}

// fireAndForget: a deliberate delayed action, not reported.
func fireAndForget(d time.Duration, rotate func()) {
	time.AfterFunc(d, rotate)
}

type session struct{ idle *time.Timer }

// stored: the struct owns the timer.
func (s *session) arm(d time.Duration, expire func()) {
	t := time.AfterFunc(d, expire)
	s.idle = t
}

// neverStopped: nothing says the author meant to cancel it.
func neverStopped(d time.Duration, expire func()) bool {
	t := time.AfterFunc(d, expire)
	return t != nil
}
