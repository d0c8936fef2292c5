// Package plain has the textbook leak: the first answer wins, the other senders block forever.
package plain

// FirstResult starts n workers and returns the first result; the n-1 others never send.
func FirstResult(n int) int {
	ch := make(chan int)
	for i := 0; i < n; i++ {
		go func(i int) {
			ch <- i * i
		}(i)
	}
	return <-ch
}

// AllResults is the fixed shape: a buffered channel lets every worker finish.
func AllResults(n int) int {
	ch := make(chan int, n)
	for i := 0; i < n; i++ {
		go func(i int) { ch <- i }(i)
	}
	sum := 0
	for i := 0; i < n; i++ {
		sum += <-ch
	}
	return sum
}
