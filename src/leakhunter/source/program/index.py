"""Declarations of a Go package, and where to find the packages a module imports.

The rules need the *declared* types of things defined away from the function they
look at: the result of a wrapper `fetch(u) (*http.Response, error)`, the type of a
field `a.hc`, the method set of `pgx.Tx`. A type checker would give all of it, but
costs a build of the whole import graph; `scan` must stay an order of magnitude
faster than `go vet`. So this index reads declarations only — struct fields,
function and method signatures, interface methods, package variables with a written
type, type parameters — from a tree-sitter parse of a package's files, only when a
question needs that package, and keeps plain strings (never tree nodes) so the
result can be cached for the life of the process.

Types are canonical strings: named types are qualified by import path
(`*net/http.Response`, `github.com/jackc/pgx/v5.Rows`, `[]example.com/m/store.Item`);
type parameters are `'T`; builtins stay bare (`error`, `[]byte`). Where to read a
package: the scanned module's own directories (its go.mod `module` line), `vendor/`,
the standard library under GOROOT, and required modules in GOMODCACHE at the version
go.mod names (local `replace` directories too). Nothing is fetched: a package that is
not on disk is simply unknown, and the rules fall back to what they did without it.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from leakhunter.source import gomod

if TYPE_CHECKING:
    from collections.abc import Callable

    from tree_sitter import Node

BUILTIN_TYPES = frozenset({
    "bool", "byte", "complex64", "complex128", "error", "float32", "float64", "int", "int8", "int16",
    "int32", "int64", "rune", "string", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr", "any",
    "comparable",
})

_MAX_PACKAGES = 512
_MAX_FILE_BYTES = 2 << 20


@dataclass(frozen=True, slots=True)
class Signature:
    """A function's parameter and result types (canonical strings); `'T` for its type parameters."""

    params: tuple[str, ...] = ()
    param_names: tuple[str, ...] = ()
    results: tuple[str, ...] = ()
    type_params: tuple[str, ...] = ()
    variadic: bool = False
    handled: bool = False
    """The declaration carries bodyclose's `bodyclose:handled` directive: its author says callers
    need not close what it returns (honoured so code annotated for that linter stays quiet)."""


@dataclass(slots=True)
class TypeDecl:
    """A named type: struct fields (embedded ones also under `embedded`), interface methods, or an underlying type."""

    kind: str  # "struct" | "interface" | "other"
    fields: dict[str, str] = field(default_factory=dict)
    embedded: list[str] = field(default_factory=list)
    methods: dict[str, Signature] = field(default_factory=dict)
    """Interface methods (for an interface type)."""
    underlying: str = ""
    type_params: tuple[str, ...] = ()


@dataclass(slots=True)
class PackageDecls:
    """What one package declares at top level, with types in canonical form."""

    path: str
    name: str = ""
    funcs: dict[str, Signature] = field(default_factory=dict)
    methods: dict[tuple[str, str], Signature] = field(default_factory=dict)
    """(receiver type name, method name) -> signature (receiver pointer-ness ignored)."""
    types: dict[str, TypeDecl] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)


def _text(n: Node | None) -> str:
    if n is None or n.text is None:
        return ""
    return n.text.decode("utf-8", "replace")


def default_package_name(path: str) -> str:
    from leakhunter.source.gosyntax import default_package_name as d

    return d(path)


def file_imports(root: Node, imported: Callable[[str], str] | None = None) -> dict[str, str]:
    """Import name -> path for one file (blank and dot imports left out); `imported` gives an unaliased
    import's name (`package_name` for the file's directory), by default the conventional one."""
    name_of = imported or default_package_name
    out: dict[str, str] = {}
    for decl in root.named_children:
        if decl.type != "import_declaration":
            continue
        stack = [decl]
        while stack:
            n = stack.pop()
            if n.type == "import_spec":
                path = _text(n.child_by_field_name("path")).strip('"`')
                name = n.child_by_field_name("name")
                if name is None:
                    out[name_of(path)] = path
                elif name.type == "package_identifier":
                    out[_text(name)] = path
            else:
                stack.extend(n.named_children)
    return out


