"""Channel and sync facts across one package: struct-field channels, conds, call summaries.

A goroutine blocked on `w.ch` is released only by an operation on the same field somewhere
in the package: `w.ch <- v` in one method, `case v := <-w.ch` in another, `close(w.ch)`
in a third. No single function shows that, so the rules used to stay silent on every
struct-field channel (the most common shape of real goroutine leaks, GoKer's included).
This module reads every file of the package once (gopackage's view) and records:

- for each *unexported* channel field (only this package can touch it, so "nobody in the
  package sends on it" means nobody at all): every make (with capacity), send, receive,
  range and close, whether the operation sits in a select with another case (guarded) or a
  default (non-blocking), and whether a receiver can stop receiving (a guarded receive, or
  a receive loop with a return/break). Any other use of the field's value (handed to a
  call, aliased, returned, assigned from something else) makes the field *opaque*: its
  partners may be anywhere, and no rule concludes anything about it.
- for each `sync.Cond` field: its Wait and Signal/Broadcast sites.
- for each function and method: the package functions it calls (resolved by name; a
  method call on the receiver resolves to the receiver type's method, another method call
  only when one type has a method of that name), the goroutines it starts, the receiver
  mutex fields it locks before unlocking. Summaries are combined bottom-up with a depth
  bound (`reach`), so a rule can ask "what does the goroutine started here block on,
  two calls down?".

Everything is plain data (file path, byte offset, line): trees of sibling files are
dropped from gopackage's small cache, so facts must not hold nodes.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from leakhunter.source import goflow
from leakhunter.source import gosyntax as gs
from leakhunter.source.gopackage import package_facts

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext

MAX_DEPTH = 3
"""Calls followed below a goroutine's function (GoKer leaks sit at most three calls down)."""


@dataclass(frozen=True)
class FieldOp:
    """One operation on a channel field, where it is, and how it can block."""

    op: str
    """make | send | recv | range | close"""
    field: str
    file: str
    start: int
    line: int
    func: str
    guarded: bool = False
    """In a select with another case or a default: cannot block forever on its own."""
    nonblocking: bool = False
    """In a select with a default case (a send that is dropped when nobody waits)."""
    abandons: bool = False
    """A receive that can stop receiving: guarded, or in a loop that can be left."""
    in_loop: bool = False
    """Inside a `for` loop of its function (a send that repeats)."""
    exit_line: int = 0
    """For an abandoning receive in a loop: the line of the statement that leaves it."""
    exit_field: str = ""
    """The field name (not key) whose select case holds that exit (`case <-c.readErr: return`)."""
    cap: int | None = None
    """For make: the constant capacity (None: not a constant)."""
    resolved: bool = True
    """False when the operand's type is unknown and several structs have a field of that
    name: the operation counts as a partner for each of them, and is never reported."""


@dataclass(frozen=True)
class CallSite:
    callee: str
    line: int
    start: int
    file: str
    on_receiver: bool = False
    """`r.m()` where r is the enclosing method's receiver."""


@dataclass
class FuncSummary:
    key: str
    file: str
    line: int
    receiver: str = ""
    """Receiver type of a method (or of the method a literal sits in)."""
    calls: list[CallSite] = field(default_factory=list)
    ops: list[FieldOp] = field(default_factory=list)
    self_locks: dict[str, int] = field(default_factory=dict)
    """Receiver mutex field -> line of `r.mu.Lock()` done before any unlock (first statements)."""
    self_unlocks: dict[str, int] = field(default_factory=dict)
    """Receiver mutex field ("W"/"R" + name) -> line of `r.mu.Unlock()` (`RUnlock`) when that is the method's
    whole body: a release helper (cilium's `e.runlock()`)."""


@dataclass(frozen=True)
class GoSite:
    file: str
    line: int
    start: int
    target: str
    """Key of the function the goroutine runs ('' if not a package function)."""


