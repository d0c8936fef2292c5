package lh103

import (
	"context"
	"log"
	"os"
	"sync"
	"time"
)

// NewCacheCtx returns on ctx.Done().
func NewCacheCtx(ctx context.Context) *Cache {
	c := &Cache{items: map[string]int{}}
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.evict()
			}
		}
	}()
	return c
}

// QuitChannel: a receive from a quit channel ends the loop.
func QuitChannel(quit chan struct{}, work func()) {
	go func() {
		for {
			select {
			case <-quit:
				return
			default:
				work()
			}
		}
	}()
}

// RangeEnds: a range over a channel ends when it is closed.
func RangeEnds(in chan int) {
	go func() {
		for v := range in {
			_ = v
		}
	}()
}

// LabeledBreak leaves the loop.
func LabeledBreak(in chan int) {
	go func() {
	loop:
		for {
			select {
			case v := <-in:
				if v < 0 {
					break loop
				}
			}
		}
	}()
}

// ErrReturn: the loop returns on error.
func ErrReturn(read func() error) {
	go func() {
		for {
			if err := read(); err != nil {
				return
			}
		}
	}()
}

// FatalExit: log.Fatal ends the program.
func FatalExit(read func() error) {
	go func() {
		for {
			if err := read(); err != nil {
				log.Fatal(err)
			}
		}
	}()
}

func main2() { os.Exit(0) }

var once sync.Once

// StartOnce: started once per program.
func StartOnce(c *Cache) {
	once.Do(func() {
		go func() {
			for {
				time.Sleep(time.Minute)
				c.evict()
			}
		}()
	})
}

func init() {
	go func() {
		for {
			time.Sleep(time.Hour)
		}
	}()
}

var _ = main2

// runForever starts workers and then blocks on a WaitGroup nothing marks Done:
// the workers live exactly as long as their starter, not one more per call.
func runForever(c *Cache) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		for {
			time.Sleep(time.Second)
			c.evict()
		}
	}()
	wg.Wait() // want LH106
}

// serveForever blocks in `select {}` after starting its loop.
func serveForever(c *Cache) {
	go func() {
		for {
			time.Sleep(time.Second)
			c.evict()
		}
	}()
	select {}
}

var _, _ = runForever, serveForever

// waitsOnItself: the endless goroutine is the only one that would call Done, so
// Wait never returns and the goroutine lives exactly as long as its starter.
func waitsOnItself(c *Cache) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			time.Sleep(time.Second)
			c.evict()
		}
	}()
	wg.Wait()
}

var _ = waitsOnItself
