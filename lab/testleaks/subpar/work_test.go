package subpar

import "testing"

func TestParent(t *testing.T) {
	t.Run("child", func(t *testing.T) {
		_ = Race()
		_ = Race()
	})
	t.Run("clean", func(t *testing.T) {
		_ = Pair()
	})
}

func TestParallelA(t *testing.T) {
	t.Parallel()
	if Pair() != 3 {
		t.Fatal("pair")
	}
}

func TestParallelB(t *testing.T) {
	t.Parallel()
	_ = Race()
	_ = Race()
}

// TestTable's subtests are named by a variable: go test calls one "TestTable/noisy_one".
func TestTable(t *testing.T) {
	cases := []struct {
		name string
		leak bool
	}{{"quiet", false}, {"noisy one", true}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.leak {
				_ = Race()
			} else {
				_ = Pair()
			}
		})
	}
}

func raceOnce(t *testing.T) { _ = Race() }

// TestByValue runs its subtest from a function value: raceOnce is not a test; the leak
// is TestByValue/by_value's.
func TestByValue(t *testing.T) {
	t.Run("by value", raceOnce)
}

// Run methods that take no func(*testing.T) compile unchanged through the check's wrapper.
func BenchmarkPair(b *testing.B) {
	for _, name := range []string{"pair"} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				_ = Pair()
			}
		})
	}
}

type sizer struct{}

func (sizer) Run(name string, n float64) float64 { return n }

func TestOtherRun(t *testing.T) {
	size, name := 2.0, "n"
	if (sizer{}).Run(name, size) != 2 {
		t.Fatal("sizer")
	}
}
