// Package lh403 holds transactions left open on some path.
package lh403

import (
	"context"
	"database/sql"
)

// earlyReturn returns on a failed statement with the transaction open.
func earlyReturn(ctx context.Context, db *sql.DB, id int) error {
	tx, err := db.BeginTx(ctx, nil) // want LH403
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM t WHERE id = ?", id); err != nil {
		return err
	}
	return tx.Commit()
}

// rollbackOnOnePath rolls back after the first statement but not the second.
func rollbackOnOnePath(db *sql.DB) error {
	tx, err := db.Begin() // want LH403
	if err != nil {
		return err
	}
	if _, err := tx.Exec("UPDATE t SET x = 1"); err != nil {
		_ = tx.Rollback()
		return err
	}
	if _, err := tx.Exec("UPDATE t SET y = 1"); err != nil {
		return err
	}
	return tx.Commit()
}
