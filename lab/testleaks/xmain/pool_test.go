package xmain

import "testing"

func TestSpawn(t *testing.T) {
	for _, name := range []string{"stopped", "forgotten"} {
		t.Run(name, func(t *testing.T) {
			Spawn(name == "stopped")
		})
	}
}
