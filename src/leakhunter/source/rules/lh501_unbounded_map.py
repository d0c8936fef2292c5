"""LH501 unbounded-map: a long-lived map or slice that only ever grows."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from leakhunter.model import Finding, Severity
from leakhunter.source import gosyntax as gs
from leakhunter.source.gopackage import package_facts
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node, Query

_SHRINK_CALL = re.compile(r"(?i)(delete|clear|remove|reset|evict|prune|purge|trim|compact|expire|drop)")
"""A call with one of these words in its name, handed the map, may shrink it (maps.DeleteFunc, slices.Delete...)."""

_BOUNDED_KEYS = frozenset(
    {"bool", "byte", "uint8", "int8", "reflect.Type", "reflect.Kind", "*rtype", "*abi.Type"}
)
"""Key types with few values, or keyed by the program's own types: bounded by the code, not by input."""

_SERVING = frozenset({"net", "net/http", "net/rpc", "google.golang.org/grpc"})
_SERVING_PREFIX = (
    "github.com/gin-gonic/", "github.com/labstack/echo", "github.com/gofiber/", "github.com/go-chi/",
    "github.com/gorilla/", "google.golang.org/grpc", "github.com/valyala/fasthttp",
)
"""Imports that make a command a server (long-running), where a growing global is a leak."""

_SETUP_FUNCS = frozenset({"init", "main", "TestMain"})
_SYNC_MAP_ADD = frozenset({"Store", "LoadOrStore"})
_SYNC_MAP_SHRINK = frozenset({"Delete", "LoadAndDelete", "CompareAndDelete", "Clear"})
_MUTEX_TYPES = frozenset({"sync.Mutex", "sync.RWMutex", "*sync.Mutex", "*sync.RWMutex"})
_CTOR_PREFIX = ("new", "New", "make", "Make", "init", "Init", "open", "Open", "build", "Build")
_REGISTER_PREFIX = ("Register", "register", "MustRegister", "mustRegister", "Publish", "publish")
"""Functions that fill a registry from `init` (database/sql.Register, expvar.Publish, gob.Register):
bounded by the code that calls them, not by traffic."""


def _compact(text: str) -> str:
    """`text` without whitespace, so `a . b` and `a.b` compare equal."""
    return "".join(text.split())


@dataclass(frozen=True, slots=True)
class _Global:
    name: str
    kind: str
    """"map", "slice" or "sync.Map"."""
    key: str
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class _Facts:
    globals: dict[str, _Global]
    shrunk: frozenset[str]
    """Package-level names something may shrink (delete, clear, reassign, re-slice, size check)."""
    field_maps: dict[str, dict[str, str]]
    """Struct type -> {map field: key type}, for struct types that also hold a mutex."""
    shrunk_fields: frozenset[str]
    enum_types: frozenset[str]
    consts: frozenset[str]
    global_types: frozenset[str]
    """Type names of package-level vars (`var defaultCache = &Cache{}` makes `Cache` long-lived)."""
    service: bool
    """False for a command's code that serves nothing (a compiler, a CLI): it exits when done."""


def _map_or_slice(ctx: FileContext, spec: Node) -> tuple[str, str] | None:
    """("map"|"slice"|"sync.Map", key type) for a package-level var_spec holding one."""
    typ = spec.child_by_field_name("type")
    if typ is None:
        values = gs.assignment_sides(spec)[1]
        if len(values) != 1:
            return None
        v = values[0]
        if v.type == "unary_expression" and v.named_children:
            v = v.named_children[-1]
        if v.type == "composite_literal":
            typ = v.child_by_field_name("type")
        elif v.type == "call_expression" and gs.call_name(ctx, v) == "make":
            args = gs.arguments(v)
            typ = args[0] if args else None
    if typ is None:
        return None
    if typ.type == "map_type":
        return "map", _compact(ctx.text(typ.child_by_field_name("key")))
    if typ.type == "slice_type":
        elem = typ.child_by_field_name("element")
        if elem is not None and elem.type == "function_type":
            return None  # a callback registry (OnExit hooks): filled by code, not by traffic
        return "slice", ""
    if typ.type == "qualified_type" and ctx.text(typ) == "sync.Map":
        return "sync.Map", ""
    return None


