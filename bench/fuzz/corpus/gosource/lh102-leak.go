// Package lh102 holds blocked-receive cases: leaking ones carry a want marker.
package lh102

import "errors"

func handle(int) {}

// NoClose: the workers range over a channel nobody closes.
func NoClose(items []int, workers int) {
	ch := make(chan int)
	for i := 0; i < workers; i++ {
		go func() {
			for it := range ch { // want LH102
				handle(it)
			}
		}()
	}
	for _, it := range items {
		ch <- it
	}
}

// CloseOnHappyPath: an error return skips the close.
func CloseOnHappyPath(items []int) error {
	ch := make(chan int, len(items))
	go func() {
		for it := range ch { // want LH102
			handle(it)
		}
	}()
	for _, it := range items {
		if it < 0 {
			return errors.New("negative")
		}
		ch <- it
	}
	close(ch)
	return nil
}

// SendOnSomePaths: the single receive waits for a send that may not come.
func SendOnSomePaths(ok bool) {
	ch := make(chan int)
	go func() {
		handle(<-ch) // want LH102
	}()
	if ok {
		ch <- 1
	}
}

// NeverSent: nothing sends or closes.
func NeverSent() {
	done := make(chan struct{})
	go func() {
		<-done // want LH102
		handle(0)
	}()
}

func drain(in <-chan int) {
	for v := range in { // want LH102
		handle(v)
	}
}

// HandedToDrain: the consumer is a same-file function started with go.
func HandedToDrain(items []int) {
	ch := make(chan int)
	go drain(ch)
	for _, it := range items {
		ch <- it
	}
}

// NilRecv: a nil channel.
func NilRecv() {
	var c chan int
	go func() {
		<-c // want LH102
	}()
}

// Inline: receives from a channel made on the spot.
func Inline() {
	go func() {
		<-make(chan int) // want LH102
	}()
}

// NilRange: ranging over a nil channel, even in the owner itself.
func NilRange() {
	var c chan int
	for v := range c { // want LH102
		handle(v)
	}
}

// ForeverOwner: the owner never returns, but nothing ever sends either.
func ForeverOwner() {
	ch := make(chan int)
	go func() {
		<-ch // want LH102
	}()
	select {}
}

func watcher(done chan bool) { handle(cap(done)) }

// OwnerWaitsForNobody: the callee never signals the channel it is handed.
func OwnerWaitsForNobody() {
	done := make(chan bool)
	go watcher(done)
	<-done // want LH102
}
