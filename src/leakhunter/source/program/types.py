"""The declared type of an expression in one file, from the declaration index.

Enough typing for the resource rules, not a type checker: a local from `:=` of a
call (any position of a multi-value result), a parameter or receiver, `var x T`,
`x := &T{}`, a field selector `a.hc` (embedded fields followed), a package
variable of this or an imported package, a method call on any of those (interface
methods and methods promoted from embedded fields), and a generic function's result
when its type parameter is bound by an argument (`Must[T](v T, err error) T`).
Anything else is '' (unknown): callers treat unknown as "no opinion" and keep
their older, name-based behaviour.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from leakhunter.source import gosyntax as gs
from leakhunter.source.program import index as ix

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext

_MAX_DEPTH = 6


def is_local(ctx: FileContext, node: Node, name: str) -> bool:
    """`gs.is_local_name` with the local names of each function memoised for the file."""
    memo = ctx.cache.setdefault("program.locals", {})
    assert isinstance(memo, dict)
    fn = gs.enclosing_function(node)
    while fn is not None:
        names = memo.get(fn.id)
        if names is None:
            names = gs.local_names(ctx, fn)
            memo[fn.id] = names
        if name in names:
            return True
        fn = gs.enclosing_function(fn)
    return False


def own_path(ctx: FileContext) -> str:
    """The import path of the file's package (`_test` appended for an external test package)."""
    cached = ctx.cache.get("program.path")
    if isinstance(cached, str):
        return cached
    path = ix.package_path_for_dir(ctx.path.absolute().parent)
    if ctx.is_test and gs.package_name(ctx).endswith("_test"):
        path += "_test"
    ctx.cache["program.path"] = path
    return path


_OWN: OrderedDict[tuple[str, str, tuple[int, ...]], ix.PackageDecls] = OrderedDict()
_MAX_OWN = 4
"""Own-package declarations of the last few directories: the scanner goes directory by directory,
and keeping every package's declarations would make memory follow the size of the tree."""


def _dir_stamp(directory: Path) -> tuple[int, ...]:
    """Sizes and mtimes of the directory's .go files: a changed file gives a new key."""
    out: list[int] = []
    try:
        with os.scandir(directory) as it:
            for e in it:
                if e.name.endswith(".go"):
                    st = e.stat()
                    out += [st.st_size, st.st_mtime_ns]
    except OSError:
        pass
    return tuple(out)


def own_package(ctx: FileContext) -> ix.PackageDecls:
    """Declarations of the package `ctx` belongs to (built from the package view, once per package)."""
    cached = ctx.cache.get("program.own")
    if isinstance(cached, ix.PackageDecls):
        return cached
    path = own_path(ctx)

    if ctx.is_test:
        # a test file: its own declarations, plus the package's non-test ones if this process
        # already read them; loading the package view for the test files of every directory
        # would parse each file a second time for findings that are only `info` in tests
        base = ix.cached_package(ctx.path.absolute().parent, path.removesuffix("_test"))
        decls = ix.PackageDecls(path)
        if base is not None and not path.endswith("_test"):
            decls.funcs.update(base.funcs)
            decls.methods.update(base.methods)
            decls.types.update(base.types)
            decls.vars.update(base.vars)
        ix.add_file(decls, ctx.tree.root_node, ctx.import_name)
    else:
        key = (str(ctx.path.absolute().parent), path, _dir_stamp(ctx.path.absolute().parent))
        hit = _OWN.get(key)
        if hit is None:
            # read from disk, trees dropped as soon as their declarations are taken: the package
            # view (gopackage) would keep every sibling's tree, hundreds of MB for a directory of
            # generated code, for the sake of a few signatures
            hit = ix.read_package(ctx.path.absolute().parent, path, gs.package_name(ctx)) or ix.PackageDecls(path)
            ix.add_file(hit, ctx.tree.root_node, ctx.import_name)
            _OWN[key] = hit
            while len(_OWN) > _MAX_OWN:
                _OWN.popitem(last=False)
        else:
            _OWN.move_to_end(key)
        decls = hit
    ctx.cache["program.own"] = decls
    return decls


def file_decls(ctx: FileContext) -> ix.PackageDecls:
    """This file's own top-level declarations: asked first, so most questions never need the package."""
    cached = ctx.cache.get("program.file")
    if isinstance(cached, ix.PackageDecls):
        return cached
    decls = ix.PackageDecls(own_path(ctx))
    ix.add_file(decls, ctx.tree.root_node, ctx.import_name)
    ctx.cache["program.file"] = decls
    return decls


def namer(ctx: FileContext) -> ix.TypeNamer:
    cached = ctx.cache.get("program.namer")
    if isinstance(cached, ix.TypeNamer):
        return cached
    n = ix.TypeNamer(own_path(ctx), gs.imports(ctx))
    ctx.cache["program.namer"] = n
    return n


