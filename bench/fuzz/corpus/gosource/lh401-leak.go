// Package lh401 holds responses whose Body is not closed on some path.
package lh401

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// statusEarlyReturn leaks the body when the status is not OK.
func statusEarlyReturn(url string) ([]byte, error) {
	resp, err := http.Get(url) // want LH401
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// neverClosed reads the status and forgets the body.
func neverClosed(c *http.Client, req *http.Request) (int, error) {
	resp, err := c.Do(req) // want LH401
	if err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

type api struct{ client *http.Client }

// fieldClient uses a client held in a struct field.
func (a *api) fieldClient(url string) error {
	resp, err := a.client.Get(url) // want LH401
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotFound {
		return errors.New("not found")
	}
	return resp.Body.Close()
}

// discarded drops the response entirely.
func discarded(url string) error {
	_, err := http.Head(url) // want LH401
	return err
}

// readErrorPath returns on a read error before closing.
func readErrorPath(url string) ([]byte, error) {
	resp, err := http.DefaultClient.Get(url) // want LH401
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return b, nil
}

// loopLeak skips the close on a bad status and loops on.
func loopLeak(urls []string) {
	for _, u := range urls {
		resp, err := http.Get(u) // want LH401
		if err != nil {
			continue
		}
		if resp.StatusCode != http.StatusOK {
			continue
		}
		resp.Body.Close()
	}
}

// logStatus only reads the response: handing it over does not close it.
func logStatus(r *http.Response) { fmt.Println(r.Status) }

func neutralHelper(url string) error {
	resp, err := http.Post(url, "text/plain", nil) // want LH401
	if err != nil {
		return err
	}
	logStatus(resp)
	return nil
}

type doer interface {
	Do(*http.Request) (*http.Response, error)
}

// doRequest sends a request built here through any Do method.
func doRequest(cl doer, url string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := cl.Do(req) // want LH401
	if err != nil {
		return err
	}
	if resp.StatusCode >= 500 {
		return errors.New("server error")
	}
	return resp.Body.Close()
}

// decodeOnly decodes the body and never closes it.
func decodeOnly(c *http.Client, url string) (string, error) {
	resp, err := c.PostForm(url, nil) // want LH401
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	return string(b), err
}

// roundTrip uses a transport directly and returns early on a bad status.
func roundTrip(tr *http.Transport, url string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := tr.RoundTrip(req) // want LH401
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, resp.Body.Close()
}