@dataclass
class Concurrency:
    chan_fields: set[str] = field(default_factory=set)
    cond_fields: set[str] = field(default_factory=set)
    opaque: set[str] = field(default_factory=set)
    ops: dict[str, list[FieldOp]] = field(default_factory=dict)
    cond_waits: dict[str, list[tuple[str, int, str]]] = field(default_factory=dict)
    cond_signals: dict[str, int] = field(default_factory=dict)
    wg_fields: set[str] = field(default_factory=set)
    wg_ops: dict[str, set[str]] = field(default_factory=dict)
    """WaitGroup field -> the methods called on it anywhere in the package (Add, Done, Go)."""
    wg_waits: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    funcs: dict[str, FuncSummary] = field(default_factory=dict)
    gos: list[GoSite] = field(default_factory=list)
    _go_ops: dict[tuple[str, int], tuple[GoSite, list[str]]] | None = None
    _blocking: dict[str, str] | None = None

    def of(self, name: str, *ops: str) -> list[FieldOp]:
        return [o for o in self.ops.get(name, []) if o.op in ops]

    def func_ops(self, key: str) -> list[FieldOp]:
        """Field operations written in function `key` itself."""
        s = self.funcs.get(key)
        return s.ops if s is not None else []

    def known(self, name: str) -> bool:
        """A field whose every use we saw (unexported, made here, never handed on)."""
        return (
            name in self.chan_fields
            and name not in self.opaque
            and any(m.resolved for m in self.of(name, "make"))
        )

    def never_fed(self, name: str) -> bool:
        """A known channel field nothing in the package sends on or closes: a receive from it never
        completes (LH111's exit that never comes, LH303's case that never wins)."""
        return self.known(name) and not self.of(name, "send", "close")

    def unbuffered(self, name: str) -> bool:
        makes = self.of(name, "make")
        return bool(makes) and all(m.cap == 0 for m in makes)

    def reach(
        self, key: str, depth: int = MAX_DEPTH, *, self_only: bool = False
    ) -> dict[str, list[str]]:
        """Functions run by calling `key` (itself included), each with its call chain.

        `self_only`: follow only calls on the method's own receiver (`r.other()`), the ones
        that share `r`'s fields (a lock held on `r.mu`)."""
        out: dict[str, list[str]] = {key: [key]} if key in self.funcs else {}
        frontier = list(out)
        for _ in range(depth):
            nxt = []
            for k in frontier:
                for c in self.funcs[k].calls:
                    if self_only and not c.on_receiver:
                        continue
                    if c.callee in self.funcs and c.callee not in out:
                        out[c.callee] = [*out[k], c.callee]
                        nxt.append(c.callee)
            frontier = nxt
        return out

    def blocking_sites(self) -> dict[str, str]:
        """Functions holding an operation that can never complete, with a description:
        a Wait on a cond nothing signals, a WaitGroup field nothing marks Done, a receive on
        a field channel nothing sends on or closes, a send nothing receives (unbuffered)."""
        if self._blocking is not None:
            return self._blocking
        out: dict[str, str] = {}
        for key, waits in self.cond_waits.items():
            if key not in self.opaque and not self.cond_signals.get(key):
                for _file, _start, fn in waits:
                    out.setdefault(fn, f"waits on cond {key}, which nothing Signals")
        for key, ops in self.ops.items():
            if not self.known(key):
                continue
            fed = bool(self.of(key, "send", "close"))
            read = bool(self.of(key, "recv", "range"))
            for o in ops:
                if o.guarded or not o.resolved or not o.func:
                    continue
                if o.op in ("recv", "range") and not fed:
                    out.setdefault(o.func, f"receives from {key} (line {o.line}), which nothing sends on")
                elif o.op == "send" and not read and self.unbuffered(key):
                    out.setdefault(o.func, f"sends on {key} (line {o.line}), which nothing receives")
        self._blocking = out
        return out

    def goroutine_ops(self) -> dict[tuple[str, int], tuple[GoSite, list[str]]]:
        """Field operations a goroutine can run: (file, op start) -> (go site, call chain)."""
        if self._go_ops is not None:
            return self._go_ops
        out: dict[tuple[str, int], tuple[GoSite, list[str]]] = {}
        for g in self.gos:
            if not g.target:
                continue
            for k, chain in self.reach(g.target).items():
                for o in self.funcs[k].ops:
                    out.setdefault((o.file, o.start), (g, chain))
        self._go_ops = out
        return out


# --------------------------------------------------------------------------- extraction


