// Package global leaks a goroutine the runtime cannot prove leaked: the channel it waits
// on stays reachable from a package-level variable, so some code could still receive.
package global

var results = make(chan int)

// Publish hands v to whoever reads results; nobody does.
func Publish(v int) {
	go func() {
		results <- v
	}()
}
