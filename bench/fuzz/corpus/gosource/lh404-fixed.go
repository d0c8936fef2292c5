package lh404

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
)

// deferClose is the canonical shape.
func deferClose(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// returnedFile gives the file to the caller.
func returnedFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return f, nil
}

type logger struct{ out *os.File }

// storedInStruct keeps the file in a struct that owns it now.
func storedInStruct(l *logger, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	l.out = f
	return nil
}

// servedListener hands the listener to http.Serve, which closes it.
func servedListener(h http.Handler) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	return http.Serve(ln, h)
}

// notExistIdiom checks the error with os.IsNotExist: f is nil there.
func notExistIdiom(path string) ([]byte, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// closeFile closes what it is handed.
func closeFile(f *os.File) error { return f.Close() }

// closedByHelper relies on a same-package helper.
func closedByHelper(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.WriteString("x"); err != nil {
		closeFile(f)
		return err
	}
	return closeFile(f)
}

// closeErrChecked closes in a deferred closure that keeps the Close error.
func closeErrChecked(path string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	_, err = f.WriteString("x")
	return err
}

// connHandedOver gives the connection to a goroutine that closes it.
func connHandedOver(addr string) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	go func() {
		defer c.Close()
		_, _ = io.Copy(io.Discard, c)
	}()
	return nil
}

// closedEveryBranch closes before each return.
func closedEveryBranch(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if st.Size() == 0 {
		f.Close()
		return errors.New("empty")
	}
	return f.Close()
}

// wrappedReturn hands the file to the caller inside a reader.
func wrappedReturn(path string) (*bufio.Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return bufio.NewReader(f), nil
}
