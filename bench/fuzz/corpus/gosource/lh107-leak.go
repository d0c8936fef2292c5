// Package lh107 holds context-not-propagated cases: leaking ones carry a want marker.
package lh107

import (
	"context"
	"database/sql"
	"net/http"
	"time"
)

func work(ctx context.Context) error { return ctx.Err() }

// Background: a fresh root context inside a function that has one.
func Background(ctx context.Context) error {
	c, cancel := context.WithTimeout(context.Background(), time.Second) // want LH107
	defer cancel()
	return work(c)
}

// InGoroutine: the goroutine it starts drops ctx.
func InGoroutine(ctx context.Context) {
	go func() {
		_ = work(context.TODO()) // want LH107
	}()
	_ = work(ctx)
}

// HTTPGet ignores ctx.
func HTTPGet(ctx context.Context, url string) (int, error) {
	resp, err := http.Get(url) // want LH107
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, ctx.Err()
}

// NewRequest without context.
func NewRequest(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil) // want LH107
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// Store wraps a database.
type Store struct {
	db *sql.DB
}

// Load uses QueryRow without ctx.
func (s *Store) Load(ctx context.Context, id int) (string, error) {
	var name string
	err := s.db.QueryRow("SELECT name FROM users WHERE id = ?", id).Scan(&name) // want LH107
	return name, err
}

// Tx begins without ctx and execs without ctx.
func Tx(ctx context.Context, db *sql.DB) error {
	tx, err := db.Begin() // want LH107
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.Exec("DELETE FROM t"); err != nil { // want LH107
		return err
	}
	return tx.Commit()
}
