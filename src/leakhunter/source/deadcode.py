"""Code that never runs because a constant condition rules it out (`constexpr`).

Three places: the consequence of an `if` whose condition is constant false, the `else` of one
whose condition is constant true, and the statements after an `if` whose taken branch always
returns or panics (`if !nativeReceive { ...; return nil }` with `const nativeReceive = false`
leaves the rest of the function dead). The scanner drops findings located there; the path
analysis (`goflow.Paths`) takes the only branch a constant condition allows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leakhunter.source import gosyntax as gs
from leakhunter.source.constexpr import constant_bool
from leakhunter.source.goflow import block_terminates

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext


Span = tuple[tuple[int, int], tuple[int, int]]
"""(row, column) of a dead region's start and end, 0-based as tree-sitter counts them."""


def dead_spans(ctx: FileContext) -> list[Span]:
    """Regions of code that cannot run (memoised per file)."""
    cached = ctx.cache.get("deadcode.spans")
    if cached is not None:
        return cached  # type: ignore[return-value]
    out: list[Span] = []
    if b"if" in ctx.source:
        for s in gs.nodes_of_type(ctx, "if_statement"):
            out.extend(_dead_under(ctx, s))
    ctx.cache["deadcode.spans"] = out
    return out


def is_dead(ctx: FileContext, row: int, column: int) -> bool:
    """The 0-based point lies in code that cannot run."""
    return any(a <= (row, column) < b for a, b in dead_spans(ctx))


def _dead_under(ctx: FileContext, s: Node) -> list[Span]:
    value = constant_bool(ctx, s.child_by_field_name("condition"))
    if value is None:
        return []
    taken = s.child_by_field_name("consequence" if value else "alternative")
    skipped = s.child_by_field_name("alternative" if value else "consequence")
    out: list[Span] = [(skipped.start_point, skipped.end_point)] if skipped is not None else []
    if taken is not None and taken.type == "block" and block_terminates(ctx, taken):
        rest = _following(s)
        if rest and all(next(gs.walk(r, "labeled_statement"), None) is None for r in rest):
            out.append((rest[0].start_point, rest[-1].end_point))  # no label a `goto` could enter by
    return out


def _following(s: Node) -> list[Node]:
    """Statements after `s` in its own block (or after the outermost `if` of an `else if` chain)."""
    if s.parent is not None and s.parent.type == "if_statement":
        return []  # an `else if` whose branch ends: the chain's other branches still run
    block = s.parent
    if block is not None and block.type == "statement_list":
        block = block.parent
    if block is None or block.type != "block":
        return []
    stmts = gs.statements(block)
    return stmts[stmts.index(s) + 1 :] if s in stmts else []
