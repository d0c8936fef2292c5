"""LH104 unread-sends: more sends on a channel than its receiver will ever take."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.goflow import (
    ChanFacts,
    ChanUse,
    case_body,
    chan_facts,
    deliberate_abandon,
    line,
    loop_between,
    loop_exits,
    nothing_panics_after,
    only_on_panic,
)
from leakhunter.source.release import is_terminator
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node

_MANY = 99
"""Stands for "unbounded" (a send in a loop) in send counts."""


class UnreadSends(Rule):
    """Several sends to a channel whose receiver takes fewer values than are sent.

    Three shapes: a loop starts N goroutines that each send their result on one
    unbuffered channel, and the function then receives once ("first answer wins");
    the loop gathering the N results returns on the first error (`if err := <-errc;
    err != nil { return err }`); or one goroutine can send twice on a path (an error
    send without a `return` after it) while the owner receives once. Every send
    beyond the receives and the buffer blocks forever, so N-1 goroutines leak per call.

    The fix: make the buffer as large as the number of sends (`make(chan T, len(xs))`),
    return after the error send, or let senders select on a done channel.

    Not reported: receive loops that return only once everything is in (a count
    check, not an error check), other receives in a loop or a `range` (we cannot
    count iterations), buffered channels whose capacity is not a constant, channels
    that leave the function or that another goroutine receives from, sends in a
    select with another case; one send reached through several calls (`tryLock()` called
    twice, each sending only on the error the caller returns on); an early-returning
    gather after the test already failed, in a lifecycle method, or ending the process.
    """

    id = "LH104"
    name = "unread-sends"
    severity = "error"
    fix = "buffer the channel for every sender (make(chan T, n)), or let the senders select on a done channel"
    leaking_example = """\
func first(servers []string) string {
	ch := make(chan string)
	for _, s := range servers {
		go func() { ch <- query(s) }() // all but one block forever
	}
	return <-ch
}"""
    fixed_example = """\
