"""LH108 field-channel-blocked: a send or receive on a struct-field channel nobody can complete."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from leakhunter.model import Finding, Severity
from leakhunter.source import gosyntax as gs
from leakhunter.source.program.concurrency import (
    Concurrency,
    FieldOp,
    GoSite,
    concurrency,
    may_touch_fields,
)
from leakhunter.source.release import is_terminator
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node


class FieldChannelBlocked(Rule):
    """A goroutine blocks on a channel held in a struct field that nothing in the package releases.

    The pattern: a type keeps a channel in an unexported field (`w.results`, `n.status`,
    `t.awaken`) and its methods use it from different places: one method sends, another
    receives in a loop, a third closes. Across every file of the package (only this package
    can touch an unexported field), this rule looks at every make, send, receive, range and
    close of the field and reports a blocking operation that can never complete:

    - a send on a field channel that nothing in the package ever receives from (unbuffered:
      the first send blocks; buffered: every send once the buffer is full);
    - a receive (or `range`) on a field channel that nothing ever sends on or closes;
    - a receive whose only senders are non-blocking (`select { case w.ch <- v: default: }`)
      on an unbuffered channel: a signal sent while nobody waits is dropped, and the
      receiver then waits forever (a lost wake-up);
    - a send, run by a goroutine (directly or up to three calls below the `go` statement),
      whose every receiver can stop receiving: the receive loop returns on another select
      case (`case <-n.stop: return`), or the receive sits in a select next to a timeout.
      After that the goroutine blocks on the send forever.

    Why it leaks: a goroutine blocked on a channel nobody will ever touch again is never
    collected; it pins its stack and everything it references, once per call.

    The fix: give the channel a buffer for every pending send, make the sender select on
    the same stop/done channel the receiver exits on (`case <-n.done: return`), close the
    channel when the producer is done, or use a buffered channel of one for wake-ups.

    Severity: the last shape ("every receiver can stop receiving") is `info`, not shown by
    default (`--show-info` shows it). On real code the receiver's loop almost always stops
    only when its component or the whole process shuts down, after which the stranded
    sender does not grow with traffic: a strict triage of the tuning set (go-ethereum,
    vault, containerd, temporal; 2026-12-03) found 1 true of 5 shown (20%; the true one, a
    temporal per-shard queue, stops when a shard unloads). Telling the two apart needs the
    lifetime of the receiver's component, which the program model does not have. It stays a
    `warning` when the loop announces its exit (closes a done channel of the type as it
    stops) and the sender ignores that channel: the type supports calls after the stop, and
    this send is the one that does not (etcd 6857). The other shapes stay `error`. A lost wake-up (non-blocking sends only) is not reported when the
    receive is in a `_test.go` file: the test waits for the signal, and a lost one makes it
    hang and fail, which is its report (2 of 2 false on the tuning set); nor when the receive is
    the whole body of an exported function or method of an exported type (`func (c *Cond) Wait()
    { <-c.signal }`): a wait primitive whose wake-ups, like sync.Cond's, reach a waiter if there
    is one; whether a caller can miss one is the caller's protocol (go-zero's syncx.Cond).

    Not reported (precision first): exported fields, fields whose value leaves the
    operations (passed to a call, aliased to a local, returned, assigned from another
    channel), fields never made in the package, operations inside a select with another
    case, buffered channels whose receivers can stop (the buffer may be enough).

    Off by default in `scan` (`--enable LH108`, or `enable` in `.leakhunter.toml`): whether
    a field channel's other end can still act is a question of the lifetime of the
    component that owns it, which the program model does not have, and on held-out modules
    nobody had tuned it on it was true for 1 of 16 production findings at first contact
    (sets 1-16). `watch`, `soak` and `goroutines --source` still run it: there goroutines
    parked at the same line supply the evidence the syntax lacks.
    """

    id = "LH108"
    name = "field-channel-blocked"
    severity = "error"
    enabled_by_default = False
    fix = (
        "make the sender select on the done/stop channel the receiver exits on, buffer the "
        "channel for every pending send, or close it when the producer is done"
    )
    leaking_example = """\
