package lh302

import "time"

// globalTick lives for the whole program by design.
var globalTick = time.Tick(time.Second)

func useGlobal() time.Time { return <-globalTick }

// forever never returns: its ticker is needed until the program ends.
func forever(work func()) {
	for range time.Tick(time.Second) {
		work()
	}
}

// startForever: the goroutine never returns, so neither does its Tick.
func startForever(work func()) {
	go func() {
		for range time.Tick(time.Second) {
			work()
		}
	}()
}

// stoppable uses a ticker it can stop.
func stoppable(ready func() bool) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for range t.C {
		if ready() {
			return
		}
	}
}
