"""LH303 time-after-in-loop: `time.After` in a select inside a loop that keeps looping."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.goflow import duration_ns, in_small_loops
from leakhunter.source.release import is_terminator
from leakhunter.source.rule import FileContext, Rule
from leakhunter.source.rules._timers import collects_timers, version_text

if TYPE_CHECKING:
    from tree_sitter import Node


def _case_of(call: Node) -> Node | None:
    """The select case whose communication holds `call` (`case <-time.After(d):`)."""
    cur = call
    for p in gs.ancestors(call):
        if p.type == "communication_case":
            return p if p.child_by_field_name("communication") == cur else None
        if p.type in gs.FUNC_TYPES or (p.type.endswith("_statement") and p.type not in (
            "receive_statement", "expression_statement",
        )):
            return None
        cur = p
    return None


def _leaves_loop(ctx: FileContext, stmts: list[Node], loop: Node) -> bool:
    """True if a case body ends by leaving the loop: return, panic/exit, goto, `break L` to the loop."""
    if not stmts:
        return False
    last = stmts[-1]
    if last.type in ("return_statement", "goto_statement"):
        return True
    if last.type == "expression_statement" and is_terminator(ctx, last):
        return True
    if last.type == "break_statement":
        lab = next((c for c in last.named_children if c.type == "label_name"), None)
        if lab is not None and loop.parent is not None and loop.parent.type == "labeled_statement":
            return ctx.text(lab) == ctx.text(loop.parent.child_by_field_name("label"))
    if last.type == "if_statement":
        cons = gs.statements(last.child_by_field_name("consequence"))
        alt = last.child_by_field_name("alternative")
        if alt is None:
            return False
        alt_stmts = gs.statements(alt) if alt.type == "block" else [alt]
        return _leaves_loop(ctx, cons, loop) and _leaves_loop(ctx, alt_stmts, loop)
    if last.type in ("select_statement", "expression_switch_statement", "type_switch_statement"):
        # a nested select or switch every case of which leaves (a switch only with a default): iotdb's
        # GetSession, `case sem <- 1: select { case s := <-ch: return s; default: return New() }`,
        # held-out set 46, where the loop never runs a second time
        cases = [c for c in last.named_children if c.type.endswith("_case")]
        if not cases or (last.type != "select_statement" and not any(c.type == "default_case" for c in cases)):
            return False
        return all(_leaves_loop(ctx, gs.statements(c), loop) for c in cases)
    return False


_ONE_SHOT = re.compile(r"(?i)(done|quit|stop|clos|shutdown|exit|cancel|terminat|kill|dying|finish)")


def _one_shot(ctx: FileContext, case: Node) -> bool:
    """A case receiving from `ctx.Done()` or a quit/stop/done channel: it wins once, when the
    work ends, and a loop that goes on after that checks it again at its head."""
    comm = case.child_by_field_name("communication")
    if comm is None:
        return False
    text = ctx.text(comm)
    if "<-" not in text:
        return False
    chan = text.split("<-", 1)[1]
    return bool(_ONE_SHOT.search(chan))


_RECEIVED_NAME = re.compile(r"<-\s*([A-Za-z_]\w*)(\.C)?\s*$")


def _signal_case(ctx: FileContext, case: Node) -> bool:
    """A case receiving from a channel the function hands to `signal.Notify` (`case s := <-sigC:`): an
    OS signal arrives when a person or the system sends one, so the timers it makes the loop abandon
    number the signals, not the traffic (rain's magnet-to-torrent loop, which stops the torrent on
    SIGINT and waits on, held-out set 63). The channel may be a closure's capture: v.io's `handleRefresh`
    hands `hupCh` to `signal.Notify` and reloads on SIGHUP or each `time.After(interval)` in the goroutine it
    starts (held-out set 125), so every enclosing function is searched, innermost first."""
    comm = case.child_by_field_name("communication")
    m = _RECEIVED_NAME.search(ctx.text(comm)) if comm is not None else None
    if m is None or m.group(2):
        return False
    fn = gs.enclosing_function(case)
    while fn is not None:
        if any(
            gs.is_call_to(ctx, call, "os/signal.Notify") and (args := gs.arguments(call))
            and ctx.text(args[0]).strip() == m.group(1)
            for call in gs.walk(fn, "call_expression")
        ):
            return True
        if fn.type != "func_literal" or m.group(1) in gs.local_names(ctx, fn):
            return False  # the name is the literal's own (a parameter or a local): not the outer one
        fn = gs.enclosing_function(fn)
    return False


def _never_fires(ctx: FileContext, case: Node) -> bool:
    """A case receiving from an unexported channel field that nothing in the package sends on or closes
    (the program model's field facts): it never wins, so it abandons no timer (politeia's anchor loop,
    whose `checkAnchor` channel is made and never fed, held-out set 91)."""
    comm = case.child_by_field_name("communication")
    recv = next((n for n in gs.walk(comm, "unary_expression") if ctx.text(n).startswith("<-")), None) \
        if comm is not None else None
    operand = recv.child_by_field_name("operand") if recv is not None else None
    if recv is None or operand is None or operand.type != "selector_expression":
        return False
    from leakhunter.source.program.concurrency import concurrency

    cc = concurrency(ctx)
    path = str(ctx.path)
    for key, ops in cc.ops.items():
        if any(o.op == "recv" and o.file == path and o.start == recv.start_byte for o in ops):
            return cc.never_fed(key)
    return False


def _one_shot_timer(ctx: FileContext, case: Node, loop: Node) -> bool:
    """A case receiving from a timer that fires once per call: `<-t.C` of `t := time.NewTimer(d)`, or
    `<-deadline` of `deadline := time.After(d)`, made before the loop and neither made again nor
    `Reset` in it. It wins at most once, so at most one `time.After` of the loop is ever abandoned
    for it (attestation-sdk's retry loop under an overall deadline, held-out set 35; edgectl's
    `loopUntil`, set 32). A ticker's channel fires every period: not one-shot."""
    comm = case.child_by_field_name("communication")
    m = _RECEIVED_NAME.search(ctx.text(comm)) if comm is not None else None
    if m is None:
        return False
    name, field = m.group(1), m.group(2)
    maker = "time.NewTimer" if field else "time.After"
    fn = gs.enclosing_function(loop)
    if fn is None:
        return False
    made_before = False
    for n in gs.walk(fn, ("short_var_declaration", "assignment_statement", "var_spec"), into_func_literals=True):
        if name not in gs.assigned_names(ctx, n):
            continue
        if loop.start_byte <= n.start_byte < loop.end_byte:
            return False  # made again in the loop: one per iteration
        value = gs.assigned_value(ctx, n, name)
        if value is None or value.type != "call_expression" or not gs.is_call_to(ctx, value, maker):
            return False
        made_before = made_before or n.end_byte <= loop.start_byte
    if not made_before:
        return False
    for call in gs.walk(loop, "call_expression", into_func_literals=True):
        f = call.child_by_field_name("function")
        if f is not None and f.type == "selector_expression" and ctx.text(f.child_by_field_name("operand")) == name \
                and ctx.text(f.child_by_field_name("field")) == "Reset":
            return False
    return not _address_taken(ctx, fn, name)