func first(servers []string) string {
	ch := make(chan string, len(servers)) // room for every answer
	for _, s := range servers {
		go func() { ch <- query(s) }()
	}
	return <-ch
}"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        for cf in chan_facts(ctx):
            if cf.escapes or cf.cap is None or cf.nil_chan:
                continue
            if any(u.where in ("closure", "defer") for u in cf.uses):
                continue
            if cf.of("recv", "range", where="go") or cf.of("send", where="body"):
                continue
            recvs = cf.of("recv", "range", where="body")
            sends = [u for u in cf.of("send", where="go") if not u.guarded]
            if not sends:
                continue
            if any(u.op == "range" or loop_between(u.stmt, cf.scope) is not None for u in recvs):
                gather = self._gather_returns_early(ctx, cf, sends, recvs)
                if gather is not None:
                    yield gather
                continue
            in_loop = [
                u for u in sends if u.go is not None and loop_between(u.go, cf.scope) is not None
            ]
            if in_loop:
                every_time = [u for u in in_loop if _unconditional(u)]
                if (
                    cf.cap == 0
                    and every_time
                    and len(recvs) <= 1
                    and not _bounded_by(in_loop, cf, len(recvs))
                ):
                    yield self._loop_finding(ctx, cf, every_time, recvs)
                continue
            yield from self._counted(ctx, cf, sends, recvs)

    def _gather_returns_early(
        self, ctx: FileContext, cf: ChanFacts, sends: list[ChanUse], recvs: list[ChanUse]
    ) -> Finding | None:
        """N goroutines each send once; the loop collecting them returns on the first error.

        `for range xs { if err := <-errc; err != nil { return err } }`: the senders not yet
        collected block forever on the unbuffered channel.
        """
        if cf.cap != 0 or len(recvs) != 1 or recvs[0].op != "recv":
            return None
        loops = [u for u in sends if u.go is not None and loop_between(u.go, cf.scope) is not None]
        if not loops or len(loops) != len(sends) or not all(_unconditional(u) for u in loops):
            return None
        gather = loop_between(recvs[0].stmt, cf.scope)
        if gather is None or loop_between(gather, cf.scope) is not None:
            return None  # nested loops: not the simple gather we can judge
        early = [
            r
            for r in loop_exits(gather)
            if r.type == "return_statement"
            and _on_error(ctx, r, recvs[0].stmt)
            and not deliberate_abandon(ctx, cf.owner, r)  # test failed / process ending / lifecycle
        ]
        if not early:
            return None
        send = min(loops, key=lambda u: u.stmt.start_byte)
        assert send.go is not None
        if all(u.go is not None and _received_in_turn(ctx, u.go, recvs[0].stmt) for u in loops):
            return None  # each turn receives its own goroutine's send before anything can leave the loop
        relay = all(u.go is not None and loop_between(u.go, cf.scope) == gather for u in loops)
        if relay and all(_stop_case(ctx, r) for r in early):
            # a relay the receive loop starts for itself (`case <-tick.C: go func() { ch <- true }()`) and
            # receives on its next turn: it strands only if the loop's stop case wins in the moment between
            # the spawn and that turn, at most once per stop (vitess's TableGC.operate)
            return None
        owner = gs.function_name(ctx, cf.decl) or "the owner"
        case = _stop_case(ctx, early[0])
        cond = _guard(ctx, early[0])
        why = f"when its case `{case}` wins" if case else (f"as soon as `{cond}`" if cond else "on the first error")
        return self.finding(
            ctx,
            send.stmt,
            f"each goroutine started in the loop at line {line(loop_between(send.go, cf.scope) or send.go)} "
            f"sends once on unbuffered {cf.name} (made at line {line(cf.decl)}), but {owner}'s receive loop "
            f"(line {line(gather)}) returns at line {line(early[0])} {why}: the senders not "
            "yet received block forever",
            function=gs.function_name(ctx, send.stmt),
        )

    def _loop_finding(
        self, ctx: FileContext, cf: ChanFacts, sends: list[ChanUse], recvs: list[ChanUse]
    ) -> Finding:
        send = min(sends, key=lambda u: u.stmt.start_byte)
        assert send.go is not None
        loop = loop_between(send.go, cf.scope)
        assert loop is not None
        got = (
            f"receives from it only {len(recvs)} time{'s' if len(recvs) != 1 else ''} "
            f"(line {', '.join(str(line(u.stmt)) for u in recvs)})"
            if recvs
            else "never receives from it"
        )
        owner = gs.function_name(ctx, cf.decl) or "the owner"
        return self.finding(
            ctx,
            send.stmt,
            f"each goroutine started in the loop at line {line(loop)} sends on unbuffered {cf.name} "
            f"(made at line {line(cf.decl)}), but {owner} {got}: "
            + ("every other sender blocks forever" if recvs else "every sender blocks forever"),
            function=gs.function_name(ctx, send.stmt),
        )

    def _counted(
        self, ctx: FileContext, cf: ChanFacts, sends: list[ChanUse], recvs: list[ChanUse]
    ) -> Iterator[Finding]:
        """Goroutines not in a loop: the most sends on a path against the receives written."""
        bodies: dict[int, tuple[Node, list[ChanUse]]] = {}
        for u in sends:
            body = _sending_body(u)
            if body is None:
                return
            bodies.setdefault(body.start_byte, (body, []))[1].append(u)
        # count per goroutine start: a callee shared by two `go` statements counts twice
        starts = {u.go.start_byte for u in sends if u.go is not None}
        total = 0
        worst: tuple[int, list[ChanUse]] | None = None
        for start in starts:
            gsends = [u for u in sends if u.go is not None and u.go.start_byte == start]
            body_keys = {b.start_byte for b in (_sending_body(u) for u in gsends) if b is not None}
            if len(body_keys) != 1:
                return  # sends split between the literal and a callee: not counted
            if len({u.stmt.start_byte for u in gsends}) != len(gsends):
                # one send reached through several calls (`tryLock()` twice, each sending only
                # on the error it returns, which the caller returns on): the paths between the
                # calls are in another function, so a count in one body would be wrong
                return
            body, _ = bodies[body_keys.pop()]
            n = _max_sends(ctx, body, [u.stmt for u in gsends])
            if n >= _MANY:
                return  # a producer loop: the receiver must loop as well (not counted here)
            total += n
            if n >= 2 and (worst is None or n > worst[0]):
                worst = (n, gsends)
        capacity = cf.cap or 0
        if worst is None or total <= len(recvs) + capacity:
            return
        n, gsends = worst
        send, first = _pair_on_one_path(ctx, gsends)
        blocking = _first_unreceived(ctx, gsends, n, total, len(recvs) + capacity)
        if blocking is not None:
            send, first = blocking
        if sum(_unconditional(u) for u in gsends) <= n - 2 and _blocked_send_reported(ctx, send.stmt):
            # the extra send needs two independent failures on one path (keda's beanstalkd poll: the
            # stats call fails AND the decode of its result fails), and LH101 already reports this
            # very send as stranded: one finding for one blocked line
            return
        if _after_reported_failure(ctx, cf, gsends, send, recvs):
            return
        owner = gs.function_name(ctx, cf.decl) or "the owner"
        buf = f"a buffer of {capacity}" if capacity else "no buffer"
        yield self.finding(
            ctx,
            send.stmt,
            f"a goroutine can send {n} times on {cf.name} (made at line {line(cf.decl)}, {buf}) — this send "
            f"at line {line(send.stmt)} after the one at line {line(first.stmt)}"
            f" — but {owner} receives only {len(recvs)} time{'s' if len(recvs) != 1 else ''}: the extra send "
            "blocks forever",
            function=gs.function_name(ctx, send.stmt),
        )


