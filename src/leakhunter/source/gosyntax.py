"""Shared tree-sitter-go helpers, so every rule reads Go syntax the same way.

Rules ask the same questions of a file: which functions are there, what does this
call call, which names does this statement assign, which imports are in scope.
Answering them here once (and memoising per file in `FileContext.cache`) keeps the
rules short and the whole scan fast: a file's node index is built in one walk and
shared by every rule, instead of each rule walking the tree again.

Grammar notes (tree-sitter-go 0.25) that every helper below accounts for:
- a `block` holds its statements inside a `statement_list` child (older grammars
  put them directly in the block): use `statements(block)`.
- functions are `function_declaration`, `method_declaration` and `func_literal`;
  the body is the `body` field (None for an external declaration).
- a call is `call_expression` with fields `function` and `arguments`.

Names are stable: rule modules import them. Add new helpers at the end.
"""

from __future__ import annotations

import re
import weakref
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext

FUNC_TYPES: frozenset[str] = frozenset({"function_declaration", "method_declaration", "func_literal"})
"""Node types that start a new function scope."""

LOOP_TYPES: frozenset[str] = frozenset({"for_statement"})

_WS = re.compile(r"\s+")


# --------------------------------------------------------------------------- walking


class TreeIndex:
    """Every named node of one tree, by type, in pre-order.

    Built in one cursor pass (the cheapest way to visit a tree from Python), then
    every `walk(node, types)` over that tree is a binary search in the type's list
    instead of a traversal: rules ask hundreds of "which calls are in this body"
    questions per file, and the answers all come from this one pass.
    """

    __slots__ = ("__weakref__", "by_type", "nodes", "root", "seen", "starts")

    def __init__(self, root: Node) -> None:
        by_type: dict[str, list[Node]] = {}
        cur = root.walk()
        while True:
            n = cur.node
            if n is not None and n.is_named:
                t = n.type
                lst = by_type.get(t)
                if lst is None:
                    by_type[t] = [n]
                else:
                    lst.append(n)
            if cur.goto_first_child():
                continue
            while not cur.goto_next_sibling():
                if not cur.goto_parent():
                    break
            else:
                continue
            break
        self.root = root
        self.by_type = by_type
        self.nodes = sum(len(v) for v in by_type.values())
        self.starts: dict[str, list[int]] = {}
        self.seen: list[int] = []
        """Ids of nodes of this tree recorded in `_ROOT_OF` (dropped with the index)."""

    def starts_of(self, t: str) -> list[int]:
        st = self.starts.get(t)
        if st is None:
            st = [n.start_byte for n in self.by_type.get(t, ())]
            self.starts[t] = st
        return st

    def within(self, node: Node, t: str) -> list[Node]:
        """Nodes of type `t` inside `node`'s byte range (possibly including `node` itself)."""
        lst = self.by_type.get(t)
        if not lst:
            return []
        starts = self.starts_of(t)
        lo = bisect_left(starts, node.start_byte)
        hi = bisect_left(starts, node.end_byte, lo)
        if node.end_byte == node.start_byte:
            hi = lo
        end = node.end_byte
        out = []
        for n in lst[lo:hi]:
            if n.end_byte <= end:
                out.append(n)
        # An ancestor with exactly node's range (a statement wrapping an expression) is not inside it.
        if out and out[0].start_byte == node.start_byte and out[0].end_byte == end:
            out = [n for n in out if not (n.start_byte == node.start_byte and n.end_byte == end)
                   or n.id == node.id or _is_descendant(n, node)]
        return out


def _is_descendant(n: Node, root: Node) -> bool:
    p = n.parent
    while p is not None:
        if p.id == root.id:
            return True
        if p.start_byte < root.start_byte or p.end_byte > root.end_byte:
            return False
        p = p.parent
    return False


_INDEXES: OrderedDict[int, TreeIndex] = OrderedDict()
_MAX_INDEXES = 64
"""Trees indexed per process (the file being scanned plus the package siblings rules read)."""
_MAX_INDEXED_NODES = 1_500_000
"""...and nodes in them: an indexed node costs about 200 bytes with its share of the tree,
and 64 files of go-mysql-server's collation tables (120,000 nodes each) held 1.6 GB
when only the count was bounded. The newest index always stays."""
_indexed_nodes = 0
_ALIVE: weakref.WeakValueDictionary[int, TreeIndex] = weakref.WeakValueDictionary()
"""Root node id -> every index still alive (held by `_INDEXES` or by a FileContext's cache).
An index holds nodes of its tree, so the tree, and with it the id, lives as long as the entry."""
_ROOT_OF: dict[int, TreeIndex] = {}
"""Node id -> index of its tree, for nodes already used as walk roots (saves the climb)."""


