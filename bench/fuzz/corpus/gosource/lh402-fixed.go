package lh402

import (
	"context"
	"database/sql"
	"log"
	"net/http"
)

// deferClose is the canonical shape.
func deferClose(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT name FROM users")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// exhausted runs Next until it returns false, which closes the rows.
func exhausted(db *sql.DB) (int, error) {
	rows, err := db.Query("SELECT id FROM t")
	if err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// returned hands the rows to the caller.
func returned(db *sql.DB) (*sql.Rows, error) {
	rows, err := db.Query("SELECT id FROM t")
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// scanAll closes what it is handed.
func scanAll(rows *sql.Rows) (int, error) {
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// closedByHelper passes the rows to a helper that closes them.
func closedByHelper(db *sql.DB) (int, error) {
	rows, err := db.Query("SELECT id FROM t")
	if err != nil {
		return 0, err
	}
	return scanAll(rows)
}

// preparedOnTx: statements prepared on a transaction close with it.
func preparedOnTx(tx *sql.Tx) error {
	stmt, err := tx.Prepare("INSERT INTO t VALUES (?)")
	if err != nil {
		return err
	}
	_, err = stmt.Exec(1)
	return err
}

// stmtDeferred closes the statement.
func stmtDeferred(db *sql.DB) error {
	stmt, err := db.Prepare("INSERT INTO t VALUES (?)")
	if err != nil {
		return err
	}
	defer stmt.Close()
	_, err = stmt.Exec(1)
	return err
}

// urlQuery: URL.Query is not a database query.
func urlQuery(r *http.Request) string {
	q := r.URL.Query()
	return q.Get("x")
}

type search struct{}

func (search) Query(q string) ([]string, error) { return []string{q}, nil }

// otherQuery: a Query method whose result is never used like rows.
func otherQuery(s search) (int, error) {
	res, err := s.Query("x")
	if err != nil {
		return 0, err
	}
	return len(res), nil
}

// discardedExec: Exec returns no rows to close.
func discardedExec(db *sql.DB) error {
	_, err := db.Exec("DELETE FROM t")
	return err
}

// deferRows closes and logs, as a shared helper (ryanrolds/sqlclosecheck#43).
func deferRows(rows *sql.Rows) {
	if err := rows.Close(); err != nil {
		println(err.Error())
	}
}

func closedByDeferredHelper(ctx context.Context, db *sql.DB) (int, error) {
	rows, err := db.QueryContext(ctx, "SELECT id FROM t")
	if err != nil {
		return 0, err
	}
	defer deferRows(rows)
	n := 0
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}

// deferredClosureClose closes in a deferred func literal (ryanrolds/sqlclosecheck#35, #49).
func deferredClosureClose(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, "SELECT id FROM t")
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var id int
		if err = rows.Scan(&id); err != nil {
			return err
		}
	}
	return rows.Err()
}

// conditionalAssign queries in either branch; Next runs to the end (ryanrolds/sqlclosecheck#11):
// rows are closed by the exhausted Next, and log.Fatal ends the other paths.
func conditionalAssign(db *sql.DB, adults bool) []string {
	var (
		rows *sql.Rows
		err  error
	)
	if adults {
		rows, err = db.Query("SELECT name FROM users WHERE age >= 21")
	} else {
		rows, err = db.Query("SELECT name FROM users")
	}
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			log.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

// closedByCancel: cancelling the query's context closes the rows and frees the connection.
func closedByCancel(ctx context.Context, db *sql.DB) (string, error) {
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows, err := db.QueryContext(qctx, "SELECT name FROM users")
	if err != nil {
		return "", err
	}
	var name string
	if rows.Next() {
		err = rows.Scan(&name)
	}
	return name, err
}

var _ = closedByCancel