type node struct{ status chan chan Status; stop, done chan struct{} }

func (n *node) run() {
	for {
		select {
		case c := <-n.status:
			c <- Status{}
		case <-n.stop:
			close(n.done)
			return // after this nobody receives n.status
		}
	}
}

func (n *node) Status() Status {
	c := make(chan Status)
	n.status <- c // blocks forever once run has returned
	return <-c
}"""
    fixed_example = """\
func (n *node) Status() (Status, bool) {
	c := make(chan Status, 1)
	select {
	case n.status <- c:
		return <-c, true
	case <-n.done:
		return Status{}, false
	}
}"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not may_touch_fields(ctx):
            return
        cc = concurrency(ctx)
        if not cc.chan_fields:
            return
        path = str(ctx.path)
        mine = [o for ops in cc.ops.values() for o in ops if o.file == path]
        if not mine:
            return
        in_go = cc.goroutine_ops()
        for op in sorted(mine, key=lambda o: o.start):
            if op.guarded or not op.resolved or op.op not in ("send", "recv", "range"):
                continue
            if not cc.known(op.field):
                continue
            why = _why(cc, op, in_go.get((op.file, op.start)))
            if not why:
                continue
            node = _node_at(ctx, op.start)
            if node is None:
                continue
            # "nothing ever receives/sends" is certain; "every receiver can stop" depends on
            # the receiver actually stopping while senders remain, which on real code is
            # almost always the component's (or the process's) shutdown: measured 1 true of 5
            # shown on the tuning set (see the class docstring), so it is info, not shown by
            # default
            # ... unless the loop announces its exit on a done channel the sender ignores
            stops = "can stop receiving" in why and _DONE_UNUSED not in why
            sev: Severity | None = "info" if stops else ("warning" if "can stop receiving" in why else None)
            if ctx.is_test and _LOST_WAKEUP in why:
                continue  # a test waiting for a wake-up: a lost one hangs and fails the test
            if _LOST_WAKEUP in why and in_go.get((op.file, op.start)) is None and _wait_primitive(ctx, node):
                continue  # the wait is the API: its caller chose to wait (like sync.Cond.Wait)
            if _never_used(ctx, op.field.partition(".")[0]):
                continue  # dead code: nothing in the module names the type or its constructor
            if op.op == "send" and _NO_RECEIVER in why and _received_by_package_tests(ctx, op.field):
                continue  # test support whose own package's tests take the values
            if op.op == "send" and _NO_RECEIVER in why and _one_send_per_value(ctx, cc, op.field):
                continue  # a reply channel with a slot for its one send: the buffer never fills
            yield self.finding(ctx, node, why, function=gs.function_name(ctx, node), severity=sev)


_LOST_WAKEUP = "every send on it is non-blocking"
_NO_RECEIVER = "which nothing in the package ever receives from"


def _received_by_package_tests(ctx: FileContext, field: str) -> bool:
    """Test support (an ordinary file of a package whose files import "testing": livekit's `test`
    package) whose channel field a `_test.go` file of the same package receives from
    (`<-client.requestedJobs`): the package view of ordinary files does not hold that receive, but
    the only code that runs the support does."""
    from leakhunter.source.program.testfail import is_test_code, test_support_package

    if ctx.is_test or not (is_test_code(ctx) or test_support_package(ctx)):
        return False
    name = field.rsplit(".", 1)[-1]
    pat = re.compile(rb"(?:<-\s*|\brange\s+)[\w.()\[\]]*\." + re.escape(name.encode()) + rb"\b")
    own = re.compile(rb"(?m)^package\s+" + re.escape(gs.package_name(ctx).encode()) + rb"\s*$")
    try:
        tests = [p for p in ctx.path.absolute().parent.iterdir() if p.name.endswith("_test.go")]
    except OSError:
        return False
    for p in tests:
        try:
            data = p.read_bytes()
        except OSError:
            continue
        if own.search(data[:4096]) and pat.search(data):
            return True
    return False

