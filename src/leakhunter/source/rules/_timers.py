"""Go-version facts and loop shapes shared by the timer rules (LH301 to LH304).

Go 1.23 changed what an unstopped timer costs: an unreferenced Timer or Ticker is
collected even if never stopped, and its channel no longer buffers a stale tick.
The module's `go` directive decides which behaviour a build gets (older go.mod
files keep the old one through GODEBUG asynctimerchan=1), so the rules ask
`collects_timers(ctx)` rather than the toolchain's version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leakhunter.source import gosyntax as gs
from leakhunter.source.release import is_terminator

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext

GO_COLLECTS_TIMERS = (1, 23)


def collects_timers(ctx: FileContext) -> bool:
    """True if the module's Go version collects unreferenced, unstopped timers (None: current Go)."""
    return ctx.go_version is None or ctx.go_version >= GO_COLLECTS_TIMERS


def version_text(ctx: FileContext) -> str:
    if ctx.go_version is None:
        return "current Go"
    return f"go {ctx.go_version[0]}.{ctx.go_version[1]}"


def loop_exits(ctx: FileContext, loop: Node) -> bool:
    """True if a `for` loop can end: it has a condition or range (over something other than a
    ticker's channel), or its body has a `return`, a `break` out of it, a `goto`, or a
    terminating call. Nested func literals do not count."""
    clause = next((c for c in loop.named_children if c.type in ("for_clause", "range_clause")), None)
    body = loop.child_by_field_name("body")
    if clause is None:
        header = [c for c in loop.named_children if c != body and c.type != "comment"]
        if header:
            return True
    elif clause.type == "for_clause":
        if clause.child_by_field_name("condition") is not None:
            return True
    else:
        right = clause.child_by_field_name("right")
        text = ctx.text(right)
        if not (text.endswith(".C") or text.startswith("time.Tick(")):
            return True  # ranging over a ticker's channel never ends: it is never closed
    if body is None:
        return False
    label = ""
    if loop.parent is not None and loop.parent.type == "labeled_statement":
        label = ctx.text(loop.parent.child_by_field_name("label"))
    for n in gs.walk(body, ("return_statement", "break_statement", "goto_statement", "expression_statement")):
        if n.type in ("return_statement", "goto_statement"):
            return True
        if n.type == "expression_statement":
            if is_terminator(ctx, n) and gs.call_name(ctx, n.named_children[0]) in ("runtime.Goexit",):
                return True
            continue
        lab = next((c for c in n.named_children if c.type == "label_name"), None)
        if lab is not None:
            if ctx.text(lab) == label:
                return True
            continue
        if _innermost_breakable(n) == loop:
            return True
    return False


def _innermost_breakable(n: Node) -> Node | None:
    for p in gs.ancestors(n):
        if p.type in gs.FUNC_TYPES:
            return None
        if p.type in ("for_statement", "expression_switch_statement", "type_switch_statement", "select_statement"):
            return p
    return None


def runs_once(ctx: FileContext, fn: Node, depth: int = 0) -> bool:
    """True if `fn` runs at most once in the life of the program: `main`, `init`, a function (or
    a func literal inside one) called only from such functions outside any loop, or only from a
    package-level `var` initializer (`var defaultPoller = newPoller()`).

    A ticker owned by such a goroutine lives as long as the program by design: one ticker,
    not one per call. Exported functions may be called from other packages: never "once".
    """
    if depth > 3:
        return False
    if fn.type == "func_literal":
        p = fn.parent
        while p is not None and p.type == "parenthesized_expression":
            p = p.parent
        if p is None or p.type != "call_expression" or gs.in_loop(fn) is not None:
            return False
        outer = gs.enclosing_function(fn)
        return outer is not None and runs_once(ctx, outer, depth + 1)
    if fn.type not in ("function_declaration", "method_declaration"):
        return False
    name = ctx.text(fn.child_by_field_name("name"))
    if fn.type == "function_declaration" and (name == "init" or (name == "main" and gs.package_name(ctx) == "main")):
        return True
    if not name or name[0].isupper() or name == "_":
        return False
    from leakhunter.source.gopackage import package_files

    refs = 0
    for f in package_files(ctx):
        if f.is_test:
            continue
        wanted = "field_identifier" if fn.type == "method_declaration" else "identifier"
        stack = [f.tree.root_node]
        while stack:
            n = stack.pop()
            if n.type == wanted and n.text == name.encode():
                p = n.parent
                if p is not None and p.type in ("function_declaration", "method_declaration") and n == p.child_by_field_name("name"):
                    continue
                if p is not None and p.type == "method_elem":
                    return False  # an interface method: callers are anyone's
                if not _is_called(n):
                    return False  # a function value (`handler(waitReady)`): called any number of times
                refs += 1
                caller = gs.enclosing_function(n)
                if caller is None:
                    if not any(a.type == "var_declaration" for a in gs.ancestors(n)):
                        return False
                    continue
                if gs.in_loop(n) is not None or not runs_once(f, caller, depth + 1):
                    return False
                continue
            stack.extend(n.children)
    return refs > 0


def _is_called(name: Node) -> bool:
    """True if this mention of a function's name is the callee of a call (`f()`, `x.f()`),
    not a function value handed on, whose calls cannot be counted from here."""
    callee = name
    p = name.parent
    if p is not None and p.type == "selector_expression" and p.child_by_field_name("field") == name:
        callee, p = p, p.parent
    return p is not None and p.type == "call_expression" and p.child_by_field_name("function") == callee