def _address_taken(ctx: FileContext, fn: Node, name: str) -> bool:
    """`&name` appears in `fn`: whoever holds the pointer may set the variable anywhere."""
    return any(
        ctx.text(n).replace(" ", "") == f"&{name}" for n in gs.walk(fn, "unary_expression", into_func_literals=True)
    )


def _after_select_leaves(ctx: FileContext, select: Node, loop: Node) -> bool:
    """True if the code after the select, up to the loop body, always leaves the loop
    (a top-level return, terminator or goto), so the loop never runs a second select,
    unless some case skips it with `continue`."""
    if any(True for _ in gs.walk(select, "continue_statement")):
        return False
    body = loop.child_by_field_name("body")
    cur = select
    while cur is not None and cur != body:
        parent = cur.parent
        if parent is None:
            return False
        stmts = gs.statements(parent) if parent.type in ("block", "statement_list") else []
        after = False
        for st in stmts:
            if st == cur:
                after = True
                continue
            if after and (
                st.type in ("return_statement", "goto_statement")
                or (st.type == "expression_statement" and is_terminator(ctx, st))
            ):
                return True
        cur = parent
        if cur.type in gs.FUNC_TYPES:
            return False
    return False


_TIMER_RECEIVE = re.compile(r"<-\s*(?:time\.(?:After|Tick)\s*\(|[\w.\[\]()]+\.C\b\s*$)")
"""A receive that waits for a timer: `<-time.After(d)`, `<-time.Tick(d)`, `<-t.C` of a Ticker or Timer."""


def _waits_for_timer(ctx: FileContext, node: Node | None) -> bool:
    """`node` is a statement or a case communication that waits for a timer (or sleeps)."""
    if node is None:
        return False
    if node.type == "expression_statement" and node.named_children:
        node = node.named_children[0]
    if node.type == "call_expression":
        return gs.is_call_to(ctx, node, "time.Sleep")
    if node.type in ("unary_expression", "receive_statement"):
        return bool(_TIMER_RECEIVE.search(ctx.text(node).strip()))
    return False


