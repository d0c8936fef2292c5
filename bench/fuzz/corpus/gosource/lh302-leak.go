// Package lh302 holds time.Tick calls in functions that return.
package lh302

import "time"

// waitReady returns once ready, leaving the ticker running.
func waitReady(ready func() bool) {
	for range time.Tick(10 * time.Millisecond) { // want LH302
		if ready() {
			return
		}
	}
}

// tickN keeps a Tick channel in a variable and returns.
func tickN(n int) int {
	c := time.Tick(time.Millisecond) // want LH302
	for i := 0; i < n; i++ {
		<-c
	}
	return n
}