def _field_owners(
    files: list[FileContext],
) -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, set[str]]]:
    """Unexported channel / sync.Cond / sync.WaitGroup field name -> the struct types declaring it."""
    chans: dict[str, set[str]] = {}
    conds: dict[str, set[str]] = {}
    wgs: dict[str, set[str]] = {}
    for ctx in files:
        if b"chan" not in ctx.source and b"sync." not in ctx.source:
            continue
        for decl in _struct_fields(ctx.tree.root_node):
            typ = decl.child_by_field_name("type")
            if typ is None:
                continue
            spec = decl.parent.parent if decl.parent is not None else None
            owner = ""
            if (
                spec is not None
                and spec.type == "struct_type"
                and spec.parent is not None
                and spec.parent.type == "type_spec"
            ):
                owner = ctx.text(spec.parent.child_by_field_name("name"))
            text = gs._compact(ctx.text(typ))
            if not owner:
                continue  # a struct type without a package-level name: its uses are not ours to see
            for n in (ctx.text(x) for x in decl.children_by_field_name("name")):
                if not n[:1].islower():
                    continue  # exported: other packages can use it
                if typ.type == "channel_type":
                    chans.setdefault(n, set()).add(owner)
                elif text in ("*sync.Cond", "sync.Cond"):
                    conds.setdefault(n, set()).add(owner)
                elif text == "sync.WaitGroup":
                    wgs.setdefault(n, set()).add(owner)
    return chans, conds, wgs


def _struct_fields(root: Node) -> Iterator[Node]:
    """Field declarations of the file's package-level struct types, read from the top-level
    declarations only (no full-tree index: most files of a package declare no such field)."""
    for decl in root.named_children:
        if decl.type != "type_declaration":
            continue
        for spec in decl.named_children:
            t = spec.child_by_field_name("type") if spec.type == "type_spec" else None
            if t is None or t.type != "struct_type":
                continue
            for lst in t.named_children:
                if lst.type == "field_declaration_list":
                    yield from (f for f in lst.named_children if f.type == "field_declaration")


def _type_name(text: str) -> str:
    t = gs._compact(text).lstrip("*&")
    return t.split("[", 1)[0].split("{", 1)[0]


_STRUCTS: set[str] = set()
"""Struct types declared in the package being analysed (set per package)."""

_EMBEDS: set[str] = set()
"""Those of them that embed another type (their selectors may reach promoted fields)."""

_RESULTS: dict[str, str] = {}

_METHODS: dict[str, int] = {}
"""Method name -> how many types of the package declare it (set per package)."""
"""Package function -> type name of its first result, for `x := newT()` (set per package)."""


def _owner(ctx: FileContext, sel: Node) -> str:
    """The declared type of a selector's operand when it is a receiver, parameter or local
    built from a composite literal or a package constructor (`x := &T{...}`, `x := newT()`);
    '' when unknown."""
    operand = sel.child_by_field_name("operand")
    if operand is None or operand.type != "identifier":
        return ""
    name = ctx.text(operand)
    info = _fn_at(ctx, sel.start_byte)
    fn = info.node if info is not None else None
    while fn is not None:
        typ = _declared_types(ctx, fn).get(name)
        if typ is not None:
            return typ
        fn = gs.enclosing_function(fn)
    return ""


def _declared_types(ctx: FileContext, fn: Node) -> dict[str, str]:
    """Name -> type name ('' unknown) of a function's receiver, parameters and `:=` locals."""
    cache = ctx.cache.setdefault("concurrency.decl_types", {})
    assert isinstance(cache, dict)
    hit = cache.get(fn.id)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    out: dict[str, str] = {}
    recv = fn.child_by_field_name("receiver") if fn.type == "method_declaration" else None
    for pname, ptype in [*(_receiver_params(ctx, recv) if recv is not None else []),
                         *gs.parameters(ctx, fn)]:
        out.setdefault(pname, _type_name(ptype))
    body = fn.child_by_field_name("body")
    for d in gs.walk(body, "short_var_declaration") if body is not None else []:
        left, right = gs.assignment_sides(d)
        for i, n in enumerate(left):
            key = ctx.text(n)
            if key in out:
                continue
            v = right[i] if i < len(right) and len(left) == len(right) else None
            typ = ""
            if v is not None and v.type == "unary_expression" and v.named_children:
                v = v.named_children[-1]
            if v is not None and v.type == "composite_literal":
                typ = _type_name(ctx.text(v.child_by_field_name("type")))
            elif v is not None and v.type == "call_expression":
                callee = v.child_by_field_name("function")
                if callee is not None and callee.type == "identifier":
                    typ = _RESULTS.get(ctx.text(callee), "")
            out[key] = typ
    cache[fn.id] = out
    return out


