"""LH102 blocked-receive: a goroutine waits on a channel its owner may never send on or close."""

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
    is_guarded,
    line,
    loop_between,
)
from leakhunter.source.program.once import main_goroutine, parks_on_purpose
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node

_PROGRAM_LIFETIME = frozenset({"main", "init"})


class BlockedReceive(Rule):
    """A goroutine ranges over, or receives from, a channel that may never be closed or sent on.

    The pattern: a function makes a channel, starts a worker that does
    `for v := range ch` (or a single `<-ch`), and then returns without `close(ch)`
    (none at all, or only on the happy path: an error return skips it). A `range`
    ends only when the channel is closed and a receive only when a value arrives,
    so the worker blocks forever, holding whatever it captured.

    Also: a receive (in the owner or a goroutine) on a local channel that nothing ever
    sends on or closes — for instance one handed to a `go watcher(done)` that never
    touches it — a receive from a nil channel, or from `make(chan T)` written inline.

    The fix: `defer close(ch)` in the function that owns (sends on) the channel, right
    after making it; or let the worker also select on `ctx.Done()`.

    Also the forgotten sender: the owner waits for one value (`return <-res`) from a goroutine that
    sends on some paths only (`if err != nil { return }` before `res <- v`): on the silent path the
    owner waits for good, and a handler with it, holding its request and connection. Not in test
    code (a test's worker goes silent only on a test that is failing anyway).

    Not reported: a close that is deferred or on every path after the `go`
    statement; receives in a select with another case; channels that leave the
    function or that another goroutine sends on / closes (we cannot see who owns
    them then); goroutines started by `main` or `init` (they live as long as the
    program anyway); an owner that leaves only when the goroutine signalled its failure
    as its last act (`failCh <- err; return` before it would wait on releaseCh: vault's
    HA locks); a lifecycle method's or a failing command's exit, or a path after the
    test already failed (goflow.deliberate_abandon). A receive nothing feeds on the process's main
    goroutine (`main`, `TestMain`, or a function only they call as a statement: a test binary
    re-executed as a child that hangs until killed) parks the program on purpose and is not shown.

    Off by default in `scan` (`--enable LH102`, or `enable` in `.leakhunter.toml`): at first contact
    with modules nobody had tuned it on, 9 of 22 production findings were true (held-out sets 1-114):
    whether the other end still sends turns on buffers, lifetimes and callers a function's syntax
    does not hold, and a rule wrong more often than right costs a reviewer more than it saves (the
    policy, `report.trust.LOW`). `watch`, `soak` and `goroutines --source` still run it: there
    goroutines parked at the same receive supply the evidence.
    """

    id = "LH102"
    name = "blocked-receive"
    severity = "error"
    enabled_by_default = False
    fix = "close the channel on every path of its owner (defer close(ch) right after make), or select on ctx.Done()"
    leaking_example = """\
func process(items []Item) error {
	ch := make(chan Item)
	go func() {
		for it := range ch { // blocks forever: ch is never closed
			handle(it)
		}
	}()
	for _, it := range items {
		ch <- it
	}
	return nil
}"""
    fixed_example = """\
func process(items []Item) error {
	ch := make(chan Item)
	defer close(ch) // ends the worker's range on every return
	go func() {
		for it := range ch {
			handle(it)
		}
	}()
	for _, it := range items {
		ch <- it
	}
	return nil
}"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        for cf in chan_facts(ctx):
            if cf.escapes:
                continue
            if cf.nil_chan:
                for u in cf.of("recv", "range"):
                    if u.op == "range" or not u.guarded:
                        yield self.finding(
                            ctx,
                            u.stmt,
                            f"{'range over' if u.op == 'range' else 'receive from'} {cf.name}, a nil channel "
                            f"(declared at line {line(cf.decl)} and never made): it blocks forever",
                            function=gs.function_name(ctx, u.stmt),
                        )
                continue
            if not cf.of("send", "close"):
                yield from self._never_fed(ctx, cf)
                continue
            blocked = self._fed_after_blocking_call(ctx, cf) or self._unanswered(ctx, cf)
            if blocked is not None:
                yield blocked
                continue
            yield from self._check_chan(ctx, cf)
        yield from _inline_receives(self, ctx)

    def _unanswered(self, ctx: FileContext, cf: ChanFacts) -> Finding | None:
        """`res := make(chan T)`, one goroutine that answers on `res` on some paths only (`v, err :=
        fetch(); if err != nil { return }; res <- v`), and the owner's plain `<-res` after it: on the
        goroutine's silent path the owner waits for good, and with it whatever it holds (a handler: its
        request and connection). The forgotten sender, the mirror of LH101's abandoned one."""
        from leakhunter.source.rules._resource import in_test_code

        signals = cf.of("send", "close")
        if not signals or any(u.op != "send" or u.where != "go" or u.callee is not None for u in signals):
            return None
        if in_test_code(ctx, cf.decl):
            return None  # a test's worker that fails stays silent on a test that is failing anyway
        go = signals[0].go
        if go is None or any(u.go is None or u.go.start_byte != go.start_byte for u in signals):
            return None
        fn = goroutine_function(ctx, go)
        body = fn.child_by_field_name("body") if fn is not None and fn.type == "func_literal" else None
        recvs = [u for u in cf.of("recv", where="body") if not u.guarded and u.stmt.start_byte > go.end_byte
                 and not _buffered_value_checked(ctx, u.stmt, cf.name)]
        if (body is None or not recvs or cf.of("range") or loop_between(go, cf.owner) is not None
                or main_goroutine(ctx, cf.owner) or gs.function_name(ctx, go) in _PROGRAM_LIFETIME):
            return None
        recv = recvs[0]
        if loop_between(recv.stmt, cf.owner) is not None:
            return None  # receives counted against sends in a loop: not judged here
        res = Paths(ctx, [_landing(ctx, cf, u.stmt) for u in signals]).seq(gs.statements(body))
        if "exit" not in res and "next" not in res:
            return None  # every path sends (or stops where nothing is left to wait for)
        silent = res.get("exit")
        where = (f"returns at line {line(silent)}" if silent is not None and silent.type == "return_statement"
                 else "can finish")
        return self.finding(
            ctx, recv.stmt,
            f"{gs.function_name(ctx, recv.stmt) or 'the function'} waits for one value from {cf.name} (made at line "
            f"{line(cf.decl)}), but the goroutine started at line {line(go)} {where} without sending on it: the "
            "receive then blocks forever, with everything its function holds",
            function=gs.function_name(ctx, recv.stmt),
            fix=f"send on {cf.name} on every path of the goroutine (an error value too), or close it there "
                f"(defer close({cf.name})) and check the received value",
        )

    def _fed_after_blocking_call(self, ctx: FileContext, cf: ChanFacts) -> Finding | None:
        """`go func() { p.waitActive(); close(done) }()` and `<-done`, where waitActive (or a
        function it calls, three deep) blocks forever (package facts): the close never runs.

        Interprocedural: the goroutine is stuck below its body, and so is its owner."""
        signals = cf.of("send", "close")
        recvs = [u for u in cf.of("recv", "range", where="body") if u.op == "range" or not u.guarded]
        gos = {u.go.start_byte for u in signals if u.go is not None}
        if not recvs or len(gos) != 1 or any(u.where != "go" or u.callee for u in signals):
            return None
        go = signals[0].go
        fn = goroutine_function(ctx, go) if go is not None else None
        if fn is None or fn.type != "func_literal":
            return None
        from leakhunter.source.program.concurrency import concurrency

        cc = concurrency(ctx)
        blocking = cc.blocking_sites()
        summary = cc.funcs.get(gs.function_name(ctx, fn))
        if not blocking or summary is None:
            return None
        first = min(u.stmt.start_byte for u in signals)
        body = fn.child_by_field_name("body")
        for call in summary.calls:
            if call.start >= first or body is None or not _top_level(body, call.start):
                continue
            for key, chain in cc.reach(call.callee).items():
                if key in blocking:
                    via = " -> ".join(chain)
                    r = recvs[0]
                    return self.finding(
                        ctx,
                        r.stmt,
                        f"waits on {cf.name} (made at line {line(cf.decl)}), which the goroutine signals "
                        f"only after calling {via} (line {call.line}); {key} {blocking[key]}, so "
                        "the signal never comes and this blocks forever",
                        function=gs.function_name(ctx, r.stmt),
                    )
        return None

    def _never_fed(self, ctx: FileContext, cf: ChanFacts) -> Iterator[Finding]:
        """Nothing anywhere sends on or closes the channel: every unguarded receive blocks forever."""
        for u in cf.of("recv", "range"):
            if u.op == "recv" and u.guarded:
                continue
            if u.where == "body" and parks_on_purpose(ctx, cf.owner):
                return  # the process's main goroutine parks on purpose (`select {}` by another name)
            who = "goroutine" if u.where == "go" else (gs.function_name(ctx, u.stmt) or "it")
            kind = "ranges over" if u.op == "range" else "receives from"
            yield self.finding(
                ctx,
                u.stmt,
                f"{who} {kind} {cf.name} (made at line {line(cf.decl)}), but nothing ever sends on or "
                f"closes it, and it never leaves {gs.function_name(ctx, cf.decl) or 'its function'}: "
                "this blocks forever",
                function=gs.function_name(ctx, u.stmt),
            )
            return

    def _check_chan(self, ctx: FileContext, cf: ChanFacts) -> Iterator[Finding]:
        if any(u.where == "closure" for u in cf.uses):
            return
        if any(u.where == "defer" and u.op == "close" for u in cf.uses):
            return
        if _deferred_sends_answer(cf):
            return
        if cf.of("send", "close", where="go") or cf.of("recv", "range", where="body"):
            return  # a producer goroutine, or the owner also consumes: not modelled
        decl_fn = gs.enclosing_declaration(cf.decl)
        if (
            decl_fn is not None
            and ctx.text(decl_fn.child_by_field_name("name")) in _PROGRAM_LIFETIME
        ):
            return
        closes = cf.of("close", where="body")
        if any(_deferred(c.stmt, cf.owner) for c in closes):
            return
        first_go = min((u.go.start_byte for u in cf.uses if u.go is not None), default=None)
        if first_go is not None and any(c.stmt.start_byte < first_go for c in closes):
            return  # filled and closed before the workers start (or closed on some path before)
        sends = cf.of("send", where="body")
        by_go: dict[int, list[ChanUse]] = {}
        for u in cf.of("recv", "range", where="go"):
            if u.go is not None:
                by_go.setdefault(u.go.start_byte, []).append(u)
        single_consumers = [us for us in by_go.values() if all(u.op == "recv" for u in us)]
        for uses in by_go.values():
            go = uses[0].go
            assert go is not None
            if any(u.op == "recv" and is_guarded(u.stmt) for u in uses):
                continue
            ranges = [u for u in uses if u.op == "range"]
            if ranges:
                use, targets, need = ranges[0], closes, "closes"
            else:
                if len(uses) != 1 or len(single_consumers) != 1 or _in_goroutine_loop(uses[0]):
                    continue  # several receives: counting them is LH104's job
                if loop_between(go, cf.scope) is not None:
                    continue
                use, targets, need = uses[0], closes + sends, "sends on or closes"
            fn = gs.function_name(ctx, use.stmt)
            kind = "ranges over" if use.op == "range" else "receives from"
            at = _site(use)
            owner = gs.function_name(ctx, cf.decl) or "the owner"
            anchor: Node = go
            while (loop := loop_between(anchor, cf.scope)) is not None:
                anchor = loop  # workers started in a loop: what matters is after the loop
            # an owner's case on a channel the goroutine signals only on its way out (`failCh <-
            # err; return`) is not a way to abandon the goroutine's receive
            inert = exclusive_signals(ctx, cf, go, uses) if anchor is go else frozenset()
            res = Paths(ctx, [t.stmt for t in targets], inert).after(anchor, cf.body)
            feeds = bool(targets or sends)  # with nothing ever sent or closed, it blocks at once
            if feeds and (res is None or not ({"exit", "next"} & res.keys())):
                continue  # the owner never leaves without closing (or never returns at all)
            if not targets:
                tail = "once the values stop" if use.op == "range" else "waiting for a value"
                yield self.finding(
                    ctx,
                    at,
                    f"goroutine {kind} {cf.name} (made at line {line(cf.decl)}) but {owner} never {need} it: "
                    f"the goroutine blocks forever {tail}",
                    function=fn,
                )
                continue
            target_lines = ", ".join(str(line(t.stmt)) for t in targets[:3])
            if res is None:
                continue
            leaving = [res[k] for k in ("exit", "next") if k in res]
            if leaving and all(deliberate_abandon(ctx, cf.owner, w) for w in leaving):
                continue  # a lifecycle method or a failing command: once per life, not per call
            if "exit" in res:
                ret = res["exit"]
                where = f" at line {line(ret)}" if ret is not None else ""
                why = f"{owner} can return{where} before it {need} {cf.name} (line {target_lines})"
            elif "next" in res:
                w = res["next"]
                where = f" (see line {line(w)})" if w is not None else ""
                why = f"{owner} {need} {cf.name} (line {target_lines}) only on some paths{where}"
            else:
                continue
            yield self.finding(
                ctx,
                at,
                f"goroutine {kind} {cf.name} (made at line {line(cf.decl)}); {why}, leaving the goroutine "
                "blocked forever",
                function=fn,
            )