def _one_send_per_value(ctx: FileContext, cc: Concurrency, field: str) -> bool:
    """A buffered field channel made per value (`&registration{errorChan: make(chan error, 1)}`),
    each value received once by a dispatcher (`case msg := <-registry:`, maybe re-bound by a type
    switch) that sends on that value's channel at most once: every send is the last thing the
    dispatch of that value does (a `continue`/`return` follows it, or nothing sending does). Then
    no value's channel ever holds more than one item and, with at least one slot, no send blocks:
    an unused reply channel, not a stranded goroutine (lnd's block-epoch notifiers, 9 findings on
    held-out set 7; rclone's sync `srcFilesResult`, tuning set). All sends in this file, every make
    with a constant capacity of at least one."""
    sends = cc.of(field, "send")
    makes = cc.of(field, "make")
    path = str(ctx.path)
    if not sends or not makes or any(m.cap is None or m.cap < 1 for m in makes):
        return False
    if any(o.file != path for o in sends):
        return False
    for o in sends:
        st = ctx.tree.root_node.descendant_for_byte_range(o.start, o.start)
        while st is not None and st.type != "send_statement" and st.start_byte == o.start:
            st = st.parent
        if st is None or st.type != "send_statement":
            return False
        ch = st.child_by_field_name("channel")
        operand = ch.child_by_field_name("operand") if ch is not None and ch.type == "selector_expression" else None
        if operand is None or operand.type != "identifier":
            return False
        scope = _received_binding(ctx, st, ctx.text(operand))
        if scope is None or not _last_send(ctx, st, scope, field.rsplit(".", 1)[-1]):
            return False
    return True


def _received_binding(ctx: FileContext, node: Node, name: str) -> Node | None:
    """The select case that binds `name` from a channel receive (`case msg := <-ch:`), through a
    type switch that re-binds it (`switch msg := msg.(type)`); None if `name` comes from elsewhere."""
    for p in gs.ancestors(node):
        if p.type in gs.FUNC_TYPES:
            return None
        if p.type == "type_switch_statement":
            alias = p.child_by_field_name("alias")
            if alias is not None and name in ctx.text(alias).replace(" ", "").split(","):
                value = p.child_by_field_name("value")
                if value is None or value.type != "identifier":
                    return None
                name = ctx.text(value)  # `switch msg := msg.(type)`: follow the switched value
        if p.type == "communication_case":
            comm = p.child_by_field_name("communication")
            left = comm.child_by_field_name("left") if comm is not None and comm.type == "receive_statement" else None
            if left is not None and name in ctx.text(left).replace(" ", "").split(","):
                return p
    return None


_JUMPS = frozenset({"continue_statement", "return_statement", "break_statement", "goto_statement"})


def _last_send(ctx: FileContext, st: Node, scope: Node, name: str) -> bool:
    """After send `st`, this run of `scope` sends on no field `name` again: from `st` up to `scope`,
    the statements after each level hold no such send before a jump out, and no loop lies between."""
    cur = st
    while cur != scope:
        container = cur.parent
        if container is None:
            return False
        if container.type in ("for_statement", "func_literal"):
            return False  # the send repeats, or runs at another time
        siblings = gs.statements(container) if container.type in ("block", "statement_list") else []
        if cur in siblings:
            for later in siblings[siblings.index(cur) + 1:]:
                if later.type in _JUMPS or is_terminator(ctx, later):
                    return True
                if _sends_on(ctx, later, name):
                    return False
        cur = container
    return True


def _sends_on(ctx: FileContext, node: Node, name: str) -> bool:
    return any(
        (ch := s.child_by_field_name("channel")) is not None and ch.type == "selector_expression"
        and ctx.text(ch.child_by_field_name("field")) == name
        for s in gs.walk(node, "send_statement", into_func_literals=False)
    )


_USED: dict[tuple[str, str], bool] = {}
_DOUBLE = re.compile(r"Mock|Fake|Stub|Dummy|Noop|Nop[A-Z]")
"""Names of test doubles: an exported one nothing in its module uses is dead, not someone's API."""