class TypeNamer:
    """Turns type nodes of one file into canonical strings."""

    def __init__(self, pkgpath: str, imports: dict[str, str], tparams: tuple[str, ...] = ()) -> None:
        self.pkgpath = pkgpath
        self.imports = imports
        self.tparams = tparams

    def with_tparams(self, more: tuple[str, ...]) -> TypeNamer:
        return TypeNamer(self.pkgpath, self.imports, (*self.tparams, *more)) if more else self

    def name(self, n: Node | None) -> str:
        if n is None:
            return ""
        t = n.type
        if t == "type_identifier":
            s = _text(n)
            if s in self.tparams:
                return "'" + s
            if s in BUILTIN_TYPES:
                return s
            return f"{self.pkgpath}.{s}"
        if t == "qualified_type":
            pkg = _text(n.child_by_field_name("package"))
            return f"{self.imports.get(pkg, pkg)}.{_text(n.child_by_field_name('name'))}"
        if t == "pointer_type":
            return "*" + self.name(n.named_children[0] if n.named_children else None)
        if t == "slice_type":
            return "[]" + self.name(n.child_by_field_name("element"))
        if t == "array_type":
            return "[]" + self.name(n.child_by_field_name("element"))
        if t == "map_type":
            return f"map[{self.name(n.child_by_field_name('key'))}]{self.name(n.child_by_field_name('value'))}"
        if t == "channel_type":
            return "chan " + self.name(n.child_by_field_name("value"))
        if t == "generic_type":
            return self.name(n.child_by_field_name("type"))
        if t in ("parenthesized_type", "type_elem", "type_constraint"):
            return self.name(n.named_children[0] if n.named_children else None)
        if t == "function_type":
            return "func"
        if t == "interface_type":
            return "interface{}"
        if t == "struct_type":
            return "struct{}"
        return _text(n)

    def signature(self, fn: Node, extra_tparams: tuple[str, ...] = ()) -> Signature:
        tps = type_param_names(fn.child_by_field_name("type_parameters"))
        namer = self.with_tparams((*extra_tparams, *tps))
        params: list[str] = []
        names: list[str] = []
        variadic = False
        plist = fn.child_by_field_name("parameters")
        for p in plist.named_children if plist is not None else ():
            if p.type not in ("parameter_declaration", "variadic_parameter_declaration"):
                continue
            ty = namer.name(p.child_by_field_name("type"))
            if p.type == "variadic_parameter_declaration":
                variadic = True
                ty = "[]" + ty
            pn = [_text(c) for c in p.children_by_field_name("name")] or [""]
            for nm in pn:
                params.append(ty)
                names.append(nm)
        results: list[str] = []
        res = fn.child_by_field_name("result")
        if res is not None:
            if res.type == "parameter_list":
                for p in res.named_children:
                    if p.type == "parameter_declaration":
                        ty = namer.name(p.child_by_field_name("type"))
                        results.extend([ty] * max(1, len(p.children_by_field_name("name"))))
            else:
                results.append(namer.name(res))
        return Signature(tuple(params), tuple(names), tuple(results), tuple(tps), variadic)


def type_param_names(tpl: Node | None) -> tuple[str, ...]:
    if tpl is None:
        return ()
    out: list[str] = []
    for d in tpl.named_children:
        if d.type == "type_parameter_declaration":
            out.extend(_text(c) for c in d.children_by_field_name("name"))
    return tuple(out)


def receiver_type_name(method: Node) -> str:
    """`S` for `func (s *S[T]) M()`."""
    recv = method.child_by_field_name("receiver")
    if recv is None:
        return ""
    for p in recv.named_children:
        t = p.child_by_field_name("type")
        while t is not None and t.type in ("pointer_type", "generic_type", "parenthesized_type"):
            t = t.child_by_field_name("type") if t.type == "generic_type" else (t.named_children[0] if t.named_children else None)
        return _text(t)
    return ""


def _receiver_tparams(method: Node) -> tuple[str, ...]:
    recv = method.child_by_field_name("receiver")
    out: list[str] = []
    stack = [recv] if recv is not None else []
    while stack:
        n = stack.pop()
        if n.type == "type_arguments":
            out.extend(_text(c) for c in n.named_children)
            continue
        stack.extend(n.named_children)
    return tuple(x.strip() for x in out)


