package plain

import "testing"

func TestFirstResult(t *testing.T) {
	if r := FirstResult(3); r < 0 {
		t.Fatal(r)
	}
}

func TestNoLeak(t *testing.T) {
	if AllResults(4) != 6 {
		t.Fatal("sum")
	}
}