def _first_unreceived(
    ctx: FileContext, gsends: list[ChanUse], n: int, total: int, taken: int
) -> tuple[ChanUse, ChanUse] | None:
    """(the send that blocks, the one before it) when one goroutine is the only sender and runs all its
    sends on one path: the send after the `taken` ones the receives and the buffer absorb. juju/utils'
    TestDoubleSet (held-out set 130) sends three times and is received once: its second send blocks, and
    the message named the third, which never runs."""
    order = sorted(gsends, key=lambda u: u.stmt.start_byte)
    if total != n or len(order) != n or not 0 < taken < n:
        return None
    body = _sending_body(order[0])
    if body is None or _max_sends(ctx, body, [u.stmt for u in order]) != n:
        return None
    return order[taken], order[taken - 1]


def _pair_on_one_path(ctx: FileContext, gsends: list[ChanUse]) -> tuple[ChanUse, ChanUse]:
    """(a send, an earlier one) that one path through the goroutine runs both of: the pair the message
    names. The last and the first send of the body need not share a path (kubevirt's VNC viewer sends once
    and returns in each failed lookup, but twice in its `else` for Linux, held-out set 85: the message
    named a send of one branch and the final one). The last and first sends when no pair is found."""
    order = sorted(gsends, key=lambda u: u.stmt.start_byte)
    body = _sending_body(order[0])
    if body is not None:
        for later in reversed(order):
            for earlier in reversed(order[: order.index(later)]):
                if _max_sends(ctx, body, [earlier.stmt, later.stmt]) >= 2:
                    return later, earlier
    return order[-1], order[0]


_STRAIGHT = frozenset({
    "expression_statement", "short_var_declaration", "assignment_statement", "inc_statement", "dec_statement",
    "var_declaration", "const_declaration",
})
"""Statements that run straight through (unless a call in them ends the path, checked apart)."""


