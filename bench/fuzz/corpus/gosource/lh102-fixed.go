package lh102

import (
	"context"
	"errors"
)

// DeferredClose: every return closes.
func DeferredClose(items []int) error {
	ch := make(chan int)
	defer close(ch)
	go func() {
		for it := range ch {
			handle(it)
		}
	}()
	for _, it := range items {
		if it < 0 {
			return errors.New("negative")
		}
		ch <- it
	}
	return nil
}

// CloseOnEveryPath: both paths close.
func CloseOnEveryPath(items []int) error {
	ch := make(chan int, len(items))
	go func() {
		for it := range ch {
			handle(it)
		}
	}()
	for _, it := range items {
		if it < 0 {
			close(ch)
			return errors.New("negative")
		}
		ch <- it
	}
	close(ch)
	return nil
}

// WatchesContext: the receiver selects on ctx too.
func WatchesContext(ctx context.Context, ok bool) {
	ch := make(chan int)
	go func() {
		select {
		case v := <-ch:
			handle(v)
		case <-ctx.Done():
		}
	}()
	if ok {
		ch <- 1
	}
}

// SendAlways: the single receive always gets its value.
func SendAlways() {
	ch := make(chan int)
	go func() { handle(<-ch) }()
	ch <- 1
}

// Returned: the caller owns the channel and its close.
func Returned() chan<- int {
	ch := make(chan int)
	go func() {
		for v := range ch {
			handle(v)
		}
	}()
	return ch
}

type pool struct{ jobs chan int }

// StoredInStruct: a long-lived worker owned by a struct.
func StoredInStruct() *pool {
	ch := make(chan int)
	go func() {
		for v := range ch {
			handle(v)
		}
	}()
	return &pool{jobs: ch}
}

// ProducerGoroutine: another goroutine produces and closes.
func ProducerGoroutine(items []int) {
	ch := make(chan int)
	go func() {
		defer close(ch)
		for _, it := range items {
			ch <- it
		}
	}()
	go func() {
		for v := range ch {
			handle(v)
		}
	}()
}

// DeferredFuncClose: a deferred closure closes.
func DeferredFuncClose(items []int) {
	ch := make(chan int)
	defer func() { close(ch) }()
	go func() {
		for v := range ch {
			handle(v)
		}
	}()
	for _, it := range items {
		ch <- it
	}
}

// ServeForever: the owner never returns.
func ServeForever(next func() int) {
	ch := make(chan int)
	go func() {
		for v := range ch {
			handle(v)
		}
	}()
	for {
		ch <- next()
	}
}

// ClosedBeforeStart: filled and closed before the workers start.
func ClosedBeforeStart(items []int) {
	ch := make(chan int, len(items))
	for _, it := range items {
		ch <- it
	}
	close(ch)
	for i := 0; i < 4; i++ {
		go func() {
			for v := range ch {
				handle(v)
			}
		}()
	}
}

// WorkersInLoopClosed: workers started in a loop, closed after the sends.
func WorkersInLoopClosed(items []int) {
	ch := make(chan int)
	for i := 0; i < 4; i++ {
		go func() {
			for v := range ch {
				handle(v)
			}
		}()
	}
	for _, it := range items {
		ch <- it
	}
	close(ch)
}

// SelectOneLive: the other case sends on a channel nobody reads, so it can never win.
func SelectOneLive() {
	c := make(chan bool)
	c2 := make(chan bool)
	go func() {
		handle(len(c))
		<-c
	}()
	select {
	case c <- true:
	case c2 <- true:
	}
}
