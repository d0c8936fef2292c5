package failing

import "testing"

func TestFails(t *testing.T) {
	t.Errorf("this test fails on purpose")
}

func TestLeakAlso(t *testing.T) {
	_ = Fanout(3)
}