def add_file(decls: PackageDecls, root: Node, imported: Callable[[str], str] | None = None) -> None:
    """Add the top-level declarations of one parsed file to `decls` (`imported`: see `file_imports`)."""
    namer = TypeNamer(decls.path, file_imports(root, imported))
    for d in root.named_children:
        t = d.type
        if t == "package_clause" and not decls.name:
            decls.name = _text(d.named_children[0]) if d.named_children else ""
        elif t == "function_declaration":
            nm = _text(d.child_by_field_name("name"))
            sig = namer.signature(d)
            prev = d.prev_named_sibling
            if prev is not None and prev.type == "comment" and b"bodyclose:handled" in (prev.text or b""):
                sig = Signature(sig.params, sig.param_names, sig.results, sig.type_params, sig.variadic, True)
            decls.funcs.setdefault(nm, sig)
        elif t == "method_declaration":
            key = (receiver_type_name(d), _text(d.child_by_field_name("name")))
            decls.methods.setdefault(key, namer.signature(d, _receiver_tparams(d)))
        elif t == "type_declaration":
            for spec in d.named_children:
                if spec.type in ("type_spec", "type_alias"):
                    _add_type(decls, namer, spec)
        elif t == "var_declaration":
            for spec in _specs(d, "var_spec"):
                ty = spec.child_by_field_name("type")
                value = spec.child_by_field_name("value")
                names = [_text(c) for c in spec.children_by_field_name("name")]
                if ty is not None:
                    for nm in names:
                        decls.vars.setdefault(nm, namer.name(ty))
                elif value is not None and len(value.named_children) == len(names):
                    for nm, v in zip(names, value.named_children, strict=True):
                        lit = literal_type(namer, v)
                        if lit:
                            decls.vars.setdefault(nm, lit)


def literal_type(namer: TypeNamer, v: Node) -> str:
    """The type of `T{...}`, `&T{...}` or `new(T)`; '' for anything else."""
    if v.type == "unary_expression" and _text(v.child_by_field_name("operator")) == "&":
        inner = literal_type(namer, v.child_by_field_name("operand") or v)
        return "*" + inner if inner else ""
    if v.type == "composite_literal":
        return namer.name(v.child_by_field_name("type"))
    if v.type == "call_expression":
        fn = v.child_by_field_name("function")
        args = v.child_by_field_name("arguments")
        if fn is not None and _text(fn) == "new" and args is not None and len(args.named_children) == 1:
            a = args.named_children[0]
            if a.type.endswith("_type") or a.type == "type_identifier":
                return "*" + namer.name(a)
            if a.type == "identifier":
                nm = _text(a)
                return "*" + (nm if nm in BUILTIN_TYPES else f"{namer.pkgpath}.{nm}")
            if a.type == "selector_expression":
                pkg = _text(a.child_by_field_name("operand"))
                if pkg in namer.imports:
                    return f"*{namer.imports[pkg]}.{_text(a.child_by_field_name('field'))}"
    return ""


def _specs(decl: Node, kind: str) -> list[Node]:
    out: list[Node] = []
    for c in decl.named_children:
        if c.type == kind:
            out.append(c)
        elif c.type.endswith("_spec_list"):
            out.extend(x for x in c.named_children if x.type == kind)
    return out


def _add_type(decls: PackageDecls, namer: TypeNamer, spec: Node) -> None:
    nm = _text(spec.child_by_field_name("name"))
    tps = type_param_names(spec.child_by_field_name("type_parameters"))
    tn = namer.with_tparams(tps)
    body = spec.child_by_field_name("type")
    if body is None or nm in decls.types:
        return
    if body.type == "struct_type":
        td = TypeDecl("struct", type_params=tps)
        fl = next((c for c in body.named_children if c.type == "field_declaration_list"), None)
        for f in fl.named_children if fl is not None else ():
            if f.type != "field_declaration":
                continue
            ty = tn.name(f.child_by_field_name("type"))
            names = f.children_by_field_name("name")
            if names:
                for n in names:
                    td.fields[_text(n)] = ty
            else:
                td.embedded.append(ty)
                td.fields[ty.lstrip("*").rpartition(".")[2]] = ty
        decls.types[nm] = td
    elif body.type == "interface_type":
        td = TypeDecl("interface", type_params=tps)
        for m in body.named_children:
            if m.type == "method_elem":
                td.methods[_text(m.child_by_field_name("name"))] = tn.signature(m)
            elif m.type == "type_elem":
                td.embedded.append(tn.name(m))
        decls.types[nm] = td
    else:
        decls.types[nm] = TypeDecl("other", underlying=tn.name(body), type_params=tps)


