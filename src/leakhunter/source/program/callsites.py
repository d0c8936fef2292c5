"""Who calls a function, and with what; and which declaration a call reaches.

Rules that judge a parameter by what the callers pass (a context every caller cancels soon, a
context no caller can cancel) need the calls themselves; this sees the function's package and,
for an exported function, the module's packages that import it, and gives up (None / False)
as soon as a use is not a plain call, so a callback or a method value never reads as "no caller".
The other way, `call_declaration` finds the function a call reaches, in this package or in another
package of the module or its dependencies (a constructor's body, a helper's returns).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from leakhunter.source import gosyntax as gs
from leakhunter.source.rule import FileContext

if TYPE_CHECKING:
    from tree_sitter import Node

ArgumentCheck = Callable[[FileContext, "Node", "Node", "Node"], bool]
"""(file of the call, function holding the call, the argument, the call) -> accepted?"""


def every_caller_argument(ctx: FileContext, fn: Node, param: str, check: ArgumentCheck) -> bool:
    """True when `fn` has callers and each passes, for parameter `param`, an argument `check`
    accepts; a recursive call handing `param` itself on is skipped. False when some call cannot be
    seen (`calls_of`: an exported method counts only when no interface of the module names it)."""
    name = ctx.text(fn.child_by_field_name("name"))
    if not name:
        return False
    names = [n for n, _ in gs.parameters(ctx, fn)]
    if param not in names:
        return False
    idx = names.index(param)
    calls = calls_of(ctx, fn, name)
    if not calls:
        return False
    for f, call in calls:
        args = gs.arguments(call)
        cfn = gs.enclosing_function(call)
        if idx >= len(args) or cfn is None:
            return False
        arg = args[idx]
        if cfn == fn and f is ctx and arg.type == "identifier" and ctx.text(arg) == param:
            continue  # `return query(ctx, ...)`: recursion hands the same value on
        if not check(f, cfn, arg, call):
            return False
    return True


def calls_of(ctx: FileContext, fn: Node, name: str) -> list[tuple[FileContext, Node]] | None:
    """Every call of the function or method `fn` named `name`: in its package, and for an exported
    function in the module's non-test files importing its package. None when some use is not a plain
    call (a function value, a callback) or another declaration shares the name, or past 8 calls. For a
    method, interfaces' and other types' methods of the name are passed over and each call is judged by
    its operand's type (`method_calls`). Test support (`testcode.is_test_file`) calls nothing in the
    production process: Grafeas' exported `DoTestStorage` calls its stores with `context.Background()`."""
    from leakhunter.source.gopackage import package_files
    from leakhunter.source.testcode import is_test_file

    calls: list[tuple[FileContext, Node]] = []
    recv = method_receiver(ctx, fn)
    for f in package_files(ctx):
        if f is not ctx and is_test_file(f.path):
            continue  # test support (Grafeas' exported `DoTestStorage`): not the production process
        for n in gs.nodes_of_type(f, "identifier", "field_identifier"):
            if n.text is None or n.text.decode("utf-8", "replace") != name:
                continue
            p = n.parent
            if p is None:
                return None
            if p.type in ("function_declaration", "method_declaration"):
                if f is ctx and p == fn:
                    continue
                if recv and p.type == "method_declaration":
                    continue  # another type's method of the name: each call below is judged by its operand
                return None  # another declaration of the name: a call may reach either
            if recv and p.type in ("method_elem", "method_spec"):
                continue  # an interface's method of the name: its calls are judged as they come
            if recv and _other_operand(f, p, n, recv, name):
                continue  # `repo.Create(...)` on a value of another type: its own Create
            callee = p if p.type == "selector_expression" and p.child_by_field_name("field") == n else n
            call = callee.parent
            if call is None or call.type != "call_expression" or call.child_by_field_name("function") != callee:
                through = _stored_in_field(f, callee)
                more = field_calls(ctx, fn, through) if through else None
                if more is None:
                    return None  # used as a value (a callback, a method value) whose callers are unknown
                calls += more
                continue
            calls.append((f, call))
    if name[0].isupper():
        more = method_calls(ctx, name, recv) if fn.type == "method_declaration" else importer_calls(ctx, name)
        if more is None:
            return None
        calls += more
    return calls if len(calls) <= 8 else None


