package lh301

import (
	"context"
	"time"
)

// deferStop is the canonical shape.
func deferStop(ctx context.Context, tick func()) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			tick()
		}
	}
}

type poller struct{ t *time.Ticker }

// storedInStruct: the struct owns the ticker and stops it in Close.
func (p *poller) start(d time.Duration) {
	t := time.NewTicker(d)
	p.t = t
}

func (p *poller) Close() { p.t.Stop() }

// returned gives the ticker to the caller.
func returned(d time.Duration) *time.Ticker {
	t := time.NewTicker(d)
	return t
}

// goroutineWithExit: the goroutine returns on ctx.Done and stops the ticker.
func goroutineWithExit(ctx context.Context, work func()) {
	t := time.NewTicker(time.Second)
	go func() {
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				work()
			}
		}
	}()
}

// timerFired: the Timer fired on the path that does not stop it.
func timerFired(ctx context.Context) bool {
	t := time.NewTimer(time.Second)
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}

// timerUnstopped is collected on go >= 1.23 (this module says 1.24): not reported.
func timerUnstopped(ctx context.Context) error {
	t := time.NewTimer(time.Hour)
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// neverReturns holds its ticker for the life of the program.
func neverReturns(work func()) {
	t := time.NewTicker(time.Second)
	for range t.C {
		work()
	}
}
