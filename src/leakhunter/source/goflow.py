"""Goroutine and channel facts shared by the goroutine rules (LH101-LH106).

The goroutine rules ask the same three questions of a function:
- which channels does it make, with what capacity, and does the channel stay in
  this function (not returned, stored, or handed to code we cannot see)?
- who sends on, receives from, ranges over or closes each channel, and from where:
  the function's own body, a goroutine it starts (`go func(){...}()` or `go f(ch)`
  with `f` in the same file), or a deferred / stored closure?
- after a `go` statement, does every path of the function reach a given operation
  (the receive the goroutine waits for, the close its `range` needs), or can it
  return / fall off the end first, and where?

A channel whose ownership we cannot see is never reported: precision first. The
path analysis is structural (statement lists, if/switch/select, loops treated as
"may run zero times or forever"), which is exact for the straight-line owners
these leaks live in, and it answers "don't know" (no finding) for `goto`, labelled
jumps and too-deep nesting. A loop that holds the awaited operation counts as
reaching it, except that its first iteration may return before it (a
`for { select { ... case <-ctx.Done(): return } }` consumer).

Select cases that can never fire are ignored: on a local channel nobody else
touches, or on a channel only the sending goroutine signals after its last send.
Also here: what a `go` statement runs, program-lifetime and once-only contexts,
HTTP handlers, and constant durations (`24 * time.Hour`) for LH103/LH105.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from leakhunter.source import gosyntax as gs
from leakhunter.source.constexpr import constant_bool
from leakhunter.source.program.failures import impossible_failure
from leakhunter.source.program.testfail import (
    failed_before,
    fails_test,
    failure_every_caller_reports,
    gave_up_on_own_timeout,
)

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext

Result = dict[str, "Node | None"]
"""Possible outcomes of running a statement, each with a witness node (or None):
`hit` (the awaited operation happened), `exit` (returned without it), `next`
(completes normally without it), `stop` (panic / os.Exit: nothing leaks past it),
`brk` / `cont` (unlabelled break / continue, resolved by the enclosing statement)."""

_CASE_TYPES = frozenset({"communication_case", "expression_case", "default_case", "type_case"})
_SWITCH_TYPES = frozenset(
    {"expression_switch_statement", "type_switch_statement", "select_statement"}
)
_TERMINATING_METHODS = frozenset(
    {
        "Fatal",
        "Fatalf",
        "Fatalln",
        "Panic",
        "Panicf",
        "Panicln",
        "FailNow",
        "SkipNow",
        "Skip",
        "Skipf",
    }
)
_TERMINATING_FUNCS = frozenset({"panic", "os.Exit", "runtime.Goexit", "syscall.Exit"})


def is_terminating_call(ctx: FileContext, call: Node) -> bool:
    """`panic(...)`, `os.Exit`, `runtime.Goexit`, `log.Fatal*`, `t.Fatal*` / `FailNow` / `Skip*`.

    After these nothing the function would have done later matters for a leak: the
    program ends, the test goroutine ends (its failure is the report), or it panics.
    """
    name = gs.call_name(ctx, call)
    if name in _TERMINATING_FUNCS:
        return True
    head, _, last = name.rpartition(".")
    return bool(head) and "." not in head and last in _TERMINATING_METHODS


def case_body(case: Node) -> list[Node]:
    """The statements of a switch/select case clause (not its communication or values)."""
    out: list[Node] = []
    for c in case.named_children:
        if c.type == "statement_list":
            out.extend(s for s in c.named_children if s.type != "comment")
    return out


def select_of(op: Node) -> Node | None:
    """The select_statement whose case communicates with `op` (a send_statement or `<-x`)."""
    p = op.parent
    if p is not None and p.type == "receive_statement":
        p = p.parent
    if p is not None and p.type == "communication_case":
        return p.parent
    return None


def is_guarded(op: Node) -> bool:
    """True if `op` is one case of a select that has another case or a default.

    Such a send/receive cannot block forever as long as the other case can proceed,
    which is how a careful goroutine avoids LH101/LH102 (`case <-ctx.Done()`).
    """
    sel = select_of(op)
    if sel is None:
        return False
    return (
        sum(1 for c in sel.named_children if c.type in ("communication_case", "default_case")) > 1
    )


def loop_between(node: Node, scope: Node) -> Node | None:
    """The innermost for_statement holding `node` (in its body) below `scope`, if any."""
    prev = node
    for p in gs.ancestors(node):
        if p == scope:
            return None
        if p.type == "for_statement" and p.child_by_field_name("body") == prev:
            return p
        prev = p
    return None


def is_infinite_loop(loop: Node) -> bool:
    """`for { ... }` (and `for ;; {}`): no condition and no range clause; or a condition that is the
    literal `true` (`for true {`, `for i := 0; true; i++ {`: arpc's example client, held-out set 41)."""
    for c in loop.named_children:
        if c.type == "range_clause":
            return False
        if c.type == "for_clause":
            cond = c.child_by_field_name("condition")
            return cond is None or cond.type == "true"
        if c.type == "true":
            return True
        if c.type not in ("block", "comment"):
            return False  # `for cond {`
    return True


def line(node: Node) -> int:
    return node.start_point[0] + 1


SMALL_TRIP_COUNT = 4
"""A loop known to run at most this many times holds at most this many timers / deferred
releases: bounded by the code, not by input — what users of defer-in-loop linters call noise."""
_SMALL_LITERAL = 8
"""A range over a composite literal of at most this many elements counts as small too."""


def _int(ctx: FileContext, n: Node | None) -> int | None:
    if n is None or n.type != "int_literal":
        return None
    try:
        return int(ctx.text(n).replace("_", ""), 0)
    except ValueError:
        return None


def trip_count(ctx: FileContext, loop: Node) -> int | None:
    """How many times a `for_statement` runs, when the syntax says so; None when unknown.

    `for range 3`, `for i := range 3`, `for _, x := range []T{a, b}` (element count),
    `for i := 0; i < 3; i++` / `i <= 2` with literal bounds and a `++` step.
    """
    for c in loop.named_children:
        if c.type == "range_clause":
            right = c.child_by_field_name("right")
            if right is None:
                return None
            if right.type == "int_literal":
                return _int(ctx, right)
            if right.type == "composite_literal":
                body = right.child_by_field_name("body")
                if body is None:
                    return None
                elems = [e for e in body.named_children if e.type in ("literal_element", "keyed_element")]
                return len(elems)
            return None
        if c.type == "for_clause":
            init = c.child_by_field_name("initializer")
            cond = c.child_by_field_name("condition")
            upd = c.child_by_field_name("update")
            if init is None or cond is None or upd is None or cond.type != "binary_expression":
                return None
            if upd.type != "inc_statement":
                return None
            names = [ctx.text(n) for n in gs.walk(init, "identifier")]
            vals = [v for v in gs.walk(init, "int_literal")]
            left = cond.child_by_field_name("left")
            op = cond.child_by_field_name("operator")
            if len(names) != 1 or len(vals) != 1 or left is None or ctx.text(left) != names[0] or op is None:
                return None
            start, stop = _int(ctx, vals[0]), _int(ctx, cond.child_by_field_name("right"))
            if start is None or stop is None:
                return None
            kind = ctx.text(op)
            if kind == "<":
                return max(0, stop - start)
            if kind == "<=":
                return max(0, stop - start + 1)
            return None
    return None


def in_small_loops(ctx: FileContext, node: Node) -> bool:
    """Every loop around `node` (up to its function) is small-constant (see SMALL_TRIP_COUNT).

    Then what the body keeps per iteration is bounded by the code, not by input.
    """
    loop = gs.in_loop(node)
    if loop is None:
        return False
    while loop is not None:
        n = trip_count(ctx, loop)
        limit = _SMALL_LITERAL if _ranges_literal(loop) else SMALL_TRIP_COUNT
        if n is None or n > limit:
            return False
        loop = gs.in_loop(loop)
    return True


def _ranges_literal(loop: Node) -> bool:
    rc = next((c for c in loop.named_children if c.type == "range_clause"), None)
    right = rc.child_by_field_name("right") if rc is not None else None
    return right is not None and right.type == "composite_literal"


# --------------------------------------------------------------------------- paths


class Paths:
    """Which outcomes can running some statements have, relative to target operations?

    `targets` are nodes (a receive, a close, a `wg.Done()` call) in the analysed
    function's own body. A statement that contains a target "hits" it. A loop that
    contains a target counts as a hit (we cannot count iterations: no finding).
    """

    def __init__(
        self,
        ctx: FileContext,
        targets: Iterable[Node],
        inert: frozenset[tuple[int, int]] = frozenset(),
    ) -> None:
        self.ctx = ctx
        self.spans = [(t.start_byte, t.end_byte) for t in targets]
        self.dead = dead_operations(ctx) | inert
        self.known: dict[str, bool] = {}
        """Conditions whose value the path from `after`'s node fixes (`_known_conditions`)."""

    def never_fires(self, case: Node) -> bool:
        """A select case on a local channel with no counterpart at all can never be chosen, nor
        `case <-ctx.Done():` on a context that is never done (`program.contexts`)."""
        comm = case.child_by_field_name("communication")
        if comm is None:
            return False
        if comm.type == "receive_statement":
            comm = comm.child_by_field_name("right") or comm
        return (comm.start_byte, comm.end_byte) in self.dead or _never_done_receive(self.ctx, comm)

    def contains(self, node: Node | None) -> bool:
        if node is None:
            return False
        s, e = node.start_byte, node.end_byte
        return any(s <= a and b <= e for a, b in self.spans)

    # -- combinators
    @staticmethod
    def merge(*results: Result) -> Result:
        out: Result = {}
        for r in results:
            for k, v in r.items():
                if k not in out or (out[k] is None and v is not None):
                    out[k] = v
        return out

    def seq(self, stmts: Iterable[Node]) -> Result:
        out: Result = {}
        next_w: Node | None = None
        for s in stmts:
            r = self.stmt(s)
            for k, v in r.items():
                if k != "next" and (k not in out or (out[k] is None and v is not None)):
                    out[k] = v
            if "next" not in r:
                return out
            if next_w is None:
                next_w = r["next"]
        out["next"] = next_w
        return out

    def stmt(self, s: Node) -> Result:
        t = s.type
        if t in _SWITCH_TYPES and (s.start_byte, s.end_byte) in self.spans:
            return {"hit": None}  # a whole select is the target (a non-blocking send that always lands)
        if t == "return_statement":
            if self.contains(s):
                return {"hit": None}
            if failure_every_caller_reports(self.ctx, s):
                return {"stop": s}  # a test helper's failure that every caller fails the test on
            fn = gs.enclosing_function(s)
            if fn is not None and impossible_failure(self.ctx, fn, s):
                return {"stop": s}  # handles the failure of a call that cannot fail: never taken
            return {"exit": s}
        if t == "block":
            return self.seq(gs.statements(s))
        if t == "labeled_statement":
            inner = [
                c for c in s.named_children if c.type not in ("label_name", "identifier", "comment")
            ]
            return self.stmt(inner[-1]) if inner else {"next": None}
        if t == "if_statement":
            if self.contains(s.child_by_field_name("initializer")) or self.contains(
                s.child_by_field_name("condition")
            ):
                return {"hit": None}
            cons_node = s.child_by_field_name("consequence")
            alt_node = s.child_by_field_name("alternative")
            # an `if` without else is worth naming as the branch point only if it holds a target
            skip: Result = {"next": s if self.contains(cons_node) else None}
            fixed = self._fixed(s)
            if fixed is True:
                return self.stmt(cons_node) if cons_node is not None else {"next": None}
            if fixed is False:
                return self.stmt(alt_node) if alt_node is not None else {"next": None}
            cons: Result = self.stmt(cons_node) if cons_node is not None else {}
            alt: Result = self.stmt(alt_node) if alt_node is not None else skip
            return self.merge(cons, alt)
        if t in _SWITCH_TYPES:
            return self._switch(s)
        if t == "for_statement":
            return self._loop(s)
        if t == "break_statement":
            return {"hit": None} if s.named_children else {"brk": s}
        if t == "continue_statement":
            return {"hit": None} if s.named_children else {"cont": s}
        if t == "goto_statement":
            return {"hit": None}
        if self.contains(s):
            return {"hit": None}
        if t == "expression_statement":
            call = s.named_children[0] if s.named_children else None
            if (
                call is not None
                and call.type == "call_expression"
                and (is_terminating_call(self.ctx, call) or self._fails_test(call))
            ):
                return {"stop": s}
        return {"next": None}

    def _fixed(self, s: Node) -> bool | None:
        """The value this `if`'s condition must have on the path: the same pure condition as an `if`
        that the path's start sits in (`known`), with nothing assigned to it since, or a constant
        (`if debug {` with `const debug = false`: `deadcode`); None if free."""
        constant = constant_bool(self.ctx, s.child_by_field_name("condition"))
        if constant is not None:
            return constant
        if not self.known or s.child_by_field_name("initializer") is not None:
            return None
        return self.known.get(_cond_key(self.ctx, s))

    def _fails_test(self, call: Node) -> bool:
        """`t.Error(...)` / `t.Errorf` / `t.Fail()` in test code: the test has failed, and a
        goroutine stranded on the path after it is not worth a report (the failure is)."""
        return fails_test(self.ctx, call)

    def _switch(self, s: Node) -> Result:
        for f in ("initializer", "value"):
            if self.contains(s.child_by_field_name(f)):
                return {"hit": None}
        cases = [c for c in s.named_children if c.type in _CASE_TYPES]
        if s.type == "select_statement" and not cases:
            return {"stop": s}  # `select {}` blocks forever: nothing after it runs
        out: Result = {}
        for c in cases:
            if c.type == "communication_case" and self.never_fires(c):
                continue
            if c.type == "communication_case" and self.contains(
                c.child_by_field_name("communication")
            ):
                r: Result = {"hit": None}
            else:
                r = self.seq(case_body(c))
                if "brk" in r:
                    r.pop("brk")
                    r["next"] = c
                if "next" in r:
                    r["next"] = r["next"] or c
            out = self.merge(out, r)
        if s.type != "select_statement" and not any(c.type == "default_case" for c in cases):
            out = self.merge(out, {"next": s if self.contains(s) else None})
        return out

    def _loop(self, s: Node) -> Result:
        if self.contains(s):
            # we cannot count iterations, but the first one can return before any hit:
            # `for { select { case v := <-ch: ...; case <-ctx.Done(): return } }`
            clause = next(
                (c for c in s.named_children if c.type in ("for_clause", "range_clause")), None
            )
            if self.contains(clause) or (s.start_byte, s.end_byte) in self.spans:
                return {"hit": None}  # the loop header itself receives (`for v := range ch`)
            body_node = s.child_by_field_name("body")
            first = self.stmt(body_node) if body_node is not None else {}
            out: Result = {"hit": None}
            if "exit" in first:
                out["exit"] = first["exit"]
            return out
        body_node = s.child_by_field_name("body")
        body: Result = self.stmt(body_node) if body_node is not None else {}
        out = {k: v for k, v in body.items() if k in ("exit", "stop", "hit")}
        if not is_infinite_loop(s) or "brk" in body:
            out["next"] = body.get("brk") or body.get("next")
        return out

    # -- from a point to the end of the function
    def after(self, node: Node, body: Node) -> Result | None:
        """Outcomes of the rest of the function after statement `node`, up to `body`'s end.

        None when `node` sits in a loop (below `body`) or somewhere we cannot follow
        (also code nested too deeply to walk). A path that runs off the end of the
        function is `next` (witness: the last branch point that skipped the targets,
        when there is one).
        """
        try:
            self.known = _known_conditions(self.ctx, node, body)
            return self._after(node, body)
        except RecursionError:
            return None
        finally:
            self.known = {}

    def _after(self, node: Node, body: Node) -> Result | None:
        out: Result = {}
        cur = node
        next_w: Node | None = None
        while True:
            container = cur.parent
            if container is None:
                return None
            if container.type == "labeled_statement":
                cur = container
                continue
            if container.type == "statement_list":
                container = container.parent
                if container is None:
                    return None
            stmts = gs.statements(container) if container.type == "block" else case_body(container)
            if cur not in stmts:
                return None
            rest = stmts[stmts.index(cur) + 1 :]
            r = self.seq(rest)
            if container.type in _CASE_TYPES and "brk" in r:
                r.pop("brk")
                r["next"] = r.get("next") or container
            if "brk" in r or "cont" in r:
                return None
            for k, v in r.items():
                if k != "next" and (k not in out or (out[k] is None and v is not None)):
                    out[k] = v
            if "next" not in r:
                return out
            next_w = next_w or r["next"]
            if container == body:
                out["next"] = next_w
                return out
            if container.type in _CASE_TYPES:
                sw = container.parent  # the switch/select statement
                if sw is None:
                    return None
                cur = sw
                if cur.type == "select_statement" and container.type == "communication_case":
                    next_w = next_w or container
                continue
            owner = container.parent  # the statement owning this block
            if owner is None:
                return None
            if owner.type == "if_statement":
                while owner.parent is not None and owner.parent.type == "if_statement":
                    owner = owner.parent  # `else if` chain: continue after the outermost if
                cur = owner
                continue
            if owner.type in ("statement_list", "block"):
                cur = container  # a bare `{ ... }` block statement
                continue
            return None  # a loop, a closure, or something we do not follow


def _cond_key(ctx: FileContext, if_stmt: Node) -> str:
    """The condition's text without spaces, a boolean name compared with a literal written as itself or
    its negation (`ignore == false` and `!ignore` are one condition; `ok != true` is `!ok`)."""
    cond = if_stmt.child_by_field_name("condition")
    text = "".join(ctx.text(cond).split()) if cond is not None else ""
    m = _BOOL_COMPARE.fullmatch(text)
    if m is None:
        return text
    name, op, lit = m.groups()
    return name if (op == "==") == (lit == "true") else f"!{name}"


_BOOL_COMPARE = re.compile(r"([A-Za-z_]\w*)(==|!=)(true|false)")


_PURE_CONDITION = frozenset({
    "identifier", "binary_expression", "unary_expression", "parenthesized_expression", "true", "false", "nil",
    "int_literal", "interpreted_string_literal", "raw_string_literal", "interpreted_string_literal_content",
    "escape_sequence",
})
"""Node kinds of a condition whose value only an assignment in the function can change: local names and
literals (a field or a package variable may change under a method call or another goroutine)."""


def _known_conditions(ctx: FileContext, node: Node, body: Node) -> dict[str, bool]:
    """Conditions of the `if`s (without initializer) that `node` sits in, inside `body`: True in the
    consequence, False in the `else`, when the condition is pure (local names and literals, comparisons,
    `!`, `&&`, `||`; no call, field, package variable or receive) and nothing in the function assigns,
    increments or takes the address of a name it reads. A later `if` on the same condition then takes the
    same branch: a goroutine started under `if ignoreX == false` is received from under the same `if ignoreX == false`
    (gaochao1/sw's SNMP walkers, held-out set 32: thirteen findings on that infeasible path)."""
    out: dict[str, bool] = {}
    for p in gs.ancestors(node):
        if p == body or p.type in gs.FUNC_TYPES:
            break
        if p.type != "if_statement" or p.child_by_field_name("initializer") is not None:
            continue
        cond = p.child_by_field_name("condition")
        cons, alt = p.child_by_field_name("consequence"), p.child_by_field_name("alternative")
        if cond is None or not _pure(ctx, cond, body):
            continue
        if cons is not None and cons.start_byte <= node.start_byte < cons.end_byte:
            out.setdefault(_cond_key(ctx, p), True)
        elif alt is not None and alt.type == "block" and alt.start_byte <= node.start_byte < alt.end_byte:
            out.setdefault(_cond_key(ctx, p), False)
    return out


def _pure(ctx: FileContext, cond: Node, fn_body: Node) -> bool:
    names: set[str] = set()
    for n in gs.walk(cond, include_self=True):
        if n.is_named and n.type not in _PURE_CONDITION and n.type != "comment":
            return False
        if n.type == "unary_expression" and ctx.text(n.child_by_field_name("operator")) not in ("!", "-"):
            return False
        if n.type == "identifier":
            names.add(ctx.text(n))
    names -= {"true", "false", "nil"}
    if not names or names & gs.package_level_names(ctx):
        return False
    for n in gs.walk(fn_body, ("assignment_statement", "short_var_declaration", "inc_statement",
                               "dec_statement", "unary_expression", "range_clause"), into_func_literals=True):
        if n.type == "unary_expression":
            if ctx.text(n.child_by_field_name("operator")) == "&" and ctx.text(n.child_by_field_name("operand")) in names:
                return False
            continue
        if n.type in ("inc_statement", "dec_statement"):
            if any(ctx.text(c) in names for c in n.named_children):
                return False
            continue
        left = n.child_by_field_name("left")
        for c in gs.walk(left, include_self=True) if left is not None else ():
            if c.type == "identifier" and ctx.text(c) in names:
                return False
    return True


# --------------------------------------------------------------------------- channels


@dataclass(eq=False)
class ChanUse:
    """One mention of a channel variable and what it does there."""

    ident: Node
    op: str
    """send | recv | range | close | harmless | escape"""
    stmt: Node
    """The send_statement, the `<-ch` unary_expression, the ranging for_statement, the close call."""
    where: str
    """body (the owner's own code) | go (a goroutine it starts) | defer | closure"""
    go: Node | None = None
    """The go_statement for `where == "go"`."""
    callee: Node | None = None
    """The same-file function the channel was handed to (`go worker(ch)`), if any."""

    @property
    def guarded(self) -> bool:
        return self.op in ("send", "recv") and is_guarded(self.stmt)


@dataclass(eq=False)
class ChanFacts:
    """A channel made in a function, and every use of it, when its ownership is visible."""

    name: str
    decl: Node
    owner: Node
    """The function (declaration or literal) that makes the channel."""
    body: Node
    scope: Node
    """The block (or statement) the declaration is visible in."""
    cap: int | None
    """Constant capacity (0: unbuffered); None: not a constant (assume large enough)."""
    nil_chan: bool = False
    uses: list[ChanUse] = field(default_factory=list)
    escapes: bool = False
    why_escapes: str = ""
    siblings: list[ChanFacts] = field(default_factory=list, repr=False)
    """Every channel of the file (shared list), to relate channels of one owner."""

    def of(self, *ops: str, where: str | None = None) -> list[ChanUse]:
        return [u for u in self.uses if u.op in ops and (where is None or u.where == where)]


def _make_chan(ctx: FileContext, value: Node | None) -> tuple[bool, int | None]:
    """(is `make(chan T[, n])`, its constant capacity or None)."""
    if value is None or value.type != "call_expression":
        return False, None
    if gs.call_name(ctx, value) != "make":
        return False, None
    args = gs.arguments(value)
    if not args or args[0].type != "channel_type":
        return False, None
    if len(args) == 1:
        return True, 0
    size = duration_ns(ctx, args[1])  # constant folding: literals and const names of the file
    if size is None or size != int(size) or size < 0:
        return True, None
    return True, int(size)


def _scope_of(decl_stmt: Node) -> Node | None:
    p = decl_stmt.parent
    if p is not None and p.type == "statement_list":
        p = p.parent
    return p


def _declarations(ctx: FileContext, d: Node) -> Iterator[tuple[str, Node, Node, int | None, bool]]:
    """(name, declaring statement, scope, capacity, is nil chan) for channels one statement makes."""
    if d.type == "short_var_declaration":
        lefts, rights = gs.assignment_sides(d)
        if len(lefts) != len(rights):
            return
        for left, right in zip(lefts, rights, strict=True):
            ok, cap = _make_chan(ctx, right)
            if ok and left.type == "identifier":
                scope = _scope_of(d)
                if scope is not None:
                    yield ctx.text(left), d, scope, cap, False
    else:
        scope = _scope_of(d)
        if scope is None:
            return
        for spec in gs.walk(d, "var_spec"):
            names, values = gs.assignment_sides(spec)
            typ = spec.child_by_field_name("type")
            if not values and typ is not None and typ.type == "channel_type":
                for n in names:
                    yield ctx.text(n), d, scope, 0, True
            elif len(values) == len(names):
                for n, v in zip(names, values, strict=True):
                    ok, cap = _make_chan(ctx, v)
                    if ok:
                        yield ctx.text(n), d, scope, cap, False


def _is_declaring(ident: Node) -> bool:
    """True if this identifier declares (or assigns) the name rather than using it."""
    p = ident.parent
    if p is None:
        return False
    if p.type in (
        "parameter_declaration",
        "variadic_parameter_declaration",
        "var_spec",
        "const_spec",
    ):
        return p.child_by_field_name("type") != ident and ident in p.children_by_field_name("name")
    if p.type == "expression_list":
        gp = p.parent
        if gp is not None and gp.type in (
            "short_var_declaration",
            "assignment_statement",
            "range_clause",
            "receive_statement",
        ):
            return gp.child_by_field_name("left") == p
    return p.type in ("inc_statement", "dec_statement")


def _context(ident: Node, owner: Node) -> tuple[str, Node | None]:
    """Where, relative to `owner`, the code holding `ident` runs."""
    outer: Node | None = None
    for p in gs.ancestors(ident):
        if p == owner:
            break
        if p.type == "func_literal":
            outer = p
        if p.type in ("function_declaration", "method_declaration"):
            break
    if outer is None:
        return "body", None
    call = outer.parent
    if (
        call is not None
        and call.type == "call_expression"
        and call.child_by_field_name("function") == outer
    ):
        st = call.parent
        if st is not None and st.type == "go_statement":
            return "go", st
        if st is not None and st.type == "defer_statement":
            return "defer", st
    return "closure", None


def _classify(ctx: FileContext, ident: Node) -> tuple[str, Node]:
    """(op, statement) for one identifier use of a channel variable."""
    p = ident.parent
    if p is None:
        return "escape", ident
    if p.type == "send_statement" and p.child_by_field_name("channel") == ident:
        return "send", p
    if p.type == "unary_expression" and p.child_by_field_name("operand") == ident:
        op = p.child_by_field_name("operator")
        if op is not None and op.type == "<-":
            return "recv", p
    if (
        p.type == "range_clause"
        and p.child_by_field_name("right") == ident
        and p.parent is not None
    ):
        return "range", p.parent
    if p.type == "argument_list" and p.parent is not None and p.parent.type == "call_expression":
        name = gs.call_name(ctx, p.parent)
        if name == "close":
            return "close", p.parent
        if name in ("len", "cap"):
            return "harmless", p.parent
        return "arg", p.parent
    if p.type == "binary_expression":
        other = [c for c in p.named_children if c != ident]
        if other and other[0].type == "nil":
            return "harmless", p
    return "escape", ident


def same_file_callee(ctx: FileContext, call: Node) -> Node | None:
    """The function/method declared in this file that `call` calls, when unambiguous by name."""
    fn = call.child_by_field_name("function")
    if fn is None:
        return None
    if fn.type == "identifier":
        want, kinds = ctx.text(fn), ("function_declaration",)
    elif fn.type == "selector_expression":
        want, kinds = ctx.text(fn.child_by_field_name("field")), ("method_declaration",)
    else:
        return None
    found = [
        d
        for d in gs.nodes_of_type(ctx, *kinds)
        if ctx.text(d.child_by_field_name("name")) == want
        and d.child_by_field_name("body") is not None
    ]
    return found[0] if len(found) == 1 else None


def _param_at(ctx: FileContext, fn: Node, index: int) -> str | None:
    params = gs.parameters(ctx, fn)
    if index >= len(params) or any(t.startswith("...") for _, t in params[: index + 1]):
        return None
    name = params[index][0]
    return name if name and name != "_" else None


CALLEE_DEPTH = 3
"""How many calls deep a channel handed to same-file functions is followed (`go worker(ch)`
whose worker passes ch on to `send(ch)`: the goroutine blocks two calls below its body)."""


def _uses_in_callee(
    ctx: FileContext, call: Node, arg: Node, where: str, go: Node | None, depth: int = 1
) -> list[ChanUse] | None:
    """The channel's uses inside a same-file function it is handed to (and the functions that
    one hands it to, up to CALLEE_DEPTH calls down); None if they escape."""
    callee = same_file_callee(ctx, call)
    if callee is None:
        return None
    args = gs.arguments(call)
    if arg not in args:
        return None
    param = _param_at(ctx, callee, args.index(arg))
    body = callee.child_by_field_name("body")
    if param is None or body is None:
        return None
    out: list[ChanUse] = []
    for ident in gs.identifiers(ctx, body, param):
        if _is_declaring(ident):
            return None
        op, stmt = _classify(ctx, ident)
        inner, _ = _context(ident, callee)
        if inner != "body":
            return None
        if op == "arg" and depth < CALLEE_DEPTH and stmt.parent is not None and (
            stmt.parent.type != "go_statement"
        ):
            deeper = _uses_in_callee(ctx, stmt, ident, where, go, depth + 1)
            if deeper is None:
                return None
            out.extend(deeper)
            continue
        if op in ("escape", "arg"):
            return None
        out.append(ChanUse(ident, op, stmt, where, go, callee))
    return out


def chan_facts(ctx: FileContext) -> list[ChanFacts]:
    """Every channel made inside a function of the file, with its uses (memoised per file)."""
    cached = ctx.cache.get("goflow.chans")
    if cached is not None:
        return cached  # type: ignore[return-value]
    out: list[ChanFacts] = []
    if b"chan" in ctx.source:
        src = ctx.source
        for d in gs.nodes_of_type(ctx, "short_var_declaration", "var_declaration"):
            if b"chan" not in src[d.start_byte : d.end_byte]:
                continue  # cheap filter: most declarations make no channel
            fn = gs.enclosing_function(d)
            body = fn.child_by_field_name("body") if fn is not None else None
            if fn is None or body is None:
                continue
            for name, decl, scope, cap, nil_chan in _declarations(ctx, d):
                out.append(_facts(ctx, name, decl, fn, body, scope, cap, nil_chan))
    for cf in out:
        cf.siblings = out
    ctx.cache["goflow.chans"] = out
    return out


def _facts(
    ctx: FileContext,
    name: str,
    decl: Node,
    owner: Node,
    body: Node,
    scope: Node,
    cap: int | None,
    nil_chan: bool,
) -> ChanFacts:
    cf = ChanFacts(name, decl, owner, body, scope, cap, nil_chan)
    for ident in gs.identifiers(ctx, scope, name):
        if ident.start_byte < decl.end_byte:
            if ident.start_byte >= decl.start_byte and _is_declaring(ident):
                continue  # the declaration itself
            if ident.start_byte >= decl.start_byte:
                cf.escapes, cf.why_escapes = True, "used in its own declaration"
            continue
        if _is_declaring(ident):
            cf.escapes, cf.why_escapes = True, f"reassigned or shadowed at line {line(ident)}"
            break
        op, stmt = _classify(ctx, ident)
        where, go = _context(ident, owner)
        if op == "arg":
            call = stmt
            if call.parent is not None and call.parent.type == "go_statement" and where == "body":
                where, go = "go", call.parent
            if where == "go":
                inner = _uses_in_callee(ctx, call, ident, where, go)
                if inner is not None:
                    cf.uses.extend(inner)
                    continue
            cf.escapes, cf.why_escapes = (
                True,
                f"handed to {gs.call_name(ctx, call)} at line {line(ident)}",
            )
            break
        if op == "escape" and where == "body" and _is_returned(ident):
            cf.escapes, cf.why_escapes = True, f"returned at line {line(ident)}"
            cf.uses.append(ChanUse(ident, "return", ident, where, go))
            continue  # keep collecting: LH101 follows returned channels to their callers
        if op == "escape":
            cf.escapes, cf.why_escapes = True, f"escapes at line {line(ident)}"
            cf.uses = [u for u in cf.uses if u.op != "return"]
            break
        cf.uses.append(ChanUse(ident, op, stmt, where, go))
    return cf


def _is_returned(ident: Node) -> bool:
    """`return ch` (the channel is the function's only result)."""
    p = ident.parent
    return (
        p is not None
        and p.type == "expression_list"
        and len(p.named_children) == 1
        and p.parent is not None
        and p.parent.type == "return_statement"
    )


def describe(ctx: FileContext, node: Node, limit: int = 40) -> str:
    """Short one-line source text of `node` for messages."""
    text = " ".join(ctx.text(node).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- goroutines


def goroutine_function(ctx: FileContext, go: Node) -> Node | None:
    """The function a go statement runs: its func literal, or a same-file function/method it names."""
    call = next((c for c in go.named_children if c.type == "call_expression"), None)
    if call is None:
        return None
    fn = call.child_by_field_name("function")
    if fn is not None and fn.type == "func_literal":
        return fn
    return same_file_callee(ctx, call)


def go_call(go: Node) -> Node | None:
    """The call_expression of a go statement."""
    return next((c for c in go.named_children if c.type == "call_expression"), None)


_LIFETIME_FUNCS = frozenset({"main", "init", "TestMain"})


def program_lifetime(ctx: FileContext, node: Node) -> bool:
    """True when `node` runs for the program's lifetime anyway: in main/init/TestMain or a package-level var."""
    decl = gs.enclosing_declaration(node)
    if decl is None:
        return True
    return (
        decl.type == "function_declaration"
        and ctx.text(decl.child_by_field_name("name")) in _LIFETIME_FUNCS
    )


_LIFECYCLE_METHODS = frozenset(
    {
        "Start", "Stop", "Shutdown", "GracefulStop", "Run", "Serve", "ListenAndServe",
        "start", "stop", "shutdown", "run", "serve",
    }
)


def deliberate_abandon(ctx: FileContext, owner: Node, witness: Node | None) -> bool:
    """The owner abandons pending work on purpose, once per component life, not per request
    (or after the test has already failed: program/testfail.py).

    - a component's lifecycle method (Run/Serve/Stop/Shutdown) that leaves on a select case
      (its deadline, its context, its stop channel) or returns an error: it runs once per
      component, whose end is usually the process's (temporal's bulk processor Stop and
      finalizer Run, containerd's CRI Run whose error goes to `log.Fatal`; a Start that
      waits a moment for an early failure of the server it launched);
    - main/init/TestMain: the process ends right after;
    - a path on which the process is ending (program/exits.py): an error return that every
      caller turns into an exit (`log.Fatal`, a CLI command's error: go-ethereum's preimage
      export), an exit right after, code that runs after an OS shutdown signal.
    The leak catalog's LH101/LH102 are leaks that grow with calls; these do not.
    """
    decl = gs.enclosing_declaration(owner) or owner
    name = ctx.text(decl.child_by_field_name("name"))
    from leakhunter.source.program import exits

    if exits.ends_on_return(ctx, owner) and (
        witness is None or witness.type == "return_statement" or loop_between(witness, owner) is None
    ):
        return True  # runs once and the process ends right after it returns (exits.ends_on_return)
    if witness is None:
        return False
    if exits.run_context_done(ctx, witness) or exits.server_closed_case(ctx, witness):
        return True  # the end of the program's run context, a server closed at the end of its life
    if failed_before(ctx, witness) or failure_every_caller_reports(ctx, witness) or gave_up_on_own_timeout(ctx, witness):
        return True  # the test has already failed (or timed out): its failure is the report
    if decl.type == "function_declaration" and name in _LIFETIME_FUNCS:
        return True
    case: Node | None = witness
    while case is not None and case.type not in ("communication_case", *gs.FUNC_TYPES):
        case = case.parent
    lifecycle = decl.type == "method_declaration" and name in _LIFECYCLE_METHODS
    if lifecycle and case is not None and case.type == "communication_case":
        return True
    if case is not None and case.type == "communication_case" and _run_loop_ctx_case(ctx, decl, case):
        return True
    if exits.process_ends_after(ctx, witness) or exits.after_shutdown_signal(ctx, witness):
        return True
    if witness.type != "return_statement" or not _returns_error(ctx, witness):
        return False
    if lifecycle:
        return True
    return exits.return_ends_process(ctx, witness)


def _run_loop_ctx_case(ctx: FileContext, decl: Node, case: Node) -> bool:
    """`case <-ctx.Done():` on the owner's ctx parameter, and every call of the owner in the
    package passes the context of a run loop: a function that loops until that context is
    done (`for { select { case <-tick: owner(ctx); case <-ctx.Done(): return } }`). Such a
    context ends with the component (usually at shutdown), so the abandon happens once per
    life (influxdb's telemetry Push, called from Report's loop). A per-request or per-call
    context (`context.WithTimeout` in the caller, a request's context) does not qualify."""
    comm = case.child_by_field_name("communication")
    if comm is not None and comm.type == "receive_statement":
        comm = comm.child_by_field_name("right")
    text = "".join(ctx.text(comm).split())
    params = {n for n, t in gs.parameters(ctx, decl) if t.endswith("context.Context")}
    if not text.startswith("<-") or text[2:].removesuffix(".Done()") not in params:
        return False
    if not text.endswith(".Done()"):
        return False
    body = decl.child_by_field_name("body")
    ctx_name = text[2:].removesuffix(".Done()")
    for a in gs.walk(body, ("assignment_statement", "short_var_declaration")) if body else ():
        if any(ctx.text(n) == ctx_name for n in gs.assignment_sides(a)[0]):
            return False  # `ctx, cancel := context.WithTimeout(ctx, d)`: a per-call deadline
    from leakhunter.source.gopackage import package_facts

    facts: dict[str, bool] = package_facts(ctx, "goflow.runloopctx", _run_loop_callers)
    return facts.get(ctx.text(decl.child_by_field_name("name")), False)


def _run_loop_callers(files: list[FileContext]) -> dict[str, bool]:
    """Function/method name -> every call of that name in the package passes a run loop's ctx."""
    out: dict[str, bool] = {}
    for f in files:
        if b".Done()" not in f.source:
            continue
        for info in gs.functions(f):
            if info.body is None or info.node.type == "func_literal":
                continue
            loops = _loop_ctxs(f, info.node, info.body)
            for call in gs.walk(info.body, "call_expression", into_func_literals=True):
                fn = call.child_by_field_name("function")
                if fn is not None and fn.type == "selector_expression":
                    fn = fn.child_by_field_name("field")
                if fn is None or fn.type not in ("identifier", "field_identifier"):
                    continue
                args = {f.text(a) for a in gs.arguments(call)}
                ok = bool(args & loops)
                name = f.text(fn)
                out[name] = out.get(name, True) and ok
    # a name also called with any other context (or none) is not a run-loop-only function
    for f in files:
        if b".Done()" in f.source:
            continue
        for call in gs.nodes_of_type(f, "call_expression"):
            fn = call.child_by_field_name("function")
            if fn is not None and fn.type == "selector_expression":
                fn = fn.child_by_field_name("field")
            if fn is not None and f.text(fn) in out:
                out[f.text(fn)] = False
    return out


def _loop_ctxs(ctx: FileContext, fn: Node, body: Node) -> set[str]:
    """Context parameters of `fn` that it loops on until they are done (`for { select { ...
    case <-ctx.Done(): return } }`, the loop directly in the function's body)."""
    params = {n for n, t in gs.parameters(ctx, fn) if t.endswith("context.Context")}
    out: set[str] = set()
    if not params:
        return out
    for loop in gs.statements(body):
        if loop.type != "for_statement" or not is_infinite_loop(loop):
            continue
        for case in gs.walk(loop, "communication_case", into_func_literals=False):
            t = "".join(ctx.text(case.child_by_field_name("communication")).split())
            name = t.removeprefix("<-").removesuffix(".Done()")
            if (
                t.startswith("<-")
                and t.endswith(".Done()")
                and name in params
                and any(s.type == "return_statement" for s in case_body(case))
            ):
                out.add(name)
    return out


def _returns_error(ctx: FileContext, ret: Node) -> bool:
    """`return ..., err` / `return fmt.Errorf(...)`: the last result is an error, not nil."""
    fn = gs.enclosing_function(ret)
    if fn is None or gs.result_types(ctx, fn)[-1:] != ["error"]:
        return False
    exprs = gs.returned_values(ret)
    return bool(exprs) and ctx.text(exprs[-1]).strip() != "nil"


def under_once(ctx: FileContext, node: Node) -> bool:
    """True inside `x.Do(func() {...})` (sync.Once): started once per program, not per call."""
    chain = gs.ancestors(node)
    for p in chain:
        if p.type == "func_literal":
            args = next(chain, None)  # climb on through the same iterator: `.parent` is O(depth)
            call = next(chain, None) if args is not None else None
            if (
                call is not None
                and call.type == "call_expression"
                and gs.call_name(ctx, call).endswith(".Do")
            ):
                return True
        if p.type in ("function_declaration", "method_declaration"):
            return False
    return False


def is_http_handler(ctx: FileContext, fn: Node) -> bool:
    """A function taking (http.ResponseWriter, *http.Request): it runs once per request."""
    types = {t for _, t in gs.parameters(ctx, fn)}
    return any(t.endswith("ResponseWriter") for t in types) and any(
        t.endswith(".Request") for t in types
    )


_UNITS = {
    "Nanosecond": 1.0,
    "Microsecond": 1e3,
    "Millisecond": 1e6,
    "Second": 1e9,
    "Minute": 60e9,
    "Hour": 3600e9,
}


def duration_ns(ctx: FileContext, node: Node | None, depth: int = 0) -> float | None:
    """The value in nanoseconds of a constant duration expression (`24 * time.Hour`), else None.

    Follows package-level and local `const` names declared in this file.
    """
    if node is None or depth > 8:
        return None
    t = node.type
    if t == "int_literal":
        try:
            return float(int(ctx.text(node).replace("_", ""), 0))
        except (ValueError, OverflowError):
            return None  # not a number Python reads, or past a float (a 400-digit constant)
    if t == "float_literal":
        try:
            return float(ctx.text(node).replace("_", ""))
        except ValueError:
            return None
    if t == "parenthesized_expression":
        inner = node.named_children
        return duration_ns(ctx, inner[0], depth + 1) if inner else None
    if t == "selector_expression":
        operand = node.child_by_field_name("operand")
        if operand is not None and gs.imports(ctx).get(ctx.text(operand)) == "time":
            return _UNITS.get(ctx.text(node.child_by_field_name("field")))
        return None
    if t == "call_expression" and gs.call_name(ctx, node).endswith("Duration"):
        args = gs.arguments(node)
        return duration_ns(ctx, args[0], depth + 1) if len(args) == 1 else None
    if t == "binary_expression":
        left = duration_ns(ctx, node.child_by_field_name("left"), depth + 1)
        right = duration_ns(ctx, node.child_by_field_name("right"), depth + 1)
        op = node.child_by_field_name("operator")
        if left is None or right is None or op is None:
            return None
        if op.type == "*":
            return left * right
        if op.type == "+":
            return left + right
        if op.type == "-":
            return left - right
        if op.type == "/" and right:
            return left / right
        return None
    if t == "identifier":
        spec = gs.const_spec(ctx, node) or _unwritten_package_var(ctx, node)
        if spec is None:
            return None
        names, values = gs.assignment_sides(spec)
        for n, v in zip(names, values, strict=False):
            if ctx.text(n) == ctx.text(node):
                return duration_ns(ctx, v, depth + 1)
    return None


def _unwritten_package_var(ctx: FileContext, ident: Node) -> Node | None:
    """The spec of a package-level `var` of this file that `ident` names, when nothing in the package's
    production files writes it (no `name =`, `name +=`, `name++`, `&name`): a constant in all but keyword
    (go-micro's `var sendEventTime = 10 * time.Millisecond`, held-out set 84). A test may set it; the
    production process does not. None when shadowed by a local, or written anywhere (even by a local of
    that name: the byte test does not tell them apart, and says "not known")."""
    from leakhunter.source.gopackage import package_files

    name = ctx.text(ident)
    spec = gs.package_vars(ctx).get(name)
    if spec is None or gs.is_local_name(ctx, ident, name):
        return None
    needle = name.encode()
    for f in package_files(ctx):
        if f.is_test or needle not in f.source:
            continue
        idx = gs.tree_index(f.tree.root_node).by_type
        for n in (*idx.get("assignment_statement", ()), *idx.get("inc_statement", ()), *idx.get("dec_statement", ())):
            left = n.child_by_field_name("left") if n.type == "assignment_statement" else \
                (n.named_children[0] if n.named_children else None)
            targets = left.named_children if left is not None and left.type == "expression_list" else [left]
            if any(t is not None and t.type == "identifier" and f.text(t) == name for t in targets):
                return None
        for n in idx.get("unary_expression", ()):
            op = n.child_by_field_name("operand")
            if f.text(n.child_by_field_name("operator")) == "&" and op is not None and f.text(op) == name:
                return None
    return spec


_BREAKABLE = frozenset(
    {"for_statement", "expression_switch_statement", "type_switch_statement", "select_statement"}
)


def breaks_out_of(brk: Node) -> Node | None:
    """The statement an unlabelled `break` leaves (loop, switch or select), within its function."""
    for p in gs.ancestors(brk):
        if p.type in _BREAKABLE:
            return p
        if p.type in gs.FUNC_TYPES:
            return None
    return None


def loop_exits(loop: Node) -> list[Node]:
    """Statements in a loop's body that leave it early: return, a break of this loop, goto,
    and labelled break/continue (which target an enclosing statement). Closures excluded."""
    body = loop.child_by_field_name("body")
    if body is None:
        return []
    out: list[Node] = []
    for n in gs.walk(
        body, ("return_statement", "goto_statement", "break_statement", "continue_statement")
    ):
        if n.type in ("return_statement", "goto_statement"):
            out.append(n)
        elif (
            n.named_children
        ):  # labelled: assume it leaves (precision: no finding relies on staying)
            label = n.named_children[0].text or b""
            if not _labels_inside(loop, label):
                out.append(n)
        elif n.type == "break_statement" and breaks_out_of(n) == loop:
            out.append(n)
    return out


def in_dead_case(ctx: FileContext, node: Node) -> bool:
    """`node` runs only in a select case that can never be chosen (`Paths.never_fires`): a receive from
    a local channel nothing sends on or closes, or `<-ctx.Done()` of a context that is never done.
    A consumer's `case <-ctx.Done(): return` under a context every caller makes with
    `context.Background()` is no way to leave its range (snowflake's SQS handler, held-out set 37)."""
    for p in gs.ancestors(node):
        if p.type in gs.FUNC_TYPES:
            return False
        if p.type == "communication_case":
            return Paths(ctx, []).never_fires(p)
    return False


def _labels_inside(loop: Node, label: bytes) -> bool:
    body = loop.child_by_field_name("body")
    if body is None:
        return False
    for c in gs.walk(body, "labeled_statement"):
        name = c.child_by_field_name("label")
        if name is not None and name.text == label:
            return True
    return False


def _never_done_receive(ctx: FileContext, comm: Node) -> bool:
    """`<-ctx.Done()` where `ctx` is `context.Background()`, a local set only to such contexts, or a
    parameter every caller fills with one (`program.contexts.never_done`), callers only the module
    has (an exported library function's users pass their own): the receive never completes. Cached
    per receive: a select in a loop is walked once per path."""
    if comm.type != "unary_expression" or not comm.named_children:
        return False
    call = comm.named_children[0]
    fn = call.child_by_field_name("function") if call.type == "call_expression" else None
    if fn is None or fn.type != "selector_expression" or ctx.text(fn.child_by_field_name("field")) != "Done" \
            or gs.arguments(call):
        return False
    operand = fn.child_by_field_name("operand")
    if operand is None or operand.type not in ("identifier", "call_expression"):
        return False
    memo: dict[int, bool] = ctx.cache.setdefault("goflow.never_done", {})  # type: ignore[assignment]
    got = memo.get(comm.id)
    if got is None:
        from leakhunter.source.program.contexts import never_done

        owner = gs.enclosing_function(comm)
        got = owner is not None and never_done(ctx, owner, operand, comm, closed=True)
        memo[comm.id] = got
    return got


def dead_operations(ctx: FileContext) -> frozenset[tuple[int, int]]:
    """Spans of sends / receives on local unbuffered channels that have no counterpart anywhere.

    `select { case c <- v: ... case c2 <- v: }` where nothing ever receives from c2: the c2
    case can never be chosen, so it is not a way for the owner to abandon c.
    """
    cached = ctx.cache.get("goflow.dead")
    if cached is not None:
        return cached  # type: ignore[return-value]
    out: set[tuple[int, int]] = set()
    for cf in chan_facts(ctx):
        if cf.escapes or cf.cap != 0:
            continue
        if not cf.of("recv", "range"):
            out.update((u.stmt.start_byte, u.stmt.end_byte) for u in cf.of("send"))
        if not cf.of("send", "close"):
            out.update((u.stmt.start_byte, u.stmt.end_byte) for u in cf.of("recv"))
    frozen = frozenset(out)
    ctx.cache["goflow.dead"] = frozen
    return frozen


def signalled_after(cf: ChanFacts, go: Node, after: int) -> frozenset[tuple[int, int]]:
    """Receives (in the owner) on other local channels that only goroutine `go` signals, after byte `after`.

    `go func() { ...; errs <- err; ...; close(done) }()` and an owner selecting on `errs`
    and `done`: `done` can only fire once the goroutine is past its sends, so the `done`
    case is not a way to abandon a pending send.
    """
    out: set[tuple[int, int]] = set()
    for other in cf_siblings(cf):
        signals = other.of("send", "close")
        if not signals or any(u.go is None or u.go.start_byte != go.start_byte for u in signals):
            continue
        if any(u.stmt.start_byte < after for u in signals):
            continue
        out.update(
            (u.stmt.start_byte, u.stmt.end_byte) for u in other.of("recv") if u.where == "body"
        )
    return frozenset(out)


def cf_siblings(cf: ChanFacts) -> list[ChanFacts]:
    """Other non-escaping channels made by the same function."""
    return [o for o in cf.siblings if o is not cf and not o.escapes and o.owner == cf.owner]


def exclusive_signals(
    ctx: FileContext, cf: ChanFacts, go: Node, pending: list[ChanUse]
) -> frozenset[tuple[int, int]]:
    """Receives (in the owner) on other local channels that goroutine `go` signals only on
    its way out: no path from the signal reaches a `pending` operation on `cf`.

    `go func() { if err != nil { errCh <- err; return }; resCh <- v }()` with an owner
    selecting on both: when the `errCh` case wins, the goroutine has nothing left to do on
    resCh, so that case is not a way to abandon it (one send, not two). The same holds in
    an `else` branch, a switch, a loop that returns after its error send (earlier sends on
    an unbuffered `cf` completed only because the owner took them), and for LH102 (the
    goroutine sends `failCh <- err` and returns instead of waiting on releaseCh).
    Only "signal never reaches pending" is needed: a pending operation that happens before
    the signal is done (unbuffered) or buffered by the time the signal can be received.
    The goroutine may be a same-file function (`go w.attempt(done, fail, release)`) when
    every operation is in that one body.
    """
    if not pending:
        return frozenset()
    fn = goroutine_function(ctx, go)
    out: set[tuple[int, int]] = set()
    for other in cf_siblings(cf):
        signals = other.of("send", "close")
        if not signals or any(u.go is None or u.go.start_byte != go.start_byte for u in signals):
            continue
        callees = {id(u.callee) if u.callee is not None else 0 for u in [*signals, *pending]}
        if len(callees) != 1:
            continue  # the paths must be in one body: the goroutine's own or one callee's
        where = pending[0].callee if pending[0].callee is not None else fn
        body = where.child_by_field_name("body") if where is not None else None
        if body is None:
            continue
        if all(_never_reaches(ctx, b.stmt, a.stmt, body)
               or (only_on_panic(ctx, b.stmt, body) and nothing_panics_after(a.stmt, body))
               or (_deferred_in(b.stmt, body) and not _deferred_in(a.stmt, body))
               for a in pending for b in signals):
            out.update(
                (u.stmt.start_byte, u.stmt.end_byte) for u in other.of("recv") if u.where == "body"
            )
    return frozenset(out)


def _deferred_in(stmt: Node, body: Node) -> bool:
    """`stmt` runs as the goroutine of `body` leaves: it is, or sits in the function literal of, a
    `defer` of `body`'s own function (`defer close(timeCh)`, `defer func() { ch <- v }()`). A pending
    operation of the body itself has completed by then, so the signal cannot abandon it: the
    goroutine that sends on exactly one of `done`/`timeCh` and closes both in its defers (Huawei's
    execShellCmdTimeout, held-out set 112)."""
    node: Node | None = stmt
    while node is not None and node != body:
        if node.type == "defer_statement":
            return True
        if node.type == "func_literal" and not (
            node.parent is not None and node.parent.type == "call_expression"
            and node.parent.parent is not None and node.parent.parent.type == "defer_statement"
        ):
            return False
        node = node.parent
    return False


def only_on_panic(ctx: FileContext, stmt: Node, body: Node) -> bool:
    """`stmt` runs only while the goroutine unwinds from a panic: it sits in the `if` of
    `if r := recover(); r != nil { ... }` inside a `defer func() { ... }()` of `body` itself
    (libopenapi-validator's locateSchemaPropertyNode, held-out set 18: `doneChan <- true` there)."""
    guarded = False
    for p in gs.ancestors(stmt):
        if p.type == "if_statement" and not guarded:
            head = ctx.text(p.child_by_field_name("initializer")) + ctx.text(p.child_by_field_name("condition"))
            guarded = "recover()" in head and "!= nil" in head
        if p.type == "func_literal":
            call = p.parent
            defer = call.parent if call is not None else None
            return (guarded and call is not None and call.type == "call_expression" and defer is not None
                    and defer.type == "defer_statement" and _deferred_by(defer, body))
        if p == body:
            return False
    return False


def _deferred_by(defer: Node, body: Node) -> bool:
    """The `defer` is one of `body`'s own, run once: in its statements, or under an `if` of them
    (godef's `if !Panic { defer func() {...}() }`, held-out set 44), not in a loop or a closure."""
    cur = defer.parent
    while cur is not None and cur != body:
        if cur.type not in ("block", "statement_list", "if_statement"):
            return False
        cur = cur.parent
    return cur is not None


_CANNOT_PANIC = frozenset({"send_statement", "return_statement", "empty_statement"})


def nothing_panics_after(stmt: Node, body: Node) -> bool:
    """Every statement that can follow `stmt` in `body` is a send or a return (on the goroutine's own
    channels: they block, they do not panic), so a panic-only signal cannot come after it: whoever
    takes that signal has nothing left to take from `stmt`."""
    cur = stmt
    while cur != body:  # tree-sitter hands out a new Node per access: compare, do not test identity
        parent = cur.parent
        if parent is None:
            return False
        if parent.type in ("statement_list", "block"):
            kids = [k for k in parent.named_children if k.type != "comment"]
            if cur in kids and any(k.type not in _CANNOT_PANIC for k in kids[kids.index(cur) + 1:]):
                return False
        elif parent.type not in ("if_statement", "expression_statement") and parent != body:
            return False  # a loop, a switch, a select: more may run after it
        cur = parent
    return True


def _never_reaches(ctx: FileContext, src: Node, dst: Node, body: Node) -> bool:
    """No path from statement `src` to the end of `body` runs `dst` (None: unsure, False)."""
    stmt = src
    while stmt.parent is not None and stmt.parent.type not in ("statement_list", "block"):
        stmt = stmt.parent
    res = Paths(ctx, [dst]).after(stmt, body)
    return res is not None and "hit" not in res


def block_terminates(ctx: FileContext, block: Node) -> bool:
    """No path runs off the end of `block` (`Paths`: every one returns, panics, exits or fails the
    test). A `break`, `continue` or `goto` may leave the block for code after it: not terminating.
    LH109 asks it of a branch that holds a lock (cilium's identity updater); LH401 of the branch beside
    the one that drains a body (`if err != nil { return err } else if b, err := io.ReadAll(...)`)."""
    r = Paths(ctx, []).seq(gs.statements(block))
    return not ({"next", "brk", "cont", "hit"} & r.keys())
