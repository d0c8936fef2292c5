// Package lh301 holds tickers that are never stopped.
package lh301

import (
	"context"
	"time"
)

// pollUntil returns without stopping its ticker.
func pollUntil(ctx context.Context, ready func() bool) {
	t := time.NewTicker(time.Second) // want LH301
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if ready() {
				return
			}
		}
	}
}

// startReporter starts a goroutine that reads the ticker forever.
func startReporter(report func()) {
	t := time.NewTicker(time.Minute) // want LH301
	go func() {
		for range t.C {
			report()
		}
	}()
}
