// Package xmain has its TestMain in the external test package and table-driven
// subtests in the internal one.
package xmain

// Spawn starts a worker that waits for a job on its own channel; unless stop is true it
// is never sent one.
func Spawn(stop bool) {
	jobs := make(chan int)
	go func() {
		<-jobs
	}()
	if stop {
		jobs <- 1
	}
}
