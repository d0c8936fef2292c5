package global

import "testing"

func TestPublish(t *testing.T) {
	Publish(1)
}