# ---------------------------------------------------------------------- where packages live


@cache
def _go_env() -> tuple[str, str]:
    """(GOROOT, GOMODCACHE), from the environment or one `go env` call; '' when unknown."""
    root = os.environ.get("GOROOT", "")
    modcache = os.environ.get("GOMODCACHE", "")
    if root and modcache:
        return root, modcache
    try:
        out = subprocess.run(
            ["go", "env", "GOROOT", "GOMODCACHE"], capture_output=True, text=True, timeout=20, check=False
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        out = []
    if len(out) >= 2:
        root = root or out[0].strip()
        modcache = modcache or out[1].strip()
    if not modcache:
        gopath = os.environ.get("GOPATH") or str(Path.home() / "go")
        modcache = str(Path(gopath.split(os.pathsep)[0]) / "pkg" / "mod")
    return root, modcache


def go_env() -> tuple[str, str]:
    """(GOROOT, GOMODCACHE) as the program model sees them (one `go env` per process, cached).

    The scanner calls it before starting its worker pool, so the workers inherit the
    answer instead of each running `go env` (a process start, slow on a loaded machine)."""
    return _go_env()


_REQUIRE = re.compile(rb"^\s*(?:require\s+)?([A-Za-z0-9][^\s()]*)\s+(v[^\s/]+)", re.MULTILINE)
_REPLACE = re.compile(rb"^\s*(?:replace\s+)?([^\s()]+)(?:\s+v\S+)?\s+=>\s+(\S+)(?:\s+(v\S+))?", re.MULTILINE)


def escape_module_path(path: str) -> str:
    """The module cache spells upper-case letters as `!` + lower case."""
    return re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), path)


@dataclass
class ModuleMap:
    """Import path -> directory for one module root."""

    root: Path | None
    module: str
    requires: dict[str, str]
    replaces: dict[str, tuple[str, str]]

    @classmethod
    def for_root(cls, root: Path | None, module: str) -> ModuleMap:
        requires: dict[str, str] = {}
        replaces: dict[str, tuple[str, str]] = {}
        if root is not None:
            try:
                data = (root / "go.mod").read_bytes()[: 1 << 20]
            except OSError:
                data = b""
            for m in _REPLACE.finditer(data):
                replaces[m.group(1).decode()] = (m.group(2).decode(), (m.group(3) or b"").decode())
            for line in data.splitlines():
                if b"=>" in line or line.strip().startswith((b"module", b"go ", b"toolchain", b"//")):
                    continue
                mm = _REQUIRE.match(line)
                if mm:
                    requires[mm.group(1).decode()] = mm.group(2).decode()
        return cls(root, module, requires, replaces)

    def standard(self, path: str) -> bool:
        """The import path names the standard library: its first element has no dot and it is not this
        module's own (a module may be named `myservice`, without a dot)."""
        if "." in path.partition("/")[0]:
            return False
        return not (self.module and (path == self.module or path.startswith(self.module + "/")))

    def directory(self, path: str) -> Path | None:
        if self.root is not None and self.module and (path == self.module or path.startswith(self.module + "/")):
            return self.root / path[len(self.module) :].lstrip("/")
        if self.root is not None:
            v = self.root / "vendor" / path
            if v.is_dir():
                return v
        first = path.partition("/")[0]
        goroot, modcache = _go_env()
        if "." not in first:
            return Path(goroot) / "src" / path if goroot else None
        best = ""
        for mod in (*self.replaces, *self.requires):
            if (path == mod or path.startswith(mod + "/")) and len(mod) > len(best):
                best = mod
        if not best:
            return None
        rest = path[len(best) :].lstrip("/")
        if best in self.replaces:
            target, ver = self.replaces[best]
            if target.startswith((".", "/")) and self.root is not None:
                return (self.root / target / rest).resolve()
            return Path(modcache) / f"{escape_module_path(target)}@{ver}" / rest if ver else None
        return Path(modcache) / f"{escape_module_path(best)}@{self.requires[best]}" / rest


