"""LH110 cond-never-signalled: sync.Cond.Wait with no Signal or Broadcast that can wake it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.program.concurrency import concurrency
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node


class CondNeverSignalled(Rule):
    """`c.Wait()` on a sync.Cond that nothing ever Signals or Broadcasts.

    The pattern: a local `c := sync.NewCond(&mu)` waited on in the function (or its
    closures) with no `c.Signal()` / `c.Broadcast()` anywhere it can reach; or an unexported
    `*sync.Cond` field whose Wait has no Signal/Broadcast on that field anywhere in the
    package (only this package can touch it).

    Why it leaks: `Wait` returns only after a Signal or Broadcast; with none reachable the
    goroutine sleeps forever, holding everything it references (and, typically, callers
    queue behind the condition's lock).

    The fix: Broadcast (or Signal) after every change of the condition the waiters check,
    under the lock; or replace the Cond with a channel that is closed when the condition
    becomes true.

    Not reported: a cond that leaves the function (passed to a call, returned, stored),
    exported fields, fields assigned from elsewhere, and fields whose value is handed on
    (`r.resc = n.c1`, `return n.c1`): the alias may be signalled.
    """

    id = "LH110"
    name = "cond-never-signalled"
    severity = "error"
    fix = "Broadcast (or Signal) under the lock after changing the condition, or use a closed channel"
    leaking_example = """\
func (q *queue) pop() item {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 {
		q.ready.Wait() // nothing in the package calls q.ready.Signal/Broadcast
	}
	...
}"""
    fixed_example = """\
func (q *queue) push(it item) {
	q.mu.Lock()
	q.items = append(q.items, it)
	q.mu.Unlock()
	q.ready.Signal()
}"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if b".Wait()" not in ctx.source:
            return
        yield from self._locals(ctx)
        if not re.search(rb"\w\.\w+\.Wait\(\)", ctx.source):
            return
        cc = concurrency(ctx)
        path = str(ctx.path)
        for key, waits in cc.cond_waits.items():
            if key in cc.opaque or cc.cond_signals.get(key):
                continue
            for file, start, _fn in waits:
                if file != path:
                    continue
                node = gs.call_at(ctx, start)
                if node is None:
                    continue
                yield self.finding(
                    ctx,
                    node,
                    f"Wait on field cond {key}, which nothing in the package ever Signals or "
                    "Broadcasts: the goroutine sleeps forever",
                    function=gs.function_name(ctx, node),
                )

    def _locals(self, ctx: FileContext) -> Iterator[Finding]:
        for info in gs.functions(ctx):
            if info.body is None or info.is_literal:
                continue
            for d in gs.walk(info.body, "short_var_declaration", into_func_literals=True):
                left, right = gs.assignment_sides(d)
                if len(left) != 1 or len(right) != 1 or right[0].type != "call_expression":
                    continue
                if gs.qualified_call_name(ctx, right[0]) != "sync.NewCond":
                    continue
                name = ctx.text(left[0])
                waits: list[Node] = []
                escaped = False
                for ident in gs.walk(info.body, "identifier", into_func_literals=True):
                    if ctx.text(ident) != name or ident == left[0]:
                        continue
                    p = ident.parent
                    method = ""
                    if p is not None and p.type == "selector_expression":
                        method = ctx.text(p.child_by_field_name("field"))
                    if method == "Wait" and p is not None and p.parent is not None:
                        waits.append(p.parent)
                    elif method in ("Signal", "Broadcast") or method not in ("L",):
                        escaped = True
                if escaped:
                    continue
                for w in waits:
                    yield self.finding(
                        ctx,
                        w,
                        f"Wait on {name} (sync.NewCond at line {d.start_point[0] + 1}), which is "
                        "never Signalled or Broadcast: the goroutine sleeps forever",
                        function=gs.function_name(ctx, w),
                    )