def _received_in_turn(ctx: FileContext, go: Node, recv: Node) -> bool:
    """`go func() { c <- v }(); <-c`: the receive follows the go statement in the same block, with
    only straight-line statements between them (no branch, loop, return, break, panic or exit), and
    sits in no branch or case of its own statement. Every goroutine a loop turn starts is received in
    that very turn, so an early return elsewhere in the loop finds no sender waiting (go-csync's
    benchmark yield, held-out set 24)."""
    block = go.parent
    top = recv
    while top.parent is not None and top.parent != block:
        if top.type in gs.FUNC_TYPES or top.type in (
            "if_statement", "for_statement", "communication_case", "expression_case", "type_case", "default_case",
        ):
            return False
        top = top.parent
    if block is None or top.parent != block or top.start_byte <= go.end_byte:
        return False
    between = [st for st in gs.statements(block) if go.end_byte <= st.start_byte < top.start_byte]
    return all(st.type in _STRAIGHT and not is_terminator(ctx, st) for st in between)


def _after_reported_failure(
    ctx: FileContext, cf: ChanFacts, gsends: list[ChanUse], send: ChanUse, recvs: list[ChanUse]
) -> bool:
    """Test code whose every receive fails the test on a failure value, and every send of the goroutine
    before the extra one reports a failure (`if err != nil { errCh <- err }` ... `errCh <- nil`): the
    extra send follows only a failure the test received and `t.Fatal`'d (program/testfail.py)."""
    from leakhunter.source.program.testfail import receipt_fails, reports_failure

    if len(recvs) != 1 or cf.cap != 0 or any(u.op != "recv" for u in recvs):
        return False
    earlier = [u for u in gsends if u.stmt.start_byte < send.stmt.start_byte]
    mode = receipt_fails(ctx, [u.stmt for u in recvs]) if earlier else ""
    return bool(mode) and all(reports_failure(ctx, u.stmt, mode) for u in earlier)


def _blocked_send_reported(ctx: FileContext, stmt: Node) -> bool:
    """LH101 reports a blocked send at `stmt` (its findings for the file, computed once)."""
    key = "lh104.lh101_lines"
    got = ctx.cache.get(key)
    if not isinstance(got, set):
        from leakhunter.source.rules.lh101_blocked_send import BlockedSend

        got = {f.line for f in BlockedSend().check(ctx)}
        ctx.cache[key] = got
    return line(stmt) in got


def _sending_body(u: ChanUse) -> Node | None:
    if u.callee is not None:
        return u.callee.child_by_field_name("body")
    fn = gs.enclosing_function(u.stmt)
    while fn is not None and fn.parent is not None and fn.parent.parent != u.go:
        fn = gs.enclosing_function(fn)
    return fn.child_by_field_name("body") if fn is not None else None