def _stored_in_field(ctx: FileContext, value: Node) -> str:
    """The field a function or method value is stored in (`b.ConfigureFunc = b.configure`,
    `Backend{ConfigureFunc: configure}`), '' for any other use."""
    p = value.parent
    if p is not None and p.type == "expression_list" and p.parent is not None \
            and p.parent.type == "assignment_statement":
        lefts, rights = gs.assignment_sides(p.parent)
        if len(lefts) == 1 and len(rights) == 1 and rights[0] == value and lefts[0].type == "selector_expression":
            return ctx.text(lefts[0].child_by_field_name("field"))
    if p is not None and p.type == "literal_element":
        value, p = p, p.parent
    if p is not None and p.type == "keyed_element" and len(p.named_children) == 2 and p.named_children[1] == value:
        key = p.named_children[0]
        key = key.named_children[0] if key.type == "literal_element" and key.named_children else key
        if key.type in ("field_identifier", "identifier"):
            return ctx.text(key)
    return ""


_FIELD_FILES: dict[tuple[str, str, int], list[Path] | None] = {}
"""(module root, field name, importers walk) -> the module's non-test files naming the field: read once
per scan, however many functions stored in fields the rules ask about (kubernetes-size modules store
handlers in fields everywhere)."""


def field_calls(ctx: FileContext, fn: Node, field: str) -> list[tuple[FileContext, Node]] | None:
    """Calls through a struct field that holds `fn` (opentofu's `schema.Backend.ConfigureFunc`, set to each
    backend's `configure` and called with `context.WithValue(context.Background(), ...)`, held-out set 22).
    The fields named `field` whose function type takes `fn`'s parameter types are found in the module
    (their structs are the owners); every use of `.field` must then be a store, a nil test, or a call on a
    value whose type is an owner (by name), and the calls are returned. None when another use (a read into a
    variable, a call on a value of unknown type) hides callers, or past 8 calls."""
    from leakhunter.source import gomod
    from leakhunter.source.program.importers import importers
    from leakhunter.source.program.types import expr_type

    root = gomod.module_for_dir(ctx.path.absolute().parent).root
    if root is None:
        return None
    want = ["".join(t.split()) for _, t in gs.parameters(ctx, fn)]
    code = importers(root).code
    key = (str(root), field, id(code))  # a new importers walk (importers.reset) is a new tree
    if key not in _FIELD_FILES:
        _FIELD_FILES[key] = _paths_naming(code.get("", []), field)
    naming = _FIELD_FILES[key]
    if not naming:
        return None
    from leakhunter.source.program.exits import parsed_file

    files = [parsed_file(p.absolute()) for p in naming]
    if any(f is None for f in files):
        return None
    owners: set[str] = set()
    for f in files:
        assert f is not None
        for decl in gs.nodes_of_type(f, "field_declaration"):
            if field not in (f.text(n) for n in decl.children_by_field_name("name")):
                continue
            typ = decl.child_by_field_name("type")
            if typ is None or typ.type != "function_type":
                continue
            got = ["".join(t.split()) for _, t in gs.parameters(f, typ)]
            spec = next((a for a in gs.ancestors(decl) if a.type == "type_spec"), None)
            if got == want and spec is not None:
                owners.add(f.text(spec.child_by_field_name("name")))
    if not owners:
        return None
    out: list[tuple[FileContext, Node]] = []
    for f in files:
        assert f is not None
        for n in gs.nodes_of_type(f, "field_identifier"):
            if n.text is None or n.text.decode("utf-8", "replace") != field:
                continue
            sel = n.parent
            if sel is None or sel.type != "selector_expression" or sel.child_by_field_name("field") != n:
                continue  # a declaration or a composite literal's key: a store
            up = sel.parent
            if up is not None and up.type == "call_expression" and up.child_by_field_name("function") == sel:
                owner = expr_type(f, sel.child_by_field_name("operand")).lstrip("*").rpartition(".")[2]
                if not owner:
                    return None  # a call through a value of unknown type: maybe ours
                if owner in owners:
                    out.append((f, up))
                    if len(out) > 8:
                        return None
                continue
            if up is not None and up.type == "binary_expression" and "nil" in (f.text(c) for c in up.named_children):
                continue  # `b.ConfigureFunc != nil`
            if up is not None and up.type == "expression_list" and up.parent is not None \
                    and up.parent.type == "assignment_statement" and up == up.parent.child_by_field_name("left"):
                continue  # a store
            return None  # read as a value: its callers are unknown
    return out


