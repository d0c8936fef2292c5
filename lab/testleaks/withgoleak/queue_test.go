package withgoleak

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestDrain(t *testing.T) {
	_ = Drain()
}
