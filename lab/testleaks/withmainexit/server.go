// Package withmainexit has its own TestMain in the `os.Exit(m.Run())` form.
package withmainexit

// Start launches a request loop that waits for requests nobody will send.
func Start() chan<- string {
	reqs := make(chan string)
	go func() {
		for r := range reqs {
			_ = r
		}
	}()
	return reqs
}