def _spec_types(ctx: FileContext, spec: Node) -> set[str]:
    """Struct type names a package-level var_spec holds (`T`, `*T`, `&T{}`, `NewT()` -> T)."""
    out: set[str] = set()
    t = spec.child_by_field_name("type")
    if t is not None:
        out.add(ctx.text(t).lstrip("*"))
    for v in gs.assignment_sides(spec)[1]:
        if v.type == "unary_expression" and v.named_children:
            v = v.named_children[-1]
        if v.type == "composite_literal":
            out.add(ctx.text(v.child_by_field_name("type")))
        elif v.type == "call_expression":
            name = gs.call_name(ctx, v)
            if name.startswith("new") or name.startswith("New"):
                out.add(name[3:])
            args = gs.arguments(v)
            if name == "new" and args:
                out.add(ctx.text(args[0]))
    return out


def _root(n: Node | None) -> Node | None:
    """The identifier or field a value expression names (`m`, `x.f`, `&m`, `(m)`)."""
    while n is not None and n.type in ("unary_expression", "parenthesized_expression"):
        kids = n.named_children
        n = kids[-1] if kids else None
    if n is not None and n.type in ("identifier", "selector_expression"):
        return n
    return None


def _lazy_init(ctx: FileContext, assign: Node, target: str) -> bool:
    """True if `assign` sits under `if target == nil` / `len(target) == 0` (first use, not a reset)."""
    for p in gs.ancestors(assign):
        if p.type in gs.FUNC_TYPES:
            return False
        if p.type == "if_statement":
            cond = _compact(ctx.text(p.child_by_field_name("condition")))
            if f"{target}==nil" in cond or f"len({target})==0" in cond:
                return True
    return False


_SHRINK_QUERY = r"""
(call_expression function: (identifier) @builtin arguments: (argument_list . (_) @arg)
  (#any-of? @builtin "delete" "clear"))
(call_expression function: (_) @callee arguments: (argument_list) @args
  (#match? @callee "(?i)(delete|clear|remove|reset|evict|prune|purge|trim|compact|expire|drop)[A-Za-z0-9_]*$"))
(unary_expression operator: "&" operand: (_) @addr)
(binary_expression (call_expression function: (identifier) @len (#eq? @len "len")) @lencall) @bin
(assignment_statement left: (expression_list) @lhs operator: "=" right: (expression_list)) @assign
"""


@cache
def _shrink_query() -> Query:
    import tree_sitter_go
    from tree_sitter import Language, Query

    return Query(Language(tree_sitter_go.language()), _SHRINK_QUERY)


def _file_facts(ctx: FileContext, shrunk: set[str], shrunk_fields: set[str]) -> None:
    """Add to `shrunk`/`shrunk_fields` every name this file may shrink.

    Runs a tree-sitter query (matching in C) rather than walking the tree from
    Python: this runs on every sibling file of a package, so it must stay cheap.
    """
    from tree_sitter import QueryCursor

    def mark(n: Node | None) -> None:
        r = _root(n)
        if r is None:
            return
        if r.type == "identifier":
            shrunk.add(ctx.text(r))
        else:
            shrunk_fields.add(ctx.text(r.child_by_field_name("field")))

    for _, caps in QueryCursor(_shrink_query()).matches(ctx.tree.root_node):
        if "arg" in caps:
            mark(caps["arg"][0])
        elif "callee" in caps:
            callee = caps["callee"][0]
            for arg in caps["args"][0].named_children:
                mark(arg)
            if callee.type == "selector_expression":
                mark(callee.child_by_field_name("operand"))  # cache.Remove(k), m.Delete(k)
        elif "addr" in caps:
            mark(caps["addr"][0])
        elif "bin" in caps:
            b, call = caps["bin"][0], caps["lencall"][0]
            op = ctx.text(b.child_by_field_name("operator"))
            left = b.child_by_field_name("left")
            other = b.child_by_field_name("right") if left == call else left
            args = gs.arguments(call)
            if args and op in ("<", "<=", ">", ">=", "==") and ctx.text(other) not in ("0", "1"):
                mark(args[0])
        elif "assign" in caps:
            _reassigned(ctx, caps["assign"][0], mark)