STD_PACKAGES = frozenset({
    "net/http", "net/http/httptest", "database/sql", "os", "time", "context", "io", "sync", "os/exec", "bufio",
})
"""The standard-library packages the index reads: those that declare or hand out the resources the
typed rules ask about (responses, rows, statements, files), and `sync` and `os/exec`, whose
`wg.Wait()` and `cmd.Start()` the run-once search must tell from a module's own `Wait` and `Start`
(yunikorn-core's server, held-out set 46), as `bufio`'s `scanner.Scan()` from a device plugin's own `Scan`
(Intel's device plugins, held-out set 92). Any other std package stays unknown ('' types): each
worker reads what it needs once (about 1.3 s of parsing for the first seven; `net` and `crypto/tls`
alone would add 1.2 s more per worker for no question a rule asks today)."""


def lookup(ctx: FileContext, path: str) -> ix.PackageDecls | None:
    """The declarations of import path `path` as seen from this file; None when unknown."""
    if path == own_path(ctx):
        return own_package(ctx)
    if "." not in path.partition("/")[0] and path not in STD_PACKAGES \
            and ix.module_map(ctx.path.absolute().parent).standard(path):
        return None  # not a package of the standard library, nor of a module named without a dot
    return ix.package(ctx.path.absolute().parent, path)


def _split(typ: str) -> tuple[str, str]:
    base = typ.lstrip("*")
    if base.startswith(("'", "[]", "map[", "chan ", "func", "interface", "struct")) or "." not in base:
        return "", ""
    path, _, name = base.rpartition(".")
    return path, name


def type_decl(ctx: FileContext, typ: str) -> ix.TypeDecl | None:
    path, name = _split(typ)
    if not path:
        return None
    decls = lookup(ctx, path)
    return decls.types.get(name) if decls is not None else None


def method(ctx: FileContext, typ: str, name: str, depth: int = 0) -> ix.Signature | None:
    """The signature of method `name` on `typ` (declared, interface, promoted); None if unknown."""
    path, tname = _split(typ)
    if not path or depth > _MAX_DEPTH:
        return None
    decls = lookup(ctx, path)
    if decls is None:
        return None
    sig = decls.methods.get((tname, name))
    if sig is not None:
        return sig
    td = decls.types.get(tname)
    if td is None:
        return None
    if td.kind == "interface" and name in td.methods:
        return td.methods[name]
    for emb in td.embedded:
        s = method(ctx, emb, name, depth + 1)
        if s is not None:
            return s
    if td.kind == "other" and td.underlying:
        return method(ctx, td.underlying, name, depth + 1)
    return None


def field_type(ctx: FileContext, typ: str, name: str, depth: int = 0) -> str:
    """The type of field `name` of struct `typ` (promoted fields of embedded structs included)."""
    td = type_decl(ctx, typ)
    if td is None or depth > _MAX_DEPTH:
        return ""
    if td.kind == "struct":
        if name in td.fields:
            return td.fields[name]
        for emb in td.embedded:
            t = field_type(ctx, emb, name, depth + 1)
            if t:
                return t
    elif td.kind == "other" and td.underlying:
        return field_type(ctx, td.underlying, name, depth + 1)
    return ""


def call_signature(ctx: FileContext, call: Node, depth: int = 0) -> ix.Signature | None:
    """The declared signature of the function a call reaches; None if it cannot be told."""
    r = resolve_call(ctx, call, depth)
    return r[1] if r is not None else None


def resolve_call(ctx: FileContext, call: Node, depth: int = 0) -> tuple[str, ix.Signature] | None:
    """(callee, signature) of the function a call reaches: callee is `net/http.Get` for a function,
    `net/http/httptest.ResponseRecorder.Result` for a method (receiver without `*`)."""
    fn = call.child_by_field_name("function")
    while fn is not None and fn.type == "parenthesized_expression" and fn.named_children:
        fn = fn.named_children[0]
    if fn is None:
        return None
    if fn.type == "index_expression":  # F[T](x): an explicit instantiation
        fn = fn.child_by_field_name("operand")
        if fn is None:
            return None
    if fn.type == "identifier":
        name = ctx.text(fn)
        if is_local(ctx, fn, name):
            return None
        sig = file_decls(ctx).funcs.get(name) or own_package(ctx).funcs.get(name)
        return (f"{own_path(ctx)}.{name}", sig) if sig is not None else None
    if fn.type == "selector_expression":
        op = fn.child_by_field_name("operand")
        name = ctx.text(fn.child_by_field_name("field"))
        if op is not None and op.type == "identifier":
            path = gs.imports(ctx).get(ctx.text(op))
            if path is not None and not is_local(ctx, op, ctx.text(op)):
                decls = lookup(ctx, path)
                sig = decls.funcs.get(name) if decls is not None else None
                return (f"{path}.{name}", sig) if sig is not None else None
        t = expr_type(ctx, op, depth + 1) if op is not None else ""
        sig = method(ctx, t, name) if t else None
        return (f"{t.lstrip('*')}.{name}", sig) if sig is not None else None
    return None