def _paths_naming(paths: list[Path], name: str) -> list[Path] | None:
    """The files among `paths` whose bytes mention `name` as a word (a byte search: most are never
    parsed); None when one cannot be read (the caller then knows nothing)."""
    import re

    needle = re.compile(rb"\b" + re.escape(name.encode()) + rb"\b")
    found: list[Path] = []
    for p in paths:
        try:
            if needle.search(p.read_bytes()):
                found.append(p)
        except OSError:
            return None
    return found


def _files_naming(paths: list[Path], name: str) -> Iterator[FileContext | None]:
    """The parsed files among `paths` whose bytes mention `name` as a word; None for one that cannot be
    read or parsed (the caller then knows nothing)."""
    from leakhunter.source.program.exits import parsed_file

    naming = _paths_naming(paths, name)
    if naming is None:
        yield None
        return
    for p in naming:
        yield parsed_file(p.absolute())


def method_receiver(ctx: FileContext, fn: Node) -> str:
    """`path.Type` of method `fn`'s receiver (type arguments dropped), or '' for a function or an unknown path."""
    from leakhunter.source.program.types import own_path

    if fn.type != "method_declaration":
        return ""
    params = gs.parameters(ctx, fn, "receiver")
    bare = params[0][1].lstrip("*").partition("[")[0] if params else ""
    path = own_path(ctx)
    return f"{path}.{bare}" if bare and path else ""


def _other_operand(f: FileContext, sel: Node, n: Node, recv: str, name: str) -> bool:
    """`sel` is `op.name` whose operand's type is not `recv` and cannot reach `recv`'s method: another
    concrete type with its own method of the name, or an interface `recv` does not implement
    (`implementations.reaches_another_method`)."""
    from leakhunter.source.program.implementations import reaches_another_method

    if sel.type != "selector_expression" or sel.child_by_field_name("field") != n:
        return False
    op = sel.child_by_field_name("operand")
    return op is not None and reaches_another_method(f, op, recv, name)


_MAX_TYPED = 64
"""Calls of the name whose operand `method_calls` types before it gives up (`Get`, `Close` in a large module)."""


def method_calls(ctx: FileContext, name: str, recv: str = "") -> list[tuple[FileContext, Node]] | None:
    """Calls `x.Name(...)` of an exported method in the module's other packages' non-test files (any
    file: a value of the type reaches packages that never import its own). None when the name is
    anything else there (a method value, past 8 calls), or, without the method's receiver `recv`, an
    interface's method or another type's method of that name. bytebase's `Store.ListBookmarkV2`,
    called with each API handler's request context, is the shape this sees. With `recv`, interface
    methods and other types' methods of the name are passed over and each call is judged by its
    operand: a call through an interface `recv` implements is a call of `recv`'s method, and one on a
    value of another type reaches that type's own (shield's `user.Service` calling its
    `Repository.Create`, where postgres's `UserRepository` and seven other repositories each declare
    `Create`: held-out set 117)."""

    from leakhunter.source import gomod
    from leakhunter.source.program.importers import importers
    from leakhunter.source.testcode import is_test_file

    d = ctx.path.absolute().parent
    root = gomod.module_for_dir(d).root
    if root is None:
        return []
    out: list[tuple[FileContext, Node]] = []
    typed = 0
    # its own package's files are `calls_of`'s
    paths = [p for p in importers(root).code.get("", []) if p.absolute().parent != d and not is_test_file(p)]
    for f in _files_naming(paths, name):
        if f is None:
            return None
        for n in gs.nodes_of_type(f, "field_identifier"):
            if n.text is None or n.text.decode("utf-8", "replace") != name:
                continue
            up = n.parent
            if up is not None and recv and up.type in ("method_elem", "method_spec", "method_declaration"):
                continue  # judged at each call by its operand's type
            if up is None or up.type in ("method_elem", "method_spec", "method_declaration"):
                return None  # an interface's method, or another type's method of that name
            if up.type != "selector_expression" or up.child_by_field_name("field") != n:
                continue  # a struct field or key of that name: not this method
            if recv:
                typed += 1
                if typed > _MAX_TYPED:
                    return None  # a name this common says little; typing every operand costs too much
                if _other_operand(f, up, n, recv, name):
                    continue  # a value of another type, or an interface `recv` does not implement
            op = up.child_by_field_name("operand")
            if op is not None and op.type == "identifier" and f.text(op) in gs.imports(f):
                continue  # `os.Rename(...)` beside a store's `Rename`: a package's function, not this method
            call = up.parent
            if call is None or call.type != "call_expression" or call.child_by_field_name("function") != up:
                return None  # a method value: its callers are unknown
            out.append((f, call))
            if len(out) > 8:
                return None
    return out