def _register(idx: TreeIndex) -> None:
    global _indexed_nodes
    key = idx.root.id
    if key in _INDEXES:
        _INDEXES.move_to_end(key)
        return
    _INDEXES[key] = idx
    _indexed_nodes += idx.nodes
    while len(_INDEXES) > _MAX_INDEXES or (_indexed_nodes > _MAX_INDEXED_NODES and len(_INDEXES) > 1):
        _, old = _INDEXES.popitem(last=False)
        _indexed_nodes -= old.nodes
        # Forget node ids of the evicted tree: once it is freed, its ids may be reused.
        for k in old.seen:
            if _ROOT_OF.get(k) is old:
                del _ROOT_OF[k]
        old.seen = []


def tree_index(node: Node) -> TreeIndex:
    """The TreeIndex of the tree holding `node` (built on first use, kept in a small LRU).

    An index holds nodes of its tree, which keeps that tree alive, so a node id can
    not be reused by another tree while its index is cached.
    """
    nid = node.id
    hit = _ROOT_OF.get(nid)
    if hit is not None:
        return hit
    root = node
    while True:
        p = root.parent
        if p is None:
            break
        root = p
    idx = _INDEXES.get(root.id)
    if idx is None:
        # Evicted from the LRU but still held by a live FileContext (a package sibling):
        # reuse it; rebuilding an index is a walk over every node of the tree.
        idx = _ALIVE.get(root.id)
        if idx is None:
            idx = TreeIndex(root)
            _ALIVE[root.id] = idx
    _register(idx)
    _ROOT_OF[nid] = idx
    idx.seen.append(nid)
    return idx


def walk(
    node: Node,
    types: str | Iterable[str] | None = None,
    *,
    into_func_literals: bool = False,
    include_self: bool = True,
) -> Iterator[Node]:
    """Pre-order walk of `node`'s subtree, yielding nodes of `types` (all nodes if None).

    Nested `func_literal`s are yielded (if they match `types`) but not descended into
    unless `into_func_literals`: code in a closure runs at another time (a `go func`,
    a `defer func`, a callback), so most flow questions must not look inside it.
    The root itself is always descended into, even when it is a func literal.

    With named `types` the answer comes from the tree's TreeIndex (binary search,
    no traversal); the order is the same pre-order (source order, outer node first).
    """
    wanted: frozenset[str] | None
    if types is None:
        wanted = None
    elif isinstance(types, str):
        wanted = frozenset((types,))
    else:
        wanted = frozenset(types)
    if wanted and node.is_named:
        yield from _walk_indexed(node, wanted, into_func_literals, include_self)
        return
    stack = [node]
    first = True
    while stack:
        n = stack.pop()
        if (include_self or not first) and (wanted is None or n.type in wanted):
            yield n
        if not first and n.type == "func_literal" and not into_func_literals:
            continue
        first = False
        children = n.children
        if children:
            stack.extend(reversed(children))


def _walk_indexed(node: Node, wanted: frozenset[str], into_func_literals: bool, include_self: bool) -> list[Node]:
    idx = tree_index(node)
    if len(wanted) == 1:
        (t,) = wanted
        found = idx.within(node, t)
    else:
        found = [n for t in wanted for n in idx.within(node, t)]
        found.sort(key=_preorder_key)
    if not found:
        return found
    root_id = node.id
    if not into_func_literals:
        lits = [lit for lit in idx.within(node, "func_literal") if lit.id != root_id]
        if lits:
            # Drop what lies strictly inside a nested literal: a literal starting before
            # the node and ending at or after its end contains it.
            starts = [lit.start_byte for lit in lits]
            maxend: list[int] = []
            m = -1
            for lit in lits:
                m = max(m, lit.end_byte)
                maxend.append(m)
            kept = []
            for n in found:
                i = bisect_left(starts, n.start_byte)
                if i and maxend[i - 1] >= n.end_byte:
                    continue
                kept.append(n)
            found = kept
    if not include_self:
        found = [n for n in found if n.id != root_id]
    return found


def _preorder_key(n: Node) -> tuple[int, int]:
    return (n.start_byte, -n.end_byte)


