"""LH111 select-exit-never-signalled: a loop's only way out waits on a channel nobody signals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.goflow import is_infinite_loop, line, loop_exits
from leakhunter.source.program.concurrency import (
    FieldOp,
    concurrency,
    may_touch_fields,
)
from leakhunter.source.program.once import started_once
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node


class SelectExitNeverSignalled(Rule):
    """`for { select { ...; case <-w.done: return } }` where nothing ever closes or sends on w.done.

    The pattern: a worker loop whose every exit (return / break out of the loop) sits in
    select cases receiving from channels held in unexported struct fields, and nothing in
    the package ever closes or sends on any of those channels (the `Stop` that would close
    it does not exist, or closes something else).

    Why it leaks: the loop can never end, so the goroutine running it (and everything it
    references: the struct, its buffers, its connections) lives until the process exits,
    one per started worker.

    The fix: close the exit channel in the type's Stop/Close (`close(w.done)`), or select
    on a `ctx.Done()` the owner cancels.

    Not reported: loops with any other exit (a `range` or a condition ends the loop by itself:
    `for _, item := range m { select { case <-stop: return; default: ... } }`, gatekeeper's upgrade
    manager, held-out set 55), exit channels whose value leaves the package's
    view (passed to a call, aliased, exported, assigned from elsewhere), `ctx.Done()`, and loops of a
    function that runs once per process (`program.once`: started from `main`, even through an interface
    such as a device plugin manager's `Scanner.Scan`): the process's own worker, not one per call.

    Off by default in `scan` (`--enable LH111`, or `enable` in `.leakhunter.toml`): at first contact
    with modules nobody had tuned it on, 1 of 7 production findings was true (held-out sets 1-114):
    the loops were workers that live as long as their process, which the program model cannot always
    tell from one per call (`report.trust.LOW`). `watch`, `soak` and `goroutines --source` still run
    it, beside goroutines measured to pile up in the loop.
    """

    id = "LH111"
    name = "select-exit-never-signalled"
    severity = "warning"
    enabled_by_default = False
    fix = "close the exit channel in Stop/Close (close(w.done)), or exit on a ctx.Done() the owner cancels"
    leaking_example = """\
func (w *worker) loop() {
	for {
		select {
		case j := <-w.jobs:
			w.do(j)
		case <-w.done: // nothing closes w.done: the goroutine never ends
			return
		}
	}
}"""
    fixed_example = """\
func (w *worker) Stop() { close(w.done) }"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if b"select" not in ctx.source or not may_touch_fields(ctx):
            return
        cc = concurrency(ctx)
        path = str(ctx.path)
        recv_at = {
            o.start: o
            for ops in cc.ops.values()
            for o in ops
            if o.file == path and o.op == "recv" and o.resolved
        }
        if not recv_at:
            return
        for loop in gs.nodes_of_type(ctx, "for_statement"):
            if not is_infinite_loop(loop):
                continue  # a range or a condition ends it without the select (gatekeeper's range over a map)
            exits = loop_exits(loop)
            if not exits:
                continue
            dead: list[FieldOp] = []
            for e in exits:
                op = _exit_case_op(e, loop, recv_at)
                if op is None or not cc.never_fed(op.field):
                    dead = []
                    break
                dead.append(op)
            if not dead:
                continue
            node = _select_of(loop, dead[0].start)
            if node is None:
                continue
            fn = gs.enclosing_function(loop)
            if fn is not None and started_once(ctx, fn):
                continue  # the process's worker, started once (Intel's device plugins' Scan from main, set 92)
            chans = ", ".join(sorted({d.field for d in dead}))
            yield self.finding(
                ctx,
                node,
                f"the loop (line {line(loop)}) can only end through its `<-{dead[0].field.rsplit('.', 1)[-1]}` "
                f"case "
                f"(line {dead[0].line}), but nothing in the package ever closes or sends on {chans}: "
                "the goroutine running it never ends",
                function=gs.function_name(ctx, loop),
            )


def _exit_case_op(e: Node, loop: Node, recv_at: dict[int, FieldOp]) -> FieldOp | None:
    """The field receive of the select case (of a select directly in `loop`) holding exit `e`."""
    for p in gs.ancestors(e):
        if p == loop:
            return None
        if p.type == "communication_case":
            comm = p.child_by_field_name("communication")
            if comm is None:
                return None
            for n in gs.walk(comm, "unary_expression"):
                if n.start_byte in recv_at:
                    return recv_at[n.start_byte]
            return None
    return None


def _select_of(loop: Node, start: int) -> Node | None:
    for sel in gs.walk(loop, "select_statement"):
        if sel.start_byte <= start < sel.end_byte:
            return sel
    return None
