// Package goleak mimics go.uber.org/goleak.VerifyTestMain: it calls os.Exit itself.
package goleak

import "os"

// TestingM is what VerifyTestMain runs (go.uber.org/goleak's type of the same name).
type TestingM interface {
	Run() int
}

// VerifyTestMain runs the tests and exits with their code.
func VerifyTestMain(m TestingM) {
	os.Exit(m.Run())
}