def call_results(ctx: FileContext, call: Node, depth: int = 0) -> tuple[str, ...]:
    """Result types of a call, type parameters bound from the arguments where possible; () if unknown."""
    if depth > _MAX_DEPTH:
        return ()
    sig = call_signature(ctx, call, depth)
    if sig is None:
        return ()
    if not any(r.lstrip("*[]").startswith("'") for r in sig.results):
        return sig.results
    args = gs.arguments(call)
    bound: dict[str, str] = {}
    for i, p in enumerate(sig.params):
        if p.startswith("'") and i < len(args):
            t = expr_type(ctx, args[i], depth + 1)
            if t:
                bound.setdefault(p, t)
    out = []
    for r in sig.results:
        stars = len(r) - len(r.lstrip("*"))
        core = r[stars:]
        out.append("*" * stars + bound[core] if core in bound else ("" if core.startswith("'") else r))
    return tuple(out)


def expr_type(ctx: FileContext, n: Node | None, depth: int = 0) -> str:
    """The declared type of an expression, '' when unknown (see the module doc)."""
    if n is None or depth > _MAX_DEPTH:
        return ""
    t = n.type
    if t == "parenthesized_expression":
        return expr_type(ctx, n.named_children[0] if n.named_children else None, depth + 1)
    if t == "identifier":
        return _identifier_type(ctx, n, depth)
    if t == "selector_expression":
        op = n.child_by_field_name("operand")
        name = ctx.text(n.child_by_field_name("field"))
        if op is not None and op.type == "identifier":
            path = gs.imports(ctx).get(ctx.text(op))
            if path is not None and not is_local(ctx, op, ctx.text(op)):
                decls = lookup(ctx, path)
                return decls.vars.get(name, "") if decls is not None else ""
        ot = expr_type(ctx, op, depth + 1)
        if not ot:
            return ""
        ft = field_type(ctx, ot, name)
        if ft:
            return ft
        return "func" if method(ctx, ot, name) is not None else ""
    if t == "call_expression":
        fn = n.child_by_field_name("function")
        args = gs.arguments(n)
        if fn is not None and fn.type == "identifier" and ctx.text(fn) == "new" and len(args) == 1 \
                and not is_local(ctx, fn, "new"):
            # `t := new(Terminal)` (and Go 1.26's `new(expr)`): a pointer to the type, or to the value's
            # type (ultraviolet's NewTerminal, held-out set 66: its setter calls resolve through it)
            a = args[0]
            pointee = expr_type(ctx, a, depth + 1) if a.type == "identifier" and is_local(ctx, a, ctx.text(a)) \
                else namer(ctx).name(a) if a.type.endswith("type") or a.type == "type_identifier" \
                else expr_type(ctx, a, depth + 1)
            return "*" + pointee if pointee else ""
        res = call_results(ctx, n, depth + 1)
        return res[0] if res else ""
    if t == "unary_expression":
        oper = ctx.text(n.child_by_field_name("operator"))
        inner = n.child_by_field_name("operand")
        if oper == "&":
            if inner is not None and inner.type == "composite_literal":
                lit = ix.literal_type(namer(ctx), inner)
                return "*" + lit if lit else ""
            it = expr_type(ctx, inner, depth + 1)
            return "*" + it if it else ""
        if oper == "*":
            it = expr_type(ctx, inner, depth + 1)
            return it[1:] if it.startswith("*") else ""
        if oper == "<-":
            it = expr_type(ctx, inner, depth + 1)
            return it[5:] if it.startswith("chan ") else ""
        return ""
    if t == "composite_literal":
        return ix.literal_type(namer(ctx), n)
    if t == "type_assertion_expression":
        return namer(ctx).name(n.child_by_field_name("type"))
    if t == "index_expression":
        ot = expr_type(ctx, n.child_by_field_name("operand"), depth + 1)
        if ot.startswith("[]"):
            return ot[2:]
        if ot.startswith("map["):
            return _map_value(ot)
        return ""
    if t == "func_literal":
        return "func"
    return ""


def _map_value(t: str) -> str:
    return map_parts(t)[1]


def map_parts(t: str) -> tuple[str, str]:
    """(key, value) of a canonical `map[K]V`, brackets inside K balanced; ('', '') if not one."""
    level = 0
    for i, ch in enumerate(t):
        if ch == "[":
            level += 1
        elif ch == "]":
            level -= 1
            if level == 0:
                return t[4:i], t[i + 1 :]
    return "", ""


