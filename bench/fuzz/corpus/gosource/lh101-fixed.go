package lh101

import (
	"context"
	"errors"
	"sync"
	"time"
)

// TimeoutBuffered: capacity 1 lets the send complete.
func TimeoutBuffered(ctx context.Context) (int, error) {
	ch := make(chan int, 1)
	go func() {
		ch <- slowCall()
	}()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// SenderSelects: the sender also watches ctx.
func SenderSelects(ctx context.Context) (int, error) {
	ch := make(chan int)
	go func() {
		select {
		case ch <- slowCall():
		case <-ctx.Done():
		}
	}()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Unconditional: the receive happens on every path.
func Unconditional(err error) (int, error) {
	ch := make(chan int)
	go func() {
		ch <- slowCall()
	}()
	v := <-ch
	if err != nil {
		return 0, err
	}
	return v, nil
}

// ReceiveInBothBranches: each branch receives.
func ReceiveInBothBranches(flag bool) int {
	ch := make(chan int)
	go func() { ch <- slowCall() }()
	if flag {
		return <-ch + 1
	}
	return <-ch
}

// Returned: the channel escapes to the caller, who owns the receive.
func Returned() <-chan int {
	ch := make(chan int)
	go func() { ch <- slowCall() }()
	return ch
}

type holder struct{ c chan int }

// Stored: ownership moves into a struct.
func Stored(h *holder) {
	ch := make(chan int)
	h.c = ch
	go func() { ch <- slowCall() }()
}

func consume(c chan int) { <-c }

// HandedOff: another function receives; we cannot see its paths.
func HandedOff(ctx context.Context) {
	ch := make(chan int)
	go func() { ch <- slowCall() }()
	if ctx.Err() != nil {
		consume(ch)
		return
	}
	consume(ch)
}

// LoopUntilReceived: the other case does not leave the loop.
func LoopUntilReceived(tick <-chan time.Time) int {
	ch := make(chan int)
	go func() { ch <- slowCall() }()
	for {
		select {
		case v := <-ch:
			return v
		case <-tick:
		}
	}
}

// OtherCaseReceivesToo: the abandon path still drains the channel.
func OtherCaseReceivesToo(ctx context.Context) error {
	ch := make(chan error)
	go func() { ch <- nil }()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		<-ch
		return ctx.Err()
	}
}

// PanicPath: a panic before the receive ends the program, not a leak.
func PanicPath(err error) int {
	ch := make(chan int)
	go func() { ch <- slowCall() }()
	if err != nil {
		panic(err)
	}
	return <-ch
}

// Range: the owner ranges until the goroutine closes.
func Range() int {
	ch := make(chan int)
	go func() {
		defer close(ch)
		for i := 0; i < 3; i++ {
			ch <- i
		}
	}()
	n := 0
	for v := range ch {
		n += v
	}
	return n
}

// Pipeline: another goroutine is the consumer; not modelled.
func Pipeline() {
	ch := make(chan int)
	go func() { ch <- 1 }()
	go func() { <-ch }()
}

// ErrorSwitch: every case receives.
func ErrorSwitch(kind int) error {
	ch := make(chan error)
	go func() { ch <- errors.New("x") }()
	switch kind {
	case 1:
		return <-ch
	default:
		<-ch
	}
	return nil
}

// ReceiveInOwnGoroutine: a collector drains while the owner waits.
func ReceiveInOwnGoroutine(items []int) int {
	var wg sync.WaitGroup
	results := make(chan int)
	for _, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- it * 2
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	sum := 0
	for r := range results {
		sum += r
	}
	return sum
}

// BufferedWait: a buffer for every result lets Wait come first.
func BufferedWait(items []int) int {
	var wg sync.WaitGroup
	results := make(chan int, len(items))
	for _, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- it * 2
		}()
	}
	wg.Wait()
	close(results)
	sum := 0
	for r := range results {
		sum += r
	}
	return sum
}

// ConsumerDrains: every value is read before returning.
func ConsumerDrains(n int) error {
	ch := make(chan int, 4)
	go func() {
		defer close(ch)
		produce(ch, n)
	}()
	var err error
	for v := range ch {
		if v > 10 && err == nil {
			err = errors.New("too big")
		}
	}
	return err
}

// ProducerWatchesDone: the producer stops when the consumer leaves.
func ProducerWatchesDone(n int) error {
	ch := make(chan int)
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(ch)
		for i := 0; i < n; i++ {
			select {
			case ch <- i:
			case <-done:
				return
			}
		}
	}()
	for v := range ch {
		if v > 10 {
			return errors.New("too big")
		}
	}
	return nil
}

// BreakInSelect: a break inside a select does not leave the range.
func BreakInSelect(n int, tick <-chan time.Time) int {
	ch := make(chan int)
	go func() {
		defer close(ch)
		for i := 0; i < n; i++ {
			ch <- i
		}
	}()
	sum := 0
	for v := range ch {
		select {
		case <-tick:
			break
		default:
		}
		sum += v
	}
	return sum
}

// pingBuffered returns a buffered channel: the send never blocks.
func pingBuffered(d time.Duration) chan bool {
	ch := make(chan bool, 1)
	go func() {
		time.Sleep(d)
		ch <- true
	}()
	return ch
}

// pong's channel is always received.
func pong() chan int {
	ch := make(chan int)
	go func() { ch <- 1 }()
	return ch
}

// RacerBuffered and Pong: no caller can abandon an unbuffered one.
func RacerBuffered(a, timeout time.Duration) bool {
	select {
	case <-pingBuffered(a):
		return true
	case <-time.After(timeout):
		return false
	}
}

// Pong receives unconditionally.
func Pong() int { return <-pong() }

// BackgroundDrain: the abandon path hands the pending value to a draining goroutine.
func BackgroundDrain(ctx context.Context) error {
	ch := make(chan error)
	go func() { ch <- nil }()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		go func() { <-ch }()
		return ctx.Err()
	}
}

// DoneAfterSends: `done` is closed by the sender itself after its last send, so the
// owner can only take that case once no send is pending (golang-migrate's lock test).
func DoneAfterSends(step func() error) error {
	done := make(chan struct{})
	errs := make(chan error)
	go func() {
		if err := step(); err != nil {
			errs <- err
			return
		}
		close(done)
	}()
	for {
		select {
		case <-done:
			return nil
		case err := <-errs:
			return err
		}
	}
}
