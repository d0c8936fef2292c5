"""LH201 lost-cancel: the cancel function of a derived context discarded or not called on every path."""

from __future__ import annotations

from collections.abc import Iterator

from leakhunter.model import Finding, Severity
from leakhunter.source import gosyntax as gs
from leakhunter.source.release import ReleaseSpec, analyze, is_local_target
from leakhunter.source.rule import FileContext, Rule
from leakhunter.source.rules._resource import is_main

_CONTEXT_PATHS = ("context", "golang.org/x/net/context")
_CANCELLING = frozenset(
    {"WithCancel", "WithTimeout", "WithDeadline", "WithCancelCause", "WithTimeoutCause", "WithDeadlineCause"}
)
_CALL_SELF = ReleaseSpec(call_self=True)


def _compact(text: str) -> str:
    """`text` without whitespace, so `a . b` and `a.b` compare equal."""
    return "".join(text.split())


class LostCancel(Rule):
    """The cancel function of `context.WithCancel/WithTimeout/WithDeadline` (or a `Cause` form) is lost.

    Each derived context registers itself with its parent (and `WithTimeout` /
    `WithDeadline` start a runtime timer). Only calling the returned cancel function
    unregisters it: until then the child — and everything its values and
    `AfterFunc` callbacks reference — stays reachable from the parent, for as long as
    the parent lives (for a `context.Background()` parent: forever, or until the
    timer fires).

    Reported: the cancel function discarded with `_`, and a named cancel function
    that some path from the call to a return (or to the end of the function) never
    calls. As in go vet's `lostcancel`, using the variable at all ends the analysis
    on that path — `defer cancel()`, calling it, returning it, storing it in a
    struct field or a global, passing it to a function, capturing it in a closure
    (a goroutine that cancels later) — because the job moved elsewhere. A path that
    has received from the derived context's `Done()` (`<-ctx.Done()`, a `select`
    case on it) needs no cancel either: a done context has already been removed
    from its parent (its timer fired or the parent was cancelled). Paths that
    end in `panic`, `os.Exit`, `log.Fatal` or `t.Fatal` do not count, and neither do
    the returns of `main` (the process ends). Two places go further than go vet:
    a cancel handed to a same-package helper counts as handled only if that helper
    calls it, keeps it or passes it on (`if !valid(cancel) { return }` with a
    `valid` that only compares it to nil is still a leak), and a cancel declared
    with `:=` in an endless loop body that is still uncalled when the body loops
    back is reported: every iteration leaks one context into the parent.

    Fix: `defer cancel()` right after the call.
    """

    id = "LH201"
    name = "lost-cancel"
    severity = "error"
    fix = "call the cancel function on every path: `defer cancel()` right after the context.With... call"
    leaking_example = """\
func fetch(parent context.Context, url string) error {
	ctx, _ := context.WithTimeout(parent, time.Second) // cancel discarded
	return get(ctx, url)
}
"""
    fixed_example = """\
func fetch(parent context.Context, url string) error {
	ctx, cancel := context.WithTimeout(parent, time.Second)
	defer cancel()
	return get(ctx, url)
}
"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        src = ctx.source
        if b"context" not in src or not (b".WithCancel" in src or b".WithTimeout" in src or b".WithDeadline" in src):
            return  # a byte search is far cheaper than indexing the tree
        test_severity: Severity | None = "info" if ctx.is_test or ctx.path.name.endswith("_test.go") else None
        for call in gs.nodes_of_type(ctx, "call_expression"):
            q = gs.qualified_call_name(ctx, call)
            pkg, _, fname = q.rpartition(".")
            if fname not in _CANCELLING or pkg not in _CONTEXT_PATHS:
                continue
            stmt = call.parent
            while stmt is not None and stmt.type == "parenthesized_expression":
                stmt = stmt.parent
            if stmt is None or stmt.type != "expression_list" or stmt.parent is None:
                continue
            stmt = stmt.parent
            if stmt.type not in ("short_var_declaration", "assignment_statement", "var_spec"):
                continue
            lefts, rights = gs.assignment_sides(stmt)
            if len(lefts) != 2 or len(rights) != 1:
                continue
            cancel = _compact(ctx.text(lefts[1]))
            callee = gs.call_name(ctx, call)
            function = gs.function_name(ctx, call)
            if cancel == "_":
                yield self.finding(
                    ctx, lefts[1],
                    f"the cancel function returned by {callee} is discarded: the derived context "
                    f"stays registered with its parent (and its timer runs) until the parent ends",
                    severity=test_severity, function=function,
                )
                continue
            fn = gs.enclosing_function(call)
            if fn is None or not is_local_target(ctx, fn, stmt, cancel) or is_main(ctx, fn):
                continue
            derived = _compact(ctx.text(lefts[0]))
            spec = ReleaseSpec(call_self=True, released_by=frozenset({f"{derived}.Done()"})) if derived != "_" else _CALL_SELF
            res = analyze(ctx, fn, acquisition=stmt, var=cancel, spec=spec)
            if res.gave_up or not res.leaks:
                continue
            partly = res.released or res.transferred
            more = len(res.leaks) - 1
            paths = f" (and {more} other path{'s' if more > 1 else ''})" if more > 0 else ""
            yield self.finding(
                ctx, lefts[1],
                f"`{cancel}` from {callee} is "
                + ("never called" if not partly else "not called on every path")
                + f": {res.leaks[0].describe()}{paths} is reached without it, and the derived "
                f"context stays registered with its parent until the parent ends",
                severity=test_severity or ("warning" if partly else "error"),
                function=function,
            )
