// Package lh104 holds unread-sends cases: leaking ones carry a want marker.
package lh104

import "errors"

func query(s string) string { return s }

// FirstWins: N goroutines send, one receive.
func FirstWins(servers []string) string {
	ch := make(chan string)
	for _, s := range servers {
		go func() {
			ch <- query(s) // want LH104
		}()
	}
	return <-ch
}

// NeverRead: N goroutines send, nothing receives.
func NeverRead(n int) {
	ch := make(chan int)
	for i := 0; i < n; i++ {
		go func() { ch <- i }() // want LH104
	}
}

// doubleSend sends nil on error but forgets to return.
func doubleSend(ch chan any, err error) {
	if err != nil {
		ch <- nil
	}
	ch <- struct{}{} // want LH104
}

// DoubleSend: one goroutine may send twice, the owner receives once.
func DoubleSend(err error) {
	ch := make(chan any)
	go func() {
		doubleSend(ch, err)
	}()
	<-ch
}

// TwoSendsInline: the same shape in a literal.
func TwoSendsInline(work func() error) error {
	errc := make(chan error)
	go func() {
		if err := work(); err != nil {
			errc <- err
		}
		errc <- errors.New("done") // want LH104
	}()
	return <-errc
}

// FirstError: the gather loop returns on the first error; the other senders block.
func FirstError(jobs []func() error) error {
	errc := make(chan error)
	for _, job := range jobs {
		go func() {
			errc <- job() // want LH104
		}()
	}
	for range jobs {
		if err := <-errc; err != nil {
			return err
		}
	}
	return nil
}