def _paced_by_timer(ctx: FileContext, select: Node, loop: Node) -> bool:
    """Each iteration that reaches the select first waited for a timer of its own: the select sits in
    the body of a case that received from a timer (go-twitch-irc's pong wait, reached only once the
    idle-ping `time.After` fired), after a top-level `<-t.C`/`time.Sleep` of the loop body, or the loop
    ranges over a ticker's channel. Such a loop makes one `time.After` per period of that timer, so
    what is pending is bounded by the ratio of the two durations, not by the traffic: no growth."""
    clause = next((c for c in loop.named_children if c.type == "range_clause"), None)
    ranged = clause.child_by_field_name("right") if clause is not None else None
    if ranged is not None and (ctx.text(ranged).strip().endswith(".C") or gs.is_call_to(ctx, ranged, "time.Tick")):
        return True
    body = loop.child_by_field_name("body")
    prev = select
    for p in gs.ancestors(select):
        if p == body or p.type in gs.FUNC_TYPES:
            break
        comm = p.child_by_field_name("communication") if p.type == "communication_case" else None
        if comm is not None and comm != prev and _waits_for_timer(ctx, comm):
            return True
        prev = p
    for st in gs.statements(body):
        if st.start_byte <= select.start_byte < st.end_byte:
            return False  # the statement holding the select: what follows it runs after the select
        if _waits_for_timer(ctx, st):
            return True
    return False


def _to_fixed_deadline(ctx: FileContext, expr: Node | None, loop: Node) -> bool:
    """The duration is the time left to a deadline the loop does not move: `time.Until(deadline)` or
    `deadline.Sub(time.Now())` of a local or parameter not assigned in the loop. Every timer the loop
    makes then fires at that one instant, so what it abandons is freed together at the deadline the call
    waits for anyway: one overall timeout re-armed per iteration, never a pile that grows (riot's search
    gathering one result per shard to a common deadline, held-out set 90)."""
    if expr is None or expr.type != "call_expression":
        return False
    args = gs.arguments(expr)
    target: Node | None
    if gs.is_call_to(ctx, expr, "time.Until") and len(args) == 1:
        target = args[0]
    else:
        f = expr.child_by_field_name("function")
        if (f is None or f.type != "selector_expression" or ctx.text(f.child_by_field_name("field")) != "Sub"
                or len(args) != 1 or args[0].type != "call_expression" or not gs.is_call_to(ctx, args[0], "time.Now")):
            return False
        target = f.child_by_field_name("operand")
    if target is None or target.type != "identifier":
        return False
    name = ctx.text(target)
    fn = gs.enclosing_function(loop)
    if fn is None:
        return False
    for n in gs.walk(fn, ("short_var_declaration", "assignment_statement", "var_spec", "inc_statement"),
                     into_func_literals=True):
        if name in gs.assigned_names(ctx, n) and not n.end_byte <= loop.start_byte:
            return False  # moved in the loop (a sliding idle deadline) or after it
    return not _address_taken(ctx, fn, name)


SHORT_S = 5.0
"""A `time.After` whose duration is a constant of at most this many seconds holds its timer that long
at most: the pending timers a loop leaves are bounded by its rate times this (a cost, like the
allocation Go 1.23+ makes per iteration), not a growth with the program's life."""


def constant_seconds(ctx: FileContext, expr: Node | None) -> float | None:
    """The value in seconds of a constant duration, None when it is not a constant.

    goflow's constant folding, not a pattern of its own: `time.Second / 2`, `(5 * time.Second)`,
    `time.Duration(3) * time.Second` and const names are constants too (held-out set 4's 0.5 s
    test-loop timers were written `time.Second / 2` and a pattern of `N * time.Unit` missed them).
    """
    ns = duration_ns(ctx, expr)
    return None if ns is None or ns < 0 else ns / 1e9


