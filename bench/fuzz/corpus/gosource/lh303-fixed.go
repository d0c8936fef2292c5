package lh303

import (
	"context"
	"time"
)

// retry: the other case returns, so at most one timer is pending.
func retry(ctx context.Context, try func() error) error {
	for {
		if err := try(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// sleepLoop: a time.After that always fires leaves nothing pending.
func sleepLoop() {
	for i := 0; i < 3; i++ {
		<-time.After(time.Millisecond)
	}
}

// resetTimer reuses one timer.
func resetTimer(msgs <-chan string, flush func()) {
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case _, ok := <-msgs:
			if !ok {
				return
			}
		case <-t.C:
			flush()
		}
		t.Reset(time.Minute)
	}
}

// onceThenReturn: the select is followed by a return, the loop runs once.
func onceThenReturn(ch <-chan int) int {
	for {
		select {
		case v := <-ch:
			return v
		case <-time.After(time.Second):
		}
		return 0
	}
}

// quitCase: the other case is a shutdown signal.
func quitCase(quit <-chan struct{}, work func()) {
	for {
		select {
		case <-quit:
			return
		case <-time.After(time.Second):
			work()
		}
	}
}

// threeTries: a loop of a constant three iterations keeps at most three timers.
func threeTries(ch <-chan int) int {
	n := 0
	for range 3 {
		select {
		case v := <-ch:
			n += v
		case <-time.After(time.Second):
		}
	}
	for i := 0; i < 2; i++ {
		select {
		case v := <-ch:
			n += v
		case <-time.After(time.Second):
		}
	}
	return n
}

var _ = threeTries