def file_index(ctx: FileContext) -> TreeIndex:
    """The file's TreeIndex, also kept in `ctx.cache` so it lives as long as the context."""
    idx = ctx.cache.get("gosyntax.treeindex")
    if isinstance(idx, TreeIndex):
        _register(idx)
        return idx
    built = tree_index(ctx.tree.root_node)
    ctx.cache["gosyntax.treeindex"] = built
    return built


def node_index(ctx: FileContext) -> dict[str, list[Node]]:
    """Every named node of the file grouped by type, in pre-order (built once per file)."""
    return file_index(ctx).by_type


def nodes_of_type(ctx: FileContext, *types: str) -> list[Node]:
    """All nodes of the given types in the file, in source order."""
    idx = file_index(ctx).by_type
    if len(types) == 1:
        return idx.get(types[0], [])
    found = [n for t in types for n in idx.get(t, [])]
    found.sort(key=_preorder_key)
    return found


def statements(block: Node | None) -> list[Node]:
    """The statements of a `block` (or of a case clause / statement_list), comments excluded."""
    if block is None:
        return []
    out: list[Node] = []
    for c in block.named_children:
        if c.type == "statement_list":
            out.extend(s for s in c.named_children if s.type != "comment")
        elif c.type != "comment":
            out.append(c)
    return out


_PARENTS: dict[int, Node | None] = {}
"""Parent of every node of the deeply nested trees met so far, by `Node.id`. The cached
nodes keep their trees alive, so an id cannot be reused while it is here."""
_PARENTS_MAX = 200_000
"""About 20 MB of cached nodes; a tree kept alive only by this map is freed when it is cleared."""
_PLAIN_STEPS = 24


def ancestors(node: Node) -> Iterator[Node]:
    """Parents of `node`, innermost first, up to the source file.

    tree-sitter (0.22+) keeps no parent pointers: `Node.parent` walks down from the root,
    so climbing from depth d costs O(d^2). Ordinary Go is shallow and climbs plainly; past
    a few steps (nested `go func(){` literals, hostile input) the whole tree's parents are
    mapped once, in one walk, and every later climb in that tree is linear.
    """
    cur = node
    steps = 0
    while True:
        p = _PARENTS.get(cur.id, _MISSING)
        if p is _MISSING:
            if steps >= _PLAIN_STEPS:
                _map_parents(cur)
                p = _PARENTS.get(cur.id, _MISSING)
            if p is _MISSING:
                p = cur.parent
        if p is None:
            return
        assert not isinstance(p, _Missing)
        yield p
        cur = p
        steps += 1


class _Missing:
    pass


_MISSING = _Missing()


def _map_parents(node: Node) -> None:
    """Map the parent of every node in the top-level declaration holding `node` (the root found
    by climbing once, plainly). Only that declaration: a deep climb is asked about one function
    at a time, and mapping whole files (a 400 KB test file, 150,000 nodes, a quarter second)
    cost valkey-go's scan 4 s."""
    root = node
    while (up := root.parent) is not None:
        root = up
    if len(_PARENTS) > _PARENTS_MAX:
        _PARENTS.clear()
    _PARENTS[root.id] = None
    top = root.child_with_descendant(node) if node.id != root.id else None
    if top is not None:
        _PARENTS[top.id] = root
    stack = [top if top is not None else root]
    while stack:
        n = stack.pop()
        for c in n.children:
            _PARENTS[c.id] = n
            stack.append(c)


def guarding_ifs(node: Node, stop: Node | None = None) -> Iterator[Node]:
    """The `if` statements whose consequence holds `node`, innermost first, up to `stop` (exclusive)
    or the enclosing function: the conditions a path to `node` found true (`if err != nil { return }`
    around an exit; an `else` branch, or the condition itself, is not the consequence)."""
    cur = node
    for p in ancestors(node):
        if p.type in FUNC_TYPES or (stop is not None and p == stop):
            return
        if p.type == "if_statement" and p.child_by_field_name("consequence") == cur:
            yield p
        cur = p


def guarded_by(ctx: FileContext, node: Node, conditions: set[str]) -> bool:
    """Some `if` whose consequence holds `node` (`guarding_ifs`) has one of `conditions` (whitespace-free
    text, `len(ch)>0`) as its condition or one `&&` conjunct of it: the path to `node` found it true."""
    for p in guarding_ifs(node):
        cond = p.child_by_field_name("condition")
        if cond is not None and conditions.intersection(_compact(ctx.text(cond)).split("&&")):
            return True
    return False