def _receiver_params(ctx: FileContext, recv: Node) -> list[tuple[str, str]]:
    out = []
    for p in recv.named_children:
        if p.type == "parameter_declaration":
            n = p.child_by_field_name("name")
            out.append((ctx.text(n), ctx.text(p.child_by_field_name("type"))))
    return out


def _keys(owners: dict[str, set[str]], name: str, owner: str) -> tuple[list[str], bool]:
    """Field keys (`T.f`) an access can mean, and whether it is resolved to one."""
    types = owners.get(name, set())
    if owner and owner in types:
        return [f"{owner}.{name}"], True
    if owner and owner in _STRUCTS and owner not in _EMBEDS:
        return [], True  # a field of another struct of the package that happens to share the name
    keys = sorted(f"{t}.{name}" for t in types)
    return keys, len(keys) == 1


def _fn_at(ctx: FileContext, pos: int, *, outermost: bool = False) -> gs.FuncInfo | None:
    """The innermost (or outermost) function of the file whose span holds byte `pos`.

    A bisect over the file's functions sorted by start instead of an ancestor walk per
    node: the facts ask this for every selector and call of the package."""
    spans = ctx.cache.get("concurrency.spans")
    if spans is None:
        fns = gs.functions(ctx)
        spans = ([f.node.start_byte for f in fns], fns)
        ctx.cache["concurrency.spans"] = spans
    starts: list[int] = spans[0]  # type: ignore[index]
    infos: list[gs.FuncInfo] = spans[1]  # type: ignore[index]
    i = bisect_right(starts, pos) - 1
    found = None
    while i >= 0:
        f = infos[i]
        if f.node.start_byte <= pos < f.node.end_byte:
            if not outermost or f.kind != "literal":
                return f
            found = f
        i -= 1
    return found


def _func_key(ctx: FileContext, node: Node) -> tuple[str, str]:
    """(key, receiver type) of the function holding `node` ('' outside any)."""
    info = _fn_at(ctx, node.start_byte)
    if info is None:
        return "", ""
    recv = info.receiver
    if not recv and info.kind == "literal":
        outer = _fn_at(ctx, node.start_byte, outermost=True)
        recv = outer.receiver if outer is not None else ""
    return info.name, recv


def _receiver_name(ctx: FileContext, node: Node) -> str:
    decl = gs.enclosing_declaration(node)
    if decl is None or decl.type != "method_declaration":
        return ""
    recv = decl.child_by_field_name("receiver")
    for p in recv.named_children if recv is not None else []:
        if p.type == "parameter_declaration":
            name = p.child_by_field_name("name")
            return ctx.text(name)
    return ""


def _capacity(ctx: FileContext, call: Node | None) -> tuple[bool, int | None]:
    """(is `make(chan T[, n])`, constant capacity or None)."""
    if call is None or call.type != "call_expression" or gs.call_name(ctx, call) != "make":
        return False, None
    args = gs.arguments(call)
    if not args or args[0].type != "channel_type":
        return False, None
    if len(args) == 1:
        return True, 0
    n: Node | None = args[1]
    if n is not None and n.type == "identifier":
        spec = gs.package_consts(ctx).get(ctx.text(n))
        n = spec.child_by_field_name("value") if spec is not None else None
        if n is not None and n.type == "expression_list" and n.named_children:
            n = n.named_children[0]
    try:
        return True, int(ctx.text(n).replace("_", ""), 0)
    except ValueError:
        return True, None


def _abandons(op: Node) -> tuple[bool, int, str]:
    fn = gs.enclosing_function(op)
    outer = None
    for p in gs.ancestors(op):
        if p == fn:
            break
        if p.type == "for_statement":
            outer = p
    if outer is not None:
        case = next(
            (p for p in gs.ancestors(op) if p.type == "communication_case"), None
        ) if goflow.select_of(op) is not None else None
        exits = [
            e
            for e in goflow.loop_exits(outer)
            if (not _completion_check(e)
            and (case is not None and not (case.start_byte <= e.start_byte < case.end_byte)))
            or (case is None and e.start_byte < op.start_byte)
        ]
        # an exit in the receive's own case leaves only after receiving: not abandoning
        return bool(exits), (goflow.line(exits[0]) if exits else 0), _exit_field(exits)
    return goflow.is_guarded(op), 0, ""


