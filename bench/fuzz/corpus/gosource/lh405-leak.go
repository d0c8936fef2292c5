// Package lh405 holds releasing defers written directly in loops.
package lh405

import (
	"context"
	"io"
	"os"
	"sync"
	"time"
)

// openAll keeps every file open until the function returns.
func openAll(paths []string) error {
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close() // want LH405
		if _, err := io.Copy(io.Discard, f); err != nil {
			return err
		}
	}
	return nil
}

// lockInLoop deadlocks on the second item: the unlock waits for the return.
func lockInLoop(mu *sync.Mutex, items []int) int {
	total := 0
	for _, it := range items {
		mu.Lock()
		defer mu.Unlock() // want LH405
		total += it
	}
	return total
}

// cancelInLoop keeps every context's timer until the function returns.
func cancelInLoop(ctx context.Context, urls []string, fetch func(context.Context, string) error) {
	for _, u := range urls {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel() // want LH405
		_ = fetch(cctx, u)
	}
}
