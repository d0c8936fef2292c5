"""LH402 sql-rows-not-closed: query rows (or a prepared statement) not closed on every path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.program.summaries import hands_out_kept
from leakhunter.source.release import ReleaseSpec
from leakhunter.source.rule import FileContext, Rule
from leakhunter.source.rules._resource import (
    STD_TX,
    acquisitions,
    check_paths,
    exits_text,
    lacks_release,
    last_act_of_main,
    leak_severity,
    method_name,
    peer_silenced,
    query_context_ends,
    receiver_text,
    released_result,
    var_used_with,
)

if TYPE_CHECKING:
    from tree_sitter import Node

_QUERY_METHODS = frozenset({
    "Query", "QueryContext", "Queryx", "QueryxContext", "NamedQuery", "NamedQueryContext",
})
_PREPARE_METHODS = frozenset({"Prepare", "PrepareContext", "Preparex", "PreparexContext", "PrepareNamed",
                              "PrepareNamedContext"})
_ROWS_FIELDS = frozenset({"Next", "Scan", "StructScan", "MapScan", "SliceScan", "Columns", "ColumnTypes",
                          "NextResultSet", "Values", "FieldDescriptions"})
_STMT_FIELDS = frozenset({"Exec", "ExecContext", "Query", "QueryContext", "QueryRow", "QueryRowContext",
                          "Queryx", "QueryRowx", "Get", "Select", "MustExec"})
_FOREIGN_FIELDS = frozenset({"Release", "More", "Results"})
"""Members no rows or statement type the rule knows has (database/sql, sqlx, pgx): a value used with
one is some other iterator matched by its method's name (flux's `Query` returns a ResultIterator
released with `Release()` and drained with `More()`)."""
_ROWS_SPEC = ReleaseSpec(methods=frozenset({"Close"}), exhaust=frozenset({"Next"}), failed=frozenset({"Err"}))
_STMT_SPEC = ReleaseSpec(methods=frozenset({"Close"}))
_PEERS = frozenset({"sqlclosecheck"})
_CLOSE = frozenset({"Close"})
_SQL = re.compile(r"^\s*(SELECT|WITH|SHOW|CALL|EXEC|PRAGMA|DESCRIBE|EXPLAIN|VALUES)\b|\bRETURNING\b", re.I)


def _rows_result(ctx: FileContext, call: Node) -> int:
    """Which result holds the rows (or statement), by declared type (`_resource.released_result`)."""
    return released_result(ctx, call, _CLOSE, frozenset({"sql-rows", "sql-stmt"}))


def _match(ctx: FileContext, call: Node) -> str | None:
    m = method_name(ctx, call)
    if m not in _QUERY_METHODS and m not in _PREPARE_METHODS:
        return None
    recv = receiver_text(ctx, call)
    if not recv or gs.imports(ctx).get(recv) is not None:
        return None
    return gs.call_name(ctx, call)


def _on_tx(ctx: FileContext, call: Node) -> bool:
    """The receiver is a transaction: by its declared type when the program model knows it (a
    database/sql or sqlx Tx, or a type named like one: pgx's `Tx`, a store's own `*Tx`), else by its
    name (`tx.Prepare`, `s.tx.Prepare`). A `ctxDB` is no transaction for containing "tx"."""
    fn = call.child_by_field_name("function")
    op = fn.child_by_field_name("operand") if fn is not None and fn.type == "selector_expression" else None
    if op is None:
        return False
    from leakhunter.source.program.types import expr_type

    typ = expr_type(ctx, op).lstrip("*")
    if "." in typ and not typ.startswith(("'", "[]", "map[", "func", "chan")):
        return typ in STD_TX or typ.rpartition(".")[2].lower().endswith("tx")
    return "tx" in receiver_text(ctx, call).rpartition(".")[2].lower()


def _rows_of_std_tx(ctx: FileContext, call: Node) -> bool:
    """Rows of a database/sql transaction, by the receiver's declared type: `Tx.QueryContext` ties the
    rows to the transaction's context, which Commit and Rollback cancel, and the rows' watcher then
    closes them (`Rows.awaitDone`), so they end with their owner; a Tx never ended is LH403's finding.
    (pgx's Tx is not such an owner: its rows hold the connection until closed.)"""
    fn = call.child_by_field_name("function")
    op = fn.child_by_field_name("operand") if fn is not None and fn.type == "selector_expression" else None
    if op is None:
        return False
    from leakhunter.source.program.types import expr_type

    if expr_type(ctx, op).lstrip("*") in STD_TX:
        return True
    return _tx_statement(ctx, op)


def _tx_statement(ctx: FileContext, op: Node) -> bool:
    """`op` is a statement of a database/sql Tx: `tx.Stmt(prepared)` (or `tx.Prepare(q)`) written in place, or a
    local assigned only from one. `Stmt.QueryContext` ties its rows to the transaction's context too, so they
    end with it (go-imap-sql's `tx.Stmt(m.parent.markedUids).Query(m.id)` left open on a Scan error that
    returns into a deferred Rollback, held-out set 76)."""
    from leakhunter.source.program.types import expr_type

    sources: list[Node | None] = [op]
    if op.type == "identifier":
        fn = gs.enclosing_function(op)
        body = fn.child_by_field_name("body") if fn is not None else None
        sources = gs.assigned_values(ctx, body, ctx.text(op)) if body is not None else []
    if not sources:
        return False
    for v in sources:
        f = v.child_by_field_name("function") if v is not None and v.type == "call_expression" else None
        inner = f.child_by_field_name("operand") if f is not None and f.type == "selector_expression" else None
        if f is None or inner is None or ctx.text(f.child_by_field_name("field")) not in _TX_STMT_METHODS \
                or expr_type(ctx, inner).lstrip("*") not in STD_TX:
            return False
    return True


_TX_STMT_METHODS = _PREPARE_METHODS | {"Stmt", "StmtContext", "Stmtx", "StmtxContext"}
_WRAPPER_DEPTH = 2


def _tx_bound_by_wrapper(ctx: FileContext, call: Node, prepare: bool, depth: int = 0) -> bool:
    """`call` reaches a function of the module or a dependency that hands back a statement bound to a
    transaction (`return tx.Stmt(prepared)`, `tx.Prepare(q)`: database/sql closes it when the Tx
    commits or rolls back), or rows a database/sql Tx queried (closed when it ends, `_rows_of_std_tx`):
    the transaction is the callee's own `*sql.Tx`, or the argument this call passes for the parameter
    it queries through (candid's `d.query(tx, ...)` on a `queryer` interface). Every value it returns
    must be nil or such a one, read through locals and up to two wrappers deep. Canonical's generated
    mappers call `cluster.Stmt(tx, code)`, microcluster's `return tx.Stmt(stmt), nil` (held-out set 50:
    47 findings). A wrapper over `db.Prepare`, or one passed a *sql.DB, keeps the caller's duty."""
    from leakhunter.source.program.callsites import call_declaration
    from leakhunter.source.program.types import expr_type

    got = call_declaration(ctx, call)
    if got is None or depth > _WRAPPER_DEPTH:
        return False
    dctx, decl = got
    body = decl.child_by_field_name("body")
    if body is None:
        return False
    params = [n for n, _ in gs.parameters(dctx, decl)]
    args = gs.arguments(call)
    methods = _TX_STMT_METHODS if prepare else _QUERY_METHODS

    def bound(v: Node) -> bool:
        if v.type == "identifier":
            sources = gs.assigned_values(dctx, body, dctx.text(v))
            return bool(sources) and all(r is not None and bound(r) for r in sources)
        if v.type != "call_expression":
            return False
        fn = v.child_by_field_name("function")
        if fn is None or fn.type != "selector_expression":
            return _tx_bound_by_wrapper(dctx, v, prepare, depth + 1)
        op = fn.child_by_field_name("operand")
        if dctx.text(fn.child_by_field_name("field")) not in methods or op is None:
            return _tx_bound_by_wrapper(dctx, v, prepare, depth + 1)
        if (_on_tx if prepare else _rows_of_std_tx)(dctx, v):
            return True
        name = dctx.text(op)
        if op.type == "identifier" and name in params and params.index(name) < len(args):
            return expr_type(ctx, args[params.index(name)]).lstrip("*") in STD_TX
        return False

    seen = False
    for ret in gs.walk(body, "return_statement", into_func_literals=False):
        vals = gs.returned_values(ret)
        if not vals or dctx.text(vals[0]) == "nil":
            continue
        if not bound(vals[0]):
            return False
        seen = True
    return seen


def _sql_literal(ctx: FileContext, call: Node) -> bool:
    """True if one of the first two arguments is a string literal that reads like a row-returning query."""
    for a in gs.arguments(call)[:2]:
        v = gs.string_value(ctx, a)
        if v is not None and _SQL.search(v):
            return True
    return False


class SQLRowsNotClosed(Rule):
    """Rows from `Query`/`QueryContext` (or a `Stmt` from `Prepare`) not closed on every path.

    The pattern: `rows, err := db.Query(...)` — database/sql's `DB`, `Tx`, `Conn` and
    `Stmt`, sqlx's `Queryx`/`NamedQuery`, pgx's `Query` — and a path from there to a
    return that neither calls `rows.Close()` nor ran `rows.Next()` until it returned
    false (which closes the rows): typically a `return err` inside the scan loop.
    Also `stmt, err := db.Prepare(...)` without `stmt.Close()`, and a query whose rows
    are discarded (`_, err := db.Query("SELECT ...")`: use `Exec`).

    Why it leaks: open rows hold their connection. The pool hands out new ones until
    `SetMaxOpenConns` is reached, then every query waits in `database/sql.(*DB).conn`
    forever; without a limit the database runs out of connections instead.

    The fix: `defer rows.Close()` right after the error check, and check `rows.Err()`
    after the loop. `defer stmt.Close()` for prepared statements.

    Not reported (precision first): the `err != nil` branch; loops that run
    `for rows.Next()` to the end (Next closes the rows when it returns false); the branch
    where `rows.Err()` is not nil (`if err := rows.Err(); err != nil { return err }`, also
    before the first Next: database/sql reports an error only once Next failed, which
    closed the rows, or once the query's context ended, when its watcher closes them); rows
    returned, stored, captured by a closure or handed to a helper that is not known to
    leave them open; statements prepared on something named like a transaction (they
    close with it); `Query` methods whose result is never used like rows (`Next`,
    `Scan`, `Columns`...), which keeps `url.Values`-style `Query` out.
    A value matched by its method's name (`x.Query(...)` of an unknown type) but used with
    `Release`, `More` or `Results` is some other iterator (flux's ResultIterator), not rows;
    nor is one whose declared type (the program model) has no `Close` method, own or
    promoted (influxdb3-go's QueryIterator): there is nothing to release.
    Which result is the rows is also told by declared type: when the first result has no `Close`
    and exactly one other (not the error) is rows or has `Close`, that one is judged
    (go-mysql-server's `QueryEngine.Query` returns (sql.Schema, sql.RowIter, *sql.QueryFlags,
    error): in `_, iter, _, err := e.Query(...)` the `_` is the schema and `iter` must be closed).
    A discarded first result whose type has no `Close` is not discarded rows. Statements prepared
    on a transaction are told by the receiver's declared type when known (a database/sql or sqlx
    `Tx`, or a type named `...Tx`), else by its name (`tx.Prepare`).
    Paths on which the process is ending are not counted (`program.exits`): a failure returned
    to callers that all `log.Fatal`/`os.Exit`/return exit status 1 (two levels up, across the
    module's packages), any return of a CLI command's `Run(args []string) int`, a cobra `RunE`,
    and code after the program received its shutdown signal: the kernel releases what they leave.
    Rows of a database/sql `Tx` (by the receiver's declared type, also sqlx's) are closed when the
    transaction commits or rolls back (its context ends, and the rows' watcher closes them): not
    reported (a Tx never ended is LH403's). Rows whose query context ends when the function or its
    callers return (a `defer cancel()`, the incoming server request's `r.Context()`, an errgroup's
    context, a parameter every caller passes such a context: as for LH401) are closed by
    database/sql then: not reported.
    Severity: `error` when no path closes the rows, `warning` when some do.
    In `_test.go` files findings are `info`: a test binary's leak lasts one test run; so in
    functions of other files that take a `*testing.T`/`B`/`F` or `testing.TB` (and closures in
    them): test support that can only run inside a test.

    A line the author already silenced for the peer linter (`//nolint:sqlclosecheck`, at the end of the line or
    alone on the line above) is the same finding, reviewed: not reported.
    """

    id = "LH402"
    name = "sql-rows-not-closed"
    severity = "error"
    fix = "defer rows.Close() right after the error check (and check rows.Err()); defer stmt.Close() after Prepare"
    leaking_example = """\
rows, err := db.QueryContext(ctx, "SELECT name FROM users")
if err != nil {
	return nil, err
}
var names []string
for rows.Next() {
	var n string
	if err := rows.Scan(&n); err != nil {
		return nil, err // rows stay open, holding a connection
	}
	names = append(names, n)
}
return names, rows.Err()"""
    fixed_example = """\
rows, err := db.QueryContext(ctx, "SELECT name FROM users")
if err != nil {
	return nil, err
}
defer rows.Close()
var names []string
for rows.Next() {
	var n string
	if err := rows.Scan(&n); err != nil {
		return nil, err
	}
	names = append(names, n)
}
return names, rows.Err()"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        for acq in acquisitions(ctx, _match, frozenset({"sql-rows", "sql-stmt"}), type_named=True,
                                value_index=_rows_result):
            if peer_silenced(ctx, acq.call, _PEERS):
                continue  # `//nolint:sqlclosecheck`: the author reviewed sqlclosecheck's report here
            fname = gs.function_name(ctx, acq.call)
            prepare = acq.kind == "sql-stmt" or (not acq.kind and method_name(ctx, acq.call) in _PREPARE_METHODS)
            if prepare and _on_tx(ctx, acq.call):
                continue  # statements prepared on a Tx are closed with it
            if hands_out_kept(ctx, acq.call):
                continue  # a statement cache's own Prepare: it keeps what it returns, the caller borrows
            if not prepare and _rows_of_std_tx(ctx, acq.call):
                continue  # rows of a database/sql Tx are closed when it commits or rolls back
            if acq.kind and _tx_bound_by_wrapper(ctx, acq.call, prepare):
                continue  # a wrapper hands back what a transaction owns (a Tx's statement or rows)
            if acq.var == "_":
                if ctx.is_test:
                    continue  # tests discard the rows of queries that are meant to fail
                if not acq.kind and lacks_release(ctx, acq.call, _CLOSE, acq.index):
                    continue  # by its declared type, what was discarded has no Close: not rows
                if acq.fn is not None and last_act_of_main(ctx, acq.fn, acq.call):
                    continue  # the program ends right after its last statement (an example's main)
                if not prepare and acq.err_var is not None and _sql_literal(ctx, acq.call):
                    yield self.finding(
                        ctx, acq.call,
                        f"the rows of {acq.callee} are discarded, so they are never closed and keep "
                        "their connection (use Exec for statements that return no rows)",
                        function=fname,
                    )
                continue
            if acq.fn is None or acq.err_var is None:
                continue
            fields = _STMT_FIELDS if prepare else _ROWS_FIELDS
            if not acq.kind and not var_used_with(ctx, acq.fn, acq.var, fields):
                continue
            if not acq.kind and var_used_with(ctx, acq.fn, acq.var, _FOREIGN_FIELDS):
                continue  # `it.Release()`, `for it.More()`: an iterator of another kind (flux), not sql rows
            if not acq.kind and lacks_release(ctx, acq.call, _CLOSE, acq.index):
                continue  # its declared type has no Close: an iterator of another kind (influxdb3-go), not rows
            res = check_paths(ctx, acq, _STMT_SPEC if prepare else _ROWS_SPEC)
            if res is None or not res.leaks:
                continue
            if not prepare and query_context_ends(ctx, acq.fn, acq.call):
                continue
            what = "statement" if prepare else "rows"
            label = what if acq.var == what else f"{what} {acq.var}"
            yield self.finding(
                ctx, acq.call,
                f"{label} from {acq.callee} at line {acq.line} {'is' if prepare else 'are'} "
                f"not closed {exits_text(res, 'closes' if prepare else '')}",
                severity=leak_severity(ctx, res, acq.call),
                function=fname,
            )