def _exit_field(exits: list[Node]) -> str:
    """`readErr` when every exit sits in `case ... <-x.readErr:` (one field), else ''."""
    names = set()
    for e in exits:
        case = next((p for p in gs.ancestors(e) if p.type == "communication_case"), None)
        comm = case.child_by_field_name("communication") if case is not None else None
        sel = next(iter(gs.walk(comm, "selector_expression")), None) if comm is not None else None
        f = sel.child_by_field_name("field") if sel is not None else None
        if f is None or f.text is None:
            return ""
        names.add(f.text.decode())
    return names.pop() if len(names) == 1 else ""


_COMPLETION = re.compile(rb"(==|<=)\s*0\b|\bdone\b|\bremaining\b|\bpending\b")


def _completion_check(exit_stmt: Node) -> bool:
    """The exit sits under `if active == 0` (or `if pending <= 0`): the loop ends once every
    producer reported, which leaves no sender behind (the Go fuzz coordinator's gather)."""
    for p in gs.ancestors(exit_stmt):
        if p.type == "if_statement":
            cond = p.child_by_field_name("condition")
            return cond is not None and bool(_COMPLETION.search(cond.text or b""))
        if p.type in ("communication_case", "for_statement") or p.type in gs.FUNC_TYPES:
            return False
    return False


def _nonblocking(op: Node) -> bool:
    sel = goflow.select_of(op)
    return sel is not None and any(c.type == "default_case" for c in sel.named_children)


def _classify(ctx: FileContext, sel: Node) -> tuple[str, Node]:
    """What the selector `x.f` (a channel field) does where it stands: op and the op's node."""
    p = sel.parent
    if p is None:
        return "escape", sel
    if p.type == "send_statement" and p.child_by_field_name("channel") == sel:
        return "send", p
    if p.type == "unary_expression" and ctx.text(p).startswith("<-"):
        return "recv", p
    if p.type == "range_clause":
        return "range", p
    if p.type == "argument_list" and p.parent is not None:
        name = gs.call_name(ctx, p.parent)
        if name == "close":
            return "close", p.parent
        if name in ("len", "cap"):
            return "harmless", sel
    if p.type == "binary_expression":
        return "harmless", sel  # `w.ch == nil`
    if p.type == "expression_list" and p.parent is not None and p.parent.type in (
        "assignment_statement",
    ):
        left, right = gs.assignment_sides(p.parent)
        if sel in left:
            i = left.index(sel)
            value = right[i] if i < len(right) and len(right) == len(left) else None
            if value is not None and ctx.text(value) == "nil":
                return "harmless", sel
            is_make, _ = _capacity(ctx, value)
            return ("make", value) if is_make and value is not None else ("escape", sel)
    return "escape", sel


