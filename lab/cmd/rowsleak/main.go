// rowsleak is the lab service for LH402 sql-rows-not-closed, against an in-process
// database/sql driver (labdb, below: standard library only). The leaking handler reads
// the first row and returns without rows.Close, so the connection never goes back to
// the pool: with an unlimited pool every request opens and keeps one more connection
// and its read buffer; with -maxconns N the pool runs dry after N requests and every
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

// labConn keeps a read buffer sized to the largest result it served, as wire-protocol
// drivers do: a connection that never returns to the pool keeps its buffer.
type labConn struct {
	buf    []byte
	closed bool
}

func (c *labConn) Prepare(query string) (driver.Stmt, error) { return &labStmt{c: c}, nil }
func (c *labConn) Close() error                              { c.closed = true; return nil }
func (c *labConn) Begin() (driver.Tx, error)                 { return nil, errors.New("labdb: no transactions") }

type labStmt struct{ c *labConn }

func (s *labStmt) Close() error  { return nil }
func (s *labStmt) NumInput() int { return -1 }
func (s *labStmt) Exec(args []driver.Value) (driver.Result, error) {
	return nil, errors.New("labdb: read-only")
}

// Query answers three rows; its first argument, when given, is the size of the result
// read into the connection's buffer (the per-request leak amount).
func (s *labStmt) Query(args []driver.Value) (driver.Rows, error) {
	size := 64
	if len(args) > 0 {
		if n, ok := args[0].(int64); ok && n > 0 {
			size = int(n)
		}
	}
	if cap(s.c.buf) < size {
		s.c.buf = make([]byte, size) // LEAK: LH402 held by every connection whose rows are never closed
	}
	return &labRows{}, nil
}

type labRows struct{ i int }

func (r *labRows) Columns() []string { return []string{"id", "name"} }
func (r *labRows) Close() error      { return nil }
func (r *labRows) Next(dest []driver.Value) error {
	if r.i >= 3 {
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
