"""Held-out set 80's false shapes fixed after its measurement (tuning), on real Go, vetted:

- LH107 (tests/fixtures/scan/lh107_txctx): tailsql's `LogQuery` begins its Tx with `s.db.BeginTx(ctx, nil)`
  and runs `tx.QueryRow(...)`, `tx.Exec(...)` without ctx, three false findings (go-f3's statements on a Tx
  begun with ctx, set 59, the same shape): the Tx holds ctx, and when ctx is cancelled database/sql rolls
  it back and frees its connection. Twins: a Tx begun with `context.Background()`, and a Tx handed in,
  stay reported.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_fixture_is_valid_go() -> None:
    vet("lh107_txctx")


def test_statements_on_a_tx_that_holds_the_callers_context() -> None:
    assert compare("lh107_txctx", ["LH107"]) == []
    found = run_rules(FIXTURES / "lh107_txctx" / "querylog.go", ["LH107"])
    assert sorted(f.function for f in found) == ["Store.LogDetached", "logInto"]
