package withmain

import (
	"os"
	"sync"
	"testing"
)

var worker struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

func TestMain(m *testing.M) {
	worker.stop = make(chan struct{})
	worker.wg.Add(1)
	go func() {
		defer worker.wg.Done()
		<-worker.stop
	}()
	code := m.Run()
	close(worker.stop) // teardown: a check right after m.Run would call this worker a leak
	worker.wg.Wait()
	os.Exit(code)
}

func TestLeakyCache(t *testing.T) {
	c := NewCache()
	_ = c // never closed
}

func TestClosedCache(t *testing.T) {
	c := NewCache()
	c.Close()
}
