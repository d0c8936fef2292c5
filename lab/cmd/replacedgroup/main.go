// replacedgroup is the lab service for LH113 running-value-replaced, shaped like Alertmanager
// v0.32.1's dispatcher leak (alertmanager#5182, real leaks set 4): alerts go to one aggregation group
// per key, kept in a sync.Map; each group runs a goroutine until it is stopped. Maintenance marks
// an emptied group destroyed; the next alert for its key creates a new group and swaps it in with
// CompareAndSwap, and nothing stops the group it swapped out: its goroutine waits for good, and the
// sweep that would stop destroyed groups can no longer find it in the map.
//
//	/leak?every=N   one request in N finds its group destroyed: one goroutine leaks
//	/fixed?every=N  the same traffic; the swapped-out group is stopped (Alertmanager v0.32.3)
package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

type group struct {
	ctx       context.Context
	cancel    context.CancelFunc
	done      chan struct{}
	mu        sync.Mutex
	alerts    []string
	destroyed bool
}

func newGroup() *group {
	ctx, cancel := context.WithCancel(context.Background())
	return &group{ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// run flushes the group's alerts every minute until the group is stopped.
func (g *group) run() {
	defer close(g.done)
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select { // LEAK: LH113 a swapped-out group's goroutine waits here for a stop that never comes
		case <-t.C:
			g.mu.Lock()
			g.alerts = g.alerts[:0]
			g.mu.Unlock()
		case <-g.ctx.Done():
			return
		}
	}
}

func (g *group) stop() {
	g.cancel()
	<-g.done
}

// insert adds an alert; false once maintenance destroyed the group.
func (g *group) insert(a string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.destroyed {
		return false
	}
	g.alerts = append(g.alerts, a)
	return true
}

func (g *group) destroy() {
	g.mu.Lock()
	g.destroyed = true
	g.mu.Unlock()
}

type dispatcher struct {
	groups sync.Map
}

// addLeaky puts the alert in its key's group, creating the group if there is none or it was destroyed.
func (d *dispatcher) addLeaky(key, alert string) {
	el, loaded := d.groups.Load(key)
	if loaded && el.(*group).insert(alert) {
		return
	}
	g := newGroup()
	g.insert(alert)
	if loaded {
		if !d.groups.CompareAndSwap(key, el, g) { // LEAK: LH113 the swapped-out group el is never stopped
			return
		}
	} else if _, loaded := d.groups.LoadOrStore(key, g); loaded {
		return
	}
	go g.run()
}

// addFixed is addLeaky stopping the group it swapped out (Alertmanager v0.32.3).
func (d *dispatcher) addFixed(key, alert string) {
	el, loaded := d.groups.Load(key)
	if loaded && el.(*group).insert(alert) {
		return
	}
	g := newGroup()
	g.insert(alert)
	if loaded {
		if !d.groups.CompareAndSwap(key, el, g) {
			return
		}
		el.(*group).stop()
	} else if _, loaded := d.groups.LoadOrStore(key, g); loaded {
		return
	}
	go g.run()
}

// sweep stops and forgets the destroyed groups it finds (maintenance, every few seconds).
func (d *dispatcher) sweep() {
	d.groups.Range(func(k, v any) bool {
		g := v.(*group)
		g.mu.Lock()
		gone := g.destroyed
		g.mu.Unlock()
		if gone && d.groups.CompareAndDelete(k, g) {
			g.stop()
		}
		return true
	})
}

func handler(d *dispatcher, add func(d *dispatcher, key, alert string)) http.HandlerFunc {
	var calls atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		const key = "alertname=HostDown"
		if knob.Nth(&calls, knob.Int(r, "every", 1)) {
			if el, ok := d.groups.Load(key); ok {
				el.(*group).destroy() // maintenance found the group empty
			}
		}
		add(d, key, r.URL.RawQuery)
		fmt.Fprintln(w, "ok")
	}
}

func main() {
	leaky, fixed := &dispatcher{}, &dispatcher{}
	go func() {
		for range time.Tick(5 * time.Second) {
			leaky.sweep()
			fixed.sweep()
		}
	}()
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", handler(leaky, (*dispatcher).addLeaky))
	mux.HandleFunc("/fixed", handler(fixed, (*dispatcher).addFixed))
	labhttp.Serve(mux)
}