def _buffered_value_checked(ctx: FileContext, recv: Node, chan: str) -> bool:
    """The receive runs only under `if len(ch) > 0 {` (or `!= 0`, `>= 1`): a value is already in the
    buffer, and the owner is the only receiver, so it cannot wait (spiceai's RunCommand, `if len(cmdErr) >
    0 { return <-cmdErr }` after the goroutine signalled it was done, held-out set 98)."""
    return gs.guarded_by(ctx, recv, {f"len({chan})>0", f"len({chan})!=0", f"len({chan})>=1", f"0<len({chan})"})


def _deferred_sends_answer(cf: ChanFacts) -> bool:
    """The owner's deferred func literals send one value per single-receive goroutine, unconditionally: a
    deferred call runs on every way out, panics too, so each receive gets its value (onet's tryConnect, `defer func() { stopCh <-
    true }()` into a channel of capacity 1, held-out set 92: "never sends on or closes it" was said of it).
    A goroutine that ranges needs a close; more receiving goroutines than deferred sends leave one waiting."""
    sends = [u for u in cf.uses if u.where == "defer" and u.op == "send" and _top_level_of_literal(u.stmt)]
    if not sends:
        return False
    consumers = cf.of("recv", "range", where="go")
    if not consumers or any(u.op == "range" for u in consumers):
        return False
    starts = {u.go.start_byte for u in consumers if u.go is not None}
    return len(consumers) == len(starts) and len(starts) <= len(sends)