def enclosing_function(node: Node) -> Node | None:
    """The innermost function_declaration / method_declaration / func_literal holding `node`."""
    for p in ancestors(node):
        if p.type in FUNC_TYPES:
            return p
    return None


def enclosing_declaration(node: Node) -> Node | None:
    """The top-level function_declaration / method_declaration holding `node` (skipping closures)."""
    for p in ancestors(node):
        if p.type in ("function_declaration", "method_declaration"):
            return p
    return None


def in_loop(node: Node, *, stop_at_function: bool = True) -> Node | None:
    """The innermost `for_statement` whose body holds `node` (within the same function by default)."""
    prev = node
    for p in ancestors(node):
        if p.type in FUNC_TYPES and stop_at_function:
            return None
        if p.type == "for_statement" and p.child_by_field_name("body") == prev:
            return p
        prev = p
    return None


# --------------------------------------------------------------------------- functions


@dataclass(frozen=True, slots=True)
class FuncInfo:
    """One function of a file: a declaration, a method or a func literal."""

    node: Node
    name: str
    """`F`, `T.M` (receiver type without `*` or type params), or `F.func1` for literals,
    numbered in source order within their declaration as the Go compiler names them
    (nested literals are numbered in the same sequence: `F.func2`)."""
    kind: str
    """"func", "method" or "literal"."""
    body: Node | None
    receiver: str = ""
    """Receiver type name for methods (`T` for `func (t *T[K]) M()`)."""

    @property
    def is_literal(self) -> bool:
        return self.kind == "literal"


def receiver_type(ctx: FileContext, method: Node) -> str:
    """The receiver's type name of a method_declaration (`T` for `(t *T[K])`), '' if none."""
    recv = method.child_by_field_name("receiver")
    if recv is None:
        return ""
    for p in recv.named_children:
        if p.type == "parameter_declaration":
            t = p.child_by_field_name("type")
            while t is not None and t.type in ("pointer_type", "generic_type", "parenthesized_type"):
                if t.type == "generic_type":
                    t = t.child_by_field_name("type")
                else:
                    t = t.named_children[0] if t.named_children else None
            return ctx.text(t)
    return ""


def receiver_name(ctx: FileContext, method: Node) -> str:
    """The receiver's name of a method_declaration (`t` for `(t *T)`), '' if unnamed or none."""
    recv = method.child_by_field_name("receiver")
    for p in recv.named_children if recv is not None else ():
        if p.type == "parameter_declaration":
            name = p.child_by_field_name("name")
            return ctx.text(name) if name is not None else ""
    return ""


def functions(ctx: FileContext) -> list[FuncInfo]:
    """Every function, method and func literal of the file, in source order (memoised)."""
    cached = ctx.cache.get("gosyntax.functions")
    if cached is not None:
        return cached  # type: ignore[return-value]
    out: list[FuncInfo] = []
    for decl in nodes_of_type(ctx, "function_declaration", "method_declaration"):
        name_node = decl.child_by_field_name("name")
        base = ctx.text(name_node)
        recv = ""
        kind = "func"
        if decl.type == "method_declaration":
            recv = receiver_type(ctx, decl)
            kind = "method"
            base = f"{recv}.{base}" if recv else base
        out.append(FuncInfo(decl, base, kind, decl.child_by_field_name("body"), recv))
        body = decl.child_by_field_name("body")
        if body is not None:
            for i, lit in enumerate(walk(body, "func_literal", into_func_literals=True), 1):
                out.append(FuncInfo(lit, f"{base}.func{i}", "literal", lit.child_by_field_name("body")))
    # literals outside any function (package-level var initialisers); counted as they come, not by
    # re-counting the list per literal: a Ginkgo suite's `var _ = Describe(...)` holds thousands
    n = 0
    for lit in nodes_of_type(ctx, "func_literal"):
        if enclosing_declaration(lit) is None:
            n += 1
            out.append(FuncInfo(lit, f"glob.func{n}", "literal", lit.child_by_field_name("body")))
    out.sort(key=lambda f: f.node.start_byte)
    ctx.cache["gosyntax.functions"] = out
    return out


def function_info(ctx: FileContext, fn: Node) -> FuncInfo | None:
    """The FuncInfo for a function node (as returned by `enclosing_function`)."""
    by_id: dict[int, FuncInfo] | None = ctx.cache.get("gosyntax.functions_by_id")  # type: ignore[assignment]
    if by_id is None:
        by_id = {f.node.id: f for f in functions(ctx)}
        ctx.cache["gosyntax.functions_by_id"] = by_id
    return by_id.get(fn.id)