def _identifier_type(ctx: FileContext, ident: Node, depth: int) -> str:
    name = ctx.text(ident)
    fn = gs.enclosing_function(ident)
    nm = namer(ctx)
    while fn is not None:
        # the nearest declaration before the use, in this function (closures: then the outer one)
        best: tuple[int, str] | None = None
        for d, text in _declarations(ctx, fn):
            if d.start_byte >= ident.start_byte:
                break
            if name in text:
                got = _declared(ctx, d, name, nm, depth)
                if got is not None and (best is None or d.start_byte > best[0]):
                    best = (d.start_byte, got)
        if best is not None:
            return best[1]
        sig_t = _param_type(ctx, fn, name, nm)
        if sig_t is not None:
            return sig_t
        fn = gs.enclosing_function(fn)
    return file_decls(ctx).vars.get(name) or own_package(ctx).vars.get(name, "")


def _declarations(ctx: FileContext, fn: Node) -> list[tuple[Node, str]]:
    """The `:=`, `var` and `range` declarations of `fn`'s body outside nested literals, in source order, with
    their text. Memoised per function: typing each identifier walked the whole body of every function around
    it, and a Ginkgo suite's one literal of 140,000 lines made that minutes (IBM/vpc-go-sdk, held-out set
    112)."""
    memo = ctx.cache.setdefault("types.declarations", {})
    assert isinstance(memo, dict)
    got = memo.get(fn.id)
    if got is None:
        body = fn.child_by_field_name("body")
        got = memo[fn.id] = [
            (d, ctx.text(d))
            for d in (gs.walk(body, ("short_var_declaration", "var_spec", "range_clause"), into_func_literals=False)
                      if body is not None else ())
        ]
    return got


def _param_type(ctx: FileContext, fn: Node, name: str, nm: ix.TypeNamer) -> str | None:
    tps: tuple[str, ...] = ix.type_param_names(fn.child_by_field_name("type_parameters"))
    for field_name in ("receiver", "parameters", "result"):
        plist = fn.child_by_field_name(field_name)
        if plist is None or plist.type != "parameter_list":
            continue
        for p in plist.named_children:
            if p.type not in ("parameter_declaration", "variadic_parameter_declaration"):
                continue
            if any(ctx.text(c) == name for c in p.children_by_field_name("name")):
                ty = nm.with_tparams(tps).name(p.child_by_field_name("type"))
                return "[]" + ty if p.type == "variadic_parameter_declaration" else ty
    return None


def _declared(ctx: FileContext, d: Node, name: str, nm: ix.TypeNamer, depth: int) -> str | None:
    """The type `d` gives `name` if it declares it ('' when it does but the type is unknown)."""
    if d.type == "var_spec":
        names = [ctx.text(c) for c in d.children_by_field_name("name")]
        if name not in names:
            return None
        ty = d.child_by_field_name("type")
        if ty is not None:
            return nm.name(ty)
        value = d.child_by_field_name("value")
        vals = value.named_children if value is not None else []
        i = names.index(name)
        if len(vals) == len(names):
            return expr_type(ctx, vals[i], depth + 1)
        if len(vals) == 1 and vals[0].type == "call_expression":
            res = call_results(ctx, vals[0], depth + 1)
            return res[i] if i < len(res) else ""
        return ""
    if d.type == "range_clause":
        left = d.child_by_field_name("left")
        names = [ctx.text(c) for c in left.named_children] if left is not None else []
        if name not in names:
            return None
        rt = expr_type(ctx, d.child_by_field_name("right"), depth + 1)
        i = names.index(name)
        if rt.startswith("[]"):
            return "int" if i == 0 else rt[2:]
        if rt.startswith("map[") and i == 1:
            return _map_value(rt)
        if rt.startswith("chan ") and i == 0:
            return rt[5:]
        return ""
    lefts, rights = gs.assignment_sides(d)
    names = [ctx.text(c) for c in lefts]
    if name not in names:
        return None
    i = names.index(name)
    if len(rights) == len(names):
        return expr_type(ctx, rights[i], depth + 1)
    if len(rights) == 1:
        r = rights[0]
        while r.type == "parenthesized_expression" and r.named_children:
            r = r.named_children[0]
        if r.type == "call_expression":
            res = call_results(ctx, r, depth + 1)
            return res[i] if i < len(res) else ""
        if i == 0 and r.type in ("type_assertion_expression", "index_expression"):
            return expr_type(ctx, r, depth + 1)
        if i == 0 and r.type == "unary_expression":
            return expr_type(ctx, r, depth + 1)
    return ""