def _max_sends(ctx: FileContext, body: Node, targets: list[Node]) -> int:
    """The most target sends on one path through `body` (`_MANY` if one is in a loop).

    Sends in the goroutine's own deferred `recover()` handler run only when it panicked: if
    nothing can panic after its last other send, a panic cuts that send off, so the handler
    adds its sends in place of one (tengo's RunContext, held-out set 19: `ch <- v.Run()`, or one
    of three switch cases of the handler when Run panics: one send, not four)."""
    on_panic = [t for t in targets if only_on_panic(ctx, t, body)]
    # All in one deferred handler (`defer func() { if e := recover(); e != nil { c <- err; return };
    # c <- nil }()`): its own paths decide, one send each (dubbogo/triple's Invoke, held-out set 41).
    owners = [gs.enclosing_function(t) for t in targets]
    one_handler = None not in owners and len({o.id for o in owners if o is not None}) == 1 \
        and owners[0] != body.parent
    if on_panic and len(on_panic) < len(targets) and not one_handler:
        rest = [t for t in targets if t not in on_panic]
        n = _max_sends(ctx, body, rest)
        handler = _max_sends(ctx, body, on_panic)
        if n >= _MANY or handler >= _MANY:
            return _MANY
        last = max(rest, key=lambda t: t.start_byte)
        return max(n, n - 1 + handler) if nothing_panics_after(last, body) else n + handler
    spans = [(t.start_byte, t.end_byte) for t in targets]
    # A send followed by `runtime.Goexit()` (or an exit) ends its goroutine: counted where a
    # closure holding it is written, it adds one final send, never one more on the path after
    # (godef's visitor sends the identifier it finds and Goexits out of ast.Walk, held-out set 44).
    finals = [(t.start_byte, t.end_byte) for t in targets if _ends_goroutine_after(ctx, t)]

    def count(n: Node) -> int:
        return sum(1 for a, b in spans if n.start_byte <= a and b <= n.end_byte)

    def count_final(n: Node) -> int:
        return sum(1 for a, b in finals if n.start_byte <= a and b <= n.end_byte)

    def seq(stmts: list[Node]) -> tuple[int | None, int]:
        acc, best_exit = 0, -1
        for s in stmts:
            through, ex = stmt(s)
            if ex >= 0:
                best_exit = max(best_exit, acc + ex)
            if through is None:
                return None, best_exit
            acc += through
        return acc, best_exit

    def stmt(s: Node) -> tuple[int | None, int]:
        t = s.type
        if t == "return_statement":
            return None, count(s)
        if t == "block":
            return seq(gs.statements(s))
        if t == "labeled_statement":
            # `feederLoop: for {...}`: the loop's paths, not every send in it one after another
            # (gravwell's test reader, held-out set 43: four sends each followed by `return`)
            inner = s.named_children[-1] if s.named_children else None
            return stmt(inner) if inner is not None and inner.type != "label_name" else (count(s), -1)
        if t == "for_statement":
            return (_MANY, -1) if count(s) else (0, -1)
        if t == "if_statement":
            cons = s.child_by_field_name("consequence")
            alt = s.child_by_field_name("alternative")
            a = stmt(cons) if cons is not None else (0, -1)
            b = stmt(alt) if alt is not None else (0, -1)
            throughs = [x for x in (a[0], b[0]) if x is not None]
            return (max(throughs) if throughs else None), max(a[1], b[1])
        if t in ("expression_switch_statement", "type_switch_statement", "select_statement"):
            results = [seq(case_body(c)) for c in s.named_children if c.type.endswith("_case")]
            has_default = any(c.type == "default_case" for c in s.named_children)
            throughs = [r[0] for r in results if r[0] is not None]
            if not has_default and t != "select_statement":
                throughs.append(0)
            exits = [r[1] for r in results]
            return (max(throughs) if throughs else None), max(exits, default=-1)
        if t == "defer_statement" and count(s):
            lit = next((c for c in gs.walk(s, "func_literal")), None)
            lit_body = lit.child_by_field_name("body") if lit is not None else None
            if lit is not None and lit_body is not None and lit.parent is not None and lit.parent.parent == s:
                through, ex = seq(gs.statements(lit_body))  # `defer func() { switch {...} }()`: one path
                return max(through or 0, ex), -1
        if t == "expression_statement":
            call = s.named_children[0] if s.named_children else None
            if (
                call is not None
                and call.type == "call_expression"
                and gs.call_name(ctx, call) == "panic"
            ):
                return None, -1
            if is_terminator(ctx, s):
                return None, count(s)  # Goexit, os.Exit, log.Fatal: the goroutine ends here
        final = count_final(s)
        if final:
            through = count(s) - final
            return through, through + 1
        return count(s), -1

    try:
        through, ex = seq(gs.statements(body))
    except RecursionError:
        return _MANY  # too deep to count: treated like a loop (no finding)
    return max(through or 0, ex)


