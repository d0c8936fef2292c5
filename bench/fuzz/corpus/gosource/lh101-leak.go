// Package lh101 holds blocked-send cases: leaking ones carry a want marker.
package lh101

import (
	"context"
	"errors"
	"sync"
	"time"
)

func slowCall() int { time.Sleep(time.Millisecond); return 1 }

// Timeout: the receiver gives up on ctx.Done().
func Timeout(ctx context.Context) (int, error) {
	ch := make(chan int)
	go func() {
		ch <- slowCall() // want LH101
	}()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// TimeAfter: the receiver gives up after a deadline.
func TimeAfter() error {
	done := make(chan error)
	go func() {
		time.Sleep(time.Millisecond)
		done <- nil // want LH101
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Second):
		return errors.New("timeout")
	}
}

// EarlyReturn: an error check returns before the receive.
func EarlyReturn(err error) int {
	ch := make(chan int)
	go func() {
		ch <- slowCall() // want LH101
	}()
	if err != nil {
		return 0
	}
	return <-ch
}

// SelectFallsThrough: the select does not return, but nothing receives afterwards.
func SelectFallsThrough(stop chan struct{}) {
	res := make(chan int, 0)
	go func() {
		res <- slowCall() // want LH101
	}()
	select {
	case <-res:
	case <-stop:
	}
}

// NobodyReceives: the owner never receives at all.
func NobodyReceives() {
	ch := make(chan int)
	go func() {
		ch <- 1 // want LH101
	}()
}

// worker is handed the channel by a go statement and only sends on it.
func worker(out chan<- int) {
	out <- slowCall() // want LH101
}

// HandedToWorker: the send happens in a same-file function started with go.
func HandedToWorker(ctx context.Context) int {
	out := make(chan int)
	go worker(out)
	select {
	case v := <-out:
		return v
	case <-ctx.Done():
		return -1
	}
}

// NilChan: a nil channel never receives.
func NilChan() {
	var c chan int
	go func() {
		c <- 0 // want LH101
	}()
}

// Default: a non-blocking receive may miss the send.
func Default() int {
	ch := make(chan int)
	go func() {
		ch <- slowCall() // want LH101
	}()
	time.Sleep(time.Millisecond)
	select {
	case v := <-ch:
		return v
	default:
		return 0
	}
}

// WaitBeforeReceive: Wait needs the Done that comes after the send.
func WaitBeforeReceive(items []int) int {
	var wg sync.WaitGroup
	results := make(chan int)
	for _, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- it * 2 // want LH101
		}()
	}
	wg.Wait()
	close(results)
	sum := 0
	for r := range results {
		sum += r
	}
	return sum
}

// InlineSend sends on a channel made on the spot.
func InlineSend() {
	go func() {
		make(chan int) <- 0 // want LH101
	}()
}

func produce(out chan<- int, n int) {
	for i := 0; i < n; i++ {
		out <- i // want LH101
	}
}

// ConsumerStopsEarly: the range returns on the first bad value; the producer blocks.
func ConsumerStopsEarly(n int) error {
	ch := make(chan int, 4)
	go func() {
		defer close(ch)
		produce(ch, n)
	}()
	for v := range ch {
		if v > 10 {
			return errors.New("too big")
		}
	}
	return nil
}

// ping returns a channel its goroutine sends on (learn-go-with-tests' Racer).
func ping(d time.Duration) chan bool {
	ch := make(chan bool)
	go func() {
		time.Sleep(d)
		ch <- true // want LH101
	}()
	return ch
}

// Racer selects on ping() next to a timeout.
func Racer(a, b, timeout time.Duration) (time.Duration, error) {
	select {
	case <-ping(a):
		return a, nil
	case <-ping(b):
		return b, nil
	case <-time.After(timeout):
		return 0, errors.New("timeout")
	}
}

// TwoSites: either send can be the one left blocked.
func TwoSites(ctx context.Context, ok bool) bool {
	done := make(chan bool)
	go func() {
		if ok {
			done <- false // want LH101
			return
		}
		done <- true // want LH101
	}()
	select {
	case v := <-done:
		return v
	case <-ctx.Done():
		return false
	}
}

// LoopSelectReturns: the first iteration can take ctx.Done() and return.
func LoopSelectReturns(ctx context.Context, tick <-chan time.Time) (int, error) {
	ch := make(chan int)
	go func() {
		ch <- slowCall() // want LH101
	}()
	for {
		select {
		case v := <-ch:
			return v, nil
		case <-tick:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