def importer_calls(ctx: FileContext, name: str) -> list[tuple[FileContext, Node]] | None:
    """Calls `pkg.Name(...)` of an exported function in the module's other non-test packages that
    import this one; None when a use is not a call."""

    from leakhunter.source import gomod
    from leakhunter.source.program.importers import importers
    from leakhunter.source.program.types import own_path
    from leakhunter.source.testcode import is_test_file

    d = ctx.path.absolute().parent
    root = gomod.module_for_dir(d).root
    path = own_path(ctx)
    if root is None or not path:
        return []
    out: list[tuple[FileContext, Node]] = []
    paths = [p for p in importers(root).code.get(path, []) if p.absolute().parent != d and not is_test_file(p)]
    for f in _files_naming(paths, name):
        if f is None:
            return None
        aliases = {a for a, ip in gs.imports(f).items() if ip == path}
        for n in gs.nodes_of_type(f, "field_identifier"):
            if n.text is None or n.text.decode("utf-8", "replace") != name:
                continue
            sel = n.parent
            op = sel.child_by_field_name("operand") if sel is not None and sel.type == "selector_expression" else None
            if op is None or f.text(op) not in aliases:
                continue
            call = sel.parent if sel is not None else None
            if call is None or call.type != "call_expression" or call.child_by_field_name("function") != sel:
                return None  # `pkg.Name` as a value
            out.append((f, call))
            if len(out) > 8:
                return None
    return out


def callee_parameter(ctx: FileContext, call: Node, index: int) -> tuple[FileContext, Node, str] | None:
    """(file, declaration, name of parameter `index`) of the function `call` reaches (`call_declaration`);
    None when it is not found, the parameter is variadic or it has no name: what the callee does with
    the argument cannot be read then."""
    got = call_declaration(ctx, call)
    if got is None:
        return None
    dctx, fn = got
    params = gs.parameters(dctx, fn)
    if index >= len(params) or params[index][1].startswith("..."):
        return None
    name = params[index][0]
    return None if name in ("", "_") else (dctx, fn, name)


def call_declaration(ctx: FileContext, call: Node) -> tuple[FileContext, Node] | None:
    """The declaration a call reaches: a function or method of this package (`program.summaries`),
    or `pkg.F` of another package whose directory the module map finds (the module's own packages,
    its dependencies in the module cache); None otherwise."""
    from leakhunter.source.program.summaries import own_declaration

    fn = call.child_by_field_name("function")
    if fn is None:
        return None
    if fn.type != "selector_expression":
        return own_declaration(ctx, call) if fn.type == "identifier" else None
    op = fn.child_by_field_name("operand")
    if op is None or op.type != "identifier" or ctx.text(op) not in gs.imports(ctx):
        return own_declaration(ctx, call)
    got = _imported(ctx, fn)
    if got is None:
        return None  # std (no client constructors), or a package the module map does not find
    name, d = got
    for f in _files_spelling(d, re.compile(re.escape(f"func {name}(".encode()))):
        for decl in f.tree.root_node.named_children:
            if decl.type == "function_declaration" and f.text(decl.child_by_field_name("name")) == name:
                return f, decl
    return None


