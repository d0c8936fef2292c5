package lh107

import (
	"context"
	"net/http"
	"time"
)

// Derived: derives from ctx.
func Derived(ctx context.Context) error {
	c, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return work(c)
}

// Ignored: the parameter is blank on purpose.
func Ignored(_ context.Context) error {
	return work(context.Background())
}

// Defaulting: a nil ctx is replaced.
func Defaulting(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	return work(ctx)
}

// Detached: a commented, deliberate detachment for cleanup after cancellation.
func Detached(ctx context.Context) error {
	if err := work(ctx); err != nil {
		// The caller is gone; cleanup must still finish.
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return work(c)
	}
	return nil
}

// WithContext: the request carries ctx.
func WithContext(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// LaterWithContext: attached afterwards.
func LaterWithContext(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// QueryContext: the ctx forms.
func (s *Store) QueryContext(ctx context.Context, id int) (string, error) {
	var name string
	err := s.db.QueryRowContext(ctx, "SELECT name FROM users WHERE id = ?", id).Scan(&name)
	return name, err
}

type cache struct{}

func (cache) Query(string) int { return 0 }

// UnknownReceiver: Query on something that is not database/sql.
func UnknownReceiver(ctx context.Context, c cache) int {
	_ = ctx
	return c.Query("x")
}

// NoContext: a function without ctx may use Background.
func NoContext() error {
	return work(context.Background())
}

// OwnContext: a closure with its own ctx parameter is judged on its own.
func OwnContext(ctx context.Context) func(context.Context) error {
	_ = ctx
	return func(inner context.Context) error { return work(inner) }
}

func do(ctx context.Context, c *http.Client, req *http.Request) (*http.Response, error) {
	return c.Do(req.WithContext(ctx))
}

// HandedToHelper: the helper attaches ctx (prometheus, gh do this).
func HandedToHelper(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := do(ctx, c, req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// BuildRequest: the caller attaches the context.
func BuildRequest(ctx context.Context, url string) (*http.Request, error) {
	_ = ctx
	req, err := http.NewRequest(http.MethodGet, url, nil)
	return req, err
}

// ShutdownFunc: the returned closure runs after ctx is gone; a fresh context is right there.
func ShutdownFunc(ctx context.Context) func() error {
	_ = work(ctx)
	return func() error {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return work(c)
	}
}

// NilElse: the else branch of a nil check supplies the default.
func NilElse(ctx context.Context) error {
	if ctx != nil {
		return work(ctx)
	} else {
		return work(context.Background())
	}
}

// blind never reads its context: passing Background to it cancels nothing less.
func blind(_ context.Context, n int) int { return n }

// unnamed never reads its context either.
func unnamed(context.Context) {}

// CallsBlind hands Background to callees that ignore their context.
func CallsBlind(ctx context.Context) int {
	unnamed(context.Background())
	_ = ctx
	return blind(context.Background(), 1)
}

type store struct{ n int }

// Appender ignores its context (unnamed), while another Appender reads it.
func (s *store) Appender(context.Context) int { return s.n }

type other struct{}

// Appender of other uses its context.
func (other) Appender(ctx context.Context) error { return ctx.Err() }

// ViaMethod hands Background to store.Appender, which never reads it.
func ViaMethod(ctx context.Context, s *store) int {
	_ = ctx
	return s.Appender(context.Background())
}
