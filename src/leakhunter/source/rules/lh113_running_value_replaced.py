"""LH113 running-value-replaced: a value whose goroutine runs until it is stopped is swapped out unstopped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.gopackage import package_facts
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node


@dataclass(frozen=True, slots=True)
class Runner:
    """A type whose method runs as a goroutine until one of `stops` (methods, or cancel fields) is called."""

    type: str
    method: str
    stops: tuple[str, ...]
    go_file: str
    go_line: int


class RunningValueReplaced(Rule):
    """A map entry (or atomic pointer) holding a value whose goroutine runs until it is stopped is
    replaced, and nothing stops the value it displaces.

    The pattern: a type `T` has a method `run` that a `go v.run(...)` starts and that loops until the
    value's context is cancelled or its done channel closed, and a `stop` method (or a `cancel` field)
    that does it; a function replaces the `*T` held under a key, `m.CompareAndSwap(key, old, fresh)`,
    `prev, _ := m.Swap(key, fresh)`, or `m[key] = fresh` / `m.Store(key, fresh)` after reading the old
    entry into a name (`old, ok := m[key]`, `old, ok := m.Load(key)`), and calls neither `stop` nor
    `cancel` on the old value, nor hands it to anything that could. (A store that never read the
    entry, or read it into `_`, is not judged: most such stores only add under a new key.)

    Why it leaks: the map was the only way to reach the old value, and the code that stops values
    (a maintenance sweep, a shutdown) finds them through the map. The displaced value's goroutine waits
    for a stop that never comes, with its timers and everything it holds: one per replacement.
    Alertmanager v0.32.1 leaked an aggregation group's `run` goroutine per re-created group this way
    (alertmanager#5182: `CompareAndSwap(fp, el, ag)` in `groupAlert`, fixed in v0.32.3 by cancelling
    the old group right after the swap); `soak` called it in the running service (real leaks, set 4).

    The fix: stop the value you displace once the swap succeeded (`old.(*T).stop()`, or its cancel).

    Runtime signature: a goroutine group parked in `T.run` that grows; `watch`/`soak --source` join
    such a group to this line, where the goroutines were orphaned, not where they wait.

    Not reported: a displaced value that is stopped or cancelled, or handed to a call (a helper may
    stop it) in the same function; a new value whose type has no such goroutine; types whose
    goroutine method has no stop. Off by default (new in session 22, precision not yet measured on
    held-out code): `--enable LH113`; `watch`, `soak`, `report` and `goroutines --source` run it.
    """

    id = "LH113"
    name = "running-value-replaced"
    severity = "warning"
    enabled_by_default = False
    fix = "stop the value you displace once the swap succeeded: old.(*T).stop() (or its cancel)"
    leaking_example = """\
g := newGroup(key)
if m.CompareAndSwap(key, old, g) { // old's run goroutine waits for a stop nobody will call
	go g.run()
}"""
    fixed_example = """\
