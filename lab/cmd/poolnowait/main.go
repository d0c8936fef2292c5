// poolnowait is the lab service for LH112 pool-not-waited, shaped like OpenFGA v1.4.1's leak
// (openfga#1296, real leaks set 2): a request expands a list through a sourcegraph/conc pool fed in
// a loop, and stops at its result cap by cancelling its context; the loop returns on the cancelled
// iterator before the pool's Wait, and every worker started so far waits on the pool's task
// channel for good. The leaked goroutines' stacks hold only conc's worker: no frame of this file.
// (conc comes from lab/third_party/conc, a stand-in with conc v0.3.0's lifecycle.)
//
//	/leak?every=N   one request in N expands through the leaky function (4 workers left each)
//	/fixed?every=N  the fixed function leaves the loop and waits
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/sourcegraph/conc/pool"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

var errDone = errors.New("done")

type iter struct{ n, size int }

func (it *iter) next(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if it.n == it.size {
		return 0, errDone
	}
	it.n++
	return it.n, nil
}

// expandLeaky returns on the iterator's error (the capped request's cancelled context) before Wait.
func expandLeaky(ctx context.Context, it *iter, out func(int)) error {
	p := pool.New().WithContext(ctx).WithMaxGoroutines(4) // LEAK: LH112 the return below skips p.Wait()
	for {
		v, err := it.next(ctx)
		if err != nil {
			if errors.Is(err, errDone) {
				break
			}
			return err // LEAK: LH112 started workers wait on the pool's task channel for good
		}
		p.Go(func(ctx context.Context) error { out(v); return nil })
	}
	return p.Wait()
}

// expandFixed leaves the loop and waits (OpenFGA v1.4.2).
func expandFixed(ctx context.Context, it *iter, out func(int)) error {
	p := pool.New().WithContext(ctx).WithMaxGoroutines(4)
	var failed error
	for {
		v, err := it.next(ctx)
		if err != nil {
			if !errors.Is(err, errDone) {
				failed = err
			}
			break
		}
		p.Go(func(ctx context.Context) error { out(v); return nil })
	}
	if err := p.Wait(); err != nil {
		return err
	}
	return failed
}

// listCapped expands 100 items and stops at 20 results, as a capped ListObjects does.
func listCapped(expand func(context.Context, *iter, func(int)) error) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := make(chan int, 100)
	var seen atomic.Int32
	_ = expand(ctx, &iter{size: 100}, func(v int) {
		if seen.Add(1) == 20 {
			cancel() // the result cap is reached: the request's context ends
		}
		results <- v
	})
	return len(results)
}

func handler(leaky bool) http.HandlerFunc {
	var calls atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		expand := expandFixed
		if leaky && knob.Nth(&calls, knob.Int(r, "every", 1)) {
			expand = expandLeaky
		}
		fmt.Fprintln(w, listCapped(expand))
	}
}

func main() {
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", handler(true))
	mux.HandleFunc("/fixed", handler(false))
	labhttp.Serve(mux)
}
