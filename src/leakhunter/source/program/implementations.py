"""The module's methods of one name: what a call through an interface may reach.

A call `src.InvalidateToken()` on a value of an interface type of the module reaches one of the
methods of that name the module declares (or one a dependency or a caller brings: then nothing is
known); a call on a dependency's interface, one of the methods that dependency's package declares
on its own types (an SDK's services). When every such method says the same thing (its error is
always nil), a rule may believe it: pulsar-client-go's token cache, held-out set 19, whose only
InvalidateToken returns nil, so a response left open on its error branch strands nothing. Found by a
byte search of every non-test file of the module (through importers.py, so the result cache knows the
judgement read them all), parsed only where a method of that name is declared.

Also the two questions asked of one method from the other side: can a call on this operand reach it
(`reaches_another_method`: not when the operand's type has its own method of the name, or is an interface
the method's type does not implement), and is its type a gRPC service the module registers
(`registered_grpc_service`), whose calls the framework makes, each with a context that ends with it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from leakhunter.source import gosyntax as gs

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext

MAX_METHODS = 8
"""More methods of one name than this and the name says little about the callee: unknown."""

_MEMO: dict[tuple[str, str], list[str]] = {}
"""(module root, method name) -> the files declaring a method of that name."""


def methods_named(ctx: FileContext, name: str) -> list[tuple[FileContext, Node]] | None:
    """Every non-test method declaration named `name` in `ctx`'s module, or None when unknown (no module,
    none found, or more than MAX_METHODS)."""
    from leakhunter.source.gomod import module_for_file
    from leakhunter.source.program.exits import parsed_file
    from leakhunter.source.program.importers import importers

    root = module_for_file(ctx.path).root
    if root is None or not name.isidentifier():
        return None
    files = importers(root).code.get("", [])
    key = (str(root), name)
    sites = _MEMO.get(key)
    if sites is None:
        pattern = re.compile(rb"(?m)^func\s*\([^)]*\)\s*" + name.encode() + rb"\s*[(\[]")
        sites = []
        for path in files:
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if name.encode() in data and pattern.search(data):
                sites.append(str(path))
        _MEMO[key] = sites
    if not sites or len(sites) > MAX_METHODS:
        return None
    out: list[tuple[FileContext, Node]] = []
    for path_s in sites:
        fctx = parsed_file(Path(path_s))
        if fctx is None:
            return None
        for d in fctx.tree.root_node.named_children:
            if d.type == "method_declaration" and fctx.text(d.child_by_field_name("name")) == name:
                out.append((fctx, d))
    return out if 0 < len(out) <= MAX_METHODS else None


def reset() -> None:
    """Forget earlier scans' searches (the tree may have changed)."""
    _MEMO.clear()
    _REGISTERED.clear()
    _REGISTERING.clear()


def interface_callees(ctx: FileContext, call: Node) -> list[tuple[FileContext, Node]] | None:
    """The module's methods a call through an interface of the module may reach, or None: not a method
    call on a value of an interface type the module declares (a type of another module or of std has
    implementations that are not ours to read)."""
    from leakhunter.source.gomod import module_for_file
    from leakhunter.source.program import types as ty

    fnode = call.child_by_field_name("function")
    op = fnode.child_by_field_name("operand") if fnode is not None and fnode.type == "selector_expression" else None
    if op is None or fnode is None:
        return None
    typ = ty.expr_type(ctx, op).lstrip("*")
    module = module_for_file(ctx.path).module or ""
    td = ty.type_decl(ctx, typ)
    name = ctx.text(fnode.child_by_field_name("field"))
    sig = td.methods.get(name) if td is not None and td.kind == "interface" else None
    if sig is None or not module:
        return None
    if typ.startswith(module + "/") or typ.startswith(module + "."):
        found = methods_named(ctx, name)
    else:
        found = _package_implementations(ctx, typ, name)
    if found is None:
        return None
    # a method of another type that happens to share the name but not the results implements nothing here
    same = [(d, n) for d, n in found if len(gs.result_types(d, n)) == len(sig.results)]
    return same or None


def _package_implementations(ctx: FileContext, iface: str, name: str) -> list[tuple[FileContext, Node]] | None:
    """The methods `name` that the package declaring `iface`, a dependency's interface, declares on its
    own types: an SDK that hands out its services as interface-typed fields implements each in its own
    package (ultradns-sdk-go's `RRSets RRSetsService`, whose one `Create` goes to the client's `Do`, which
    reads and closes the body: held-out set 76). None for std (its implementations are the caller's to
    close), when the package is not found, or when it declares none or more than MAX_METHODS."""
    from leakhunter.source.program import types as ty
    from leakhunter.source.program.callsites import method_declaration
    from leakhunter.source.program.index import module_map

    path, _, iname = iface.rpartition(".")
    if not path or module_map(ctx.path.absolute().parent).standard(path):
        return None
    decls = ty.lookup(ctx, path)
    if decls is None:
        return None
    owners = [t for (t, m) in decls.methods if m == name and t != iname]
    if not owners or len(owners) > MAX_METHODS:
        return None
    out: list[tuple[FileContext, Node]] = []
    for t in owners:
        decl = method_declaration(ctx, f"{path}.{t}.{name}")
        if decl is None:
            return None
        out.append(decl)
    return out


