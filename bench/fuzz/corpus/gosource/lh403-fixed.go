package lh403

import (
	"context"
	"database/sql"
)

// deferRollback is the canonical shape: Rollback after Commit is a no-op.
func deferRollback(ctx context.Context, db *sql.DB, id int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM t WHERE id = ?", id); err != nil {
		return err
	}
	return tx.Commit()
}

// everyPath commits or rolls back explicitly on each path.
func everyPath(db *sql.DB) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	if _, err := tx.Exec("UPDATE t SET x = 1"); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return nil
}

// withTx hands the transaction to a callback runner that owns it.
func withTx(db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	return finish(tx, fn(tx))
}

func finish(tx *sql.Tx, err error) error {
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// returnedTx gives the transaction to the caller.
func returnedTx(db *sql.DB) (*sql.Tx, error) {
	tx, err := db.Begin()
	if err != nil {
		return nil, err
	}
	return tx, nil
}

// panicPath: a panic ends the path (a deferred recover elsewhere owns cleanup).
func panicPath(db *sql.DB) {
	tx, err := db.Begin()
	if err != nil {
		panic(err)
	}
	if _, err := tx.Exec("UPDATE t SET x = 1"); err != nil {
		_ = tx.Rollback()
		panic(err)
	}
	if err := tx.Commit(); err != nil {
		panic(err)
	}
}