def function_name(ctx: FileContext, node: Node) -> str:
    """Name of the function holding `node` (or of `node` itself if it is a function); '' at top level.

    Stable across unrelated edits, so baselines and messages can use it.
    """
    fn = node if node.type in FUNC_TYPES else enclosing_function(node)
    if fn is None:
        return ""
    info = function_info(ctx, fn)
    return info.name if info else ""


def parameters(ctx: FileContext, fn: Node, field: str = "parameters") -> list[tuple[str, str]]:
    """(name, type text) of each parameter of a function; unnamed ones have name ''.

    `func(a, b int, ctx context.Context)` gives [("a","int"), ("b","int"), ("ctx","context.Context")].
    Variadic types keep their `...`. `field="receiver"` gives a method's receiver the same way.
    """
    plist = fn.child_by_field_name(field)
    out: list[tuple[str, str]] = []
    if plist is None:
        return out
    for p in plist.named_children:
        if p.type not in ("parameter_declaration", "variadic_parameter_declaration"):
            continue
        t = p.child_by_field_name("type")
        ttext = _compact(ctx.text(t))
        if p.type == "variadic_parameter_declaration":
            ttext = "..." + ttext
        names = [c for c in p.children_by_field_name("name")]
        if not names:
            out.append(("", ttext))
        for n in names:
            out.append((ctx.text(n), ttext))
    return out


def result_types(ctx: FileContext, fn: Node) -> list[str]:
    """Type texts of a function's results (`(int, error)` -> ["int", "error"]); [] if none."""
    res = fn.child_by_field_name("result")
    if res is None:
        return []
    if res.type != "parameter_list":
        return [_compact(ctx.text(res))]
    out: list[str] = []
    for p in res.named_children:
        if p.type != "parameter_declaration":
            continue
        t = _compact(ctx.text(p.child_by_field_name("type")))
        names = p.children_by_field_name("name")
        out.extend([t] * max(1, len(names)))
    return out


def const_int(text: str) -> int | None:
    """The value of a constant integer expression of literals (`64`, `64 << 10`, `32*1024`, `1_000`), None
    for anything else (a name, a call): buffer sizes and read limits the rules weigh."""
    import ast

    try:
        tree = ast.parse(text.replace("_", ""), mode="eval")
    except (SyntaxError, ValueError):
        return None

    def ev(n: ast.AST) -> int | None:
        if isinstance(n, ast.Constant) and isinstance(n.value, int) and not isinstance(n.value, bool):
            return n.value
        if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.LShift, ast.Mult, ast.Add)):
            a, b = ev(n.left), ev(n.right)
            if a is None or b is None or (isinstance(n.op, ast.LShift) and b > 62):
                return None
            if isinstance(n.op, ast.LShift):
                return a << b
            return a * b if isinstance(n.op, ast.Mult) else a + b
        return None

    return ev(tree.body)


# --------------------------------------------------------------------------- calls


def _compact(text: str) -> str:
    return _WS.sub("", text)


def call_name(ctx: FileContext, call: Node) -> str:
    """The dotted callee of a call_expression as written: `http.Get`, `resp.Body.Close`.

    Parentheses are dropped (`(x).Close` -> `x.Close`); a call in the chain keeps `()`
    (`foo().Close`); an index keeps its text compacted (`xs[0].Close`); explicit type
    arguments are dropped (`Map[int](xs)` -> `Map`); a func literal callee is `func`.
    Also accepts the callee expression itself.
    """
    memo: dict[int, str] | None = ctx.cache.get("gosyntax.call_name")  # type: ignore[assignment]
    if memo is None:
        memo = {}
        ctx.cache["gosyntax.call_name"] = memo
    key = call.id
    name = memo.get(key)
    if name is None:
        fn = call.child_by_field_name("function") if call.type == "call_expression" else call
        name = _expr_name(ctx, fn)
        memo[key] = name
    return name


