"""LH301 ticker-not-stopped: a Ticker or Timer that is not stopped on every path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding, Severity
from leakhunter.source import gosyntax as gs
from leakhunter.source.program.once import runs_once, service_starter, started_once
from leakhunter.source.release import ReleaseSpec
from leakhunter.source.rule import FileContext, Rule
from leakhunter.source.rules._resource import (
    Acquisition,
    acquisitions,
    check_paths,
    exits_text,
    is_main,
)
from leakhunter.source.rules._timers import collects_timers, loop_exits, version_text

if TYPE_CHECKING:
    from tree_sitter import Node

_TICKER = ReleaseSpec(methods=frozenset({"Stop"}))
_TIMER = ReleaseSpec(methods=frozenset({"Stop"}), fired="C")


def _match(ctx: FileContext, call: Node) -> str | None:
    if gs.is_call_to(ctx, call, "time.NewTicker", "time.NewTimer"):
        return gs.call_name(ctx, call)
    return None


def forever_reader(ctx: FileContext, fn: Node, var: str) -> Node | None:
    """A `go` statement in `fn` whose goroutine reads `var.C` in a loop that never ends."""
    body = fn.child_by_field_name("body")
    if body is None:
        return None
    chan = f"{var}.C"
    for go in gs.walk(body, "go_statement"):
        lit = next(iter(gs.walk(go, "func_literal")), None)
        if lit is None or not any(True for _ in gs.identifiers(ctx, lit, var)):
            continue
        lit_body = lit.child_by_field_name("body")
        for loop in gs.walk(lit_body, "for_statement") if lit_body is not None else ():
            reads = any(
                "".join(ctx.text(sel).split()) == chan for sel in gs.walk(loop, "selector_expression")
            )
            if reads and not loop_exits(ctx, loop):
                return go
    return None


class TickerNotStopped(Rule):
    """A `time.NewTicker` / `time.NewTimer` that is not stopped on every path out of the function.

    The pattern: `t := time.NewTicker(d)` in a function that returns, with no
    `t.Stop()` — neither deferred nor on every path — and the ticker not handed to
    anyone else (returned, stored in a struct, captured by a goroutine).

    Why it leaks, by Go version (read from the `go` directive of the nearest go.mod;
    no go.mod = current Go):
    - before Go 1.23 the runtime keeps every unstopped Ticker forever, firing into a
      channel nobody reads; each call of the function adds one (`warning`). An
      unstopped Timer lives until it fires: long timeouts per request pile up (`info`).
    - since Go 1.23 an unreferenced Ticker or Timer is collected even if never
      stopped, so nothing leaks: an unstopped Ticker is reported at `info` (Stop is
      still the API's contract, and GODEBUG asynctimerchan=1 brings the old
      behaviour back); an unstopped Timer is not reported.
    - on every version, a goroutine that ranges over `t.C` (or selects on it) in a
      loop that never ends keeps the ticker referenced forever: neither the goroutine
      nor the ticker is ever freed (`warning`; `info` in test files).

    The fix: `defer t.Stop()` right after creating it; give the reading goroutine a
    way out (`case <-ctx.Done(): return`).

    Not reported: tickers in `main` or in functions that never return; tickers
    stored in a field or a global, returned, or passed to another function; a Timer
    whose channel was received from on that path (it fired). Nor a ticker of a function that
    runs at most once per process run (`main`, `init`, a CLI command's `Run`/`RunE`/`PersistentPreRun`,
    a function or method, exported too, whose every call in the module is outside loops in such a
    function: vttablet's ACL reload job started by its command's `run`), or of a program that runs
    once and exits: a background job started once at startup owns its ticker for the process's life.
    In `_test.go` files findings are `info`: a test binary's leak lasts one test run.
    """

    id = "LH301"
    name = "ticker-not-stopped"
    severity = "warning"
    fix = "defer t.Stop() right after time.NewTicker/NewTimer; give goroutines reading t.C a way to return"
    leaking_example = """\
func poll(ctx context.Context, check func() bool) {
	t := time.NewTicker(time.Second) // never stopped
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if check() {
				return
			}
		}
	}
}"""
    fixed_example = """\
func poll(ctx context.Context, check func() bool) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if check() {
				return
			}
		}
	}
}"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        for acq in acquisitions(ctx, _match):
            if acq.fn is None or acq.var in ("", "_") or acq.stmt is None:
                continue
            f = self._check_one(ctx, acq)
            if f is not None:
                yield f

    def _check_one(self, ctx: FileContext, acq: Acquisition) -> Finding | None:
        assert acq.fn is not None
        ticker = acq.callee.endswith("NewTicker")
        if runs_once(ctx, acq.fn):
            return None  # made once for the life of the program (main, init, a package var's constructor)
        kind = "ticker" if ticker else "timer"
        fname = gs.function_name(ctx, acq.call)
        if ticker and not is_main(ctx, acq.fn) and ctx.text(acq.fn.child_by_field_name("name")) != "init":
            go = forever_reader(ctx, acq.fn, acq.var)
            if go is not None:
                if started_once(ctx, acq.fn) or service_starter(ctx, acq.fn):
                    return None  # a background job started once per process run: its ticker is the process's
                stops = _stop_called(ctx, acq.fn, acq.var)
                return self.finding(
                    ctx, acq.call,
                    f"ticker {acq.var} from {acq.callee} at line {acq.line} is read by the goroutine "
                    f"started at line {go.start_point[0] + 1} in a loop that never ends: the goroutine "
                    "and the ticker stay alive forever, once per call",
                    severity="info" if ctx.is_test else "warning", function=fname,
                    fix=(
                        f"{acq.var}.Stop() is called, but the goroutine's loop never ends: give it a way "
                        "to return (select on ctx.Done() or a quit channel)"
                        if stops else None
                    ),
                )
        res = check_paths(ctx, acq, _TICKER if ticker else _TIMER)
        if res is None or not res.leaks or (ticker and started_once(ctx, acq.fn)):
            return None
        collected = collects_timers(ctx)
        severity: Severity
        if ticker:
            severity = "info" if collected else "warning"
        else:
            if collected:
                return None
            severity = "info"
        if ctx.is_test:
            severity = "info"  # a test binary's lifetime: a cost, not a production leak
        why = (
            f"({version_text(ctx)} collects it once unreferenced; Stop releases it at once)"
            if collected
            else f"({version_text(ctx)}: the runtime keeps an unstopped {kind} "
            + ("forever)" if ticker else "until it fires)")
        )
        return self.finding(
            ctx, acq.call,
            f"{kind} {acq.var} from {acq.callee} at line {acq.line} is not stopped {exits_text(res, 'stops')} {why}",
            severity=severity, function=fname,
            fix=(
                f"{acq.var}.Stop() is called on some paths only: replace it with one "
                f"`defer {acq.var}.Stop()` right after {acq.callee}"
                if res.released else None
            ),
        )


def _stop_called(ctx: FileContext, fn: Node, var: str) -> bool:
    """`var.Stop()` appears somewhere in `fn` (closures included)."""
    body = fn.child_by_field_name("body")
    if body is None:
        return False
    for c in gs.walk(body, "call_expression", into_func_literals=True):
        f = c.child_by_field_name("function")
        if f is not None and f.type == "selector_expression" and "".join(ctx.text(f).split()) == f"{var}.Stop":
            return True
    return False
