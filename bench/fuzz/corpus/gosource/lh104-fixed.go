package lh104

import "errors"

// FirstWinsBuffered: room for every answer.
func FirstWinsBuffered(servers []string) string {
	ch := make(chan string, len(servers))
	for _, s := range servers {
		go func() { ch <- query(s) }()
	}
	return <-ch
}

// Gather: one receive per goroutine.
func Gather(servers []string) []string {
	ch := make(chan string)
	for _, s := range servers {
		go func() { ch <- query(s) }()
	}
	out := make([]string, 0, len(servers))
	for range servers {
		out = append(out, <-ch)
	}
	return out
}

func sendOnce(ch chan any, err error) {
	if err != nil {
		ch <- nil
		return
	}
	ch <- struct{}{}
}

// SendOnce: the error path returns after its send.
func SendOnce(err error) {
	ch := make(chan any)
	go func() { sendOnce(ch, err) }()
	<-ch
}

// BufferedForTwo: a buffer of 1 absorbs the second send.
func BufferedForTwo(err error) {
	ch := make(chan any, 1)
	go func() { doubleSend(ch, err) }()
	<-ch
}

// ElseBranch: exactly one send on every path.
func ElseBranch(work func() error) error {
	errc := make(chan error)
	go func() {
		if err := work(); err != nil {
			errc <- err
		} else {
			errc <- errors.New("ok")
		}
	}()
	return <-errc
}

// TwoReceives: two sends, two receives.
func TwoReceives() (int, int) {
	ch := make(chan int)
	go func() {
		ch <- 1
		ch <- 2
	}()
	a := <-ch
	b := <-ch
	return a, b
}

// Producer: the goroutine sends in a loop and closes; the owner ranges.
func Producer(n int) int {
	ch := make(chan int)
	go func() {
		defer close(ch)
		for i := 0; i < n; i++ {
			ch <- i
		}
	}()
	sum := 0
	for v := range ch {
		sum += v
	}
	return sum
}

// FirstErrorBuffered: room for every result, the early return leaks nothing.
func FirstErrorBuffered(jobs []func() error) error {
	errc := make(chan error, len(jobs))
	for _, job := range jobs {
		go func() { errc <- job() }()
	}
	for range jobs {
		if err := <-errc; err != nil {
			return err
		}
	}
	return nil
}

// CollectAll: the gather loop remembers the first error and keeps receiving.
func CollectAll(jobs []func() error) error {
	errc := make(chan error)
	for _, job := range jobs {
		go func() { errc <- job() }()
	}
	var first error
	for range jobs {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// DoneWhenCounted: the return happens after the last receive, not on an error.
func DoneWhenCounted(jobs []func() error) int {
	results := make(chan int)
	for i, job := range jobs {
		go func() {
			_ = job()
			results <- i
		}()
	}
	n := 0
	for {
		<-results
		n++
		if n == len(jobs) {
			return n
		}
	}
}

// AllWorkersDone: returns inside the result case only once every worker reported
// (the shape of the Go fuzzing coordinator).
func AllWorkersDone(jobs []func() error, tick <-chan struct{}) error {
	errc := make(chan error)
	for _, job := range jobs {
		go func() { errc <- job() }()
	}
	active := len(jobs)
	var first error
	for {
		select {
		case err := <-errc:
			if first == nil {
				first = err
			}
			active--
			if active == 0 {
				return first
			}
		case <-tick:
		}
	}
}
