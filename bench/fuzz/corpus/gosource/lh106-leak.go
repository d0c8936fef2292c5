// Package lh106 holds waitgroup-missing-done cases: leaking ones carry a want marker.
package lh106

import (
	"errors"
	"sync"
)

func fetch(u string) (string, error) {
	if u == "" {
		return "", errors.New("empty")
	}
	return u, nil
}

// EarlyReturn: the error path skips Done.
func EarlyReturn(urls []string) []string {
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		out []string
	)
	for _, u := range urls {
		wg.Add(1)
		go func() {
			body, err := fetch(u)
			if err != nil {
				return
			}
			mu.Lock()
			out = append(out, body)
			mu.Unlock()
			wg.Done() // want LH106
		}()
	}
	wg.Wait()
	return out
}

// OneBranch: Done only when ok.
func OneBranch(items []int) {
	wg := &sync.WaitGroup{}
	for _, it := range items {
		wg.Add(1)
		go func() {
			if it > 0 {
				wg.Done() // want LH106
			}
		}()
	}
	wg.Wait()
}

type server struct {
	wg sync.WaitGroup
}

func (s *server) work(n int) error {
	if n < 0 {
		return errors.New("negative")
	}
	return nil
}

// Field: a WaitGroup held in a struct field.
func (s *server) Field(n int) {
	s.wg.Add(1)
	go func() {
		if err := s.work(n); err != nil {
			return
		}
		s.wg.Done() // want LH106
	}()
	s.wg.Wait()
}

func worker(wg *sync.WaitGroup, n int) {
	if n < 0 {
		return
	}
	wg.Done() // want LH106
}

// Callee: the goroutine is a same-file function handed the WaitGroup.
func Callee(n int) {
	var wg sync.WaitGroup
	wg.Add(1)
	go worker(&wg, n)
	wg.Wait()
}

// NeverDone: nothing can ever call Done.
func NeverDone(items []int) {
	var wg sync.WaitGroup
	for range items {
		wg.Add(1)
		go func() {
			_ = len(items)
		}()
	}
	wg.Wait() // want LH106
}
