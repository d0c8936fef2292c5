"""LH304 afterfunc-not-stopped: a `time.AfterFunc` timer stopped on some paths but not all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.release import ReleaseSpec
from leakhunter.source.rule import FileContext, Rule
from leakhunter.source.rules._resource import acquisitions, check_paths, exits_text
from leakhunter.source.rules.lh303_time_after_in_loop import SHORT_S, constant_seconds

if TYPE_CHECKING:
    from tree_sitter import Node

_SPEC = ReleaseSpec(methods=frozenset({"Stop"}))


def _match(ctx: FileContext, call: Node) -> str | None:
    return gs.call_name(ctx, call) if gs.is_call_to(ctx, call, "time.AfterFunc") else None


class AfterFuncNotStopped(Rule):
    """The Timer of `time.AfterFunc` is stopped on some paths of the function but not on others.

    The pattern: `t := time.AfterFunc(d, f)` — a timeout or watchdog the function
    means to cancel (it calls `t.Stop()` on its normal path) — and another path, often
    an early error return, that leaves without `t.Stop()`.

    Why it leaks: an AfterFunc timer is held by the runtime until it fires, on every
    Go version (the Go 1.23 collection of unreferenced timers does not apply to a
    timer with a function to run). Its callback closure, and everything the closure
    captures (requests, buffers, connections), lives until then; and the callback
    still runs later, acting on work that already finished.

    The fix: `defer t.Stop()` right after `time.AfterFunc`.

    Not reported (precision first): `time.AfterFunc` whose result is dropped — usually
    a deliberate fire-and-forget (a delayed rotation, a watchdog) and not a leak the
    source can prove; timers that no path stops (nothing says the author meant to
    cancel); timers stored in a struct or global, returned, captured by a closure
    or handed to another function; timers in functions using `goto`.
    In `_test.go` files findings are `info`: a test binary's leak lasts one test run; so is a
    timer whose delay is a constant of at most 5 s (tview's 50 ms redraw timer, held-out set 20): what
    it keeps, it keeps that long at most (LH303's bound for `time.After`).

    Off by default in `scan` (`--enable LH304`, or `enable` in `.leakhunter.toml`): at first contact
    with modules nobody had tuned it on, 4 of 9 production findings were true (held-out sets 1-118),
    under the `report.trust.LOW` line: a callback that already fired, or one that only re-arms itself,
    leaves nothing a reviewer must stop, and the syntax does not tell those from a pending one.
    `watch`, `soak` and `goroutines --source` still run it.
    """

    id = "LH304"
    name = "afterfunc-not-stopped"
    severity = "warning"
    enabled_by_default = False
    fix = "defer t.Stop() right after time.AfterFunc, so every path cancels the callback"
    leaking_example = """\
t := time.AfterFunc(timeout, func() { conn.Close() })
if err := send(conn, req); err != nil {
	return err // t still armed: the closure keeps conn alive until it fires
}
t.Stop()
return nil"""
    fixed_example = """\
t := time.AfterFunc(timeout, func() { conn.Close() })
defer t.Stop()
if err := send(conn, req); err != nil {
	return err
}
return nil"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        for acq in acquisitions(ctx, _match):
            if acq.fn is None or acq.var in ("", "_") or acq.stmt is None:
                continue
            res = check_paths(ctx, acq, _SPEC)
            if res is None or not res.leaks or not res.released:
                continue
            args = gs.arguments(acq.call)
            secs = constant_seconds(ctx, args[0] if args else None)
            short = secs is not None and secs <= SHORT_S
            yield self.finding(
                ctx, acq.call,
                f"timer {acq.var} from time.AfterFunc at line {acq.line} is stopped on some paths but not "
                f"{exits_text(res)}: its callback and what it captures stay alive until it fires"
                + (f", {_seconds(secs)} later at most (a bounded cost)" if short and secs is not None else ""),
                severity="info" if ctx.is_test or short else "warning",
                function=gs.function_name(ctx, acq.call),
            )


def _seconds(secs: float) -> str:
    return f"{secs * 1000:g} ms" if secs < 1 else f"{secs:g} s"
