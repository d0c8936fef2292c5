// Package external is tested from package external_test only.
package external

// Watcher waits for changes until Close.
type Watcher struct {
	quit chan struct{}
}

func NewWatcher() *Watcher {
	w := &Watcher{quit: make(chan struct{})}
	go w.loop()
	return w
}

func (w *Watcher) loop() {
	<-w.quit
}

func (w *Watcher) Close() { close(w.quit) }
