"""LH405 defer-in-loop: a releasing `defer` directly in a loop body runs only when the function returns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.goflow import in_small_loops
from leakhunter.source.release import is_terminator
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node

_RELEASE_METHODS = frozenset({
    "Close", "Unlock", "RUnlock", "Stop", "Rollback", "Release", "Cancel",
    "CloseWithError", "CloseSend", "Shutdown", "Free", "Destroy",
})


def _released(ctx: FileContext, defer: Node, loop: Node) -> str | None:
    """What the deferred call releases, as written (`f.Close()`, `cancel()`), or None.

    A method with a releasing name, or a call of a variable assigned in the loop body
    (the cancel func of `context.WithTimeout`); a deferred func literal counts if it
    makes such a call.
    """
    call = next((c for c in defer.named_children if c.type == "call_expression"), None)
    if call is None:
        return None
    fn = call.child_by_field_name("function")
    if fn is not None and fn.type == "func_literal":
        # only unconditional releases: `defer func() { if err != nil { l.Close() } }()` is
        # the cleanup-on-failure idiom, which releases nothing on the normal path
        body = fn.child_by_field_name("body")
        if any(True for _ in gs.walk(body, "return_statement")) if body is not None else False:
            return None  # an early return makes the release conditional
        for st in gs.statements(body):
            inner = st.named_children[0] if st.type == "expression_statement" and st.named_children else None
            if st.type == "assignment_statement":
                right = st.child_by_field_name("right")
                inner = right.named_children[0] if right is not None and right.named_children else None
            if inner is not None and inner.type == "call_expression":
                what = _release_call(ctx, inner, loop)
                if what is not None:
                    return what
        return None
    return _release_call(ctx, call, loop)


def _release_call(ctx: FileContext, call: Node, loop: Node) -> str | None:
    fn = call.child_by_field_name("function")
    if fn is None:
        return None
    if fn.type == "selector_expression":
        if ctx.text(fn.child_by_field_name("field")) in _RELEASE_METHODS:
            operand = fn.child_by_field_name("operand")
            if operand is not None and operand.type == "identifier" and ctx.text(operand) in gs.imports(ctx):
                return None  # a package function (`os.Remove`), not a method on a value
            return "".join(ctx.text(call).split())[:60]
        return None
    if fn.type == "identifier":
        name = ctx.text(fn)
        body = loop.child_by_field_name("body")
        if body is None:
            return None
        for d in gs.walk(body, ("short_var_declaration", "assignment_statement")):
            if name in gs.assigned_names(ctx, d):
                return f"{name}()"
    return None


_SMALL_TABLE = 8
_IN_MEMORY = ("bytes.NewReader(", "strings.NewReader(", "bytes.NewBuffer(", "bytes.NewBufferString(")


def _deferred_value(ctx: FileContext, defer: Node) -> str:
    """`c` of `defer c.Close()`; '' for anything else."""
    call = next((c for c in defer.named_children if c.type == "call_expression"), None)
    fn = call.child_by_field_name("function") if call is not None else None
    operand = fn.child_by_field_name("operand") if fn is not None and fn.type == "selector_expression" else None
    return ctx.text(operand) if operand is not None and operand.type == "identifier" else ""


def _outlives_iteration(ctx: FileContext, loop: Node, value: str) -> bool:
    """The value is kept past its iteration: appended to a slice, stored in a map/field,
    put in a composite literal, or handed to a goroutine. Then it must stay open until
    the function returns, and the deferred release is its intended lifetime."""
    body = loop.child_by_field_name("body")
    if body is None:
        return False
    for n in gs.walk(body, ("call_expression", "go_statement", "assignment_statement", "literal_value")):
        if n.type == "call_expression":
            f = n.child_by_field_name("function")
            if f is None or ctx.text(f) != "append":
                continue
            args = gs.arguments(n)[1:]
        elif n.type == "go_statement":
            args = [n]
        elif n.type == "literal_value":
            args = list(n.named_children)
        else:
            left, right = gs.assignment_sides(n)
            if not any(x.type in ("index_expression", "selector_expression") for x in left):
                continue
            args = right
        for a in args:
            if any(ctx.text(i) == value for i in gs.walk(a, "identifier", into_func_literals=True, include_self=True)):
                return True
    return False


def _in_memory(ctx: FileContext, loop: Node, value: str) -> bool:
    """The value wraps an in-memory reader (`NewReader(bytes.NewReader(b))`, directly or via
    a variable assigned in the loop): its Close releases nothing scarce (no fd, no conn)."""
    body = loop.child_by_field_name("body")
    if body is None:
        return False
    sources = {value}
    decls = list(gs.walk(body, ("short_var_declaration", "assignment_statement")))
    for d in reversed(decls):
        names = gs.assigned_names(ctx, d)
        if not sources.intersection(names):
            continue
        _, right = gs.assignment_sides(d)
        text = "".join(ctx.text(r) for r in right)
        if any(m in text for m in _IN_MEMORY):
            return True
        sources.update(ctx.text(i) for r in right for i in gs.walk(r, "identifier", include_self=True))
    return False


def _small_table(ctx: FileContext, loop: Node) -> bool:
    """`for _, tt := range tests` where `tests` is a composite literal of a few elements,
    declared in the enclosing function or at package level in this file."""
    rc = next((c for c in loop.named_children if c.type == "range_clause"), None)
    right = rc.child_by_field_name("right") if rc is not None else None
    if right is None or right.type != "identifier":
        return False
    name = ctx.text(right)
    fn = gs.enclosing_function(loop)
    value: Node | None = None
    if fn is not None:
        for d in gs.walk(fn, ("short_var_declaration", "var_spec")):
            if d.start_byte < loop.start_byte and name in gs.assigned_names(ctx, d):
                value = gs.assigned_value(ctx, d, name)
    if value is None and name in gs.package_vars(ctx):
        value = gs.assigned_value(ctx, gs.package_vars(ctx)[name], name)
    if value is None or value.type != "composite_literal":
        return False
    lit = value.child_by_field_name("body")
    return lit is not None and len([e for e in lit.named_children if e.type in ("literal_element", "keyed_element")]) <= _SMALL_TABLE


def _runs_once(ctx: FileContext, defer: Node, loop: Node) -> bool:
    """True if every path from the defer leaves the loop before the next iteration: in one of
    the blocks holding it (up to the loop body), a later statement returns, breaks out of
    this loop, jumps (goto) or ends the program."""
    body = loop.child_by_field_name("body")
    label = ""
    if loop.parent is not None and loop.parent.type == "labeled_statement":
        label = ctx.text(loop.parent.child_by_field_name("label"))
    cur = defer
    while cur.parent is not None and cur != body:
        parent = cur.parent
        if parent.type in gs.FUNC_TYPES:
            return False
        if parent.type in ("statement_list", "block", "expression_case", "default_case",
                           "communication_case", "type_case"):
            stmts = gs.statements(parent)
            if cur in stmts:
                for st in stmts[stmts.index(cur) + 1 :]:
                    if _leaves(ctx, st, loop, label):
                        return True
        cur = parent
    return False


def _guarded_once(ctx: FileContext, defer: Node, loop: Node) -> bool:
    """True if the defer sits in `if !done { ...; done = true }` inside the loop: it runs once."""
    for p in gs.ancestors(defer):
        if p == loop or p.type in gs.FUNC_TYPES:
            return False
        if p.type != "if_statement":
            continue
        cond = p.child_by_field_name("condition")
        text = "".join(ctx.text(cond).split())
        if not text.startswith("!") or not text[1:].replace("_", "").isalnum():
            continue
        flag = text[1:]
        cons = p.child_by_field_name("consequence")
        if cons is None:
            continue
        for a in gs.walk(cons, "assignment_statement"):
            if "".join(ctx.text(a).split()) == f"{flag}=true":
                return True
    return False


def _in_timer_case(ctx: FileContext, defer: Node, loop: Node) -> bool:
    """True if the defer sits in `case <-t.C:` of a time.Timer (assigned from time.NewTimer in
    the function): a Timer fires once, so that case runs at most once per Reset."""
    for p in gs.ancestors(defer):
        if p == loop or p.type in gs.FUNC_TYPES:
            return False
        if p.type != "communication_case":
            continue
        comm = "".join(ctx.text(p.child_by_field_name("communication")).split())
        if not comm.startswith("<-") or not comm.endswith(".C"):
            continue
        if _made_by(ctx, defer, comm[2:-2], "time.NewTimer"):
            return True
    return False


def _made_by(ctx: FileContext, at: Node, name: str, maker: str) -> bool:
    """The function holding `at` assigns `name` from a call of `maker` (`t := time.NewTimer(d)`)."""
    fn = gs.enclosing_function(at)
    body = fn.child_by_field_name("body") if fn is not None else None
    for d in gs.walk(body, ("short_var_declaration", "assignment_statement", "var_spec")) if body is not None else ():
        v = gs.assigned_value(ctx, d, name)
        if v is not None and v.type == "call_expression" and gs.is_call_to(ctx, v, maker):
            return True
    return False


def _polling_wait(ctx: FileContext, defer: Node, loop: Node) -> Node | None:
    """The wait on the clock that paces the loop around the defer, or an enclosing loop of the same
    function: a loop with no clause (`for {`) or a bare condition, whose body sleeps (`time.Sleep(d)`)
    or receives from `time.After(d)`, `time.Tick(d)` or a ticker's `.C` (in a select, a case every
    other case of which leaves the loop), or a loop ranging over such a channel. It runs as long as the
    process or until told to stop, not over its data: go-cs-bouncer's metrics `Run` defers `cancel()`
    once per tick, kitex-contrib/registry-etcd's `keepRegister` once per `time.After(delay)`, for as
    long as the service lives (held-out set 123). Not a counted loop with a timeout case (a test's
    `for i := 0; i < 1000; i++ { select { case <-out: case <-time.After(t): t.Fatal(...) } }`), nor a
    Timer's case, which fires once (`_in_timer_case`)."""
    cur: Node | None = loop
    while cur is not None:
        clauses = [c for c in cur.named_children if c.type in ("for_clause", "range_clause")]
        if clauses and clauses[0].type == "range_clause":
            if _clock_channel(ctx, clauses[0].child_by_field_name("right")):
                return clauses[0]
        elif not clauses:  # `for {` or `for cond {`
            body = cur.child_by_field_name("body")
            waits = [
                n for n in (gs.walk(body, ("call_expression", "unary_expression")) if body is not None else ())
                if (n.type == "call_expression" and gs.is_call_to(ctx, n, "time.Sleep"))
                or (n.type == "unary_expression" and ctx.text(n).startswith("<-")
                    and _clock_channel(ctx, n.child_by_field_name("operand")) and _paces(ctx, n, cur))
            ]
            if waits:
                return waits[-1]  # the message names the loop's last wait on the clock
        cur = gs.in_loop(cur)
    return None


