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