def _extract(files: list[FileContext]) -> Concurrency:
    cc = Concurrency()
    chan_owners, cond_owners, wg_owners = _field_owners(files)
    cc.wg_fields = {f"{t}.{n}" for n, ts in wg_owners.items() for t in ts}
    watched_names = [*chan_owners, *cond_owners, *wg_owners]
    cc.chan_fields = {f"{t}.{n}" for n, ts in chan_owners.items() for t in ts}
    cc.cond_fields = {f"{t}.{n}" for n, ts in cond_owners.items() for t in ts}
    _RESULTS.clear()
    _STRUCTS.clear()
    _EMBEDS.clear()
    _METHODS.clear()
    for ctx in files:
        for spec in gs.nodes_of_type(ctx, "type_spec"):
            t = spec.child_by_field_name("type")
            if t is not None and t.type == "struct_type":
                sname = ctx.text(spec.child_by_field_name("name"))
                _STRUCTS.add(sname)
                if any(
                    f.type == "field_declaration" and f.child_by_field_name("name") is None
                    for lst in t.named_children
                    for f in lst.named_children
                ):
                    _EMBEDS.add(sname)
        for info in gs.functions(ctx):
            if info.kind == "func":
                res = gs.result_types(ctx, info.node)
                if res:
                    _RESULTS[info.name] = _type_name(res[0])
            elif info.kind == "method":
                m = info.name.rsplit(".", 1)[-1]
                _METHODS[m] = _METHODS.get(m, 0) + 1
    for ctx in files:
        path = str(ctx.path)
        for info in gs.functions(ctx):
            recv = info.receiver
            if info.is_literal:
                _, recv = _func_key(ctx, info.node)
            cc.funcs.setdefault(
                info.name, FuncSummary(info.name, path, goflow.line(info.node), receiver=recv)
            )
        if not any(n.encode() in ctx.source for n in watched_names):
            # nothing of ours here: only calls matter (call chains, receiver locks)
            if watched_names or b"Lock()" in ctx.source:
                _calls(ctx, cc, path)
            continue
        # composite literals: `T{ch: make(chan int)}`
        for kv in gs.nodes_of_type(ctx, "keyed_element"):
            kids = kv.named_children
            if len(kids) != 2:
                continue
            key_node = kids[0].named_children[0] if kids[0].named_children else kids[0]
            name = ctx.text(key_node)
            if key_node.type not in ("identifier", "field_identifier"):
                continue
            owners = chan_owners if name in chan_owners else cond_owners
            if name not in owners:
                continue
            lit = kv.parent.parent if kv.parent is not None else None
            owner = ""
            if lit is not None and lit.type == "composite_literal":
                owner = _type_name(ctx.text(lit.child_by_field_name("type")))
            keys, resolved = _keys(owners, name, owner)
            if owners is cond_owners:
                continue
            value = kids[1].named_children[0] if kids[1].named_children else kids[1]
            is_make, cap = _capacity(ctx, value)
            fkey, _ = _func_key(ctx, kv)
            for k in keys:
                if is_make:
                    cc.ops.setdefault(k, []).append(
                        FieldOp("make", k, path, value.start_byte, goflow.line(value), fkey,
                                cap=cap, resolved=resolved)
                    )
                elif ctx.text(value) != "nil":
                    cc.opaque.add(k)
        for sel in gs.nodes_of_type(ctx, "selector_expression"):
            name = ctx.text(sel.child_by_field_name("field"))
            if name in wg_owners:
                _wg_use(ctx, cc, sel, wg_owners, name, path)
            if name not in chan_owners and name not in cond_owners:
                continue
            fkey, _ = _func_key(ctx, sel)
            if name in cond_owners:
                keys, resolved = _keys(cond_owners, name, _owner(ctx, sel))
                parent = sel.parent
                if parent is not None and parent.type == "selector_expression":
                    method = ctx.text(parent.child_by_field_name("field"))
                    if method == "Wait" and resolved and keys:
                        cc.cond_waits.setdefault(keys[0], []).append(
                            (path, parent.start_byte, fkey)
                        )
                    elif method in ("Signal", "Broadcast"):
                        for k in keys:
                            cc.cond_signals[k] = cc.cond_signals.get(k, 0) + 1
                    continue
                if (parent is not None and parent.type == "expression_list" and parent.parent is not None
                        and parent.parent.type == "assignment_statement"
                        and parent.parent.child_by_field_name("left") == parent):
                    continue  # `c.cond = sync.NewCond(...)`
                # any other use hands the cond on (`r.resc = n.c1`, `return n.c1`: valkey-go's ring
                # signals its slots' conds through such aliases, held-out set 13)
                cc.opaque.update(keys)
                continue
            keys, resolved = _keys(chan_owners, name, _owner(ctx, sel))
            if not keys:
                continue
            op, node = _classify(ctx, sel)
            if op == "harmless":
                continue
            if op == "escape":
                cc.opaque.update(keys)
                continue
            for k in keys:
                if op == "make":
                    _, cap = _capacity(ctx, node)
                    fo = FieldOp("make", k, path, node.start_byte, goflow.line(node), fkey,
                                 cap=cap, resolved=resolved)
                else:
                    abandons, exit_line, exit_field = (
                        _abandons(node) if op in ("recv", "range") else (False, 0, "")
                    )
                    fo = FieldOp(
                        op,
                        k,
                        path,
                        node.start_byte,
                        goflow.line(node),
                        fkey,
                        guarded=goflow.is_guarded(node),
                        nonblocking=_nonblocking(node),
                        abandons=abandons,
                        in_loop=goflow.loop_between(node, gs.enclosing_function(node) or node)
                        is not None,
                        exit_line=exit_line,
                        exit_field=exit_field,
                        resolved=resolved,
                    )
                cc.ops.setdefault(k, []).append(fo)
                if fkey in cc.funcs and resolved:
                    cc.funcs[fkey].ops.append(fo)
        _calls(ctx, cc, path)
    return cc


