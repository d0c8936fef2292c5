// Package lh103 holds endless-goroutine cases: leaking ones carry a want marker.
package lh103

import (
	"sync"
	"time"
)

// Cache evicts in the background.
type Cache struct {
	mu    sync.Mutex
	items map[string]int
	jobs  chan string
}

func (c *Cache) evict() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.items)
}

// NewCache starts a janitor that can never stop.
func NewCache() *Cache {
	c := &Cache{items: map[string]int{}}
	go func() {
		for { // want LH103
			time.Sleep(time.Minute)
			c.evict()
		}
	}()
	return c
}

func (c *Cache) loop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for { // want LH103
		select {
		case <-t.C:
			c.evict()
		case k := <-c.jobs:
			_ = k
		}
	}
}

// Start runs the method loop with no way out.
func (c *Cache) Start() {
	go c.loop()
}

// Worker: `break` only leaves the select, not the loop.
func Worker(in chan int) {
	go func() {
		for { // want LH103
			select {
			case v := <-in:
				if v < 0 {
					break
				}
			}
		}
	}()
}

// Park: a goroutine that blocks forever by design.
func Park() {
	go func() {
		select {} // want LH103
	}()
}

// ParkInline: a select over channels nobody else can reach.
func ParkInline() {
	go func() {
		select { // want LH103
		case make(chan int) <- 0:
		case <-make(chan int):
		}
	}()
}