# ---------------------------------------------------------------------- the index


_PACKAGES: OrderedDict[tuple[str, str], PackageDecls | None] = OrderedDict()
_MODULES: dict[str, ModuleMap] = {}
STATS = {"packages_read": 0, "files_parsed": 0, "bytes_parsed": 0}
"""Counters for the benchmark: what the index cost in this process."""


def module_map(directory: Path) -> ModuleMap:
    info = gomod.module_for_dir(directory)
    key = str(info.root)
    mm = _MODULES.get(key)
    if mm is None:
        mm = ModuleMap.for_root(info.root, info.module)
        _MODULES[key] = mm
    return mm


def package_path_for_dir(directory: Path) -> str:
    """The import path of the package in `directory` (module path + relative dir; the dir itself if no module)."""
    info = gomod.module_for_dir(directory)
    if info.root is None or not info.module:
        goroot = _go_env()[0]
        if goroot:
            try:
                return str(directory.relative_to(Path(goroot) / "src"))
            except ValueError:
                pass
        return str(directory)
    rel = directory.relative_to(info.root).as_posix() if directory != info.root else ""
    if info.module == "std":
        # GOROOT/src's go.mod says `module std`, but std's import paths have no prefix
        # (net/http, not std/net/http); GOROOT/src/cmd is `module cmd`, whose paths do.
        return rel if rel and rel != "." else str(directory)
    return info.module + ("/" + rel if rel and rel != "." else "")


def package(from_dir: Path, import_path: str) -> PackageDecls | None:
    """The declarations of `import_path` as seen from a file in `from_dir`; None when not on disk."""
    mm = module_map(from_dir)
    key = (str(mm.root), import_path)
    if key in _PACKAGES:
        _PACKAGES.move_to_end(key)
        return _PACKAGES[key]
    d = mm.directory(import_path)
    decls = read_package(d, import_path) if d is not None else None
    _PACKAGES[key] = decls
    while len(_PACKAGES) > _MAX_PACKAGES:
        _PACKAGES.popitem(last=False)
    return decls


_MENTIONS: dict[tuple[str, bytes], bool] = {}


def package_mentions(from_dir: Path, import_path: str, needles: tuple[bytes, ...]) -> bool:
    """Does any .go file of the package hold one of `needles`? A byte scan, far cheaper than a
    parse: a package that never spells `Response` or `Rows` cannot return one."""
    mm = module_map(from_dir)
    d = mm.directory(import_path)
    return dir_mentions(d, needles, tests=False) if d is not None else False


def dir_mentions(d: Path, needles: tuple[bytes, ...], *, tests: bool = True) -> bool:
    """`package_mentions` for a directory (its test files too unless `tests` is False)."""
    key = (f"{d}\x00{tests}", b"\x00".join(needles))
    hit = _MENTIONS.get(key)
    if hit is not None:
        return hit
    found = False
    try:
        for e in os.scandir(d):
            if e.name.endswith(".go") and (tests or not e.name.endswith("_test.go")):
                with open(e.path, "rb") as fh:
                    data = fh.read(_MAX_FILE_BYTES)
                if any(n in data for n in needles):
                    found = True
                    break
    except OSError:
        found = False
    _MENTIONS[key] = found
    return found


def cached_package(from_dir: Path, import_path: str) -> PackageDecls | None:
    """`package` if this process has already read it, else None (never reads)."""
    return _PACKAGES.get((str(module_map(from_dir).root), import_path))