def _expr_name(ctx: FileContext, n: Node | None) -> str:
    if n is None:
        return ""
    t = n.type
    if t in ("identifier", "field_identifier", "package_identifier", "type_identifier"):
        return ctx.text(n)
    if t == "selector_expression":
        return f"{_expr_name(ctx, n.child_by_field_name('operand'))}.{ctx.text(n.child_by_field_name('field'))}"
    if t == "parenthesized_expression":
        inner = n.named_children
        return _expr_name(ctx, inner[0]) if inner else ""
    if t == "call_expression":
        # memoized: a builder chain `b.A().B().C()...` names each of its n calls by the calls
        # below it, n^2 steps without the memo (valkey-go's generated command builders)
        return call_name(ctx, n) + "()"
    if t == "func_literal":
        return "func"
    if t in ("index_expression", "generic_type") and n.child_by_field_name("type_arguments") is not None:
        return _expr_name(ctx, n.child_by_field_name("operand") or n.child_by_field_name("type"))
    if t == "unary_expression":
        op = n.child_by_field_name("operand")
        return _expr_name(ctx, op)
    return _compact(ctx.text(n))


def imports(ctx: FileContext) -> dict[str, str]:
    """Import name -> import path for the file (`nethttp` -> `net/http`, `http` -> `net/http`).

    Unaliased imports use the package's own name (`FileContext.import_name`). Blank (`_`) and dot imports
    are not in the map; see `dot_imports`.
    """
    cached = ctx.cache.get("gosyntax.imports")
    if cached is not None:
        return cached  # type: ignore[return-value]
    out: dict[str, str] = {}
    dots: list[str] = []
    for spec in nodes_of_type(ctx, "import_spec"):
        path_node = spec.child_by_field_name("path")
        path = ctx.text(path_node).strip('"`')
        name_node = spec.child_by_field_name("name")
        if name_node is None:
            out[ctx.import_name(path)] = path
        elif name_node.type == "dot":
            dots.append(path)
        elif name_node.type == "blank_identifier":
            continue
        else:
            out[ctx.text(name_node)] = path
    ctx.cache["gosyntax.imports"] = out
    ctx.cache["gosyntax.dot_imports"] = dots
    return out


def dot_imports(ctx: FileContext) -> list[str]:
    """Import paths imported with `.` (their names are used unqualified)."""
    imports(ctx)
    return ctx.cache["gosyntax.dot_imports"]  # type: ignore[return-value]


def default_package_name(path: str) -> str:
    """The conventional package name for an import path: the last path element, with a `/vN`
    major-version suffix skipped, a `.vN` suffix dropped (`gopkg.in/yaml.v3` -> `yaml`) and a `go-`
    prefix dropped (`go-redis` -> `redis`). Wrong where the clause differs (`hashicorp/golang-lru`
    declares `lru`, `k8s.io/api/core/v1` declares `v1`): the package's own files say."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return path
    last = parts[-1]
    if re.fullmatch(r"v\d+", last) and len(parts) > 1:
        last = parts[-2]
    last = re.sub(r"\.v\d+$", "", last)
    if last.startswith("go-"):
        last = last[3:]
    last = last.removesuffix("-go").removesuffix(".go")
    return last.replace("-", "_").replace(".", "_")


def qualified_call_name(ctx: FileContext, call: Node) -> str:
    """`call_name` with a leading import name replaced by its path: `nethttp.Get` -> `net/http.Get`.

    Only the first element is resolved, and only when it names an import of the file;
    `resp.Body.Close` stays as it is. A local variable shadowing an import name is not
    detected (rare in practice; rules that care check `is_local_name`).
    """
    memo: dict[int, str] | None = ctx.cache.get("gosyntax.qualified_call_name")  # type: ignore[assignment]
    if memo is None:
        memo = {}
        ctx.cache["gosyntax.qualified_call_name"] = memo
    got = memo.get(call.id)
    if got is not None:
        return got
    name = call_name(ctx, call)
    head, sep, rest = name.partition(".")
    if sep:
        path = imports(ctx).get(head)
        if path is not None:
            name = f"{path}.{rest}"
    memo[call.id] = name
    return name


def is_call_to(ctx: FileContext, call: Node, *qualified: str) -> bool:
    """True if the call resolves to one of `qualified` (`"net/http.Get"`, `"time.NewTicker"`)."""
    return qualified_call_name(ctx, call) in qualified


def arguments(call: Node) -> list[Node]:
    """The argument expressions of a call_expression (comments excluded)."""
    args = call.child_by_field_name("arguments")
    if args is None:
        return []
    return [a for a in args.named_children if a.type != "comment"]


# --------------------------------------------------------------------------- assignments


def assignment_sides(node: Node) -> tuple[list[Node], list[Node]]:
    """(left expressions, right expressions) of an assignment-like node.

    Handles short_var_declaration, assignment_statement, var_spec / const_spec (left are
    the names), range_clause (right is the ranged expression) and
    receive_statement (`v, ok := <-ch`). Other nodes give ([], []).
    """
    t = node.type
    if t in ("short_var_declaration", "assignment_statement", "range_clause", "receive_statement"):
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        lefts = _expr_list(left)
        rights = _expr_list(right)
        return lefts, rights
    if t in ("var_spec", "const_spec"):
        names = node.children_by_field_name("name")
        value = node.child_by_field_name("value")
        return list(names), _expr_list(value)
    return [], []


def _expr_list(n: Node | None) -> list[Node]:
    if n is None:
        return []
    if n.type == "expression_list":
        return [c for c in n.named_children if c.type != "comment"]
    return [n]


def assigned_names(ctx: FileContext, node: Node) -> list[str]:
    """Names assigned by a short var decl / assignment / var spec / range clause, in order.

    `_` is kept so positions line up with the values (`resp, _ := ...` -> ["resp", "_"]).
    A non-identifier target is given as its compact text (`s.f, err = ...` -> ["s.f", "err"]).
    """
    return [_compact(ctx.text(n)) for n in assignment_sides(node)[0]]


def assigned_value(ctx: FileContext, node: Node, name: str) -> Node | None:
    """The right-hand expression assigned to `name` by `node`, when one-to-one.

    For `a, b := f()` (one call, several results) this returns the call for every name;
    use `assigned_names(...).index(name)` to learn which result it is.
    """
    lefts, rights = assignment_sides(node)
    for i, left in enumerate(lefts):
        if _compact(ctx.text(left)) == name:
            if len(rights) == len(lefts):
                return rights[i]
            if len(rights) == 1:
                return rights[0]
    return None


def assigned_values(ctx: FileContext, body: Node | None, name: str) -> list[Node | None]:
    """What each `:=` or `=` in `body` (not in its closures) gives `name`, in order (`assigned_value`:
    None where the assignment is not one-to-one): a local's sources, to read where it came from."""
    if body is None:
        return []
    return [assigned_value(ctx, d, name) for d in walk(body, ("short_var_declaration", "assignment_statement"))
            if name in assigned_names(ctx, d)]


