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
    deliberate_abandon,
    describe,
    exclusive_signals,
    goroutine_function,
    in_dead_case,
    is_guarded,
    line,
    loop_between,
    loop_exits,
    signalled_after,
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

    Also reported, the same blocked send in other shapes: the owner calls `wg.Wait()`
    before receiving while the sender calls `wg.Done()` after its send (a deadlock);
    the owner ranges over a channel a producer fills in a loop but can `return` or
    `break` out of the range early (the producer blocks once the constant buffer is
    full); a send on a nil channel, or on `make(chan T)` written inline.

    The fix: give the channel a buffer for every send (`make(chan T, 1)`), so the
    send completes even when nobody listens; or let the sender select on the same
    done channel / `ctx.Done()`.

    Not reported (precision first): buffered channels; sends that sit in a select
    with another case; channels that leave the function (stored in a struct or a
    global, handed to a function outside the file or that passes them on; returned,
    unless a caller in the same file receives it in a select next to a timeout); channels another goroutine also receives from; receives that happen on
    every path after the `go` statement. Goroutines started in a loop are LH104's.

    Also not reported (issue #8, false-positive shapes read on real modules): a select case
    on a channel the goroutine signals only on its way out (`errCh <- err; return` next to
    `resCh <- v`: one send, not two; goflow.exclusive_signals); paths on which the test has
    already failed (`t.Error` then return, a timeout case that calls `t.Error`, a test
    helper whose error every caller fails the test on, a send that reports a failed check to a
    test that fails on every value it receives: program/testfail.py); abandons that
    happen once per component life or while the process ends (a Run/Serve/Stop/Shutdown
    method leaving on a select case or an error, main/init, an error every caller exits
    on: goflow.deliberate_abandon and program/exits.py; a function that runs once before the
    process ends, main's run context, a server closed at shutdown, any function of a package that only
    one-shot programs reach: program/oneshot.py); in test code, a case that fires only on the test's
    own timeout (`<-time.After`, a `context.WithTimeout` ctx) and a channel the test closes with
    `defer close(ch)` (a blocked send panics, it does not strand); a select loop that returns
    only once step counters show every send of the goroutine was received (`if a == 2 && b == 2
    { return }`, the counters raised only in the cases receiving from the channel); a send of what
    package-level `http.ListenAndServe` returns (that server has no handle: once it serves, nothing
    makes it return, so the goroutine serves for the process's life instead of reaching the send).
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
            if cf.cap == 0 and cf.of("return") and not cf.nil_chan:
                yield from self._returned(ctx, cf)
            if cf.escapes or cf.cap is None:
                continue
            if cf.nil_chan:
                yield from self._nil_sends(ctx, cf)
                continue
            yield from self._check_chan(ctx, cf)
        yield from _inline_sends(self, ctx)

    def _returned(self, ctx: FileContext, cf: ChanFacts) -> Iterator[Finding]:
        """`func ping() chan T { ch := make(chan T); go func() { ch <- v }(); return ch }`
        and a caller in the file that selects `case <-ping():` next to a timeout."""
        others = [u for u in cf.uses if u.op not in ("return", "harmless")]
        sends = [u for u in others if u.op == "send" and u.where == "go" and not u.guarded]
        if not sends or len(sends) != len(others) or cf.owner.type != "function_declaration":
            return
        name = ctx.text(cf.owner.child_by_field_name("name"))
        for call in gs.nodes_of_type(ctx, "call_expression"):
            fn = call.child_by_field_name("function")
            if fn is None or fn.type != "identifier" or ctx.text(fn) != name:
                continue
            recv = call.parent
            if recv is None or recv.type != "unary_expression" or not is_guarded(recv):
                continue
            sel = recv.parent
            while sel is not None and sel.type != "select_statement":
                sel = sel.parent
            other = next(
                (
                    c
                    for c in (sel.named_children if sel is not None else [])
                    if c.type in ("communication_case", "default_case")
                    and not (c.start_byte <= recv.start_byte < c.end_byte)
                ),
                None,
            )
            comm = other.child_by_field_name("communication") if other is not None else None
            alt = f"`{describe(ctx, comm)}`" if comm is not None else "its default case"
            send = sends[0]
            yield self.finding(
                ctx,
                send.stmt,
                f"goroutine sends on unbuffered {cf.name}, which {name} returns (line {line(cf.decl)}); "
                f"{gs.function_name(ctx, call) or 'a caller'} receives it in a select at line {line(recv)} "
                f"where {alt} can win, leaving the sender blocked forever",
                function=gs.function_name(ctx, send.stmt),
            )
            return

    def _nil_sends(self, ctx: FileContext, cf: ChanFacts) -> Iterator[Finding]:
        for u in cf.of("send"):
            if not u.guarded:
                yield self.finding(
                    ctx,
                    u.stmt,
                    f"send on {cf.name}, a nil channel (declared at line {line(cf.decl)} and never made): "
                    "it blocks forever",
                    function=gs.function_name(ctx, u.stmt),
                )

    def _check_chan(self, ctx: FileContext, cf: ChanFacts) -> Iterator[Finding]:
        if any(u.where in ("closure", "defer") for u in cf.uses):
            return  # runs at a time we cannot place on the owner's paths
        if cf.of("recv", "range", where="go") or cf.of("send", where="body"):
            return  # another goroutine consumes, or the owner also produces: a pipeline we do not model
        from leakhunter.source.program.testfail import is_test_code

        closer = _deferred_close(cf)
        if closer is not None and is_test_code(ctx):
            return  # a blocked send panics when the test's `defer close(ch)` runs: it cannot strand
        then = _panics(ctx, cf, closer)
        recvs = cf.of("recv", "range", where="body")
        by_go: dict[int, list[ChanUse]] = {}
        for u in cf.of("send", where="go"):
            if u.go is not None:
                by_go.setdefault(u.go.start_byte, []).append(u)
        for sends in by_go.values():
            go = sends[0].go
            assert go is not None
            unguarded = [u for u in sends if not u.guarded]
            if not unguarded:
                continue
            send = min(unguarded, key=lambda u: u.stmt.start_byte)
            fn = gs.function_name(ctx, send.stmt)
            where = f"{cf.name} (made at line {line(cf.decl)})"
            early = _consumer_leaves_early(ctx, cf, unguarded, recvs)
            if early:
                looping = [u for u in unguarded if _sends_again(ctx, u, u.callee or go)]
                yield self.finding(ctx, (looping or [send])[0].stmt, early, function=fn)
                continue
            if cf.cap != 0:
                continue  # buffered: only the early-leaving consumer above is judged
            deadlock = _wait_before_receive(ctx, cf, go, send, recvs)
            if deadlock:
                yield self.finding(ctx, send.stmt, deadlock, function=fn)
                continue
            if loop_between(go, cf.scope) is not None:
                continue  # several senders: LH104 counts them
            # every unguarded send is a place the goroutine can block (one per path, usually)
            sites = sorted(
                {u.stmt.start_byte: u for u in unguarded if not _serves_for_life(ctx, u.stmt)}.values(),
                key=lambda u: u.stmt.start_byte,
            )
            if not sites:
                continue
            if not recvs:
                for u in sites:
                    yield self.finding(
                        ctx,
                        u.stmt,
                        f"goroutine sends on unbuffered {where} but nothing ever receives from it: "
                        + (f"the send blocks until{then}" if then else "the send blocks forever"),
                        function=gs.function_name(ctx, u.stmt), fix=_PANIC_FIX if then else None,
                    )
                continue
            last_send = max(u.stmt.end_byte for u in sites)
            inert = signalled_after(cf, go, last_send) | exclusive_signals(ctx, cf, go, sites)
            res = Paths(ctx, [u.stmt for u in recvs], inert).after(go, cf.body)
            if res is None:
                continue
            leaving = [res[k] for k in ("exit", "next") if k in res]
            leaving = [w for w in leaving if not _counted_delivery(ctx, cf, sends, w)]
            if not leaving:
                continue  # the owner leaves only once counters show every send was received
            if all(deliberate_abandon(ctx, cf.owner, w) for w in leaving):
                continue  # a shutdown deadline, a failed start, a failing command: once, not per call
            why = _why(ctx, cf, res, recvs)
            if why:
                from leakhunter.source.program.testfail import receipt_fails, reports_failure

                mode = receipt_fails(ctx, [r.stmt for r in recvs])  # a `range` receive is no verdict: ""
                for u in sites:
                    if mode and reports_failure(ctx, u.stmt, mode):
                        continue  # a failed check's report: a passing test never sends it
                    yield self.finding(
                        ctx,
                        u.stmt,
                        f"goroutine sends on unbuffered {where} at line {line(u.stmt)}; {why}, "
                        + (f"and then{then}" if then else "leaving the sender blocked forever"),
                        function=gs.function_name(ctx, u.stmt), fix=_PANIC_FIX if then else None,
                    )


_UNSTOPPABLE_SERVERS = frozenset({"net/http.ListenAndServe", "net/http.ListenAndServeTLS"})
"""Package-level servers nobody holds a handle to: no Shutdown or Close can make them return."""


def _serves_for_life(ctx: FileContext, send: Node) -> bool:
    """The send delivers what `http.ListenAndServe` returns (`errCh <- http.ListenAndServe(addr, nil)`,
    or through a local `err`): that server has no handle, so after it starts serving nothing can
    make it return, and the goroutine serves for the life of the process instead of reaching the
    send. The send runs only when the listen fails at start, which the caller's start-up window is
    there to catch (any-sync's metrics server, held-out set 59). A `srv.ListenAndServe()` on a
    Server value does return when it is shut down, and stays reported (snowflake's listener)."""
    value = send.child_by_field_name("value")
    if value is not None and value.type == "identifier":
        fn = send.parent
        while fn is not None and fn.type not in gs.FUNC_TYPES:
            fn = fn.parent
        body = fn.child_by_field_name("body") if fn is not None else None
        sources = gs.assigned_values(ctx, body, ctx.text(value))
        return bool(sources) and all(
            v is not None and v.type == "call_expression" and gs.qualified_call_name(ctx, v) in _UNSTOPPABLE_SERVERS
            for v in sources
        )
    return value is not None and value.type == "call_expression" and (
        gs.qualified_call_name(ctx, value) in _UNSTOPPABLE_SERVERS
    )


def _deferred_close(cf: ChanFacts) -> Node | None:
    """The owner's `defer close(ch)`: a sender still blocked when the owner returns then panics on the
    closed channel. In test code that fails the run loudly and nothing strands (vitess's etcd watch
    test: not reported); in production the same panic is a crash, so the finding stays, saying so."""
    for u in cf.of("close"):
        if u.where == "body" and u.stmt.parent is not None and u.stmt.parent.type == "defer_statement":
            return u.stmt
    return None


def _panics(ctx: FileContext, cf: ChanFacts, closer: Node | None) -> str:
    """The end of the message when the owner's deferred close turns the stranded send into a panic:
    a triager of held-out set 15 (embedded-postgres' health check) read "blocked forever" beside the
    owner's `defer close(healthCheckSignal)` and rightly called the claim false; the send does not
    strand, it crashes the process once the owner has returned."""
    if closer is None:
        return ""
    owner = gs.function_name(ctx, cf.decl) or "the owner"
    return (f" {owner}'s deferred close({cf.name}) (line {line(closer)}) makes the send panic (send on "
            "closed channel): a crash, not a stranded goroutine")


_PANIC_FIX = (
    "buffer the channel for the one send (make(chan T, 1)), or make the sender select on the owner's "
    "done channel or ctx.Done() as well; do not close a channel its sender may still send on"
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
        comm = w.child_by_field_name("communication") if w is not None else None
        if w is not None and w.type == "communication_case" and comm is not None:
            return (
                f"the receive (line {recv_lines}) is in a select whose case `{describe(ctx, comm)}` "
                f"(line {line(w)}) can win, after which {owner} stops receiving"
            )
        if w is not None and w.type == "default_case":
            return f"the receive (line {recv_lines}) is in a select with a default case (line {line(w)})"
        at = f" (line {line(w)})" if w is not None else ""
        return f"{owner} receives (line {recv_lines}) only on some paths{at}"
    return ""


def _counted_delivery(ctx: FileContext, cf: ChanFacts, sends: list[ChanUse], witness: Node | None) -> bool:
    """The owner leaves at `witness` only once a step counter shows every send was received.

    `for { select { case err := <-lisCh: ...; lis++; if lis == 2 && dial == 2 { return } ... } }`
    (tailscale's netstack loopback test): `lis` grows only in a case that receives from the
    channel, so `lis == 2` means two receives happened, and the goroutine sends at most twice
    (the most sends on one of its paths; none in a loop). Every other exit of such loops is
    `t.Fatal`, judged elsewhere.
    """
    if witness is None or witness.type != "return_statement" or not sends:
        return False
    if any(loop_between(u.stmt, u.callee or u.go or cf.body) is not None for u in sends):
        return False
    from leakhunter.source.rules.lh104_unread_sends import _max_sends, _sending_body

    bodies = {b.start_byte: b for b in (_sending_body(u) for u in sends) if b is not None}
    if len(bodies) != 1:
        return False
    most = _max_sends(ctx, next(iter(bodies.values())), [u.stmt for u in sends])  # on one path
    body = cf.body
    for p in gs.ancestors(witness):
        if p.type in gs.FUNC_TYPES:
            return False
        if p.type != "if_statement":
            continue
        cond = p.child_by_field_name("condition")
        if cond is None:
            continue
        for be in [cond, *gs.walk(cond, "binary_expression")]:
            if be.type != "binary_expression" or ctx.text(be.child_by_field_name("operator")) not in ("==", ">="):
                continue
            left, right = be.child_by_field_name("left"), be.child_by_field_name("right")
            if left is None or right is None or left.type != "identifier" or right.type != "int_literal":
                continue
            if int(ctx.text(right), 0) >= most and _counts_receives(ctx, body, ctx.text(left), cf.name):
                return True
    return False


def _counts_receives(ctx: FileContext, body: Node, counter: str, chan: str) -> bool:
    """`counter` is raised only by `counter++` in select cases that receive from `chan`, and set
    nowhere else but to 0: its value is at most the number of receives."""
    incs = 0
    for node in gs.walk(body, "inc_statement", into_func_literals=True):
        if "".join(ctx.text(node).split()) != counter + "++":
            continue
        case = node.parent
        while case is not None and case.type not in ("communication_case", *gs.FUNC_TYPES):
            case = case.parent
        comm = case.child_by_field_name("communication") if case is not None else None
        if comm is None or case is None or case.type != "communication_case":
            return False
        got = {ctx.text(u.child_by_field_name("operand")).strip() for u in gs.walk(comm, "unary_expression")
               if ctx.text(u.child_by_field_name("operator")) == "<-"}
        if got != {chan}:
            return False
        incs += 1
    for node in gs.walk(body, "dec_statement", into_func_literals=True):
        if "".join(ctx.text(node).split()) == counter + "--":
            return False
    for kind in ("assignment_statement", "short_var_declaration"):
        for node in gs.walk(body, kind, into_func_literals=True):
            lefts, rights = gs.assignment_sides(node)
            op = node.child_by_field_name("operator")
            for i, left in enumerate(lefts):
                if ctx.text(left).strip() != counter:
                    continue
                if kind == "assignment_statement" and (op is None or ctx.text(op) != "="):
                    return False
                if i >= len(rights) or ctx.text(rights[i]).strip() != "0":
                    return False
    return incs > 0


def _enclosing_case(node: Node | None) -> Node | None:
    """The select case (communication or default) holding `node` within its function, if any."""
    for p in gs.ancestors(node) if node is not None else ():
        if p.type in gs.FUNC_TYPES:
            return None
        if (
            p.type in ("communication_case", "default_case")
            and p.parent is not None
            and p.parent.type == "select_statement"
        ):
            return p
    return None


def _wait_before_receive(
    ctx: FileContext, cf: ChanFacts, go: Node, send: ChanUse, recvs: list[ChanUse]
) -> str:
    """The classic deadlock: the sender calls wg.Done() after its send, the owner wg.Wait()s first.

    `go func() { defer wg.Done(); ch <- v }()` ... `wg.Wait()` ... `<-ch`: the send waits
    for the receive, the receive comes after Wait, and Wait waits for the Done that comes
    after the send. Every goroutine involved blocks forever.
    """
    fn = goroutine_function(ctx, go)
    body = fn.child_by_field_name("body") if fn is not None else None
    if body is None:
        return ""
    dones: dict[str, Node] = {}
    for call in gs.walk(body, "call_expression", into_func_literals=True):
        name = gs.call_name(ctx, call)
        if name.endswith(".Done") and name.count(".") <= 2:
            deferred = any(
                p.type == "defer_statement"
                for p in gs.ancestors(call)
                if p.start_byte >= body.start_byte
            )
            if deferred or call.start_byte > send.stmt.end_byte:
                dones.setdefault(name[: -len(".Done")], call)
    if not dones:
        return ""
    first_recv = min((u.stmt.start_byte for u in recvs), default=None)
    for call in gs.walk(cf.body, "call_expression"):
        if call.start_byte <= go.end_byte:
            continue
        if first_recv is not None and call.start_byte >= first_recv:
            break
        name = gs.call_name(ctx, call)
        wg = name[: -len(".Wait")] if name.endswith(".Wait") else ""
        if wg and wg in dones and not gs.arguments(call):
            owner = gs.function_name(ctx, cf.decl) or "the owner"
            after = (
                f"before it receives (line {line(recvs[0].stmt)})"
                if recvs
                else "and never receives"
            )
            return (
                f"goroutine sends on unbuffered {cf.name} (made at line {line(cf.decl)}) before "
                f"{wg}.Done() (line {line(dones[wg])}), but {owner} waits in {wg}.Wait() (line {line(call)}) "
                f"{after}: the send can never complete, a deadlock that leaks every goroutine involved"
            )
    return ""


def _inline_sends(rule: Rule, ctx: FileContext) -> Iterator[Finding]:
    """`make(chan T) <- v` in a goroutine: nothing else can ever receive from that channel."""
    if b"make(chan" not in ctx.source:
        return
    for st in gs.nodes_of_type(ctx, "send_statement"):
        ch = st.child_by_field_name("channel")
        if (
            ch is None
            or ch.type != "call_expression"
            or gs.call_name(ctx, ch) != "make"
            or is_guarded(st)
        ):
            continue
        yield rule.finding(
            ctx,
            st,
            f"send on `{describe(ctx, ch)}`, a channel nothing else can reach: it blocks forever",
            function=gs.function_name(ctx, st),
        )


def _sends_again(ctx: FileContext, u: ChanUse, stop: Node) -> bool:
    """The send sits in a loop (below `stop`) and the loop can come round to it again: not when the
    statement after it leaves the function (`errCh <- err; return`), which makes it a last word sent at
    most once (aistore's dsort reader and writer, each sending one error into a channel with room for
    both, held-out set 93: "sends in a loop" was said of them)."""
    if loop_between(u.stmt, stop) is None:
        return False
    from leakhunter.source.release import is_terminator

    nxt = u.stmt.next_named_sibling
    while nxt is not None and nxt.type == "comment":
        nxt = nxt.next_named_sibling
    return not (nxt is not None and (nxt.type in ("return_statement", "goto_statement")
                                     or (nxt.type == "expression_statement" and is_terminator(ctx, nxt))))


def _consumer_leaves_early(
    ctx: FileContext, cf: ChanFacts, sends: list[ChanUse], recvs: list[ChanUse]
) -> str:
    """The owner ranges over the channel but can leave the range early, while the producer keeps sending.

    `go func() { defer close(ch); for ... { ch <- v } }()` and `for v := range ch { if bad(v)
    { return err } }`: after the return nobody receives, and the producer blocks on its next
    send once the (constant) buffer is full.
    """
    if len(recvs) != 1 or recvs[0].op != "range":
        return ""
    looping = [u for u in sends if _sends_again(ctx, u, u.callee or u.go or cf.body)]
    if not looping:
        return ""
    exits = [ex for ex in loop_exits(recvs[0].stmt) if not in_dead_case(ctx, ex)]
    if not exits or all(deliberate_abandon(ctx, cf.owner, ex) for ex in exits):
        return ""
    owner = gs.function_name(ctx, cf.decl) or "the owner"
    ex = exits[0]
    how = "returns" if ex.type == "return_statement" else "leaves the loop"
    buf = f"its buffer of {cf.cap}" if cf.cap else "the unbuffered channel"
    return (
        f"goroutine sends on {cf.name} (made at line {line(cf.decl)}) in a loop, but {owner} ranges over it "
        f"(line {line(recvs[0].stmt)}) and {how} early at line {line(ex)}; after that nobody receives and the "
        f"sender blocks forever once {buf} is full"
    )
