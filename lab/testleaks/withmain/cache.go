// Package withmain has its own TestMain in the `code := m.Run(); os.Exit(code)` form.
package withmain

import "time"

// Cache refreshes itself in a goroutine until Close.
type Cache struct {
	stop chan struct{}
}

func NewCache() *Cache {
	c := &Cache{stop: make(chan struct{})}
	go c.refresh()
	return c
}

func (c *Cache) refresh() {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-c.stop:
			return
		}
	}
}

func (c *Cache) Close() { close(c.stop) }