def is_define(node: Node) -> bool:
    """True for `:=` (short var decl, or a range clause or a select case's receive with `:=`), which
    declares new names."""
    if node.type == "short_var_declaration":
        return True
    if node.type in ("range_clause", "receive_statement"):
        return any(c.type == ":=" for c in node.children)
    return node.type == "var_spec"


# --------------------------------------------------------------------------- package scope


def package_vars(ctx: FileContext) -> dict[str, Node]:
    """Package-level `var` names -> their var_spec node (memoised)."""
    return _package_specs(ctx, "var")


def package_consts(ctx: FileContext) -> dict[str, Node]:
    """Package-level `const` names -> their const_spec node (memoised)."""
    return _package_specs(ctx, "const")


def const_spec(ctx: FileContext, ident: Node) -> Node | None:
    """The `const` spec that `ident`'s name refers to: one declared earlier in an enclosing function
    (innermost first), else this file's package-level one; None otherwise. Shadowing by a variable or
    parameter is the caller's question (`is_local_name`)."""
    name = ctx.text(ident)
    fn = enclosing_function(ident)
    while fn is not None:
        for spec in walk(fn, "const_spec"):
            if spec.start_byte < ident.start_byte and name in (ctx.text(c) for c in spec.children_by_field_name("name")):
                return spec
        fn = enclosing_function(fn)
    return package_consts(ctx).get(name)


def package_level_names(ctx: FileContext) -> set[str]:
    """Names of package-level vars and consts declared in this file."""
    return set(package_vars(ctx)) | set(package_consts(ctx))


def _package_specs(ctx: FileContext, kind: str) -> dict[str, Node]:
    key = f"gosyntax.pkg.{kind}"
    cached = ctx.cache.get(key)
    if cached is not None:
        return cached  # type: ignore[return-value]
    out: dict[str, Node] = {}
    for decl in ctx.tree.root_node.named_children:
        if decl.type != f"{kind}_declaration":
            continue
        for spec in walk(decl, f"{kind}_spec"):
            for n in spec.children_by_field_name("name"):
                name = ctx.text(n)
                if name != "_":
                    out[name] = spec
    ctx.cache[key] = out
    return out


def package_name(ctx: FileContext) -> str:
    """The package clause's name (`main`, `foo`, `foo_test`)."""
    for c in ctx.tree.root_node.named_children:
        if c.type == "package_clause":
            for n in c.named_children:
                if n.type == "package_identifier":
                    return ctx.text(n)
    return ""


