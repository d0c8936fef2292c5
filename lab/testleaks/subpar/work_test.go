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
