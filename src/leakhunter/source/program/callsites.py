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
from collections.abc import Callable, Iterator
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
    call (a function value, a callback) or another declaration shares the name, or past 8 calls."""
    from leakhunter.source.gopackage import package_files

    calls: list[tuple[FileContext, Node]] = []
    for f in package_files(ctx):
        for n in gs.nodes_of_type(f, "identifier", "field_identifier"):
            if n.text is None or n.text.decode("utf-8", "replace") != name:
                continue
            p = n.parent
            if p is None:
                return None
            if p.type in ("function_declaration", "method_declaration"):
                if f is ctx and p == fn:
                    continue
                return None  # another declaration of the name: a call may reach either
            callee = p if p.type == "selector_expression" and p.child_by_field_name("field") == n else n
            call = callee.parent
            if call is None or call.type != "call_expression" or call.child_by_field_name("function") != callee:
                return None  # used as a value (a callback, a method value)
            calls.append((f, call))
    if name[0].isupper():
        more = method_calls(ctx, name) if fn.type == "method_declaration" else importer_calls(ctx, name)
        if more is None:
            return None
        calls += more
    return calls if len(calls) <= 8 else None


def _files_naming(paths: list[Path], name: str) -> Iterator[FileContext | None]:
    """The parsed files among `paths` whose bytes mention `name` as a word (most are skipped by a byte
    search, unparsed); None for one that cannot be read or parsed (the caller then knows nothing)."""
    import re

    from leakhunter.source.program.exits import parsed_file

    needle = re.compile(rb"\b" + re.escape(name.encode()) + rb"\b")
    for p in paths:
        try:
            data = p.read_bytes()
        except OSError:
            yield None
            return
        if needle.search(data):
            yield parsed_file(p.absolute())


def method_calls(ctx: FileContext, name: str) -> list[tuple[FileContext, Node]] | None:
    """Calls `x.Name(...)` of an exported method in the module's other packages' non-test files (any
    file: a value of the type reaches packages that never import its own). None when the name is
    anything else there: an interface's method (a call through the interface is invisible), another
    type's method of that name, a method value, or past 8 calls. bytebase's `Store.ListBookmarkV2`,
    called with each API handler's request context, is the shape this sees."""

    from leakhunter.source import gomod
    from leakhunter.source.program.importers import importers

    d = ctx.path.absolute().parent
    root = gomod.module_for_dir(d).root
    if root is None:
        return []
    out: list[tuple[FileContext, Node]] = []
    # its own package's files are `calls_of`'s
    for f in _files_naming([p for p in importers(root).code.get("", []) if p.absolute().parent != d], name):
        if f is None:
            return None
        for n in gs.nodes_of_type(f, "field_identifier"):
            if n.text is None or n.text.decode("utf-8", "replace") != name:
                continue
            up = n.parent
            if up is None or up.type in ("method_elem", "method_spec", "method_declaration"):
                return None  # an interface's method, or another type's method of that name
            if up.type != "selector_expression" or up.child_by_field_name("field") != n:
                continue  # a struct field or key of that name: not this method
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

    d = ctx.path.absolute().parent
    root = gomod.module_for_dir(d).root
    path = own_path(ctx)
    if root is None or not path:
        return []
    out: list[tuple[FileContext, Node]] = []
    for f in _files_naming([p for p in importers(root).code.get(path, []) if p.absolute().parent != d], name):
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


def call_declaration(ctx: FileContext, call: Node) -> tuple[FileContext, Node] | None:
    """The declaration a call reaches: a function or method of this package (`program.summaries`),
    or `pkg.F` of another package whose directory the module map finds (the module's own packages,
    its dependencies in the module cache); None otherwise."""
    from leakhunter.source.program.exits import parsed_file
    from leakhunter.source.program.index import module_map
    from leakhunter.source.program.summaries import own_declaration

    fn = call.child_by_field_name("function")
    if fn is None:
        return None
    if fn.type != "selector_expression":
        return own_declaration(ctx, call) if fn.type == "identifier" else None
    op = fn.child_by_field_name("operand")
    path = gs.imports(ctx).get(ctx.text(op)) if op is not None and op.type == "identifier" else None
    if path is None:
        return own_declaration(ctx, call)
    if "." not in path.partition("/")[0]:
        return None  # std: no client constructors
    name = ctx.text(fn.child_by_field_name("field"))
    d = module_map(ctx.path.absolute().parent).directory(path)
    if d is None:
        return None
    needle = f"func {name}(".encode()
    try:
        names = sorted(e.name for e in os.scandir(d) if e.name.endswith(".go") and not e.name.endswith("_test.go"))
    except OSError:
        return None
    for n in names:
        try:
            data = (d / n).read_bytes()
        except OSError:
            continue
        if needle not in data:
            continue
        f = parsed_file(d / n)
        if f is None:
            continue
        for decl in f.tree.root_node.named_children:
            if decl.type == "function_declaration" and f.text(decl.child_by_field_name("name")) == name:
                return f, decl
    return None
