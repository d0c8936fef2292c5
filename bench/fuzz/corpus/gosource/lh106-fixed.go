package lh106

import "sync"

// Deferred: Done on every path.
func Deferred(urls []string) {
	var wg sync.WaitGroup
	for _, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := fetch(u); err != nil {
				return
			}
		}()
	}
	wg.Wait()
}

// DeferredClosure: Done in a deferred closure.
func DeferredClosure(n int) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer func() {
			wg.Done()
		}()
		if n < 0 {
			return
		}
	}()
	wg.Wait()
}

// EveryPath: Done before each return.
func EveryPath(n int) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		if n < 0 {
			wg.Done()
			return
		}
		wg.Done()
	}()
	wg.Wait()
}

func helper(wg *sync.WaitGroup) { wg.Done() }

// HandedOn: another function gets the WaitGroup and may call Done.
func HandedOn(n int) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		if n < 0 {
			helper(&wg)
			return
		}
		wg.Done()
	}()
	wg.Wait()
}

// PanicPath: a panic ends the program.
func PanicPath(n int) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		if n < 0 {
			panic("negative")
		}
		wg.Done()
	}()
	wg.Wait()
}

func deferredWorker(wg *sync.WaitGroup, n int) {
	defer wg.Done()
	if n < 0 {
		return
	}
}

// CalleeDeferred: the callee defers Done.
func CalleeDeferred(n int) {
	var wg sync.WaitGroup
	wg.Add(1)
	go deferredWorker(&wg, n)
	wg.Wait()
}

// PassedOn: the WaitGroup is handed to a function that calls Done.
func PassedOn(n int) {
	var wg sync.WaitGroup
	wg.Add(1)
	go helper(&wg)
	wg.Wait()
	_ = n
}

// MethodValue: Done taken as a method value and deferred.
func MethodValue(n int) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		done := wg.Done
		defer done()
		if n < 0 {
			return
		}
	}()
	wg.Wait()
}

// FinishClosure: every path calls a closure that calls Done.
func FinishClosure(n int) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		finish := func() { wg.Done() }
		if n < 0 {
			finish()
			return
		}
		finish()
	}()
	wg.Wait()
}

// ParamWaitGroup: the goroutine gets the WaitGroup as a parameter and defers Done.
func ParamWaitGroup(items []int) {
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go func(wg *sync.WaitGroup, it int) {
			defer wg.Done()
			if it < 0 {
				return
			}
		}(&wg, it)
	}
	wg.Wait()
}

// PerItemDone: one Done per processed item, counted with Add(len(items)).
func PerItemDone(items []int) {
	var wg sync.WaitGroup
	wg.Add(len(items))
	go func() {
		for range items {
			wg.Done()
		}
	}()
	wg.Wait()
}
