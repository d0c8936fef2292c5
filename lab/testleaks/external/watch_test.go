package external_test

import (
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