g := newGroup(key)
if m.CompareAndSwap(key, old, g) {
	old.(*group).stop()
	go g.run()
}"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if ctx.is_test or not any(t in ctx.source for t in (b"Swap(", b"Store(", b"] = ")):
            return  # no swap, store or index assignment: nothing can be replaced here
        runners = package_facts(ctx, "lh113.runners", _runners)
        if not runners:
            return
        sites = [(c, _replacement(ctx, c, runners)) for c in gs.nodes_of_type(ctx, "call_expression")]
        sites += [(a, _overwrite(ctx, a, runners)) for a in gs.nodes_of_type(ctx, "assignment_statement")]
        for call, got in sorted(sites, key=lambda cg: cg[0].start_byte):
            if got is None:
                continue
            displaced, runner, verb = got
            fn = gs.enclosing_function(call)
            if fn is None or (displaced and _stopped_or_handed_on(ctx, fn, displaced, runner)):
                continue
            what = displaced or "the value it displaces (its result is dropped)"
            stops = " or ".join(f"{s}()" for s in _named_stops(runner.stops))
            yield self.finding(
                ctx, call,
                f"{verb} replaces {what}, a *{runner.type} whose {runner.method} goroutine (started at "
                f"{runner.go_file}:{runner.go_line}) returns only after {stops}; nothing here calls that on it: "
                f"every replacement leaves one such goroutine, and what it holds, for good",
                function=gs.function_name(ctx, call),
                parks_in=f"{runner.type}.{runner.method}",
            )


_STOP_WORDS = ("stop", "close", "cancel", "shutdown", "quit", "done")


def _named_stops(stops: tuple[str, ...]) -> list[str]:
    """The two stops to name in the message: those called like a stop first (`stop`, `Close`, `cancel`),
    then the others (a resume method that also cancels is a stop too, but not the one to call)."""
    return sorted(stops, key=lambda n: (not n.lower().startswith(_STOP_WORDS), n))[:2]


def _replacement(ctx: FileContext, call: Node, runners: dict[str, Runner]) -> tuple[str, Runner, str] | None:
    """(name of the displaced value, '' when dropped unnamed; its runner; the verb) for
    `m.CompareAndSwap(key, old, fresh)` / `p.CompareAndSwap(old, fresh)` / `prev := m.Swap(key, fresh)`
    whose fresh value is a runner's type."""
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "selector_expression":
        return None
    verb = ctx.text(fn.child_by_field_name("field"))
    args = gs.arguments(call)
    if verb == "CompareAndSwap" and len(args) in (2, 3):
        old, fresh = args[-2], args[-1]
        runner = _runner_of(ctx, fresh, runners)
        if runner is None or old.type != "identifier" or ctx.text(old) in ("nil", "_"):
            return None
        return ctx.text(old), runner, verb
    if verb == "Store" and len(args) == 2:
        return _overwrite(ctx, call, runners)
    if verb == "Swap" and len(args) in (1, 2):
        runner = _runner_of(ctx, args[-1], runners)
        if runner is None:
            return None
        up = call.parent
        if up is not None and up.type == "expression_statement":
            return "", runner, verb
        if up is not None and up.type == "expression_list" and up.parent is not None \
                and up.parent.type in ("short_var_declaration", "assignment_statement"):
            lefts, rights = gs.assignment_sides(up.parent)
            if rights and rights[0] == call and lefts and lefts[0].type == "identifier":
                name = ctx.text(lefts[0])
                return ("" if name == "_" else name), runner, verb
    return None


def _overwrite(ctx: FileContext, node: Node, runners: dict[str, Runner]) -> tuple[str, Runner, str] | None:
    """`m[k] = fresh` (or `m.Store(k, fresh)`, handled with the calls) after the same function read the
    entry into a name, `old, ok := m[k]` / `old, ok := m.Load(k)`: the old value may be there and is
    overwritten. (name of the old value, its runner, the verb)."""
    if node.type == "assignment_statement":
        lefts, rights = gs.assignment_sides(node)
        if len(lefts) != 1 or len(rights) != 1 or lefts[0].type != "index_expression":
            return None
        if ctx.text(node.child_by_field_name("operator")) != "=":
            return None  # `m[k] += x`: no value is replaced
        target, fresh = lefts[0], rights[0]
        verb = f"the assignment to {ctx.text(target)}"
        m, k = target.child_by_field_name("operand"), target.child_by_field_name("index")
        read = _read_before(ctx, node, m, k, index=True)
    else:
        f = node.child_by_field_name("function")
        args = gs.arguments(node)
        if f is None or f.type != "selector_expression" or ctx.text(f.child_by_field_name("field")) != "Store" \
                or len(args) != 2:
            return None
        fresh, verb = args[1], "Store"
        read = _read_before(ctx, node, f.child_by_field_name("operand"), args[0], index=False)
    runner = _runner_of(ctx, fresh, runners)
    if runner is None or read is None:
        return None
    return read, runner, verb


def _read_before(ctx: FileContext, at: Node, m: Node | None, k: Node | None, *, index: bool) -> str | None:
    """The name an earlier statement of the same function read the entry `m[k]` into (`old, ok := m[k]`,
    `old := m[k]`, `old, ok := m.Load(k)`), None when none did."""
    fn = gs.enclosing_function(at)
    body = fn.child_by_field_name("body") if fn is not None else None
    if body is None or m is None or k is None:
        return None
    mt, kt = "".join(ctx.text(m).split()), "".join(ctx.text(k).split())
    for d in gs.walk(body, ("short_var_declaration", "assignment_statement"), into_func_literals=False):
        if d.start_byte >= at.start_byte:
            break
        lefts, rights = gs.assignment_sides(d)
        if len(rights) != 1 or not lefts or lefts[0].type != "identifier" or ctx.text(lefts[0]) == "_":
            continue
        r = rights[0]
        if index and r.type == "index_expression":
            same = "".join(ctx.text(r.child_by_field_name("operand")).split()) == mt and \
                "".join(ctx.text(r.child_by_field_name("index")).split()) == kt
        elif not index and r.type == "call_expression":
            f = r.child_by_field_name("function")
            args = gs.arguments(r)
            same = f is not None and f.type == "selector_expression" and \
                ctx.text(f.child_by_field_name("field")) == "Load" and len(args) == 1 and \
                "".join(ctx.text(f.child_by_field_name("operand")).split()) == mt and "".join(ctx.text(args[0]).split()) == kt
        else:
            same = False
        if same:
            old = ctx.text(lefts[0])
            ok = ctx.text(lefts[1]) if len(lefts) > 1 and lefts[1].type == "identifier" else ""
            return None if _absent_at(ctx, at, d, old, ok) else old
    return None


def _absent_at(ctx: FileContext, at: Node, read: Node, old: str, ok: str) -> bool:
    """The store runs only where the entry was absent: under `if old == nil` / `if !ok` (or in the
    `else` of `if old != nil` / `if ok`), or after `old` was given another value (etcd's
    `wgs := w.streams[k]; if wgs == nil { wgs = newStream(); w.streams[k] = wgs }`)."""
    fn = gs.enclosing_function(at)
    body = fn.child_by_field_name("body") if fn is not None else None
    for d in gs.walk(body, ("assignment_statement",), into_func_literals=False) if body is not None else ():
        if read.end_byte <= d.start_byte < at.start_byte and old in gs.assigned_names(ctx, d):
            return True
    absent = {f"{old}==nil", f"!{ok}"} if ok else {f"{old}==nil"}
    present = {f"{old}!=nil", ok} if ok else {f"{old}!=nil"}
    for p in gs.ancestors(at):
        if p == fn:
            break
        if p.type != "if_statement":
            continue
        cond = "".join(ctx.text(p.child_by_field_name("condition")).split())
        cons, alt = p.child_by_field_name("consequence"), p.child_by_field_name("alternative")
        if (_holds(cons, at) and cond in absent) or (_holds(alt, at) and cond in present):
            return True
    return False


def _holds(branch: Node | None, at: Node) -> bool:
    return branch is not None and branch.start_byte <= at.start_byte < branch.end_byte


def _runner_of(ctx: FileContext, value: Node, runners: dict[str, Runner]) -> Runner | None:
    """The runner whose type `value` has: a type of this very package (centrifuge's own `Node` runs a
    goroutine; the `*controlpb.Node` its registry stores does not)."""
    from leakhunter.source.program.types import expr_type, own_path

    t = expr_type(ctx, value).lstrip("*")
    pkg, _, name = t.rpartition(".")
    if not name or (pkg and pkg != own_path(ctx)):
        return None
    return runners.get(name)


def _stopped_or_handed_on(ctx: FileContext, fn: Node, displaced: str, runner: Runner) -> bool:
    """The function stops `displaced` (or an alias of it, `g := old.(*T)`, within the alias's block) with
    one of the runner's stops, or hands it on to a call, a return, a send or a store, where someone else
    may stop it."""
    body = fn.child_by_field_name("body")
    if body is None:
        return True
    names: dict[str, list[tuple[int, int]]] = {displaced: [(body.start_byte, body.end_byte)]}
    for d in gs.walk(body, ("short_var_declaration", "assignment_statement"), into_func_literals=True):
        lefts, rights = gs.assignment_sides(d)
        for left, right in zip(lefts, rights, strict=False):
            if _refers_to(ctx, right, names) and left.type == "identifier" and ctx.text(left) != "_":
                scope = d.parent if d.type == "short_var_declaration" and d.parent is not None else body
                names.setdefault(ctx.text(left), []).append((d.end_byte, scope.end_byte))
    for n in gs.walk(body, ("call_expression", "return_statement", "send_statement"), into_func_literals=True):
        if n.type == "call_expression":
            f = n.child_by_field_name("function")
            if f is not None and f.type == "selector_expression" and _refers_to(ctx, f.child_by_field_name("operand"), names):
                if ctx.text(f.child_by_field_name("field")) in runner.stops:
                    return True
                continue  # another method of the value (`old.insert(a)`): not a hand-off
            if f is not None and f.type == "selector_expression" and ctx.text(f.child_by_field_name("field")) in _COMPARES:
                continue  # the swap itself, or a comparison: `old` is only compared there
            if any(_refers_to(ctx, a, names) for a in gs.arguments(n)):
                return True
        elif any(_refers_to(ctx, c, names) for c in n.named_children):
            return True
    return False


_COMPARES = frozenset({"CompareAndSwap", "CompareAndDelete"})


def _refers_to(ctx: FileContext, n: Node | None, names: dict[str, list[tuple[int, int]]]) -> bool:
    """`n` is one of `names` where that name means the displaced value, possibly asserted or
    parenthesised (`old.(*T)`, `(old)`)."""
    while n is not None and n.type in ("type_assertion_expression", "parenthesized_expression"):
        n = n.named_children[0] if n.named_children else None
    if n is not None and n.type == "expression_list" and len(n.named_children) == 1:
        n = n.named_children[0]
    if n is None or n.type != "identifier":
        return False
    return any(a <= n.start_byte < b for a, b in names.get(ctx.text(n), ()))


def _runners(files: list[FileContext]) -> dict[str, Runner]:
    """Types of the package with a method run as a goroutine that waits on the value's own context or
    channels in a loop, and a way to stop it (a method closing or cancelling one of its fields, or the
    cancel field itself)."""
    methods: dict[str, dict[str, tuple[FileContext, Node]]] = {}
    for f in files:
        if f.is_test:
            continue
        for m in gs.nodes_of_type(f, "method_declaration"):
            t = gs.receiver_type(f, m)
            name = f.text(m.child_by_field_name("name"))
            if t and name:
                methods.setdefault(t, {})[name] = (f, m)
    if not methods:
        return {}
    waiting = {t: {name for name, (f, m) in ms.items() if _waits_on_self(f, m)} for t, ms in methods.items()}
    owners: dict[str, list[str]] = {}
    for t, names in waiting.items():
        for name in names:
            owners.setdefault(name, []).append(t)
    out: dict[str, Runner] = {}
    for f in files:
        if f.is_test:
            continue
        for go in gs.nodes_of_type(f, "go_statement"):
            call = next((c for c in go.named_children if c.type == "call_expression"), None)
            callee = call.child_by_field_name("function") if call is not None else None
            if callee is None or callee.type != "selector_expression":
                continue
            method = f.text(callee.child_by_field_name("field"))
            types = owners.get(method, [])
            if len(types) > 1:  # Dispatcher.run and aggrGroup.run: the operand's declared type tells
                from leakhunter.source.program.types import expr_type

                t = expr_type(f, callee.child_by_field_name("operand")).lstrip("*").rsplit(".", 1)[-1]
                types = [t] if t in types else []
            if len(types) != 1 or types[0] in out:
                continue
            t = types[0]
            stops = _stops(methods[t], method)
            if stops:
                out[t] = Runner(t, method, stops, f.display_path.rsplit("/", 1)[-1], go.start_point[0] + 1)
    return out


def _waits_on_self(f: FileContext, m: Node) -> bool:
    """The method loops and receives from the receiver's own context or channel (`<-g.ctx.Done()`,
    `<-g.done`): it runs until something ends that."""
    r = gs.receiver_name(f, m)
    body = m.child_by_field_name("body")
    if not r or body is None or not any(True for _ in gs.walk(body, "for_statement")):
        return False
    for u in gs.walk(body, "unary_expression"):
        if f.text(u.child_by_field_name("operator")) == "<-" and f.text(u.child_by_field_name("operand")).startswith(f"{r}."):
            return True
    return False


def _stops(methods: dict[str, tuple[FileContext, Node]], runner: str) -> tuple[str, ...]:
    """Names whose call on a value ends its runner: methods that close one of its fields or call one
    (a cancel func: `g.cancel()`), and those cancel fields themselves."""
    names: set[str] = set()
    for name, (f, m) in methods.items():
        r = gs.receiver_name(f, m)
        body = m.child_by_field_name("body")
        if name == runner or not r or body is None:
            continue
        for call in gs.walk(body, "call_expression"):
            fn = call.child_by_field_name("function")
            if fn is None:
                continue
            if f.text(fn) == "close" and any(f.text(a).startswith(f"{r}.") for a in gs.arguments(call)):
                names.add(name)
            elif fn.type == "selector_expression" and f.text(fn.child_by_field_name("operand")) == r:
                field = f.text(fn.child_by_field_name("field"))
                if field not in methods and not gs.arguments(call) and "cancel" in field.lower():
                    names.update((name, field))
    return tuple(sorted(names))