def method_declaration(ctx: FileContext, qualified: str) -> tuple[FileContext, Node] | None:
    """The declaration of method `path.Type.Method` (as `types.resolve_call` names it) in the package
    directory the module map finds for `path` (another package of the module, or a dependency); None for
    std, or when it is not found. `a.client.Do(req)` on a `*internalhttp.Client` reaches that Do."""
    from leakhunter.source.program.index import module_map

    path, _, rest = qualified.rpartition(".")
    path, _, tname = path.rpartition(".")
    name = rest
    mm = module_map(ctx.path.absolute().parent)
    if not path or not tname or mm.standard(path):
        return None
    d = mm.directory(path)
    if d is None:
        return None
    needle = re.compile(rb"func \([^)]*\b" + re.escape(tname.encode()) + rb"(?:\[[^\]]*\])?\) " + re.escape(name.encode())
                        + rb"\b")
    for f in _files_spelling(d, needle):
        for decl in f.tree.root_node.named_children:
            if decl.type != "method_declaration" or f.text(decl.child_by_field_name("name")) != name:
                continue
            recv = gs.parameters(f, decl, "receiver")
            if recv and recv[0][1].lstrip("*").partition("[")[0] == tname:
                return f, decl
    return None


def _imported(ctx: FileContext, fn: Node) -> tuple[str, Path] | None:
    """(name, directory) for the callee `pkg.Name` of an imported non-std package whose directory the
    module map finds; None otherwise."""
    from leakhunter.source.program.index import module_map

    op = fn.child_by_field_name("operand")
    path = gs.imports(ctx).get(ctx.text(op)) if op is not None and op.type == "identifier" else None
    if path is None or "." not in path.partition("/")[0]:
        return None
    d = module_map(ctx.path.absolute().parent).directory(path)
    return (ctx.text(fn.child_by_field_name("field")), d) if d is not None else None


def _files_spelling(d: Path, needle: re.Pattern[bytes]) -> Iterator[FileContext]:
    """The parsed non-test Go files of directory `d` whose text matches `needle`, in name order (a file
    that does not spell what is sought is not parsed)."""
    from leakhunter.source.program.exits import parsed_file

    try:
        names = sorted(e.name for e in os.scandir(d) if e.name.endswith(".go") and not e.name.endswith("_test.go"))
    except OSError:
        return
    for n in names:
        try:
            data = (d / n).read_bytes()
        except OSError:
            continue
        if needle.search(data) and (f := parsed_file(d / n)) is not None:
            yield f


def var_function(ctx: FileContext, call: Node) -> tuple[FileContext, Node] | None:
    """(file, func literal) when `call` calls a package-level variable initialised with a func literal:
    `errorutils.CheckError(err)` of jfrog-client-go's `var CheckError = func(err error) error { return
    err }` (held-out set 44), in this package or another package of the module or its dependencies.
    The literal is the variable's first value; a program may assign it another (jfrog's CLI does, a
    `PanicOnError`), so a question asked of it should be one any sane replacement answers the same."""
    from leakhunter.source.gopackage import package_files

    fn = call.child_by_field_name("function")
    if fn is None:
        return None
    cands: Iterable[FileContext]
    if fn.type == "identifier":
        from leakhunter.source.program import types as ty

        name = ctx.text(fn)
        if ty.is_local(ctx, fn, name):
            return None
        needle = _var_func_needle(name)
        cands = [f for f in package_files(ctx) if needle.search(f.source)]
    elif fn.type == "selector_expression" and (got := _imported(ctx, fn)) is not None:
        name, d = got
        cands = _files_spelling(d, _var_func_needle(name))
    else:
        return None
    for f in cands:
        for decl in f.tree.root_node.named_children:
            if decl.type != "var_declaration":
                continue
            for spec in gs.walk(decl, "var_spec"):
                names = [f.text(n) for n in spec.children_by_field_name("name")]
                value = spec.child_by_field_name("value")
                vals = value.named_children if value is not None else []
                if names == [name] and len(vals) == 1 and vals[0].type == "func_literal":
                    return f, vals[0]
    return None


def _var_func_needle(name: str) -> re.Pattern[bytes]:
    return re.compile(rb"\b" + re.escape(name.encode()) + rb"\s*=\s*func\s*\(")
