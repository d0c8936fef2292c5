"""Contexts that can never be done: `context.Background()`, and a parameter every caller fills with one.

Why it is a fact of the program and not of one rule: LH107 asks it of a context the function drops
(passing on a context that is never cancelled changes nothing), and the goroutine rules ask it of a
`case <-ctx.Done():` in an owner's select (a case that never fires is no way to abandon a channel:
snowflake's SQS handler, whose only caller passes `context.Background()`, held-out set 37).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leakhunter.source import gosyntax as gs

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext


_NEVER_DONE = frozenset({"context.Background", "context.TODO", "context.WithoutCancel"})
"""Contexts that are never done, whatever they are derived from."""
_MAX_CALLER_LEVELS = 3


def never_cancelled(ctx: FileContext, fn: Node, cname: str, level: int = 0, closed: bool = False) -> bool:
    """`cname`, a context parameter of `fn`, can never be cancelled: every call of `fn` (its package's;
    an exported function's also in the module's packages importing it; at least one seen) passes
    `context.Background()`/`TODO()`/`WithoutCancel(...)`, a value-only derivation of one
    (`context.WithValue`, or a function whose every return is its context parameter or
    `context.WithValue` of it: trivy's `log.WithContextPrefix`), a local assigned only such
    contexts, or again such a parameter of the caller (up to three callers up). Then the work the
    function starts without it would not be cancelled with it either: passing it changes nothing
    (trivy's `NewSBOMReferenceSet` -> `retrieveExternalVEXDocument`).

    `closed`: only for functions nobody outside the module can call (`_closed`), at every level: a
    library's exported API called with `context.Background()` by its own tests and examples is called
    with cancellable contexts by its users, and a select case on its `Done()` fires for them."""
    from leakhunter.source.program.callsites import every_caller_argument

    if level >= _MAX_CALLER_LEVELS:
        return False
    if fn.type == "func_literal":
        return _literal_never_cancelled(ctx, fn, cname, level, closed)
    if fn.type not in ("function_declaration", "method_declaration") or (closed and not _closed(ctx, fn)):
        return False
    return every_caller_argument(
        ctx, fn, cname, lambda f, cfn, arg, call: never_done(f, cfn, arg, call, level + 1, 0, set(), closed))


def _closed(ctx: FileContext, decl: Node) -> bool:
    """Only the module can call `decl`: it is in a `main` package or an `internal/` directory, or it is
    an unexported function or method."""
    if gs.package_name(ctx) == "main" or "/internal/" in f"/{ctx.path}":
        return True
    name = ctx.text(decl.child_by_field_name("name"))
    return bool(name) and not name[:1].isupper()


def _literal_never_cancelled(ctx: FileContext, lit: Node, cname: str, level: int, closed: bool = False) -> bool:
    """`never_cancelled` for a func literal: called on the spot (`func(ctx ...) {...}(context.Background())`)
    or bound to a local (`do := func(ctx context.Context) {...}`) that the enclosing function only ever
    calls, each call passing a context that is never done (go-zero's trace handler tests call their
    request closures with `context.Background()`, held-out set 14). A local that is used any other way
    (handed to `t.Run`, stored, returned) has callers nobody sees: False."""
    index = next((i for i, (n, _) in enumerate(gs.parameters(ctx, lit)) if n == cname), None)
    outer = gs.enclosing_function(lit)
    if index is None or outer is None:
        return False
    parent = lit.parent
    if parent is not None and parent.type == "call_expression" and parent.child_by_field_name("function") == lit:
        calls = [parent]
    else:
        decl = parent.parent if parent is not None and parent.type == "expression_list" else None
        if decl is None or decl.type not in ("short_var_declaration", "assignment_statement"):
            return False
        lefts, rights = gs.assignment_sides(decl)
        if len(lefts) != 1 or len(rights) != 1 or rights[0] != lit or lefts[0].type != "identifier":
            return False
        name = ctx.text(lefts[0])
        body = outer.child_by_field_name("body")
        calls = []
        for ident in gs.identifiers(ctx, body, name) if body is not None else ():
            if ident == lefts[0]:
                continue
            call = ident.parent
            if call is None or call.type != "call_expression" or call.child_by_field_name("function") != ident:
                return False  # handed on, stored or reassigned: callers not seen
            calls.append(call)
    if not calls:
        return False
    for call in calls:
        args = gs.arguments(call)
        if index >= len(args) or not never_done(ctx, outer, args[index], call, level + 1, 0, set(), closed):
            return False
    return True


def never_done(
    ctx: FileContext, fn: Node, expr: Node, at: Node, level: int = 0, depth: int = 0,
    busy: set[tuple[int, str]] | None = None, closed: bool = False,
) -> bool:
    """A context expression at `at` (in `fn`) that is never done (see `never_cancelled`). `busy`: the
    locals being judged (`ctx = log.WithContextAttrs(ctx, ...)` derives from its earlier value, which
    its other assignments decide)."""
    from leakhunter.source.program.callsites import call_declaration

    if busy is None:
        busy = set()
    if depth > 6:
        return False
    while expr.type == "parenthesized_expression" and expr.named_children:
        expr = expr.named_children[0]
    if expr.type == "call_expression":
        q = gs.qualified_call_name(ctx, expr)
        args = gs.arguments(expr)
        if q in _NEVER_DONE:
            return True
        if q == "context.WithValue":
            return bool(args) and never_done(ctx, fn, args[0], at, level, depth + 1, busy, closed)
        if q.startswith("context."):
            return False  # WithCancel, WithTimeout, ...
        decl = call_declaration(ctx, expr)
        if decl is None:
            return False
        i = _value_only(decl[0], decl[1])
        return i is not None and i < len(args) and never_done(ctx, fn, args[i], at, level, depth + 1, busy, closed)
    if expr.type != "identifier":
        return False
    name = ctx.text(expr)
    cur: Node | None = fn
    while cur is not None:
        if any(n == name for n, _ in gs.parameters(ctx, cur)):
            return never_cancelled(ctx, cur, name, level, closed)
        body = cur.child_by_field_name("body")
        sets = [
            d for d in (gs.walk(body, ("short_var_declaration", "assignment_statement", "var_spec"),
                                into_func_literals=True) if body is not None else ())
            if name in gs.assigned_names(ctx, d)
        ]
        if sets:
            if (cur.id, name) in busy:
                return True
            busy.add((cur.id, name))
            for d in sets:
                v = gs.assigned_value(ctx, d, name)
                lefts, rights = gs.assignment_sides(d)
                if v is None or len(rights) != len(lefts) or not never_done(ctx, cur, v, d, level, depth + 1, busy, closed):
                    return False
            return True
        cur = gs.enclosing_function(cur) if cur.type == "func_literal" else None
    return False


def _value_only(ctx: FileContext, decl: Node, depth: int = 0) -> int | None:
    """The index of the context parameter of a function whose every return hands back a value-only
    derivation of that parameter (a context with values added, never cancelled on its own); None
    otherwise. A derivation is the parameter itself (every assignment to it in the body being one
    again: `ctx = context.WithValue(ctx, k, m)`), `context.WithValue` of one, or a call of another such
    function on one, up to three calls deep (go-livepeer's `clog.AddManifestID` returns `AddVal(ctx, ...)`,
    which stores its values map with `ctx = context.WithValue(ctx, ...)` and returns ctx, held-out set 104)."""
    params = gs.parameters(ctx, decl)
    cands = [i for i, (n, t) in enumerate(params) if t.endswith("context.Context") and n not in ("", "_")]
    body = decl.child_by_field_name("body")
    if len(cands) != 1 or body is None or gs.result_types(ctx, decl)[:1] != ["context.Context"]:
        return None
    pname = params[cands[0]][0]
    rets = list(gs.walk(body, "return_statement"))
    if not rets:
        return None
    sets = [d for d in gs.walk(body, ("short_var_declaration", "assignment_statement", "var_spec"))
            if pname in gs.assigned_names(ctx, d)]
    if any(d.type != "assignment_statement" or not _derived(ctx, gs.assigned_value(ctx, d, pname), pname, depth)
           for d in sets):
        return None  # shadowed, or set to something else than a derivation of itself
    for r in rets:
        vals = gs.returned_values(r)
        if len(vals) != 1 or not _derived(ctx, vals[0], pname, depth):
            return None
    return cands[0]


def value_only_call(ctx: FileContext, call: Node) -> int | None:
    """The index of the context argument of `call` when whatever it reaches hands back a value-only
    derivation of that argument (`_value_only`): each of `summaries.possible_callees`, its declaration or
    every method of the module that a call through an interface may reach (Grafeas' `ctx = g.Logger.PrepareCtx(ctx, pID)`, whose only
    implementation, `NoOpLogger`, returns ctx: held-out set 116). The result is then done exactly when
    the argument is. None when anything it may reach is not known to be such."""
    from leakhunter.source.program.summaries import possible_callees

    callees = possible_callees(ctx, call)
    if not callees:
        return None
    found = {_value_only(d, n) for d, n in callees}
    if len(found) != 1:
        return None
    return found.pop()


def _derived(ctx: FileContext, v: Node | None, pname: str, depth: int) -> bool:
    """`v` is `pname`, `context.WithValue(<derived>, ...)` or a value-only function called on a derived
    context (see `_value_only`)."""
    from leakhunter.source.program.callsites import call_declaration

    while v is not None and v.type == "parenthesized_expression" and v.named_children:
        v = v.named_children[0]
    if v is None:
        return False
    if v.type == "identifier":
        return ctx.text(v) == pname
    if v.type != "call_expression":
        return False
    args = gs.arguments(v)
    if gs.qualified_call_name(ctx, v) == "context.WithValue":
        return bool(args) and _derived(ctx, args[0], pname, depth)
    if depth >= 3 or gs.qualified_call_name(ctx, v).startswith("context."):
        return False
    decl = call_declaration(ctx, v)
    i = _value_only(decl[0], decl[1], depth + 1) if decl is not None else None
    return i is not None and i < len(args) and _derived(ctx, args[i], pname, depth)