def _reassigned(ctx: FileContext, a: Node, mark: Callable[[Node | None], None]) -> None:
    """Mark the targets `a` replaces wholesale (not an append to itself, a lazy init or a setup)."""
    lefts, rights = gs.assignment_sides(a)
    for i, left in enumerate(lefts):
        if left.type not in ("identifier", "selector_expression"):
            continue
        target = _compact(ctx.text(left))
        right = rights[i] if len(rights) == len(lefts) else None
        if right is not None and right.type == "call_expression" and gs.call_name(ctx, right) == "append":
            args = gs.arguments(right)
            if args and _compact(ctx.text(args[0])) == target:
                continue
        if _lazy_init(ctx, a, target):
            continue
        decl = gs.enclosing_declaration(a)
        top = ctx.text(decl.child_by_field_name("name")) if decl is not None else ""
        if left.type == "identifier":
            if top in _SETUP_FUNCS or decl is None:
                continue
        elif decl is not None and decl.type == "function_declaration" and top.startswith(_CTOR_PREFIX):
            continue
        mark(left)


def _top_level(ctx: FileContext, kind: str) -> Iterator[Node]:
    """The `<kind>_spec` nodes of top-level `<kind>` declarations, without indexing the whole tree."""
    for decl in ctx.tree.root_node.named_children:
        if decl.type != f"{kind}_declaration":
            continue
        for c in decl.named_children:
            if c.type == f"{kind}_spec":
                yield c
            elif c.type == f"{kind}_spec_list":
                yield from (s for s in c.named_children if s.type == f"{kind}_spec")


def _compute(files: list[FileContext]) -> _Facts:
    globals_: dict[str, _Global] = {}
    shrunk: set[str] = set()
    shrunk_fields: set[str] = set()
    field_maps: dict[str, dict[str, str]] = {}
    enum_types: set[str] = set()
    consts: set[str] = set()
    global_types: set[str] = set()
    serves = False
    for f in files:
        for spec in _top_level(f, "import"):
            path = f.text(spec.child_by_field_name("path")).strip('"`')
            serves = serves or path in _SERVING or path.startswith(_SERVING_PREFIX)
        for spec in _top_level(f, "var"):
            global_types.update(_spec_types(f, spec))
            kind = _map_or_slice(f, spec)
            for n in spec.children_by_field_name("name"):
                if kind is not None:
                    globals_[f.text(n)] = _Global(f.text(n), kind[0], kind[1], f.path.name, spec.start_point[0] + 1)
        for spec in _top_level(f, "const"):
            consts.update(f.text(n) for n in spec.children_by_field_name("name"))
            t = spec.child_by_field_name("type")
            if t is not None:
                enum_types.add(f.text(t))
        for ts in _top_level(f, "type"):
            st = ts.child_by_field_name("type")
            if st is None or st.type != "struct_type":
                continue
            maps: dict[str, str] = {}
            has_mutex = False
            for fl in st.named_children:
                for fd in fl.named_children:
                    t = fd.child_by_field_name("type") if fd.type == "field_declaration" else None
                    if t is None:
                        continue
                    if _compact(f.text(t)) in _MUTEX_TYPES:
                        has_mutex = True
                    elif t.type == "map_type":
                        for n in fd.children_by_field_name("name"):
                            maps[f.text(n)] = _compact(f.text(t.child_by_field_name("key")))
            if has_mutex and maps:
                field_maps[f.text(ts.child_by_field_name("name"))] = maps
        _file_facts(f, shrunk, shrunk_fields)
    return _Facts(
        globals_, frozenset(shrunk), field_maps, frozenset(shrunk_fields), frozenset(enum_types),
        frozenset(consts), frozenset(global_types), serves or not _is_command(files[0]),
    )


