// Package subpar leaks from a subtest and from a parallel test.
package subpar

import "time"

// Race returns whichever of two lookups answers first; the slower one blocks forever.
func Race() string {
	ch := make(chan string)
	go func() { ch <- "fast" }()
	go func() {
		time.Sleep(time.Millisecond)
		ch <- "slow"
	}()
	return <-ch
}

// Pair waits for both, so nothing is left behind.
func Pair() int {
	ch := make(chan int, 2)
	go func() { ch <- 1 }()
	go func() { ch <- 2 }()
	return <-ch + <-ch
}
