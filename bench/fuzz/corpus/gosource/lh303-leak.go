// Package lh303 holds time.After calls in selects inside loops.
package lh303

import "time"

// consume makes a new one-minute timer for every message.
func consume(msgs <-chan string, flush func()) {
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				return
			}
			_ = m
		case <-time.After(time.Minute): // want LH303
			flush()
		}
	}
}

// busy has a default case: a new pending timer on every pass.
func busy(stop <-chan struct{}, work func() bool) {
	for work() {
		select {
		case <-time.After(time.Second): // want LH303
			return
		default:
		}
	}
	<-stop
}