def _paces(ctx: FileContext, recv: Node, loop: Node) -> bool:
    """The receive waits each iteration: a statement of its own, or a select case whose siblings all
    leave the loop (`case <-ctx.Done(): return`), so the clock's case is the one that goes round."""
    case = next((p for p in gs.ancestors(recv) if p.type in ("communication_case", "for_statement")), None)
    comm = case.child_by_field_name("communication") if case is not None else None
    if case is None or comm is None or case.parent is None or not (
            comm.start_byte <= recv.start_byte and recv.end_byte <= comm.end_byte):
        return True  # a statement of the loop body (or of a case's body): it waits every time it runs
    label = ctx.text(loop.parent.child_by_field_name("label")) \
        if loop.parent is not None and loop.parent.type == "labeled_statement" else ""
    for other in case.parent.named_children:
        if other == case or other.type not in ("communication_case", "default_case"):
            continue
        stmts = [c for c in other.named_children if c.type == "statement_list"]
        last = stmts[0].named_children[-1] if stmts and stmts[0].named_children else None
        if last is None or not _leaves(ctx, last, loop, label):
            return False
    return True


def _clock_channel(ctx: FileContext, n: Node | None) -> bool:
    """`time.After(d)`, `time.Tick(d)` or `x.C` where `x` comes from `time.NewTicker` in the function."""
    if n is None:
        return False
    if n.type == "call_expression":
        return gs.is_call_to(ctx, n, "time.After", "time.Tick")
    return n.type == "selector_expression" and ctx.text(n.child_by_field_name("field")) == "C" \
        and _made_by(ctx, n, ctx.text(n.child_by_field_name("operand")), "time.NewTicker")


