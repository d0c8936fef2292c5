// Package withgoleak's TestMain is goleak.VerifyTestMain(m), which exits by itself.
package withgoleak

// Drain starts a consumer that waits for a value nobody sends.
func Drain() chan int {
	ch := make(chan int)
	go func() {
		<-ch
	}()
	return ch
}