def _top_level_of_literal(stmt: Node) -> bool:
    """A statement of the func literal's own body, not under an `if`, loop, switch or select: it runs
    whenever the literal does."""
    block = stmt.parent
    if block is not None and block.type == "statement_list":
        block = block.parent
    return block is not None and block.type == "block" and block.parent is not None \
        and block.parent.type == "func_literal"


def _landing(ctx: FileContext, cf: ChanFacts, send: Node) -> Node:
    """The statement whose execution delivers `send`: the send itself, or the whole `select { case ch <- v:
    default: }` around it when `ch` is buffered. Only the answering goroutine sends on `ch` (`_unanswered`
    asks), so its first send finds the buffer empty and lands; the default is never taken then, and a later
    one that is comes after a value already delivered (cilium's standalone Envoy starter: `started` of
    capacity 1, fed by such selects, read once by its owner; held-out set 5 re-scanned in session 21)."""
    case = send.parent
    sel = case.parent if case is not None and case.type == "communication_case" else None
    if cf.cap == 0 or sel is None or sel.type != "select_statement":
        return send
    for c in sel.named_children:
        if c.type == "default_case":
            continue
        comm = c.child_by_field_name("communication") if c.type == "communication_case" else None
        if comm is None or comm.type != "send_statement" or \
                ctx.text(comm.child_by_field_name("channel")) != cf.name:
            return send  # another case may be the one chosen
    return sel if any(c.type == "default_case" for c in sel.named_children) else send