# --------------------------------------------------------------------------- identifiers


def identifiers(
    ctx: FileContext, node: Node, name: str, *, into_func_literals: bool = True
) -> Iterator[Node]:
    """Every `identifier` node spelled `name` under `node` (uses and declarations alike).

    Field names (`x.name`) are `field_identifier`s and are not matched.
    """
    encoded = name.encode()
    for n in walk(node, "identifier", into_func_literals=into_func_literals):
        if n.text == encoded:
            yield n


def returned_values(ret: Node) -> list[Node]:
    """The expressions of a `return` statement, one per result (`return a, b` is one
    expression_list node in the grammar; comments are not values)."""
    exprs = [c for c in ret.named_children if c.type != "comment"]
    if len(exprs) == 1 and exprs[0].type == "expression_list":
        exprs = [c for c in exprs[0].named_children if c.type != "comment"]
    return exprs


def error_handler(ctx: FileContext, assign: Node, err: str) -> Node | None:
    """The statement that deals with `err` right after `assign` set it: the `if` whose
    initializer `assign` is, else the first of the next three statements that mentions
    `err` (None when none does: the error is dropped or handled too far away to judge)."""
    holder = assign.parent
    if holder is None:
        return None
    if holder.type == "if_statement":
        return holder if holder.child_by_field_name("initializer") == assign else None
    stmts = statements(holder)
    if assign not in stmts:
        return None
    at = stmts.index(assign)
    return next((x for x in stmts[at + 1 : at + 4] if any(identifiers(ctx, x, err))), None)


def checks_err(ctx: FileContext, if_stmt: Node, err: str) -> bool:
    """The `if` tests exactly `err != nil`."""
    return "".join(ctx.text(if_stmt.child_by_field_name("condition")).split()) == f"{err}!=nil"


def is_used_after(ctx: FileContext, node: Node, name: str, scope: Node) -> bool:
    """True if `name` appears as an identifier in `scope` after the end of `node`."""
    end = node.end_byte
    return any(n.start_byte >= end for n in identifiers(ctx, scope, name))


def local_names(ctx: FileContext, fn: Node) -> set[str]:
    """Names declared inside a function (params, results, `:=`, var, range, `case v := <-ch`) — not in
    nested closures. Memoised per function: `is_local_name` asks it of every enclosing function for each
    name it checks, and a Ginkgo suite's one literal of 140,000 lines made that minutes of walking
    (IBM/vpc-go-sdk, held-out set 112)."""
    memo = ctx.cache.setdefault("gosyntax.local_names", {})
    assert isinstance(memo, dict)
    got = memo.get(fn.id)
    if got is None:
        got = memo[fn.id] = frozenset(_local_names(ctx, fn))
    return set(got)  # a copy: callers add to it


def _local_names(ctx: FileContext, fn: Node) -> set[str]:
    out = {n for n, _ in parameters(ctx, fn) if n}
    res = fn.child_by_field_name("result")
    if res is not None and res.type == "parameter_list":
        for p in res.named_children:
            out.update(ctx.text(n) for n in p.children_by_field_name("name"))
    body = fn.child_by_field_name("body")
    if body is not None:
        for d in walk(body, ("short_var_declaration", "var_spec", "range_clause", "receive_statement")):
            if is_define(d):
                out.update(ctx.text(n) for n in assignment_sides(d)[0] if n.type == "identifier")
    out.discard("_")
    return out


def is_local_name(ctx: FileContext, node: Node, name: str) -> bool:
    """True if `name` is declared in the function holding `node` (or an enclosing one)."""
    fn = enclosing_function(node)
    while fn is not None:
        if name in local_names(ctx, fn):
            return True
        fn = enclosing_function(fn)
    return False


def string_value(ctx: FileContext, node: Node | None) -> str | None:
    """The value of a string literal node (quotes removed, escapes left as written)."""
    if node is None or node.type not in ("interpreted_string_literal", "raw_string_literal"):
        return None
    return ctx.text(node)[1:-1]


def call_at(ctx: FileContext, start: int) -> Node | None:
    """The innermost call expression holding byte offset `start`: package-wide facts keep
    offsets, not nodes (trees do not outlive their file), and rules find the call again."""
    node = ctx.tree.root_node.descendant_for_byte_range(start, start)
    if node is None or node.type == "call_expression":
        return node
    return next((p for p in ancestors(node) if p.type == "call_expression"), None)
