package withmainexit

import (
	"flag"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}

func TestStart(t *testing.T) {
	reqs := Start()
	reqs <- "one" // the loop keeps waiting: reqs is never closed
}