def _site(use: ChanUse) -> Node:
    """Report a `range` at its `for` line, a receive at the `<-`."""
    return use.stmt


def _deferred(node: Node, owner: Node) -> bool:
    for p in gs.ancestors(node):
        if p == owner:
            return False
        if p.type == "defer_statement":
            return True
    return False


def _in_goroutine_loop(use: ChanUse) -> bool:
    return use.go is not None and loop_between(use.stmt, use.callee or use.go) is not None


def _inline_receives(rule: Rule, ctx: FileContext) -> Iterator[Finding]:
    """`<-make(chan T)` in a goroutine: nothing else can ever hold that channel."""
    if b"<-make(" not in ctx.source and b"<- make(" not in ctx.source:
        return
    for un in gs.nodes_of_type(ctx, "unary_expression"):
        operand = un.child_by_field_name("operand")
        op = un.child_by_field_name("operator")
        if op is None or op.type != "<-" or operand is None or operand.type != "call_expression":
            continue
        if gs.call_name(ctx, operand) != "make" or is_guarded(un):
            continue
        fn = gs.enclosing_function(un)
        if fn is None or fn.type != "func_literal" or fn.parent is None or fn.parent.parent is None:
            continue
        if fn.parent.parent.type != "go_statement":
            continue
        yield rule.finding(
            ctx,
            un,
            f"goroutine receives from `{describe(ctx, operand)}`, a channel nothing else can reach: "
            "it blocks forever",
            function=gs.function_name(ctx, un),
        )


def _top_level(body: Node, start: int) -> bool:
    """The call at byte `start` is in a statement directly in `body` (runs on every path)."""
    for st in gs.statements(body):
        if st.start_byte <= start < st.end_byte:
            return st.type in ("expression_statement", "short_var_declaration", "assignment_statement")
    return False


