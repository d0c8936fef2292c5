"""LH112 pool-not-waited: a sourcegraph/conc goroutine pool left without its `Wait` on some path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.release import ReleaseSpec
from leakhunter.source.rule import FileContext, Rule
from leakhunter.source.rules._resource import acquisitions, check_paths, exits_text

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.release import ReleaseResult

_CONC = "github.com/sourcegraph/conc/pool"
_CONSTRUCTORS = frozenset({f"{_CONC}.New", f"{_CONC}.NewWithResults"})
_SPEC = ReleaseSpec(methods=frozenset({"Wait"}))


def _match(ctx: FileContext, call: Node) -> str | None:
    """`pool.New()`, `pool.NewWithResults[T]()`, and the same under a chain of its `With...` options
    (`pool.New().WithContext(ctx).WithMaxGoroutines(n)`): each option returns the pool it was given."""
    cur = call
    while True:
        fn = cur.child_by_field_name("function")
        if fn is None or fn.type != "selector_expression":
            break
        op, field = fn.child_by_field_name("operand"), fn.child_by_field_name("field")
        if op is None or op.type != "call_expression" or field is None or not ctx.text(field).startswith("With"):
            break
        cur = op
    name = gs.qualified_call_name(ctx, cur)
    return gs.call_name(ctx, call) if name.split("[", 1)[0] in _CONSTRUCTORS else None


def _after_go(ctx: FileContext, fn: Node, var: str, exit_node: Node) -> bool:
    """A worker may be running when the path leaves: `var.Go(...)` was called before the exit in the
    source, or the exit sits in a loop whose body calls it (a later turn leaves after earlier ones
    started workers). The pool starts its workers lazily in `Go`: an exit before any leaves none."""
    body = fn.child_by_field_name("body")
    if body is None:
        return False
    gos = [c for c in gs.walk(body, "call_expression") if gs.call_name(ctx, c) == f"{var}.Go"]
    if any(c.start_byte < exit_node.start_byte for c in gos):
        return True
    loop = gs.in_loop(exit_node)
    return loop is not None and any(loop.start_byte <= c.start_byte < loop.end_byte for c in gos)


class PoolNotWaited(Rule):
    """A `github.com/sourcegraph/conc/pool` pool that some path leaves without calling `Wait`.

    The pattern: `p := pool.New().WithMaxGoroutines(n)`, tasks handed to `p.Go(...)` in a loop, and a
    `return err` inside that loop (or anywhere after the first `Go`) before `p.Wait()`.

    Why it leaks: the pool starts its workers lazily in `Go`, and each worker ranges over the pool's
    task channel until `Wait` closes it. A path that skips `Wait` leaves every worker started so far
    blocked on that channel for good, with what its tasks captured: up to the pool's limit of
    goroutines per call. OpenFGA v1.4.1 leaked 100 goroutines per capped ListObjects this way
    (openfga/openfga#1296: `return err` in `readTuplesAndExecute`'s loop, fixed in v1.4.2 by leaving
    the loop and waiting); `soak` called it in the running service (real leaks, set 2).

    The fix: `defer p.Wait()` right after making the pool (with `WithContext`, cancel its context
    first so the tasks end early), or leave the loop with `break` and wait before returning.

    Not reported: exits before the first `p.Go` (no worker yet); a pool handed to another function,
    stored or returned (the receiver waits); `main` and paths that end the process. In `_test.go`
    files findings are `info`: the workers live until the test binary ends. Not yet followed: a pool
    made by a helper of the module (`concurrency.NewPool(ctx, n)` in later OpenFGA releases), and
    conc's `stream` and `iter` packages.
    """

    id = "LH112"
    name = "pool-not-waited"
    severity = "error"
    fix = "call p.Wait() on every path: defer p.Wait() after making the pool, or break out of the loop and wait"
    leaking_example = """\
p := pool.New().WithErrors().WithMaxGoroutines(10)
for _, item := range items {
	if err := check(item); err != nil {
		return err // workers already started wait on the pool's task channel for good
	}
	p.Go(func() error { return handle(item) })
}
return p.Wait()"""
    fixed_example = """\
p := pool.New().WithErrors().WithMaxGoroutines(10)
for _, item := range items {
	if err := check(item); err != nil {
		_ = p.Wait() // let the started workers finish and end
		return err
	}
	p.Go(func() error { return handle(item) })
}
return p.Wait()"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if b"sourcegraph/conc/pool" not in ctx.source:
            return  # asked once per file: per call, a 2.9 MB generated file took 22 s (ronanh/intcomp)
        for acq in acquisitions(ctx, _match):
            if acq.fn is None or acq.var in ("", "_") or acq.stmt is None:
                continue
            res = check_paths(ctx, acq, _SPEC)
            if res is None or not res.leaks:
                continue
            fn = acq.fn
            res.leaks = [e for e in res.leaks if _after_go(ctx, fn, acq.var, e.node)]
            if not res.leaks:
                continue
            yield self.finding(
                ctx, acq.call,
                f"conc pool {acq.var} made at line {acq.line} is not waited for "
                f"{exits_text(res)}: {_workers(res)}",
                severity="info" if ctx.is_test else self.severity,
                function=gs.function_name(ctx, acq.call),
            )


def _workers(res: ReleaseResult) -> str:
    return ("the workers its Go calls started stay blocked on its task channel for good, with what their "
            "tasks captured" + ("" if res.released else " (no path waits for them)"))