def _never_used(ctx: FileContext, type_name: str) -> bool:
    """Nothing in the module outside the type's own file mentions the type or a function of that file
    returning it (vitess's `HTTPStreamWriterMock`, a mock no test constructs): no value of it exists,
    so no send on its channel ever runs. Only for a type no other module can construct (unexported, or
    in a program's package) or an exported test double (Mock/Fake/Stub...): a library's other exported
    types are its API, used elsewhere."""
    from leakhunter.source import gomod
    from leakhunter.source.program.importers import importers

    if not type_name or ctx.is_test:
        return False
    if type_name[:1].isupper() and not _DOUBLE.search(type_name):
        from leakhunter.source.program.exits import _application_package

        if not _application_package(ctx):
            return False  # a library's exported type: other modules may construct it
    makers = {type_name}
    for fn in gs.nodes_of_type(ctx, "function_declaration"):
        res = fn.child_by_field_name("result")
        if res is not None and re.search(rf"\b{re.escape(type_name)}\b", ctx.text(res)):
            makers.add(ctx.text(fn.child_by_field_name("name")))
    root = gomod.module_for_dir(ctx.path.absolute().parent).root
    if root is None:
        return False
    key = (str(ctx.path.absolute()), type_name)
    if key not in _USED:
        imp = importers(Path(root))
        files = [*imp.code.get("", []), *(p for k in list(imp.tests) for p in imp.tests.get(k, []))]
        needle = re.compile(rb"\b(?:" + b"|".join(re.escape(m.encode()) for m in sorted(makers)) + rb")\b")
        own = ctx.path.absolute()
        used = _used_in_own_file(ctx, needle, type_name, makers)
        for f in dict.fromkeys(files) if not used else ():
            if f.absolute() == own:
                continue
            try:
                if needle.search(f.read_bytes()):
                    used = True
                    break
            except OSError:
                used = True
                break
        _USED[key] = used
    return not _USED[key]


def _used_in_own_file(ctx: FileContext, needle: re.Pattern[bytes], type_name: str, makers: set[str]) -> bool:
    """A mention of the type or a maker in its own file outside comments, the type's declaration, its
    methods and the makers themselves (a one-file program that builds and runs it)."""

    def own(d: Node) -> bool:
        if d.type == "function_declaration":
            return ctx.text(d.child_by_field_name("name")) in makers
        if d.type == "method_declaration":
            return bool(re.search(rf"\b{re.escape(type_name)}\b", ctx.text(d.child_by_field_name("receiver"))))
        return any(c.type == "type_spec" and ctx.text(c.child_by_field_name("name")) == type_name
                   for c in d.named_children)

    decls = [d for d in gs.nodes_of_type(ctx, "function_declaration", "method_declaration", "type_declaration")
             if own(d)]
    for m in needle.finditer(ctx.source):
        node = ctx.tree.root_node.descendant_for_byte_range(m.start(), m.end())
        if node is None or node.type in ("comment", "interpreted_string_literal", "raw_string_literal"):
            continue
        if not any(d.start_byte <= m.start() < d.end_byte for d in decls):
            return True
    return False


def _wait_primitive(ctx: FileContext, node: Node) -> bool:
    """The receive is the whole body of an exported function or method of an exported type (`func (c
    *Cond) Wait() { <-c.signal }`): a wait offered to other packages, whose non-blocking wake-ups
    wake a waiter "if there is any", as sync.Cond's Signal does. A lost wake-up there is the caller's
    protocol, not a goroutine the package strands (go-zero's `syncx.Cond`, held-out set 14). A receive
    that is one step of a longer exported method (`Close() { close(w.stop); <-w.done }`) stays reported."""
    fn = gs.enclosing_function(node)
    if fn is None or fn.type not in ("function_declaration", "method_declaration"):
        return False
    name = gs.function_name(ctx, fn)
    if not all(part[:1].isupper() for part in name.split(".")):
        return False
    stmts = gs.statements(fn.child_by_field_name("body"))
    return len(stmts) == 1 and stmts[0].start_byte <= node.start_byte < stmts[0].end_byte


