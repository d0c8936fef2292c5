"""Branches of a callee that its caller has already ruled out (issue #8, "a flag the caller tested").

A method often serves two modes behind a field of its receiver (`if !d.cachingEnabled { return
d.DB.PrepareContext(ctx, q) }`, then the caching path), and the package's other methods test the same
field before they call it (`if !d.cachingEnabled { return d.DB.ExecContext(...) }` ... `d.PrepareContext`):
at that call the callee's first branch cannot run. A summary of the callee that counts that branch
(go-jet's statement cache, held-out set 21: "a statement the caller must close", two false findings)
answers for a path the program never takes.

Only the plainest form is read, on purpose: the callee's branch is the consequence of an `if` whose
condition reads nothing but fields of its receiver (`!r.f`, `r.f == nil`, `r.a && !r.b`); the caller,
in a block around the call and before it, has an `if` with the same condition on the call's receiver
expression, no `else`, whose body always leaves the function (`goflow.block_terminates`: a return, a
panic, an exit). Nothing
between them is checked for writes to the field (a method that flips its own mode between the test
and the call would fool this; none was seen).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from leakhunter.source import gosyntax as gs

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext


def _fields_only(ctx: FileContext, cond: Node, recv: str) -> bool:
    """`cond` reads only fields of `recv` (and nil/true/false), combined with !, &&, ||, ==, !=."""
    idents = list(gs.walk(cond, "identifier", into_func_literals=True))
    if not idents or any(n.type == "call_expression" for n in gs.walk(cond, "call_expression")):
        return False
    for ident in idents:
        parent = ident.parent
        if ctx.text(ident) != recv or parent is None or parent.type != "selector_expression" \
                or parent.child_by_field_name("operand") != ident:
            return False
    return True


def ruled_out_by_caller(dctx: FileContext, method: Node, node: Node, ctx: FileContext, call: Node) -> bool:
    """`node` (in `method`, a method declaration of `dctx`) lies in a branch on the receiver's fields
    that the caller, at `call` (`x.M(...)` in `ctx`), has already left the function for (module doc)."""
    from leakhunter.source.goflow import block_terminates

    recv = gs.receiver_name(dctx, method)
    fn = call.child_by_field_name("function")
    operand = fn.child_by_field_name("operand") if fn is not None and fn.type == "selector_expression" else None
    if not recv or recv == "_" or operand is None or operand.type not in ("identifier", "selector_expression"):
        return False
    body = method.child_by_field_name("body")
    wanted: list[str] = []
    for p in gs.guarding_ifs(node, body):
        cond = p.child_by_field_name("condition")
        if p.child_by_field_name("initializer") is None and cond is not None and _fields_only(dctx, cond, recv):
            text = gs._compact(dctx.text(cond))
            wanted.append(re.sub(rf"(?<![\w.]){re.escape(recv)}\.", gs._compact(ctx.text(operand)) + ".", text))
    if not wanted:
        return False
    caller = gs.enclosing_function(call)
    for p in gs.ancestors(call):
        if p == caller:
            break
        if p.type != "block":
            continue
        for stmt in gs.statements(p):
            if stmt.start_byte >= call.start_byte:
                break
            if stmt.type != "if_statement" or stmt.child_by_field_name("alternative") is not None \
                    or stmt.child_by_field_name("initializer") is not None:
                continue
            cond = stmt.child_by_field_name("condition")
            cons = stmt.child_by_field_name("consequence")
            if cond is not None and cons is not None and gs._compact(ctx.text(cond)) in wanted \
                    and block_terminates(ctx, cons):
                return True
    return False
