package lh401

import (
	"errors"
	"io"
	"log"
	"net/http"
)

// deferAfterCheck is the canonical shape.
func deferAfterCheck(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

// returnedToCaller hands the response to the caller, who must close it.
func returnedToCaller(url string) (*http.Response, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// bodyReturned hands the body to the caller.
func bodyReturned(url string) (io.ReadCloser, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

type holder struct{ resp *http.Response }

// storedInStruct keeps the response in a struct that owns it now.
func storedInStruct(h *holder, url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	h.resp = resp
	return nil
}

// closeResponse drains and closes what it is handed.
func closeResponse(r *http.Response) {
	_, _ = io.Copy(io.Discard, r.Body)
	r.Body.Close()
}

// closedByHelper relies on a helper that closes.
func closedByHelper(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer closeResponse(resp)
	return nil
}

// deferredClosure closes in a deferred func literal behind a nil check.
func deferredClosure(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer func() {
		if resp != nil {
			_ = resp.Body.Close()
		}
	}()
	if resp.StatusCode != http.StatusOK {
		return errors.New("bad status")
	}
	return nil
}

// nilCheckBeforeErr closes behind `resp != nil` before looking at err.
func nilCheckBeforeErr(c *http.Client, req *http.Request) error {
	resp, err := c.Do(req)
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return err
	}
	return nil
}

// bodyNilCheck closes behind `resp.Body != nil`.
func bodyNilCheck(httpClient *http.Client, req *http.Request) (bool, error) {
	resp, err := httpClient.Do(req)
	if err != nil {
		return false, err
	}
	if resp.Body != nil {
		defer resp.Body.Close()
	}
	return resp.StatusCode == http.StatusOK, nil
}

// sentOnChannel gives the response to whoever receives it.
func sentOnChannel(url string, out chan<- *http.Response) {
	resp, err := http.Get(url)
	if err != nil {
		return
	}
	out <- resp
}

// goroutineOwns lets a goroutine read and close.
func goroutineOwns(url string) {
	resp, err := http.Get(url)
	if err != nil {
		return
	}
	go func() {
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
	}()
}

// fatalOnError: log.Fatal ends that path.
func fatalOnError(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// switchClose closes on every case that returns.
func switchClose(url string) error {
	resp, err := http.Get(url)
	switch {
	case err != nil:
		return err
	case resp.StatusCode != http.StatusOK:
		resp.Body.Close()
		return errors.New("bad status")
	}
	defer resp.Body.Close()
	return nil
}

// withHandler hands the response to a callback it does not know.
func withHandler(url string, handle func(*http.Response) error) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	return handle(resp)
}

type kv struct{}

func (kv) Get(key string) (string, error) { return key, nil }

// notAClient: a Get method on something that is not an HTTP client.
func notAClient(store kv) (int, error) {
	v, err := store.Get("k")
	if err != nil {
		return 0, err
	}
	return len(v), nil
}

// closeEveryBranch closes in both arms of an if/else.
func closeEveryBranch(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return errors.New("bad status")
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return err
}

// bodyAssignedOutside closes the body through a variable declared outside the block
// (timakin/bodyclose#77).
func bodyAssignedOutside(url string) error {
	var rc io.ReadCloser
	if url != "" {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		rc = resp.Body
	}
	if rc != nil {
		defer rc.Close()
	}
	return nil
}

// localCloser closes through a func value taking io.Closer (timakin/bodyclose#18).
func localCloser(url string) {
	res, err := http.Get(url)
	if err != nil {
		return
	}
	resCloser := func(c io.Closer) {
		c.Close()
	}
	resCloser(res.Body)
}

type loggingTransport struct{ base http.RoundTripper }

// RoundTrip of a wrapping transport hands the response on to its caller.
func (t loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	log.Println(resp.Status)
	return resp, nil
}

// drainedToEOF reads the body to the end: the transport has already pooled the
// connection again, so the missing Close holds nothing.
func drainedToEOF(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(resp.Body)
}

// drainedCopy copies the body away before returning.
func drainedCopy(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	log.Println("read", n)
	return resp.StatusCode, nil
}

var _, _ = drainedToEOF, drainedCopy

// expectsNoContent: a 204 has no body; the transport already pooled the connection.
func expectsNoContent(url string) error {
	req, err := http.NewRequest(http.MethodDelete, url, http.NoBody)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusNoContent {
		return errors.New(resp.Status)
	}
	return nil
}

var _ = expectsNoContent
