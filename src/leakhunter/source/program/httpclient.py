"""Which `http.Client.Timeout` does a request go through? (LH401: a body left open is released then.)

`net/http`'s `Client.Timeout` "includes ... reading the response body. The timer remains running
after Get, Head, Post, or Do return" (client.go). `setRequestCancel` gives the request a context with
that deadline (or a Cancel channel closed by a timer), and `cancelTimerBody.Close` is what stops it;
when nobody closes the body the timer fires, the transport's read loop sees the request's context
done (`case <-rc.treq.ctx.Done(): pc.cancelRequest(...)`, transport.go; HTTP/2 resets the stream
the same way) and closes the connection, and its two goroutines end. So a body left open on such a
client holds its connection for at most the timeout: a bounded cost, not a leak that grows.

This module finds the client of `x.Do(req)` / `x.Get(u)` by following `x` as written: a local (of
the function or of the functions around a closure) or package variable assigned an `http.Client`
literal or a constructor's result (then `x.Timeout = d`), a struct field every assignment of which
in the package is such a client, and constructors read from their declarations (this package, or
another package of the module or its dependencies): one that builds the client with a Timeout, or
takes an option function whose body sets `client.Timeout` (trivy's
`xhttp.ClientWithContext(ctx, xhttp.WithTimeout(3*time.Second))`). The timeout must be a duration
written in the code (`30 * time.Second`, a constant, a parameter bound to such an argument): a
`Timeout: cfg.Timeout` may be zero, which means no timeout, and is not taken.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leakhunter.source import gosyntax as gs
from leakhunter.source.program.callsites import call_declaration

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext

_MAX_DEPTH = 3
_UNITS = frozenset({"Nanosecond", "Microsecond", "Millisecond", "Second", "Minute", "Hour"})
_Bindings = dict[str, tuple["FileContext", "Node"]]
"""Parameter name -> the argument a call site passes (in that call site's file)."""


def client_timeout(ctx: FileContext, call: Node) -> str:
    """The Timeout (as written) of the `http.Client` whose method `call` is; '' when there is none,
    it may be zero, or the client cannot be followed. `http.Get(u)` (the default client) has none."""
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "selector_expression":
        return ""
    op = _strip(fn.child_by_field_name("operand"))
    if op is None:
        return ""
    if op.type == "identifier":
        name = ctx.text(op)
        if name in gs.imports(ctx) and not gs.is_local_name(ctx, op, name):
            return ""  # http.Get: DefaultClient, no timeout
        return _variable(ctx, call, name, 0)
    if op.type == "selector_expression":
        return _field(ctx, op, 0)
    return ""


def _compact(text: str) -> str:
    return "".join(text.split())


def _strip(n: Node | None) -> Node | None:
    """Without parentheses and a taking of the address (`&http.Client{...}`)."""
    while n is not None:
        if n.type == "parenthesized_expression" and n.named_children:
            n = n.named_children[0]
        elif n.type == "unary_expression" and _operator(n) == "&" and n.named_children:
            n = n.named_children[-1]
        else:
            return n
    return n


def _operator(n: Node) -> str:
    op = n.child_by_field_name("operator")
    return op.type if op is not None else ""


def _variable(ctx: FileContext, at: Node, name: str, depth: int) -> str:
    """`name` as seen at `at`: its last assignment before `at` in the innermost function that assigns
    it (closures look outwards), then any `name.Timeout = d` after it; or a package variable."""
    if depth > _MAX_DEPTH:
        return ""
    for f in gs.ancestors(at):
        if f.type not in gs.FUNC_TYPES:
            continue
        if any(p == name for p, _ in gs.parameters(ctx, f)):
            return ""  # handed in: the callers' clients are not followed
        body = f.child_by_field_name("body")
        if body is None:
            continue
        value: Node | None = None
        def_at: Node | None = None
        later = ""
        for d in gs.walk(body, ("short_var_declaration", "assignment_statement", "var_spec")):
            if d.start_byte >= at.start_byte:
                break
            lefts, _ = gs.assignment_sides(d)
            texts = [_compact(ctx.text(x)) for x in lefts]
            if name in texts:
                value, def_at, later = gs.assigned_value(ctx, d, name), d, ""
            elif f"{name}.Timeout" in texts and def_at is not None:
                v = gs.assigned_value(ctx, d, f"{name}.Timeout")
                later = _duration(ctx, v, {}, depth) if v is not None else ""
                if not later:
                    return ""  # a Timeout set to something that may be zero
        if def_at is not None:
            if later:
                return later
            return _client_value(ctx, value, depth + 1) if value is not None else ""
    spec = gs.package_vars(ctx).get(name)
    if spec is not None:
        v = gs.assigned_value(ctx, spec, name)
        return _client_value(ctx, v, depth + 1) if v is not None else ""
    return ""


def _client_value(ctx: FileContext, v: Node, depth: int) -> str:
    """The Timeout of the client an expression makes: an `http.Client` literal, a constructor call,
    another variable."""
    v = _strip(v) or v
    if v.type == "composite_literal":
        return _literal_timeout(ctx, v, {}, depth)
    if v.type == "call_expression":
        return _constructor(ctx, v, depth)
    if v.type == "identifier":
        return _variable(ctx, v, ctx.text(v), depth + 1)
    return ""


def _literal_timeout(ctx: FileContext, lit: Node, bound: _Bindings, depth: int) -> str:
    typ = _compact(ctx.text(lit.child_by_field_name("type")))
    if not typ.endswith("http.Client"):
        return ""
    body = lit.child_by_field_name("body")
    for kv in body.named_children if body is not None else ():
        kids = kv.named_children
        if kv.type == "keyed_element" and len(kids) == 2 and ctx.text(kids[0]).strip() == "Timeout":
            return _duration(ctx, _value_of(kids[1]), bound, depth)
    return ""


def _value_of(n: Node) -> Node:
    """A `literal_element` wraps the expression in newer grammars."""
    return n.named_children[0] if n.type == "literal_element" and n.named_children else n


def _duration(ctx: FileContext, n: Node | None, bound: _Bindings, depth: int) -> str:
    """`n` as written when it is a non-zero duration known from the code, else ''."""
    if n is None or depth > _MAX_DEPTH + 2:
        return ""
    n = _value_of(n)
    t = n.type
    text = _compact(ctx.text(n))
    if t == "parenthesized_expression" and n.named_children:
        return text if _duration(ctx, n.named_children[0], bound, depth + 1) else ""
    if t in ("int_literal", "float_literal"):
        return text if text.strip("0._xX") else ""
    if t == "selector_expression":
        op = n.child_by_field_name("operand")
        field = ctx.text(n.child_by_field_name("field"))
        ok = op is not None and gs.imports(ctx).get(ctx.text(op)) == "time" and field in _UNITS
        return text if ok else ""
    if t == "binary_expression":
        oper = ctx.text(n.child_by_field_name("operator"))
        left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
        if oper in ("*", "+"):
            a = _duration(ctx, left, bound, depth + 1)
            b = _duration(ctx, right, bound, depth + 1)
            return text if a and b else ""
        return ""
    if t == "call_expression" and gs.qualified_call_name(ctx, n) == "time.Duration":
        args = gs.arguments(n)
        return text if len(args) == 1 and _duration(ctx, args[0], bound, depth + 1) else ""
    if t == "identifier":
        name = ctx.text(n)
        if name in bound:
            actx, arg = bound[name]
            return _duration(actx, arg, {}, depth + 1)
        spec = gs.package_consts(ctx).get(name)
        if spec is not None and not gs.is_local_name(ctx, n, name):
            v = gs.assigned_value(ctx, spec, name)
            return text if v is not None and _duration(ctx, v, {}, depth + 1) else ""
    return ""


def _bind(dctx: FileContext, decl: Node, ctx: FileContext, call: Node) -> _Bindings:
    params = [p for p, _ in gs.parameters(dctx, decl)]
    args = gs.arguments(call)
    return {p: (ctx, a) for p, a in zip(params, args, strict=False) if p and p != "_"}


def _constructor(ctx: FileContext, call: Node, depth: int) -> str:
    """A call that returns a client: its declaration sets a known Timeout on the client it builds,
    or one of its arguments is an option whose declaration sets `c.Timeout` on the `*http.Client`
    it is handed."""
    if depth > _MAX_DEPTH:
        return ""
    decl = call_declaration(ctx, call)
    if decl is not None:
        dctx, dnode = decl
        got = _sets_timeout(dctx, dnode, _bind(dctx, dnode, ctx, call), depth + 1, client_param=False)
        if got:
            return got
    for arg in gs.arguments(call):
        arg = _value_of(arg)
        if arg.type != "call_expression":
            continue
        odecl = call_declaration(ctx, arg)
        if odecl is None:
            continue
        octx, onode = odecl
        got = _sets_timeout(octx, onode, _bind(octx, onode, ctx, arg), depth + 1, client_param=True)
        if got:
            return got
    return ""


def _sets_timeout(ctx: FileContext, decl: Node, bound: _Bindings, depth: int, *, client_param: bool) -> str:
    """A known Timeout the function's body gives a client: an `http.Client{Timeout: d}` literal, or
    `c.Timeout = d` on a `c *http.Client` parameter of a func literal in it (an option); with
    `client_param` only the latter (an option function's own business is its client argument)."""
    body = decl.child_by_field_name("body")
    if body is None:
        return ""
    if not client_param:
        for lit in gs.walk(body, "composite_literal", into_func_literals=True):
            got = _literal_timeout(ctx, lit, bound, depth)
            if got:
                return got
    for fl in gs.walk(body, "func_literal", into_func_literals=True):
        clients = {p for p, t in gs.parameters(ctx, fl) if t.endswith("http.Client") and t.startswith("*")}
        inner = fl.child_by_field_name("body")
        for d in gs.walk(inner, "assignment_statement") if clients and inner is not None else ():
            lefts, rights = gs.assignment_sides(d)
            if len(lefts) == 1 and len(rights) == 1 and _compact(ctx.text(lefts[0])) in {f"{c}.Timeout" for c in clients}:
                got = _duration(ctx, rights[0], bound, depth)
                if got:
                    return got
    return ""


def _field(ctx: FileContext, sel: Node, depth: int) -> str:
    """`c.client`: every assignment of that field of the receiver's own type in the package (keyed
    in a literal of the type, or `x.client = v`) is a client with a known Timeout; '' if one is not
    or none is found."""
    from leakhunter.source.gopackage import package_files
    from leakhunter.source.program import types as ty

    op = sel.child_by_field_name("operand")
    field = ctx.text(sel.child_by_field_name("field"))
    typ = ty.expr_type(ctx, op).lstrip("*") if op is not None else ""
    own = ty.own_path(ctx)
    if not own or not typ.startswith(own + ".") or "." in typ[len(own) + 1 :]:
        return ""
    tname = typ[len(own) + 1 :]
    found: list[str] = []
    for f in package_files(ctx):
        if f.is_test or field.encode() not in f.source:
            continue
        for lit in gs.nodes_of_type(f, "composite_literal"):
            ltype = _compact(f.text(lit.child_by_field_name("type")))
            if ltype.rpartition(".")[2] != tname:
                continue
            body = lit.child_by_field_name("body")
            for kv in body.named_children if body is not None else ():
                kids = kv.named_children
                if kv.type == "keyed_element" and len(kids) == 2 and f.text(kids[0]).strip() == field:
                    found.append(_client_value(f, _value_of(kids[1]), depth + 1))
        for d in gs.nodes_of_type(f, "assignment_statement"):
            lefts, rights = gs.assignment_sides(d)
            for i, left in enumerate(lefts):
                if left.type == "selector_expression" and f.text(left.child_by_field_name("field")) == field:
                    v = rights[i] if len(rights) == len(lefts) else None
                    found.append(_client_value(f, v, depth + 1) if v is not None else "")
                if (left.type == "selector_expression" and _compact(f.text(left)).endswith(f".{field}.Timeout")):
                    found.append(_duration(f, rights[i], {}, depth) if len(rights) == len(lefts) else "")
        if len(found) > 8 or (found and not all(found)):
            return ""
    return found[0] if found and all(found) else ""
