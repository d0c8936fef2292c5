// Package clean leaves nothing behind, though some goroutines end only after the test returns.
package clean

import (
	"sync"
	"time"
)

// Background runs f after a short delay without waiting for it.
func Background(f func()) {
	go func() {
		time.Sleep(30 * time.Millisecond)
		f()
	}()
}

// Parallel runs n jobs and waits for all.
func Parallel(n int, job func(int)) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			job(i)
		}(i)
	}
	wg.Wait()
}
