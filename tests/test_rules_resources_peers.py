"""LH402 on pgx rows, found by type through the module cache (the program model's index).

pgx's `Tx`, `*Conn` and `*pgxpool.Pool` all hand out `pgx.Rows`; only the declared
types in the module cache tell the rule so. The module is written here from scratch
and must build (`go vet`) against pgx v5 from the module cache, offline; without
pgx in the cache the test is skipped (nothing is fetched from a test).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from golab import go_exe
from scanfixtures import compare

PGX = "github.com/jackc/pgx/v5"

SOURCE = """\
package rowsdemo

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// countTx never closes the rows of a transaction's query.
func countTx(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, "SELECT 1") // want LH402
	if err != nil {
		return err
	}
	_ = rows
	return nil
}

// poolEarlyReturn leaves the rows open on the early return.
func poolEarlyReturn(ctx context.Context, p *pgxpool.Pool, skip bool) error {
	rows, err := p.Query(ctx, "SELECT 1") // want LH402
	if err != nil {
		return err
	}
	if skip {
		return nil
	}
	rows.Close()
	return nil
}

// closed is the fixed form.
func closed(ctx context.Context, c *pgx.Conn) (int, error) {
	rows, err := c.Query(ctx, "SELECT 1")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

var _, _, _ = countTx, poolEarlyReturn, closed
"""


def _pgx_version() -> str | None:
    cache = subprocess.run([go_exe(), "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    found = sorted(Path(cache, "cache", "download", "github.com", "jackc", "pgx", "v5", "@v").glob("v5.*.zip"))
    return found[-1].name.removesuffix(".zip") if found else None


def test_pgx_rows_by_type(tmp_path: Path) -> None:
    version = _pgx_version()
    if version is None:
        pytest.skip("github.com/jackc/pgx/v5 is not in the module cache")
    (tmp_path / "go.mod").write_text(f"module example.com/rowsdemo\n\ngo 1.24\n\nrequire {PGX} {version}\n")
    pkg = tmp_path / "rowsdemo"
    pkg.mkdir()
    (pkg / "rows.go").write_text(SOURCE)
    env = {**os.environ, "GOPROXY": "off", "GOFLAGS": "-mod=mod", "GOSUMDB": "off"}
    tidy = subprocess.run([go_exe(), "mod", "tidy"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    if tidy.returncode != 0:
        pytest.skip(f"pgx's own dependencies are not all in the module cache: {tidy.stderr.strip()[:200]}")
    vet = subprocess.run([go_exe(), "vet", "./..."], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert vet.returncode == 0, vet.stderr
    assert compare("rowsdemo", ["LH402"], root=tmp_path) == []
