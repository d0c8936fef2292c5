"""LH101 blocked-send: a goroutine sends on an unbuffered channel its receiver may abandon."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.goflow import (
    ChanFacts,
    ChanUse,
    Paths,
    chan_facts,
    describe,
    line,
    loop_between,
)
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node


class BlockedSend(Rule):
    """A goroutine sends on an unbuffered channel whose only receiver can stop listening.

    The pattern: a function makes `ch := make(chan T)`, starts a goroutine that does
    `ch <- v`, and then receives from `ch` in a `select` that also waits on
    `ctx.Done()` or `time.After(...)`, or returns early (an error check) before the
    receive. When the other case wins, nobody will ever receive, so the goroutine
    blocks on the send forever; it and everything it references stay in memory.
    One leaked goroutine per call: the count grows with traffic.

    The fix: give the channel a buffer for every send (`make(chan T, 1)`), so the
    send completes even when nobody listens; or let the sender select on the same
    done channel / `ctx.Done()`.

    Not reported (precision first): buffered channels; sends that sit in a select
    with another case; channels that leave the function (returned, stored in a
    struct or a global, handed to a function outside the file or that passes them
    on); channels another goroutine also receives from; receives that happen on
    every path after the `go` statement. Goroutines started in a loop are LH104's.
    """

    id = "LH101"
    name = "blocked-send"
    severity = "error"
    fix = (
        "buffer the channel for every send (make(chan T, 1) for one result), or make the "
        "sender select on ctx.Done() / a done channel as well"
    )
    leaking_example = """\
func fetch(ctx context.Context) (int, error) {
	ch := make(chan int)
	go func() { ch <- slowCall() }() // blocks forever once ctx is done
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}"""
    fixed_example = """\
func fetch(ctx context.Context) (int, error) {
	ch := make(chan int, 1) // the send always completes
	go func() { ch <- slowCall() }()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        for cf in chan_facts(ctx):
            if cf.escapes or cf.cap != 0:
                continue
            yield from self._check_chan(ctx, cf)

    def _check_chan(self, ctx: FileContext, cf: ChanFacts) -> Iterator[Finding]:
        if any(u.where in ("closure", "defer") for u in cf.uses):
            return  # runs at a time we cannot place on the owner's paths
        if cf.of("recv", "range", where="go") or cf.of("send", where="body"):
            return  # another goroutine consumes, or the owner also produces: a pipeline we do not model
        recvs = cf.of("recv", "range", where="body")
        by_go: dict[int, list[ChanUse]] = {}
        for u in cf.of("send", where="go"):
            if u.go is not None:
                by_go.setdefault(u.go.start_byte, []).append(u)
        for sends in by_go.values():
            go = sends[0].go
            assert go is not None
            unguarded = [u for u in sends if not u.guarded]
            if not unguarded or loop_between(go, cf.scope) is not None:
                continue
            send = min(unguarded, key=lambda u: u.stmt.start_byte)
            fn = gs.function_name(ctx, send.stmt)
            where = f"{cf.name}" + (f" (made at line {line(cf.decl)})" if not cf.nil_chan else "")
            if cf.nil_chan:
                yield self.finding(
                    ctx,
                    send.stmt,
                    f"goroutine sends on {cf.name}, a nil channel (declared at line {line(cf.decl)} and never "
                    "made): the send blocks forever",
                    function=fn,
                )
                continue
            if not recvs:
                yield self.finding(
                    ctx,
                    send.stmt,
                    f"goroutine sends on unbuffered {where} but nothing ever receives from it: "
                    "the send blocks forever",
                    function=fn,
                )
                continue
            res = Paths(ctx, [u.stmt for u in recvs]).after(go, cf.body)
            if res is None:
                continue
            why = _why(ctx, cf, res, recvs)
            if why:
                yield self.finding(
                    ctx,
                    send.stmt,
                    f"goroutine sends on unbuffered {where} at line {line(send.stmt)}; {why}, leaving the "
                    "sender blocked forever",
                    function=fn,
                )


def _why(ctx: FileContext, cf: ChanFacts, res: dict[str, Node | None], recvs: list[ChanUse]) -> str:
    owner = gs.function_name(ctx, cf.decl) or "the function"
    recv_lines = ", ".join(str(line(u.stmt)) for u in recvs[:3])
    if "exit" in res:
        ret = res["exit"]
        case = _enclosing_case(ret)
        if ret is not None and case is not None:
            comm = case.child_by_field_name("communication")
            what = f"case `{describe(ctx, comm)}`" if comm is not None else "default case"
            return (
                f"the select {what} (line {line(case)}) can win over the receive (line {recv_lines}) "
                f"and {owner} returns at line {line(ret)}"
            )
        at = f" at line {line(ret)}" if ret is not None else ""
        return f"{owner} can return{at} before its receive (line {recv_lines})"
    if "next" in res:
        w = res["next"]
        if w is not None and w.type == "communication_case":
            comm = w.child_by_field_name("communication")
            return (
                f"the receive (line {recv_lines}) is in a select whose case `{describe(ctx, comm)}` "
                f"(line {line(w)}) can win, after which {owner} stops receiving"
            )
        if w is not None and w.type == "default_case":
            return f"the receive (line {recv_lines}) is in a select with a default case (line {line(w)})"
        at = f" (line {line(w)})" if w is not None else ""
        return f"{owner} receives (line {recv_lines}) only on some paths{at}"
    return ""


def _enclosing_case(node: Node | None) -> Node | None:
    """The select case (communication or default) holding `node` within its function, if any."""
    for p in gs.ancestors(node) if node is not None else ():
        if p.type in gs.FUNC_TYPES:
            return None
        if p.type in ("communication_case", "default_case") and p.parent is not None:
            if p.parent.type == "select_statement":
                return p
    return None