def _node_at(ctx: FileContext, start: int) -> Node | None:
    n = ctx.tree.root_node.descendant_for_byte_range(start, start)
    while n is not None and n.parent is not None and n.parent.start_byte == start:
        n = n.parent
    return n


def _where(o: FieldOp) -> str:
    return f"{o.func or 'package level'} (line {o.line})"


def _runner(g: tuple[GoSite, list[str]] | None) -> str:
    if g is None:
        return ""
    site, chain = g
    via = f", via {' -> '.join(chain)}" if len(chain) > 1 else ""
    return f"the goroutine started at {Path(site.file).name}:{site.line}{via} "


def _why(cc: Concurrency, op: FieldOp, g: tuple[GoSite, list[str]] | None) -> str:
    f = op.field
    who = _runner(g) or ""
    if op.op == "send":
        recvs = cc.of(f, "recv", "range")
        if not recvs and not cc.unbuffered(f):
            caps = sorted({m.cap for m in cc.of(f, "make") if m.cap is not None})
            size = (f"its {caps[0]} slot{'s are' if caps[0] != 1 else ' is'}" if caps else "its buffer is")
            return (
                f"{who}sends on buffered field channel {_short(f)}, which nothing in the package "
                f"ever receives from: once {size} full every send blocks forever"
            )
        if not cc.unbuffered(f):
            return ""
        if not recvs:
            return (
                f"{who}sends on unbuffered field channel {_short(f)}, which nothing in the package "
                "ever receives from: the send blocks forever"
            )
        own = {o.field.rsplit(".", 1)[-1] for o in cc.func_ops(op.func) if o.op in ("send", "close")}
        if g is not None and all(r.abandons and r.exit_field not in own for r in recvs):
            r = recvs[0]
            how = (
                f"leaves its receive loop at line {r.exit_line}"
                if r.exit_line
                else "receives it in a select where another case can win"
            )
            # the receiver's exit may be triggered by the sender itself (`c.readErr <- err`
            # then return): a drain loop that waits for it does not abandon the sender
            why = (
                f"{who}sends on unbuffered field channel {_short(f)}, but every receiver can stop "
                f"receiving ({_where(r)} {how}): the send then blocks forever"
            )
            done = _announced_exit(cc, op, recvs)
            if done:
                why += f"; {_where(r).split(' (')[0]} closes {done} when it stops, {_DONE_UNUSED}"
            return why
        return ""
    sends = cc.of(f, "send")
    closes = cc.of(f, "close")
    if not sends and not closes:
        verb = "ranges over" if op.op == "range" else "receives from"
        return (
            f"{who}{verb} field channel {_short(f)}, which nothing in the package ever sends on or "
            "closes: it blocks forever"
        )
    if op.op == "recv" and not closes and cc.unbuffered(f) and all(s.nonblocking for s in sends):
        s = sends[0]
        return (
            f"{who}receives from unbuffered field channel {_short(f)}, but every send on it is "
            f"non-blocking ({_where(s)}: a select with a default): a signal sent before this "
            "receive waits is dropped, and the receive then blocks forever"
        )
    return ""


_DONE_UNUSED = "which this send does not select on"


def _announced_exit(cc: Concurrency, op: FieldOp, recvs: list[FieldOp]) -> str:
    """A field channel every receiver closes as it stops (`case <-n.stop: close(n.done);
    return`) that the sender's function never touches: the type tells its users when the
    loop is gone, and this send ignores it (etcd 6857). '' if not so."""
    mine = {o.field for o in cc.func_ops(op.func)}
    common: set[str] | None = None
    for r in recvs:
        closed = {
            o.field for o in cc.func_ops(r.func)
            if o.op == "close" and o.field != op.field and cc.known(o.field)
        }
        common = closed if common is None else common & closed
    left = sorted((common or set()) - mine)
    return _short(left[0]) if left else ""


def _short(key: str) -> str:
    """`node.status` for the field key `node.status` (type.field), as a reader writes it."""
    return key
