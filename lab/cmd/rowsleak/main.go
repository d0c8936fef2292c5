// rowsleak is the lab service for LH402 sql-rows-not-closed, against an in-process
// database/sql driver (labdb, below: standard library only). The leaking handler reads
// the first row and returns without rows.Close, so the connection never goes back to
// the pool: with an unlimited pool every request opens and keeps one more connection
// and its result buffer; with -maxconns N the pool runs dry after N requests and every
// later query waits in database/sql.(*DB).conn forever.
//
//	/leak?bytes=B&every=N   one request in N keeps its rows (and B bytes of result) open
//	/fixed?bytes=B&every=N  `defer rows.Close()`
package main

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"sync/atomic"

	"leakhunter.dev/lab/internal/knob"
	"leakhunter.dev/lab/internal/labhttp"
)

// --- labdb: a minimal database/sql driver serving one table of three users. ---

type labDriver struct{}

func (labDriver) Open(name string) (driver.Conn, error) { return &labConn{}, nil }

type labConn struct{ closed bool }

func (c *labConn) Prepare(query string) (driver.Stmt, error) { return &labStmt{}, nil }
func (c *labConn) Close() error                              { c.closed = true; return nil }
func (c *labConn) Begin() (driver.Tx, error)                 { return nil, errors.New("labdb: no transactions") }

type labStmt struct{}

func (s *labStmt) Close() error  { return nil }
func (s *labStmt) NumInput() int { return -1 }
func (s *labStmt) Exec(args []driver.Value) (driver.Result, error) {
	return nil, errors.New("labdb: read-only")
}

// Query answers three rows; its first argument, when given, is the size of the result
// buffer the rows hold (the per-request leak amount).
func (s *labStmt) Query(args []driver.Value) (driver.Rows, error) {
	size := int64(64)
	if len(args) > 0 {
		if n, ok := args[0].(int64); ok && n > 0 {
			size = n
		}
	}
	return &labRows{buf: make([]byte, size)}, nil
}

type labRows struct {
	buf []byte
	i   int
}

func (r *labRows) Columns() []string { return []string{"id", "name"} }
func (r *labRows) Close() error      { r.buf = nil; return nil }
func (r *labRows) Next(dest []driver.Value) error {
	if r.i >= 3 || r.buf == nil {
		return io.EOF
	}
	dest[0] = int64(r.i)
	dest[1] = fmt.Sprintf("user%d", r.i)
	r.i++
	return nil
}

// --- the service ---

// firstUserLeaky returns the first user's name.
func firstUserLeaky(db *sql.DB, size int) (string, error) {
	rows, err := db.Query("SELECT id, name FROM users", size) // LEAK: LH402 rows never closed: the connection stays checked out
	if err != nil {
		return "", err
	}
	if rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return "", err
		}
		return name, nil
	}
	return "", rows.Err()
}

// firstUserFixed closes the rows on every path.
func firstUserFixed(db *sql.DB, size int) (string, error) {
	rows, err := db.Query("SELECT id, name FROM users", size)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	if rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return "", err
		}
		return name, nil
	}
	return "", rows.Err()
}

func handler(db *sql.DB, first func(*sql.DB, int) (string, error)) http.HandlerFunc {
	var calls atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		f := firstUserFixed
		if knob.Nth(&calls, knob.Int(r, "every", 1)) {
			f = first
		}
		name, err := f(db, knob.Int(r, "bytes", 1024))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, name)
	}
}

var maxConns = flag.Int("maxconns", 0, "database/sql MaxOpenConns (0: unlimited)")

func main() {
	flag.Parse()
	sql.Register("labdb", labDriver{})
	db, err := sql.Open("labdb", "")
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(*maxConns)
	mux := labhttp.Mux()
	mux.HandleFunc("/leak", handler(db, firstUserLeaky))
	mux.HandleFunc("/fixed", handler(db, firstUserFixed))
	labhttp.Serve(mux)
}
