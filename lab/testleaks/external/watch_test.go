package external_test

import (
	"fmt"
	"testing"

	"leakhunter.dev/testleaks/external"
)

func TestWatcherForgotten(t *testing.T) {
	w := external.NewWatcher()
	_ = w
}

func TestWatcherClosed(t *testing.T) {
	external.NewWatcher().Close()
}

// TestWatchers' subtests are named at run time (w0, w1, w2); only w1 forgets Close.
func TestWatchers(t *testing.T) {
	for i := 0; i < 3; i++ {
		t.Run(fmt.Sprint("w", i), func(t *testing.T) {
			w := external.NewWatcher()
			if i != 1 {
				w.Close()
			}
		})
	}
}
