// Package failing has a failing test and a leaking one: the failure must not hide the leak.
package failing

// Fanout asks n helpers and keeps only the first answer.
func Fanout(n int) int {
	answers := make(chan int)
	for i := 0; i < n; i++ {
		go func(i int) {
			answers <- i
		}(i)
	}
	return <-answers
}