_NAMES: dict[tuple[str, str], str] = {}
"""(module root, import path) -> the name an unaliased import of it binds there."""
_DIR_MODULES: dict[str, ModuleMap] = {}
"""Directory -> its module's map: finding the module climbs the tree, and every file asks per import."""


def package_name(from_dir: Path, import_path: str) -> str:
    """The name an unaliased import of `import_path` binds in a file of `from_dir`: the package clause
    of the imported package's files (`go.etcd.io/etcd/client/v3` declares `clientv3`,
    `github.com/hashicorp/golang-lru` declares `lru`, `k8s.io/api/core/v1` declares `v1`). A file that
    writes `clientv3.New(cfg)` names no import the conventional name `client` would find, so every call
    and type of that package went unresolved. The standard library and a package not on disk keep the
    conventional name (std's clauses are its last elements)."""
    mm = _DIR_MODULES.get(str(from_dir))
    if mm is None:
        mm = _DIR_MODULES[str(from_dir)] = module_map(from_dir)
    key = (str(mm.root), import_path)  # per module: its go.mod decides where the package is
    got = _NAMES.get(key)
    if got is None:
        got = default_package_name(import_path)
        if not mm.standard(import_path):
            d = mm.directory(import_path)
            got = (package_clause(d) if d is not None else None) or got
        _NAMES[key] = got
    return got


_CLAUSE = re.compile(rb"^package[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.M)
_BLOCK_COMMENT = re.compile(rb"/\*.*?\*/", re.S)


def package_clause(directory: Path) -> str | None:
    """The package clause of a directory's non-test files, read from the head of the first that has
    one other than `main` and `documentation` (a generator beside a library declares `main`)."""
    try:
        names = sorted(e.name for e in os.scandir(directory) if e.name.endswith(".go") and e.is_file())
    except OSError:
        return None
    for name in names:
        if name.endswith("_test.go") or name.startswith((".", "_")):
            continue
        try:
            with open(directory / name, "rb") as fh:
                head = fh.read(_CLAUSE_HEAD)
        except OSError:
            continue
        m = _CLAUSE.search(_BLOCK_COMMENT.sub(b"", head))
        if m is not None and m.group(1) not in (b"main", b"documentation"):
            return m.group(1).decode()
    return None


_CLAUSE_HEAD = 1 << 15
"""Bytes read for a clause: licence headers and build lines come first, rarely longer."""


def read_package(directory: Path, import_path: str, pkg_name: str | None = None) -> PackageDecls | None:
    """Parse the non-test files of one directory, keeping declarations only (build tags ignored).

    `pkg_name` keeps only files of that package clause (a `package main` directory, read for
    one of its own files); by default the package is the one named like the import path."""
    from leakhunter.source.gopackage import cached_context
    from leakhunter.source.parse import parse

    try:
        names = sorted(e.name for e in os.scandir(directory) if e.name.endswith(".go") and e.is_file())
    except OSError:
        return None
    want = default_package_name(import_path)
    decls = PackageDecls(import_path)

    def imported(path: str) -> str:
        return package_name(directory, path)

    seen_pkg: str | None = None
    STATS["packages_read"] += 1
    for name in names:
        if name.endswith("_test.go") or name.startswith((".", "_")):
            continue
        try:
            data = (directory / name).read_bytes()
        except OSError:
            continue
        if len(data) > _MAX_FILE_BYTES:
            continue
        # The scanner's package view may hold this very file already parsed (the package
        # being scanned reads its own declarations): reuse that tree rather than parse again.
        shared = cached_context(directory / name, data)
        if shared is not None:
            tree = shared.tree
        else:
            tree = parse(data)
            STATS["files_parsed"] += 1
            STATS["bytes_parsed"] += len(data)
        root = tree.root_node
        pc = next((c for c in root.named_children if c.type == "package_clause"), None)
        pname = _text(pc.named_children[0]) if pc is not None and pc.named_children else ""
        if pkg_name is not None:
            if pname != pkg_name:
                continue
        elif pname in ("main", "documentation") and pname != want:
            continue
        if seen_pkg is None:
            seen_pkg = pname
        elif pname != seen_pkg and pname != want:
            continue
        add_file(decls, root, imported)
    if seen_pkg is None:
        return None
    return decls
