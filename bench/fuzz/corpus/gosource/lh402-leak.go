// Package lh402 holds query rows and statements not closed on some path.
package lh402

import (
	"context"
	"database/sql"
)

// scanErrorReturn leaves the rows open when a Scan fails.
func scanErrorReturn(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT name FROM users") // want LH402
	if err != nil {
		return nil, err
	}
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

// firstRowOnly returns after the first row without closing.
func firstRowOnly(db *sql.DB) (string, error) {
	rows, err := db.Query("SELECT name FROM users") // want LH402
	if err != nil {
		return "", err
	}
	if rows.Next() {
		var s string
		err := rows.Scan(&s)
		return s, err
	}
	return "", rows.Err()
}

// discardedRows runs a query for its side effect: the rows are never closed.
func discardedRows(db *sql.DB) error {
	_, err := db.Query("SELECT pg_notify('ch', 'x')") // want LH402
	return err
}

// stmtNotClosed prepares a statement and never closes it.
func stmtNotClosed(db *sql.DB) error {
	stmt, err := db.Prepare("INSERT INTO t VALUES (?)") // want LH402
	if err != nil {
		return err
	}
	_, err = stmt.Exec(1)
	return err
}

// breakOut leaves the loop early: Next never returned false.
func breakOut(tx *sql.Tx) (int, error) {
	rows, err := tx.Query("SELECT id FROM t") // want LH402
	if err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		n++
		if n > 10 {
			break
		}
	}
	return n, nil
}