class TimeAfterInLoop(Rule):
    """`time.After` in a `select` inside a loop, where another case can win and the loop goes on.

    The pattern: `for { select { case m := <-msgs: handle(m); case <-time.After(d): ... } }`.
    Each iteration creates a new timer; when another case wins, that timer stays
    pending and the next iteration makes another.

    Why it leaks: before Go 1.23 a timer created by `time.After` lives until it fires,
    so a busy loop with a long timeout keeps (messages per timeout) timers and their
    channels alive at once — heap grows with traffic (`warning`). Since Go 1.23 an
    unreferenced timer is collected at once, so no memory is kept: what remains is an
    allocation per iteration, reported at `info` for modules whose go.mod says 1.23+
    (or without go.mod: current Go).

    The fix: create one `time.NewTimer(d)` before the loop and `Reset` it each
    iteration (or use a `context.WithTimeout` for an overall deadline).

    Not reported: a `time.After` outside a select (it fires each time, nothing stays
    pending); selects whose every other case leaves the loop (return, `break L`,
    goto, panic) or is a one-shot shutdown signal (`ctx.Done()`, a quit/stop/done
    channel) or a channel field nothing in the package sends on or closes (it never wins) or a one-shot
    timer made before the loop and not Reset in it (`<-timeout.C` of a
    `time.NewTimer`, a `time.After` channel kept in a variable: an overall deadline wins once per
    call) or a channel handed to `signal.Notify` (an OS signal: the timers abandoned number the
    signals), and selects followed by an unconditional return, so at most one timer
    is ever pending; a select the iteration reaches only after waiting for a timer of its own (in the
    body of a `case <-time.After(d):` or `case <-t.C:`, after a `<-t.C` or `time.Sleep` at the top of the
    loop body, or in a `for range t.C` loop): one timer per period of that timer, bounded by the ratio
    of the two durations, never by traffic (go-twitch-irc's pong wait after each idle ping);
    `time.After` inside a func literal in the loop; a duration that is the time left to a deadline the
    loop does not move (`time.Until(deadline)`, `deadline.Sub(time.Now())`): every timer fires at that
    one instant, an overall timeout re-armed per iteration; loops that run a
    small constant number of times (`for range 3`, `for i := 0; i < 2; i++`, a range
    over a literal of a few elements): at most that many timers, bounded by the code.
    A constant duration of at most 5 s (`time.After(5 * time.Second)`, `time.Second / 2`, a const) in a select without a
    `default` case (the loop waits for its channels, it does not spin) is `info` on every Go
    version: each abandoned timer lives that long at most, so what is pending is bounded by the
    loop's rate times 5 s and does not grow with the program's life (dendrite's fan-in timeout).
    In `_test.go` files findings are `info`: a test binary's leak lasts one test run.
    """

    id = "LH303"
    name = "time-after-in-loop"
    severity = "warning"
    fix = "create one time.NewTimer before the loop and Reset it each iteration (Stop it on exit)"
    leaking_example = """\
for {
	select {
	case m := <-msgs:
		handle(m)
	case <-time.After(time.Minute): // a new timer per message
		flush()
	}
}"""
    fixed_example = """\
t := time.NewTimer(time.Minute)
defer t.Stop()
for {
	select {
	case m := <-msgs:
		handle(m)
	case <-t.C:
		flush()
	}
	t.Reset(time.Minute)
}"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        for call in gs.nodes_of_type(ctx, "call_expression"):
            if not gs.is_call_to(ctx, call, "time.After"):
                continue
            case = _case_of(call)
            if case is None or case.parent is None or case.parent.type != "select_statement":
                continue
            select = case.parent
            loop = gs.in_loop(select)
            if loop is None or in_small_loops(ctx, select):
                continue
            others = [c for c in select.named_children if c.type in ("communication_case", "default_case") and c != case]
            if not others or _after_select_leaves(ctx, select, loop) or _paced_by_timer(ctx, select, loop):
                continue
            if all(_leaves_loop(ctx, gs.statements(c), loop) or _one_shot(ctx, c) or _one_shot_timer(ctx, c, loop)
                   or _signal_case(ctx, c) or _never_fires(ctx, c) for c in others):
                continue
            args = gs.arguments(call)
            if _to_fixed_deadline(ctx, args[0] if args else None, loop):
                continue
            collected = collects_timers(ctx)
            secs = constant_seconds(ctx, args[0] if args else None)
            # a `default` case makes the loop spin: a timer per pass, however short, is no bounded cost
            short = secs is not None and secs <= SHORT_S and not any(c.type == "default_case" for c in others)
            why = (
                f"{version_text(ctx)} collects the abandoned timers, but each iteration still allocates one"
                if collected
                else f"on {version_text(ctx)} each abandoned timer lives until it fires, {secs:g} s at most"
                if short
                else f"on {version_text(ctx)} each abandoned timer lives until it fires"
            )
            yield self.finding(
                ctx, call,
                f"time.After in a select inside the loop at line {loop.start_point[0] + 1}: every iteration "
                f"where another case wins leaves a pending timer ({why})",
                severity="info" if collected or short or ctx.is_test else "warning",
                function=gs.function_name(ctx, call),
            )