def _wg_use(
    ctx: FileContext, cc: Concurrency, sel: Node, owners: dict[str, set[str]], name: str, path: str
) -> None:
    """`s.wg.Add(n)` / `.Done()` / `.Go(f)` / `.Wait()`; anything else makes the field opaque."""
    keys, resolved = _keys(owners, name, _owner(ctx, sel))
    parent = sel.parent
    method = ""
    if parent is not None and parent.type == "selector_expression":
        method = ctx.text(parent.child_by_field_name("field"))
    call = parent.parent if parent is not None else None
    if method in ("Add", "Done", "Go", "Wait") and call is not None and call.type == "call_expression":
        for k in keys:
            if method == "Wait":
                if resolved:
                    cc.wg_waits.setdefault(k, []).append((path, call.start_byte))
            else:
                cc.wg_ops.setdefault(k, set()).add(method)
                if method == "Add" and not _positive_count(ctx, call):
                    cc.wg_ops[k].add("Done")  # `wg.Add(-1)` / `wg.Add(val)`: may be a Done (vitess's requestsWaiter)
        return
    cc.opaque.update(keys)


def _positive_count(ctx: FileContext, call: Node) -> bool:
    """`wg.Add(1)`: a constant positive count (anything else may be negative, i.e. a Done)."""
    args = gs.arguments(call)
    return len(args) == 1 and args[0].type == "int_literal"


def _calls(ctx: FileContext, cc: Concurrency, path: str) -> None:
    """Call sites and go statements of every function of one file (resolved later)."""
    raw: list[tuple[str, str, str, str, int, int]] = []  # (caller, kind, name, recvtype, line, start)
    for call in gs.nodes_of_type(ctx, "call_expression"):
        fnode = call.child_by_field_name("function")
        if fnode is None:
            continue
        caller, recv = _func_key(ctx, call)
        go = call.parent if call.parent is not None and call.parent.type == "go_statement" else None
        if fnode.type == "func_literal":
            lit = gs.function_info(ctx, fnode)
            target = lit.name if lit is not None else ""
            if go is not None:
                cc.gos.append(GoSite(path, goflow.line(go), go.start_byte, target))
            elif target and caller in cc.funcs:
                cc.funcs[caller].calls.append(
                    CallSite(target, goflow.line(call), call.start_byte, path)
                )
            continue
        if fnode.type == "identifier":
            kind, name, rtype = "func", ctx.text(fnode), ""
        elif fnode.type == "selector_expression":
            operand = fnode.child_by_field_name("operand")
            name = ctx.text(fnode.child_by_field_name("field"))
            self_call = (
                operand is not None
                and operand.type == "identifier"
                and recv
                and ctx.text(operand) == _receiver_name(ctx, call)
            )
            owner = "" if self_call or _METHODS.get(name, 0) < 2 else _owner(ctx, fnode)
            if self_call:
                kind, rtype = "recv", recv
            elif owner:
                kind, rtype = "self", owner
            else:
                kind, rtype = "method", ""
        else:
            continue
        if go is not None:
            cc.gos.append(GoSite(path, goflow.line(go), go.start_byte, f"?{kind}:{name}:{rtype}"))
        else:
            raw.append((caller, kind, name, rtype, goflow.line(call), call.start_byte))
    for caller, kind, name, rtype, ln, start in raw:
        if caller in cc.funcs:
            cc.funcs[caller].calls.append(CallSite(f"?{kind}:{name}:{rtype}", ln, start, path))
    # receiver mutexes locked in a method's leading statements: `r.mu.Lock()` / RLock
    for info in gs.functions(ctx):
        if info.kind != "method" or info.body is None:
            continue
        rname = _receiver_name(ctx, info.body)
        only = gs.statements(info.body)
        if len(only) == 1:
            text = gs._compact(ctx.text(only[0]))
            if text.startswith(f"{rname}.") and text.endswith((".Unlock()", ".RUnlock()")):
                mu = text[len(rname) + 1 : text.rindex(".")]
                if mu and "." not in mu and "(" not in mu:
                    kind = "R" if text.endswith(".RUnlock()") else "W"
                    cc.funcs[info.name].self_unlocks.setdefault(f"{kind}{mu}", goflow.line(only[0]))
        for st in gs.statements(info.body)[:4]:
            text = gs._compact(ctx.text(st))
            if text.startswith(f"{rname}.") and text.endswith((".Lock()", ".RLock()")):
                mu = text[len(rname) + 1 : text.rindex(".")]
                if mu and "." not in mu and "(" not in mu:
                    kind = "R" if text.endswith(".RLock()") else "W"
                    cc.funcs[info.name].self_locks.setdefault(f"{kind}{mu}", goflow.line(st))
            elif text.startswith(f"{rname}.") and "Unlock" in text:
                break


