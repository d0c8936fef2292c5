package lh405

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// perIteration moves the body into a func literal: the defer runs each time.
func perIteration(paths []string) error {
	for _, p := range paths {
		if err := func() error {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(io.Discard, f)
			return err
		}(); err != nil {
			return err
		}
	}
	return nil
}

// firstThatOpens returns right after the defer: the loop never goes on.
func firstThatOpens(paths []string) ([]byte, error) {
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		defer f.Close()
		return io.ReadAll(f)
	}
	return nil, os.ErrNotExist
}

// breakAfter leaves the loop after deferring.
func breakAfter(paths []string) (n int) {
	for _, p := range paths {
		f, err := os.Open(p)
		if err == nil {
			defer f.Close()
			n++
			break
		}
	}
	return n
}

// nothingReleased: deferred calls that release nothing.
func nothingReleased(paths []string) {
	for _, p := range paths {
		defer fmt.Println("done", p)
		defer os.Remove(p)
	}
}

// cleanupOnFailure closes only if the function fails.
func cleanupOnFailure(paths []string) (files []*os.File, err error) {
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				f.Close()
			}
		}()
		files = append(files, f)
	}
	return files, nil
}

// lockOnce takes the lock on the first matching item only, guarded by a flag.
func lockOnce(mu interface{ Lock(); Unlock() }, items []int) int {
	locked := false
	n := 0
	for _, it := range items {
		if it > 0 && !locked {
			n++
		}
		if !locked {
			mu.Lock()
			defer mu.Unlock()
			locked = true
		}
		n += it
	}
	return n
}

// fallbackOnce starts the fallback when its timer fires, which happens once.
func fallbackOnce(ctx context.Context, results <-chan error, start func(context.Context)) error {
	fallbackTimer := time.NewTimer(300 * time.Millisecond)
	defer fallbackTimer.Stop()
	for {
		select {
		case <-fallbackTimer.C:
			fctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go start(fctx)
		case err := <-results:
			if err == nil {
				return nil
			}
		}
	}
}

// twoFiles: a range over a literal of two names holds at most two open files.
func twoFiles(dir string) error {
	for _, name := range []string{"a", "b"} {
		f, err := os.Open(dir + "/" + name)
		if err != nil {
			return err
		}
		defer f.Close()
	}
	for i := 0; i < 3; i++ {
		f, err := os.Open(fmt.Sprint(dir, i))
		if err != nil {
			return err
		}
		defer f.Close()
	}
	return nil
}

var _ = twoFiles
