// Package panics has a test that panics: the test binary dies before the leak check can
// run, so leakhunter must say the check did not run (exit 2), not "no leaks".
package panics

func Boom() { panic("boom from the test") }