def _ends_goroutine_after(ctx: FileContext, send: Node) -> bool:
    """The statement after `send` in its block ends the goroutine (`runtime.Goexit()`, an exit; not a
    `panic`, which a deferred handler may recover and send after)."""
    parent = send.parent
    if parent is None:
        return False
    stmts = gs.statements(parent)
    if send not in stmts or stmts.index(send) + 1 >= len(stmts):
        return False
    nxt = stmts[stmts.index(send) + 1]
    if not is_terminator(ctx, nxt):
        return False
    call = nxt.named_children[0] if nxt.named_children else None
    return call is None or gs.call_name(ctx, call) != "panic"


def _unconditional(u: ChanUse) -> bool:
    """The send runs every time its goroutine runs: no if/switch/select/loop around it there."""
    top = u.callee if u.callee is not None else u.go
    for p in gs.ancestors(u.stmt):
        if p == top:
            return True
        if p.type in (
            "if_statement",
            "expression_switch_statement",
            "type_switch_statement",
            "select_statement",
            "for_statement",
        ):
            return False
        if p.type == "func_literal" and p.parent is not None and p.parent.parent != u.go:
            return False
    return False


def _bounded_by(sends: list[ChanUse], cf: ChanFacts, receives: int) -> bool:
    """The loop starting the goroutines runs a constant number of times, no more than the receives."""
    for u in sends:
        loop = loop_between(u.go, cf.scope) if u.go is not None else None
        clause = (
            next((c for c in loop.named_children if c.type == "for_clause"), None) if loop else None
        )
        cond = clause.child_by_field_name("condition") if clause is not None else None
        right = cond.child_by_field_name("right") if cond is not None else None
        if right is None or right.type != "int_literal":
            return False
        if int((right.text or b"0").decode().replace("_", ""), 0) > receives:
            return False
    return True


_ERRORISH = re.compile(r"\berr\w*\b|\.Err\(\)|Done\(\)|time\.After|!= nil")


def _on_error(ctx: FileContext, ret: Node, recv: Node) -> bool:
    """The return sits directly under an error check (`if err != nil`) or in a ctx/timeout case.

    Only the innermost `if` counts (`if activeWorkers == 0 { return }` inside an error
    case is a completion check), and a select case that is the gather's own receive
    (`case err := <-errc:`) is not an error path by itself.
    """
    for p in gs.ancestors(ret):
        if p.type == "for_statement":
            return False
        if p.type == "if_statement":
            cond = p.child_by_field_name("condition")
            init = p.child_by_field_name("initializer")
            return bool(_ERRORISH.search(ctx.text(cond) + " " + ctx.text(init)))
        if p.type == "communication_case":
            comm = p.child_by_field_name("communication")
            if comm is None or (
                comm.start_byte <= recv.start_byte and recv.end_byte <= comm.end_byte
            ):
                return False
            return bool(_ERRORISH.search(ctx.text(comm)))
    return False


def _guard(ctx: FileContext, ret: Node) -> str:
    """The condition of the `if` right around `ret` (`r != nil`, `err != nil`), one line: the message
    quotes it rather than assume an error (avalanchego's UPnP gather returns on the first router found)."""
    for p in gs.ancestors(ret):
        if p.type in gs.FUNC_TYPES or p.type == "for_statement":
            return ""
        if p.type == "if_statement":
            text = " ".join(ctx.text(p.child_by_field_name("condition")).split())
            return text if len(text) <= 60 else ""
    return ""


def _stop_case(ctx: FileContext, ret: Node) -> str:
    """The communication of the select case `ret` leaves through when that case is a stop signal
    (`<-ctx.Done()`, `<-s.done`, `<-stop`): a receive of nothing the loop needs, only its end."""
    for p in gs.ancestors(ret):
        if p.type in gs.FUNC_TYPES:
            return ""
        if p.type == "communication_case":
            comm = p.child_by_field_name("communication")
            text = " ".join(ctx.text(comm).split()) if comm is not None else ""
            if comm is not None and comm.type != "send_statement" and (
                text.endswith(".Done()") or "done" in text.lower() or "stop" in text.lower()
                or "quit" in text.lower() or "closing" in text.lower()
            ) and "=" not in text:
                return text
            return ""
    return ""
