"""LH302 time-tick: `time.Tick` in a function that can return."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.program.once import runs_once, started_once
from leakhunter.source.release import can_return
from leakhunter.source.rule import FileContext, Rule
from leakhunter.source.rules._resource import is_main
from leakhunter.source.rules._timers import collects_timers, version_text

if TYPE_CHECKING:
    from tree_sitter import Node


def _returned_as_is(call: Node) -> bool:
    """`return time.Tick(d)`: the function is a stand-in for time.Tick itself (a mockable clock's `Tick`:
    facebookgo/clock's, copied into lni/goutils, held-out set 37), whose callers own the ticker as they
    would own time.Tick's; each caller that can return is where the report belongs."""
    p = call.parent
    while p is not None and p.type == "parenthesized_expression":
        p = p.parent
    if p is not None and p.type == "expression_list":
        p = p.parent
    return p is not None and p.type == "return_statement" and len(gs.returned_values(p)) == 1


class TimeTick(Rule):
    """`time.Tick` used in a function that can return (not `main`, not an endless loop).

    The pattern: `for range time.Tick(d) { ... if done { return } }`, or
    `tick := time.Tick(d)` in a function that returns. `time.Tick` gives no way to
    stop its ticker.

    Why it leaks: before Go 1.23 the runtime keeps every ticker it never stopped,
    firing forever; once the function returns nobody reads the channel and nothing
    can stop it, so each call leaks one ticker (`warning`). Since Go 1.23 an
    unreferenced ticker is collected even if never stopped (the Go 1.23 release notes
    say there is no longer a reason to prefer NewTicker when Tick will do), so on a
    module whose go.mod says 1.23 or later (or without go.mod: current Go) this is
    only reported at `info`, as staticcheck's SA1015 no longer reports it there.

    The fix: `t := time.NewTicker(d)` and `defer t.Stop()`.

    Not reported: `time.Tick` at package level, in `main` or `init` of package main,
    and in functions (or goroutines) that never return: their ticker is meant to
    live for the whole program; nor in a function that runs at most once per process run (a CLI
    command's function, or one whose every call in the module is outside loops in such a function).
    In `_test.go` files findings are `info`: a test binary's leak lasts one test run.
    """

    id = "LH302"
    name = "time-tick"
    severity = "warning"
    fix = "use t := time.NewTicker(d) and defer t.Stop() in functions that return"
    leaking_example = """\
func waitReady(ctx context.Context, ready func() bool) error {
	for range time.Tick(100 * time.Millisecond) { // ticker never stopped
		if ready() {
			return nil
		}
	}
	return nil
}"""
    fixed_example = """\
func waitReady(ctx context.Context, ready func() bool) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for range t.C {
		if ready() {
			return nil
		}
	}
	return nil
}"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        for call in gs.nodes_of_type(ctx, "call_expression"):
            if not gs.is_call_to(ctx, call, "time.Tick"):
                continue
            fn = gs.enclosing_function(call)
            if fn is None or is_main(ctx, fn):
                continue
            if _returned_as_is(call):
                continue  # `return time.Tick(d)`: a clock's Tick hands the channel on; its caller chose
            if fn.type == "function_declaration" and ctx.text(fn.child_by_field_name("name")) == "init":
                continue
            if not can_return(ctx, fn) or runs_once(ctx, fn):
                continue  # runs forever, or once for the program's life: one ticker, not one per call
            if not ctx.is_test and started_once(ctx, fn):
                continue  # a job started once per process run, found across the module's callers
            collected = collects_timers(ctx)
            why = (
                f"{version_text(ctx)} collects it once unreferenced, so this only costs until the next GC"
                if collected
                else f"{version_text(ctx)} keeps an unstopped ticker forever: one leaks per "
                + ("loop iteration" if gs.in_loop(call) is not None else "call")
            )
            yield self.finding(
                ctx, call,
                f"time.Tick in {gs.function_name(ctx, call) or 'this function'}, which can return: "
                f"its ticker can never be stopped ({why})",
                severity="info" if collected or ctx.is_test else "warning",
                function=gs.function_name(ctx, call),
            )