def _is_command(ctx: FileContext) -> bool:
    """True for package main or code under a `cmd/` directory (a program's own packages)."""
    return gs.package_name(ctx) == "main" or "cmd" in ctx.path.parent.parts


class UnboundedMap(Rule):
    """A package-level map or slice (or a map field of a mutex-guarded struct) that only grows.

    The pattern: a function adds to a long-lived collection — `cache[k] = v`,
    `byID[id] = append(byID[id], x)`, `events = append(events, e)`, `m.Store(k, v)` on
    a package-level `sync.Map` — and nothing anywhere in the package ever takes
    anything out: no `delete`, no `clear`, no reassignment (`m = make(...)`,
    `s = s[n:]`), no size check such as `if len(m) >= max`. Every distinct key the
    program sees stays reachable from a global for the life of the process, so the
    heap follows the number of distinct requests, users or ids ever seen.

    The whole package (every non-test file of the directory) is read, so a `delete`
    in another file counts. Not reported: collections filled only from `init`,
    `main` or a `Register*` function (registries bounded by code), keys that are
    literals or constants, keys of a bounded type (bool, a byte, an enum type with
    declared constants, `reflect.Type`), writes inside `sync.Once.Do`, and
    collections passed to a function whose name says it removes (`maps.DeleteFunc`,
    `evict`, `prune`...) or whose address is taken.

    Only code that shows it runs concurrently is considered — the inserting
    function takes a lock or is an HTTP handler (a `sync.Map` needs the handler: its
    documentation recommends it for caches that only grow over a bounded key set) —
    and not in a command that serves nothing (package main or code under `cmd/`
    importing no network server package: it exits when its job is done), nor in
    test helper packages.

    Struct fields are reported (as warnings) only for map fields of struct types
    that also hold a `sync.Mutex`/`RWMutex` — the shape of a shared cache or
    registry — when the insert is in a method of that type and no code in the
    package deletes from, clears, reassigns or size-checks a field of that name.

    Severity: `info`. Whether a key set is unbounded is a fact about the program's
    input, not its syntax: on code nobody here wrote (Go's standard library, caddy,
    nats-server, prometheus, go-ethereum, x/tools, cli) the rule now reports 2
    places, neither a real leak (a debug-only counter keyed by two constant names,
    the table of loaded plugins), so it cannot show the 75% precision an `error`
    needs.
    It is therefore OFF by default in `scan` (enable it with `--enable LH501` or in
    `.leakhunter.toml`; hand-triaged precision on real code: 0 of 3). `soak` and
    `watch --source` always run it: there a measured heap growth at the same line
    supplies the evidence the syntax cannot, and it names exactly the map
    `inuse_space` grows at.

    Fix: bound it — an LRU or TTL cache with a size cap, or delete entries when
    their owner goes away.
    """

    id = "LH501"
    name = "unbounded-map"
    severity = "info"
    enabled_by_default = False
    fix = "bound it: use an LRU/TTL cache with a size cap, or delete entries when they are no longer needed"
    leaking_example = """\
var sessions = map[string]*Session{}

func handle(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	sessions[id] = &Session{ID: id} // never deleted: one entry per id, forever
}
"""
    fixed_example = """\
var sessions = map[string]*Session{}

func handle(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	sessions[id] = &Session{ID: id}
}

func logout(id string) { delete(sessions, id) } // entries leave when the session ends
"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if ctx.is_test or ctx.path.name.endswith("_test.go"):
            return
        if gs.package_name(ctx).endswith(("test", "testutil", "testing", "testhelper", "testutils")):
            return  # test helpers live for one test binary run
        idx = gs.node_index(ctx)
        candidates = [
            *idx.get("assignment_statement", []),
            *idx.get("inc_statement", []),
            *idx.get("dec_statement", []),
            *idx.get("call_expression", []),
        ]
        if not candidates:
            return
        # file-local checks first: the package view (sibling files parsed) only when needed
        concurrent: dict[int, bool] = {}
        found: list[tuple[Node, Node, Node | None, Node]] = []
        for node in sorted(candidates, key=lambda n: n.start_byte):
            cand = self._candidate(ctx, node, concurrent)
            if cand is not None:
                found.append((node, *cand))
        if not found:
            return
        facts = package_facts(ctx, "LH501", _compute)
        if not facts.globals and not facts.field_maps:
            return
        seen: set[str] = set()
        for node, target, index, decl in found:
            hit = self._insert(ctx, node, target, index, decl, facts)
            if hit is None:
                continue
            key, message, severity = hit
            if key in seen:
                continue
            seen.add(key)
            yield self.finding(
                ctx, node, message, severity=severity, function=gs.function_name(ctx, node)
            )

    def _candidate(
        self, ctx: FileContext, node: Node, concurrent: dict[int, bool]
    ) -> tuple[Node, Node | None, Node] | None:
        """(collection, key or None, declaration) if `node` may add to a long-lived collection (file-local checks)."""
        target, index = self._added(ctx, node)
        if target is None:
            return None
        decl = gs.enclosing_declaration(node)
        if decl is None:
            return None
        top = ctx.text(decl.child_by_field_name("name"))
        if top in _SETUP_FUNCS or top.startswith(_REGISTER_PREFIX) or self._in_once(ctx, node):
            return None
        if target.type == "identifier":
            if gs.is_local_name(ctx, node, ctx.text(target)):
                return None
            if decl.id not in concurrent:
                concurrent[decl.id] = self._concurrent(ctx, decl)
            if not concurrent[decl.id]:
                return None
        else:
            operand = target.child_by_field_name("operand")
            recv = gs.receiver_name(ctx, decl) if decl.type == "method_declaration" else ""
            if index is None or not recv or operand is None or ctx.text(operand) != recv:
                return None
        return target, index, decl

    def _insert(
        self, ctx: FileContext, node: Node, target: Node, index: Node | None, decl: Node, facts: _Facts
    ) -> tuple[str, str, Severity] | None:
        """(dedup key, message, severity) if the candidate adds to a long-lived collection that never shrinks."""
        if index is not None and self._constant_key(ctx, index, facts):
            return None
        if target.type == "identifier":
            name = ctx.text(target)
            g = facts.globals.get(name)
            if g is None or name in facts.shrunk:
                return None
            if (g.kind == "map") != (index is not None) and g.kind != "sync.Map":
                return None
            if g.kind == "map" and self._bounded_key(g.key, facts):
                return None
            if self._type_keyed(ctx, node, decl, index):
                return None
            if g.kind == "sync.Map" and not self._concurrent(ctx, decl, locks=False):
                return None
            if not facts.service:
                return None
            where = f"{g.file}:{g.line}"
            what = {
                "map": "gets a new key here",
                "slice": "is appended to here",
                "sync.Map": "gets a new entry here",
            }[g.kind]
            return (
                name,
                f"package-level {g.kind} `{name}` (declared at {where}) {what}, and nothing in the "
                f"package deletes from it, clears it, replaces it or checks its size: it grows "
                f"for the life of the process",
                "info",
            )
        # a map field of a mutex-guarded struct, written through the method's receiver
        if index is None:
            return None
        recv_type = gs.receiver_type(ctx, decl)
        fields = facts.field_maps.get(recv_type)
        field = ctx.text(target.child_by_field_name("field"))
        if fields is None or field not in fields or field in facts.shrunk_fields:
            return None
        if self._bounded_key(fields[field], facts) or recv_type not in facts.global_types:
            return None
        if self._type_keyed(ctx, node, decl, index):
            return None
        return (
            f"{recv_type}.{field}",
            f"map field `{recv_type}.{field}` of a mutex-guarded (shared, long-lived) struct gets a "
            f"new key here, and no code in the package deletes from, clears, replaces or size-checks "
            f"it: it grows as long as the `{recv_type}` lives",
            "info",
        )

    @staticmethod
    def _concurrent(ctx: FileContext, decl: Node, *, locks: bool = True) -> bool:
        """True if the inserting function shows it runs concurrently: it locks, or it is an HTTP handler.

        A one-shot program (a compiler, a CLI) accumulating into a global is not a leak;
        a server's shared map is written under a lock or from a handler. A `sync.Map`
        needs the handler: its own documentation recommends it for "caches that only
        grow" over a bounded key set (types, names), so Store alone says nothing.
        """
        if locks:
            for c in gs.walk(decl, "call_expression", into_func_literals=True):
                if gs.call_name(ctx, c).endswith((".Lock", ".RLock")):
                    return True
        return any(t in ("http.ResponseWriter", "*http.Request") for _, t in gs.parameters(ctx, decl))

    @staticmethod
    def _type_keyed(ctx: FileContext, node: Node, decl: Node, index: Node | None) -> bool:
        """True if the key is a type (a `reflect.Type`, `*types.Type`...): bounded by the program."""
        key = index
        if key is None and node.type == "call_expression":
            args = gs.arguments(node)
            key = args[0] if args else None
        if key is None:
            return False
        text = ctx.text(key)
        if key.type == "identifier":
            fn = gs.enclosing_function(node) or decl
            for name, typ in gs.parameters(ctx, fn):
                if name == text:
                    return "Type" in typ or typ.lstrip("*") in ("rtype", "abi.Type")
            return text in ("t", "typ", "rt", "rtyp")
        return "TypeOf(" in text or "typ" in text.lower()


    @staticmethod
    def _added(ctx: FileContext, node: Node) -> tuple[Node | None, Node | None]:
        """(collection expression, key expression or None for append/Store) if `node` adds to one."""
        if node.type == "call_expression":
            fn = node.child_by_field_name("function")
            if (
                fn is not None
                and fn.type == "selector_expression"
                and ctx.text(fn.child_by_field_name("field")) in _SYNC_MAP_ADD
            ):
                op = fn.child_by_field_name("operand")
                if op is not None and op.type == "identifier":
                    return op, None
            return None, None
        if node.type in ("inc_statement", "dec_statement"):
            lefts = [c for c in node.named_children if c.type != "comment"][:1]
        else:
            lefts, rights = gs.assignment_sides(node)
            if len(lefts) == 1 and len(rights) == 1 and lefts[0].type in ("identifier", "selector_expression"):
                r = rights[0]
                if r.type == "call_expression" and gs.call_name(ctx, r) == "append":
                    args = gs.arguments(r)
                    if (
                        args
                        and _compact(ctx.text(args[0])) == _compact(ctx.text(lefts[0]))
                        and lefts[0].type == "identifier"
                    ):
                        return lefts[0], None
                return None, None
        for left in lefts:
            if left.type == "index_expression":
                operand = left.child_by_field_name("operand")
                if operand is not None and operand.type in ("identifier", "selector_expression"):
                    return operand, left.child_by_field_name("index")
        return None, None

    @staticmethod
    def _in_once(ctx: FileContext, node: Node) -> bool:
        for p in gs.ancestors(node):
            if p.type == "call_expression" and gs.call_name(ctx, p).endswith(".Do"):
                return True
            if p.type in ("function_declaration", "method_declaration"):
                return False
        return False

    @staticmethod
    def _constant_key(ctx: FileContext, index: Node, facts: _Facts) -> bool:
        if index.type in (
            "interpreted_string_literal", "raw_string_literal", "int_literal", "rune_literal", "true", "false",
        ):
            return True
        return index.type == "identifier" and ctx.text(index) in facts.consts

    @staticmethod
    def _bounded_key(key: str, facts: _Facts) -> bool:
        return key in _BOUNDED_KEYS or key in facts.enum_types or key.endswith("Type")