def reaches_another_method(f: FileContext, op: Node, recv: str, name: str) -> bool:
    """The operand of `op.name()` has a type the program model knows, not `recv`, that declares a method
    `name` of its own: the call reaches that method (free5gc's `N3IWF.Start` beside every service's own
    `Start`, held-out set 46), or an interface `recv` does not implement (its method of that name has
    another signature, or it asks for a method `recv` lacks). An interface with the same signature, a type
    that only embeds one with the method (promoted: it may be `recv`'s), or a type not worked out may reach
    `recv`'s."""
    from leakhunter.source.program import types as ty

    t = ty.expr_type(f, op).lstrip("*")
    if not t or t == recv or "." not in t:
        return False
    path, _, tname = t.rpartition(".")
    decls = ty.lookup(f, path)
    if decls is None:
        return False
    if (tname, name) in decls.methods:
        return True
    td = decls.types.get(tname)
    want = ty.method(f, t, name) if td is not None and td.kind == "interface" else None
    rpath, _, rname = recv.rpartition(".")
    rdecls = ty.lookup(f, rpath) if want is not None else None
    mine = rdecls.methods.get((rname, name)) if rdecls is not None else None
    if td is None or want is None or rdecls is None or mine is None or td.type_params or want.type_params:
        return False  # not an interface method both sides declare, or a generic one: it may reach `recv`'s
    # an interface `recv` does not implement cannot reach `recv`'s method: its method of that name has
    # another signature (hybridnet's `DaemonHub.Run(id DaemonID)` beside the daemon's `CtrlHub.Run(ctx)`,
    # held-out set 107), or it asks for a method `recv` lacks (`ManagerRuntime.Status()`), when neither
    # embeds anything that could bring the method
    if (want.params, want.results, want.variadic) != (mine.params, mine.results, mine.variadic):
        return True
    rtd = rdecls.types.get(rname)
    if td.embedded or rtd is None or rtd.embedded:
        return False
    return any((rname, m) not in rdecls.methods for m in td.methods)


_REGISTER = re.compile(rb"\bRegister\w*Server\(")
_REGISTERED: dict[tuple[str, str], bool] = {}
"""(module root, receiver type) -> a value of the type is handed to a generated `Register…Server`."""


_REGISTERING: dict[str, list[Path]] = {}
"""Module root -> its non-test files that call a `Register…Server`: searched once, not per service type."""


def _registering_files(root: Path, paths: list[Path]) -> list[Path]:
    got = _REGISTERING.get(str(root))
    if got is None:
        got = []
        for p in paths:
            try:
                data = p.read_bytes()
            except OSError:
                continue
            if _REGISTER.search(data):
                got.append(p)
        _REGISTERING[str(root)] = got
    return got


def registered_grpc_service(ctx: FileContext, fn: Node) -> bool:
    """The method's receiver type is a gRPC service implementation the module registers: a value of it is
    the last argument of a generated `pb.Register…Server(s, impl)` in the module's non-test code (Grafeas'
    `prpb.RegisterProjectsServer(grpcServer, &gp)`, whose `project.API` embeds no `Unimplemented…Server`:
    held-out set 116). grpc-go then serves the type's methods, and cancels each call's context when the
    method returns."""
    from leakhunter.source import gomod
    from leakhunter.source.program import types as ty
    from leakhunter.source.program.callsites import method_receiver
    from leakhunter.source.program.exits import parsed_file
    from leakhunter.source.program.importers import importers

    recv = method_receiver(ctx, fn)
    root = gomod.module_for_dir(ctx.path.absolute().parent).root
    if not recv or root is None:
        return False
    key = (str(root), recv)
    got = _REGISTERED.get(key)
    if got is not None:
        return got
    got = False
    for p in _registering_files(root, importers(root).code.get("", [])):
        f = parsed_file(p)
        if f is None:
            continue
        for call in gs.nodes_of_type(f, "call_expression"):
            last = gs.call_name(f, call).rpartition(".")[2]
            args = gs.arguments(call)
            if not (last.startswith("Register") and last.endswith("Server")) or len(args) != 2:
                continue
            t = ty.expr_type(f, args[1]).lstrip("*")
            head, dot, tail = t.partition(".")
            imported = gs.imports(f)
            if dot and head in imported:  # `&g` of `g := grafeas.API{...}`: .../v1beta1/api declares grafeas
                t = f"{imported[head]}.{tail}"
            if t == recv:
                got = True
                break
        if got:
            break
    if len(_REGISTERED) > 1024:
        _REGISTERED.clear()
    _REGISTERED[key] = got
    return got