def _leaves(ctx: FileContext, st: Node, loop: Node, label: str) -> bool:
    if st.type in ("return_statement", "goto_statement"):
        return True
    if st.type == "expression_statement" and is_terminator(ctx, st):
        return True
    if st.type == "break_statement":
        lab = next((c for c in st.named_children if c.type == "label_name"), None)
        if lab is not None:
            return ctx.text(lab) == label
        # an unlabeled break leaves the innermost for/switch/select: the loop only if that is it
        for p in gs.ancestors(st):
            if p.type in ("for_statement", "expression_switch_statement", "type_switch_statement",
                          "select_statement"):
                return p == loop
    return False


class DeferInLoop(Rule):
    """A `defer` that releases something, written directly in a `for` body.

    The pattern: `for _, p := range paths { f, _ := os.Open(p); defer f.Close(); ... }`,
    or `mu.Lock(); defer mu.Unlock()` / `ctx, cancel := context.WithTimeout(...); defer
    cancel()` inside a loop. Deferred calls run when the *function* returns, not at the
    end of the iteration.

    Why it leaks: every iteration adds one more open file / held connection / live
    timer, all released together only when the function returns — a long or endless
    loop holds them all (`too many open files`), and a deferred Unlock deadlocks the
    second iteration.

    The fix: move the loop body into a function (a named helper or `func() { ...
    }()`) so the defer runs per iteration, or release explicitly at the end of the
    iteration.

    Not reported (precision first, unlike gocritic's deferInLoop which reports every
    defer in a loop): defers inside a func literal in the loop (they run per call);
    deferred calls that release nothing (`defer wg.Wait()`, `defer log.Println(...)`,
    `defer os.Remove(tmp)`, `defer wg.Done()` matching an `Add` in the loop); deferred
    func literals that release only conditionally (cleanup on failure); a defer followed, in its block or an enclosing one up to
    the loop body, by an unconditional return or break (the loop never reaches the next
    iteration after it); a defer guarded by `if !done { ...; done = true }` or in the
    `case <-t.C:` of a `time.NewTimer` (both run once); a defer (other than an
    Unlock) in loops that run a small constant number of times (`for range 3`,
    `for i := 0; i < 2; i++`, a range over a literal of a few elements): what it
    holds is bounded by the code, not the input, and a range over a table variable
    that is a composite literal of at most 8 entries in the same function or file;
    values that must outlive their iteration anyway (appended to a slice, stored in a
    map/field/literal, handed to a goroutine: the deferred release is their intended
    lifetime); readers over in-memory data (`NewReader(bytes.NewReader(b))`: their Close
    frees no fd or connection).
    Severity `info` (was warning outside tests): on code nobody here wrote
    (bench/precision/triage.md) it measured 5/10 true after the exclusions above (0/6
    before them) — many defers in loops hold a count of things bounded by a test table
    in another file or by the design (close-after-swap, a case that fires once, a
    helper that ends in os.Exit), which the syntax cannot tell from input-driven growth.
    `info` is hidden by default (`--show-info`); worth it in code review, where a deferred
    Unlock in a loop deadlocks.

    One shape is a `warning`, shown by default: a loop paced by the clock (`for {` or a bare
    condition, waiting each period on `time.Sleep`, `time.After`, `time.Tick` or a ticker's
    channel: `_polling_wait`). It runs for as long as the process, not over its data, so what it
    defers grows without bound: go-cs-bouncer's metrics loop and kitex-contrib/registry-etcd's
    re-registration loop (held-out set 123) each defer a `cancel()` per period. Until session 34
    the rule was off by default and that leak went unseen; it has no first-contact figure yet.
    """

    id = "LH405"
    name = "defer-in-loop"
    severity = "info"
    enabled_by_default = True
    fix = "move the loop body into a function so the defer runs each iteration, or release explicitly"
    leaking_example = """\
for _, path := range paths {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close() // runs only when the function returns
	if err := process(f); err != nil {
		return err
	}
}"""
    fixed_example = """\
for _, path := range paths {
	if err := func() error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close() // runs at the end of each iteration
		return process(f)
	}(); err != nil {
		return err
	}
}"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        for defer in gs.nodes_of_type(ctx, "defer_statement"):
            loop = gs.in_loop(defer)
            if loop is None:
                continue
            # a small constant loop holds a bounded number of releases - but a deferred
            # Unlock still deadlocks its second iteration
            if b"Unlock" not in ctx.source[defer.start_byte : defer.end_byte] and (
                in_small_loops(ctx, defer) or _small_table(ctx, loop)
            ):
                continue
            value = _deferred_value(ctx, defer)
            if value and (_outlives_iteration(ctx, loop, value) or _in_memory(ctx, loop, value)):
                continue
            what = _released(ctx, defer, loop)
            if what is None or _runs_once(ctx, defer, loop) or _guarded_once(ctx, defer, loop):
                continue
            if _in_timer_case(ctx, defer, loop):
                continue
            fname = gs.function_name(ctx, defer) or "the function"
            wait = _polling_wait(ctx, defer, loop)
            if wait is not None:
                yield self.finding(
                    ctx, defer,
                    f"defer {what} in the loop at line {loop.start_point[0] + 1} runs only when {fname} "
                    f"returns, and the loop is paced by the clock (line {wait.start_point[0] + 1}), not by "
                    "its data: one more deferred call is held every period for as long as the loop runs",
                    severity="warning",
                    function=gs.function_name(ctx, defer),
                )
                continue
            yield self.finding(
                ctx, defer,
                f"defer {what} in the loop at line {loop.start_point[0] + 1} runs only when "
                f"{fname} returns: every iteration holds one more until then",
                severity="info",
                function=gs.function_name(ctx, defer),
            )