def _resolve(cc: Concurrency) -> None:
    methods: dict[str, list[str]] = {}
    for k, s in cc.funcs.items():
        if "." in k and s.receiver and k.startswith(s.receiver + ".") and k.count(".") == 1:
            methods.setdefault(k.split(".", 1)[1], []).append(k)

    def one(ref: str) -> str:
        if not ref.startswith("?"):
            return ref
        kind, name, rtype = ref[1:].split(":", 2)
        if kind == "func":
            return name if name in cc.funcs and "." not in name else ""
        if kind in ("self", "recv") and f"{rtype}.{name}" in cc.funcs:
            return f"{rtype}.{name}"
        cands = methods.get(name, [])
        return cands[0] if len(cands) == 1 else ""

    for s in cc.funcs.values():
        s.calls = [
            CallSite(one(c.callee), c.line, c.start, c.file, c.callee.startswith("?recv:"))
            for c in s.calls
            if one(c.callee)
        ]
    cc.gos = [GoSite(g.file, g.line, g.start, one(g.target)) for g in cc.gos]


_RELEVANT = (b"chan", b"sync.Cond", b"WaitGroup", b"Lock()")


def _compute(files: list[FileContext]) -> Concurrency:
    # cheap gate: a package with no channel, cond, WaitGroup or lock has no facts to find
    if not any(k in f.source for f in files for k in _RELEVANT):
        return Concurrency()
    cc = _extract(files)
    _resolve(cc)
    _prune(cc)
    return cc


def _prune(cc: Concurrency) -> None:
    """Keep only what a rule can ask about: functions with field operations, receiver
    locks or cond waits, and the functions that reach them within MAX_DEPTH calls.

    The facts of up to 256 packages stay memoised per worker; a summary for every function
    of every package would make memory follow the size of the scanned tree."""
    relevant = {k for k, f in cc.funcs.items() if f.ops or f.self_locks}
    relevant |= {fn for waits in cc.cond_waits.values() for _f, _s, fn in waits}
    callers: dict[str, set[str]] = {}
    for k, f in cc.funcs.items():
        for c in f.calls:
            callers.setdefault(c.callee, set()).add(k)
    frontier = set(relevant)
    for _ in range(MAX_DEPTH):
        frontier = {c for k in frontier for c in callers.get(k, ())} - relevant
        relevant |= frontier
    # release helpers (`func (e *E) runlock() { e.mu.RUnlock() }`) stay too, without their callers
    cc.funcs = {k: f for k, f in cc.funcs.items() if k in relevant or f.self_unlocks}
    for f in cc.funcs.values():
        f.calls = [c for c in f.calls if c.callee in relevant]
    cc.gos = [g for g in cc.gos if g.target in relevant]


_FIELD_OP = re.compile(
    rb"<-\s*[\w\]\[)]+(?:\.\w+)+|[\w\])]\.\w+\s*<-|range\s+[\w.\]\[()]+\.\w+\s*\{"
)


def may_touch_fields(ctx: FileContext) -> bool:
    """A cheap syntactic gate: the file sends on, receives from or ranges over a selector
    (`w.ch <- v`, `<-w.ch`, `range w.ch`); only then do the field rules need the package."""
    hit = ctx.cache.get("concurrency.gate")
    if hit is None:
        hit = bool(_FIELD_OP.search(ctx.source))
        ctx.cache["concurrency.gate"] = hit
    return bool(hit)


def concurrency(ctx: FileContext) -> Concurrency:
    """The package's concurrency facts (memoised per package, per process)."""
    cached = ctx.cache.get("concurrency.facts")
    if cached is None:
        cached = package_facts(ctx, "concurrency", _compute)
        ctx.cache["concurrency.facts"] = cached
    return cached  # type: ignore[return-value]
