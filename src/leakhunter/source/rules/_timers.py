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
