"""Function summaries about resources: which calls create one, what a callee does with one.

Two questions the close/stop rules used to answer from names alone:

- Does this call hand the caller a resource it must release? First by the declared
  type of the call's result (`*http.Response`, `*sql.Rows`, pgx `Rows`, `*os.File`,
  ...; see `RESOURCE_TYPES`), so a one-line wrapper `fetch(u) (*http.Response, error)`
  creates a response just like `http.Get`. For a function of the scanned package the
  summary also looks at its body, bottom-up with a depth bound: it must return a
  value it made (a call's result), not one it read from a field or a global — a
  getter of a stored response gives the caller no obligation.
- What does a callee do with the resource it is handed (parameter `i`)? `release`
  (its body closes/stops it, or hands it to a helper that does), `none` (only reads
  it: the caller still holds it), `keep` (stores it, returns it, hands it to a
  goroutine or to code we cannot see), '' (the callee cannot be found). Only
  same-package functions and methods are read (their trees are already parsed for
  the package view); a method name an interface of the package declares may reach
  any implementation, so it is never summarised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from leakhunter.source import gosyntax as gs
from leakhunter.source.program import types as ty

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext

RESOURCE_TYPES: dict[str, str] = {
    "*net/http.Response": "http-response",
    "*database/sql.Rows": "sql-rows",
    "github.com/jackc/pgx/v5.Rows": "sql-rows",
    "github.com/jackc/pgx/v4.Rows": "sql-rows",
    "*github.com/jmoiron/sqlx.Rows": "sql-rows",
    "*database/sql.Stmt": "sql-stmt",
    "*github.com/jmoiron/sqlx.Stmt": "sql-stmt",
    "*github.com/jmoiron/sqlx.NamedStmt": "sql-stmt",
    "*database/sql.Tx": "sql-tx",
    "*github.com/jmoiron/sqlx.Tx": "sql-tx",
    "*os.File": "file",
    "net.Listener": "listener",
    "*net.TCPListener": "listener",
    "*net.UnixListener": "listener",
    "net.Conn": "conn",
    "*net.TCPConn": "conn",
    "*net.UDPConn": "conn",
    "*net.UnixConn": "conn",
    "*net/http/httptest.Server": "test-server",
    "*time.Ticker": "ticker",
    "*time.Timer": "timer",
    "context.CancelFunc": "cancel",
}
"""Declared types whose values someone must release, and the kind of release they need."""

NOT_CREATORS = frozenset({
    "net/http/httptest.ResponseRecorder.Result",
    "net/http.ReadResponse",
    "os.NewFile",
})
"""Callees whose declared result is a resource type but which hold nothing that needs a release:
a recorder's response is an in-memory buffer; `http.ReadResponse` parses from a reader the
caller already owns (no transport connection behind its body); `os.NewFile` wraps a descriptor someone
else opened and owns (an inherited fd, one a `defer syscall.Close(fd)` closes)."""

BUFFERED_BODIES = frozenset({
    "github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime.Pipeline.Do",
    "github.com/Azure/azure-sdk-for-go/sdk/azcore/internal/exported.Pipeline.Do",
})
"""Callees whose response body arrives already read into memory and closed: every pipeline
`runtime.NewPipeline` builds ends in the Azure SDK's body-download policy, which reads the network
body, closes it and puts a byte reader in its place, unless the request was marked with
`runtime.SkipBodyDownload` (azidentity's managed-identity client, held-out set 51)."""

_MAX_DEPTH = 3


def resource_kind(typ: str) -> str:
    return RESOURCE_TYPES.get(typ, "")


def created_resource(ctx: FileContext, call: Node, depth: int = 0) -> str:
    """The resource kind a call hands its caller ('' if none or unknown). See the module doc."""
    if depth > _MAX_DEPTH:
        return ""
    memo = ctx.cache.setdefault("program.created", {})
    assert isinstance(memo, dict)
    key = (call.start_byte, call.end_byte)
    if key in memo:
        return str(memo[key])
    memo[key] = ""
    if not _may_return_resource(ctx, call):
        return ""
    resolved = ty.resolve_call(ctx, call)
    if resolved is None or resolved[1].handled or resolved[0] in NOT_CREATORS:
        return ""
    if resolved[0] in BUFFERED_BODIES and not _skips_body_download(ctx, call):
        return ""
    results = ty.call_results(ctx, call)
    kind = resource_kind(results[0]) if results else ""
    if kind == "http-response" and body_read_with(results):
        kind = ""  # `Do(ctx, req) (*http.Response, []byte, error)`: the body is already read (and closed)
    if kind:
        # a function of this package, `protocol.HTTPSendAndRecv(...)` of another package of the module (or
        # a dependency), or a method of another package's type (`r.client.Post` on bluemix-go's own
        # `*client.Client`, held-out set 68): its body decides (go-exploit's DoRequest defers the body's
        # Close and reads it before handing the response back for its status, held-out set 42)
        decl = callee_declaration(ctx, call)
        if decl is not None and (not _returns_fresh(decl[0], decl[1], depth) or returns_head_call(decl[0], decl[1])):
            kind = ""
        elif decl is None:
            from leakhunter.source.program.implementations import interface_callees

            impls = interface_callees(ctx, call)
            if impls and not any(_returns_fresh(d, n, depth) for d, n in impls):
                kind = ""  # every implementation in the module hands back what it closed or keeps
    memo[key] = kind
    return kind


_HEAD_METHODS = frozenset({'"HEAD"', "http.MethodHead", "net/http.MethodHead"})


def returns_head_call(ctx: FileContext, decl: Node) -> bool:
    """Every return of `decl` hands back what a call given the HEAD method makes: its response
    (`return c.doRequest(ctx, http.MethodHead, path, ...)`: reaper-client-go's doHead, held-out set 96) or
    the request it builds (`return s.httpRequest("HEAD", u)`: rkt's headRequest, set 113). The transport
    answers a HEAD request with `http.NoBody` and pools the connection before it returns, so the response
    holds nothing to close."""
    body = decl.child_by_field_name("body")
    rets = list(gs.walk(body, "return_statement")) if body is not None else []
    for r in rets:
        vals = gs.returned_values(r)
        if not vals or vals[0].type != "call_expression" or not any(
                gs._compact(ctx.text(a)) in _HEAD_METHODS for a in gs.arguments(vals[0])):
            return False
    return bool(rets)


def _skips_body_download(ctx: FileContext, call: Node) -> bool:
    """The file asks for a raw body somewhere (`runtime.SkipBodyDownload(req)`, here or in the helper
    that builds the request), or the function sends a request it was handed (its maker may have
    asked): the caller must close that body."""
    fn = gs.enclosing_function(call)
    if fn is None or b"SkipBodyDownload" in ctx.source:
        return True
    args = gs.arguments(call)
    params = {name for name, _ in gs.parameters(ctx, fn)}
    return bool(args) and args[0].type == "identifier" and ctx.text(args[0]) in params


_NEEDLES = (b"http.Response", b"Rows", b"Stmt", b"sql.Tx", b"os.File")
"""Spellings a package needs to return a response, rows, a statement, a transaction or a file (the
kinds the rules ask about by type today): a package of the module or a dependency that spells none
of them is not read for a call into it (connections and timers from other non-std packages are not
found by type for that reason; std packages are always read)."""


_OWN_NEEDLES = (*_NEEDLES, b"http.Client", b"http.Transport", b"RoundTripper", b"sql.DB", b"sql.Conn", b"pgx", b"sqlx")
"""For the scanned package itself: also the types whose methods hand those out."""


def _may_return_resource(ctx: FileContext, call: Node) -> bool:
    """False when the callee is `pkg.F` (or a method of a type) of a non-std package whose files
    never spell a resource type: reading (parsing) that package could not find one."""
    from leakhunter.source.program.index import dir_mentions, module_map, package_mentions

    fn = call.child_by_field_name("function")
    if fn is None:
        return True
    op = fn.child_by_field_name("operand") if fn.type == "selector_expression" else None
    path = gs.imports(ctx).get(ctx.text(op)) if op is not None and op.type == "identifier" else None
    own_mentions = path is not None or dir_mentions(ctx.path.absolute().parent, _OWN_NEEDLES)
    if op is None or fn.type != "selector_expression":
        # a function of this package: a package that spells no response, rows, statement, client or
        # database type can hand out none of them
        return own_mentions
    if path is None:
        # a method: judge the package that declares the receiver's type (`a.c.Do(req, &out)` on another
        # package's client, from a package that itself spells no resource type)
        recv = ty.expr_type(ctx, op).lstrip("*")
        path = recv.rpartition(".")[0] if "." in recv and not recv.startswith(("'", "[]", "map[")) else ""
        if not path or path == ty.own_path(ctx):
            return own_mentions
    if module_map(ctx.path.absolute().parent).standard(path):
        return True
    return package_mentions(ctx.path.absolute().parent, path, _NEEDLES)


def _decl_sites(ctx: FileContext) -> dict[tuple[str, str], list[tuple[str, int]]]:
    """(receiver type name or '', function name) -> [(file name, start byte)] for the package;
    ("interface", method name) -> [] for the methods its interfaces declare.

    Plain data, so it is memoised once per package (the trees of sibling files come and go).
    """
    from leakhunter.source.gopackage import package_facts
    from leakhunter.source.program.index import receiver_type_name

    def build(files: list[FileContext]) -> dict[tuple[str, str], list[tuple[str, int]]]:
        out: dict[tuple[str, str], list[tuple[str, int]]] = {}
        for f in files:
            for d in f.tree.root_node.named_children:
                if d.type == "function_declaration":
                    key = ("", f.text(d.child_by_field_name("name")))
                elif d.type == "method_declaration":
                    key = (receiver_type_name(d), f.text(d.child_by_field_name("name")))
                elif d.type == "type_declaration":
                    for spec in d.named_children:
                        body = spec.child_by_field_name("type") if spec.type == "type_spec" else None
                        if body is not None and body.type == "interface_type":
                            for m in body.named_children:
                                if m.type == "method_elem":
                                    out.setdefault(("interface", f.text(m.child_by_field_name("name"))), [])
                    continue
                else:
                    continue
                out.setdefault(key, []).append((f.path.name, d.start_byte))
        return out

    cached = ctx.cache.get("program.sites")
    if isinstance(cached, dict):
        return cached
    sites = package_facts(ctx, "program.sites", build)
    ctx.cache["program.sites"] = sites
    return sites


def _methods_named(
    ctx: FileContext, sites: dict[tuple[str, str], list[tuple[str, int]]]
) -> dict[str, list[list[tuple[str, int]]]]:
    """`sites`' methods by name alone (every receiver type's list): asked for each method call, so kept
    beside the sites rather than found by a pass over them per call (rueidis' command builders, a
    package of thousands of methods and a test file of 400,000 calls)."""
    cached = ctx.cache.get("program.sites.by_name")
    if isinstance(cached, tuple) and cached[0] is sites:
        return cached[1]  # type: ignore[no-any-return]
    out: dict[str, list[list[tuple[str, int]]]] = {}
    for (recv, name), v in sites.items():
        if recv not in ("", "interface"):
            out.setdefault(name, []).append(v)
    ctx.cache["program.sites.by_name"] = (sites, out)
    return out


def _site_node(ctx: FileContext, site: tuple[str, int]) -> tuple[FileContext, Node] | None:
    from leakhunter.source.gopackage import package_files

    fname, start = site
    files = [ctx] if ctx.path.name == fname else package_files(ctx)
    for f in files:
        if f.path.name != fname:
            continue
        for d in f.tree.root_node.named_children:
            if d.start_byte == start and d.type in ("function_declaration", "method_declaration"):
                return f, d
    return None


def own_declaration(ctx: FileContext, call: Node, *, by_name: bool = False) -> tuple[FileContext, Node] | None:
    """The declaration of a same-package function or method a call reaches (None if not one of ours).

    `by_name`: a method name only one method of the package has is taken as that method without
    typing the receiver (what a helper does with its argument; not for "does it return a resource")."""
    fn = call.child_by_field_name("function")
    if fn is None:
        return None
    if fn.type == "identifier":
        if ty.is_local(ctx, fn, ctx.text(fn)):
            return None
        name = ctx.text(fn)
        if name in ty.file_decls(ctx).funcs:
            # declared in this very file: no need for the package's other files
            for d in ctx.tree.root_node.named_children:
                if d.type == "function_declaration" and ctx.text(d.child_by_field_name("name")) == name:
                    return ctx, d
        cands = _decl_sites(ctx).get(("", name), [])
        return _site_node(ctx, cands[0]) if len(cands) == 1 else None
    if fn.type == "selector_expression":
        op = fn.child_by_field_name("operand")
        if op is None or (op.type == "identifier" and ctx.text(op) in gs.imports(ctx)):
            return None
        name = ctx.text(fn.child_by_field_name("field"))
        sites = _decl_sites(ctx)
        same = _methods_named(ctx, sites).get(name, [])
        if not same:
            return None  # no method of that name in this package: nothing of ours to read
        if ("interface", name) in sites:
            # a call through an interface may reach any implementation; one on a value of a type
            # that declares the method reaches that method (squirrel's `sc.Prepare` on its
            # *StmtCache, beside the Preparer interface it wraps)
            recv = ty.expr_type(ctx, op).lstrip("*")
            own = ty.own_path(ctx)
            cands = sites.get((recv[len(own) + 1 :], name), []) if recv.startswith(own + ".") else []
            return _site_node(ctx, cands[0]) if len(cands) == 1 else None
        if by_name and len(same) == 1 and len(same[0]) == 1:
            # the package's only method of that name: judged by its body without working out the
            # receiver's type (typing it can mean reading the whole package's declarations); a
            # call that in fact reaches another package's method is read as this one, as the
            # name-based judgement before the program model did
            return _site_node(ctx, same[0][0])
        recv = ty.expr_type(ctx, op).lstrip("*")
        own = ty.own_path(ctx)
        if not recv.startswith(own + "."):
            return None
        cands = _decl_sites(ctx).get((recv[len(own) + 1 :], name), [])
        return _site_node(ctx, cands[0]) if len(cands) == 1 else None
    return None


def _returns_fresh(ctx: FileContext, decl: Node, depth: int) -> bool:
    """Some return of `decl` hands back a value made by a call (not read from a field or global)."""
    body = decl.child_by_field_name("body")
    if body is None:
        return True
    from leakhunter.source.program.index import type_param_names

    tps = set(type_param_names(decl.child_by_field_name("type_parameters")))
    generic_params = {n for n, t in gs.parameters(ctx, decl) if t.lstrip("*") in tps}
    for ret in gs.walk(body, "return_statement"):
        vals = ret.named_children[0].named_children if ret.named_children else []
        if not vals:
            return True  # a bare return of named results: assume they were made here
        first = vals[0]
        while first.type == "parenthesized_expression" and first.named_children:
            first = first.named_children[0]
        if first.type == "call_expression" and _makes(ctx, first):
            inner = callee_declaration(ctx, first) if depth < _MAX_DEPTH else None
            if inner is None or _returns_fresh(inner[0], inner[1], depth + 1):
                return True  # `return reporter.execute(req)`: fresh unless that helper's returns are not
            continue
        if (first.type == "identifier" and _assigned_from_call(ctx, body, ctx.text(first))
                and not _kept_by_owner(ctx, body, ctx.text(first))
                and not _body_closed_here(ctx, body, ctx.text(first))
                and not _from_reading_calls(ctx, body, ctx.text(first))
                and not _from_released_helpers(ctx, body, ctx.text(first), depth)):
            return True
        if first.type == "identifier" and ctx.text(first) in generic_params:
            return True  # `must[T](v T, err error) T` passes through what its caller made
    return False


def _body_closed_here(ctx: FileContext, body: Node, name: str) -> bool:
    """`name.Body.Close()` is called (or deferred) on every path of the function that returns `name`: a helper that
    drains and closes the response and hands it back for its status (wavefront-sdk-go's `execute`,
    held-out set 20) returns a released response, nothing its caller must close. So does a deferred
    func literal that closes it at its own top level, deferred at the function's top level or under
    `if name != nil {` right after the call (drone/runner-go's `do`, held-out set 67: a nil response
    has no body to close), and a Close whose error is assigned or checked at the top level."""
    want = f"{name}.Body.Close"
    for st in gs.statements(body):  # on every path: at the function's top level, not under an `if`
        if st.type == "if_statement" and gs._compact(ctx.text(st.child_by_field_name("condition"))) == f"{name}!=nil" \
                and st.child_by_field_name("alternative") is None:
            inner = [s for s in gs.statements(st.child_by_field_name("consequence")) if s.type == "defer_statement"]
            if any(_defers_close(ctx, d, want) for d in inner):
                return True
        if st.type in ("defer_statement", "expression_statement"):
            call = next((c for c in st.named_children if c.type == "call_expression"), None)
            if call is not None and ctx.text(call.child_by_field_name("function")) == want:
                return True
            if st.type == "defer_statement" and _defers_close(ctx, st, want):
                return True
        # `err = resp.Body.Close()`, `if err := resp.Body.Close(); err != nil {`: the Close's error kept
        # (actions-runner-controller's Client.Do reads the body, closes it so and hands back an in-memory
        # copy, held-out set 78)
        init = st.child_by_field_name("initializer") if st.type == "if_statement" else st
        if init is not None and init.type in ("assignment_statement", "short_var_declaration"):
            rights = gs.assignment_sides(init)[1]
            if len(rights) == 1 and rights[0].type == "call_expression" \
                    and ctx.text(rights[0].child_by_field_name("function")) == want:
                return True
    return False


def _defers_close(ctx: FileContext, stmt: Node, want: str) -> bool:
    """`defer func() { ...; resp.Body.Close() }()` (or `_ = resp.Body.Close()`): the literal closes the body at
    its own top level."""
    call = next((c for c in stmt.named_children if c.type == "call_expression"), None)
    lit = call.child_by_field_name("function") if call is not None else None
    if lit is None or lit.type != "func_literal":
        return False
    for st in gs.statements(lit.child_by_field_name("body")):
        inner = next((c for c in st.named_children if c.type == "call_expression"), None) \
            if st.type == "expression_statement" else None
        if st.type == "assignment_statement":
            # `_ = resp.Body.Close()` (Kyma's eventing httpclient.Client.Do, held-out set 96)
            rights = gs.assignment_sides(st)[1]
            inner = rights[0] if len(rights) == 1 and rights[0].type == "call_expression" else None
        if inner is not None and ctx.text(inner.child_by_field_name("function")) == want:
            return True
    return False


def _from_released_helpers(ctx: FileContext, body: Node, name: str, depth: int) -> bool:
    """Every assignment of `name` takes the result of a function of the module or a dependency
    (`callee_declaration`) whose returns hand back no fresh response (`res, err := p.do(...)` in
    drone/runner-go's `retry`, where `do` closes the body in a deferred literal before it returns,
    held-out set 67; bluemix-go's `SendRequest` over its `rest.Client.Do`, set 68): what is returned
    is released."""
    if depth >= _MAX_DEPTH:
        return False
    values = gs.assigned_values(ctx, body, name)
    if not values:
        return False
    for v in values:
        if v is None or v.type != "call_expression":
            return False
        inner = callee_declaration(ctx, v)
        if inner is None or _returns_fresh(inner[0], inner[1], depth + 1):
            return False
    return True


def _kept_by_owner(ctx: FileContext, body: Node, name: str) -> bool:
    """`name` is stored in a field or a map/slice entry (`sc.cache[query] = stmt`, `c.conn = conn`):
    the function's owner keeps what it returns, and the caller borrows it (squirrel's StmtCache.Prepare,
    held-out set 20: its Clear closes every cached statement; a caller closing one would break the
    cache). So is a variable read from one, `v, ok := c.stmts[q]` (go-jet's cache hands back the
    statement another goroutine stored first)."""
    for d in gs.walk(body, ("assignment_statement", "short_var_declaration"), into_func_literals=True):
        lefts, rights = gs.assignment_sides(d)
        for left, right in zip(lefts, rights, strict=False):
            if (left.type in ("index_expression", "selector_expression") and right.type == "identifier"
                    and ctx.text(right) == name):
                return True
        operand = rights[0].child_by_field_name("operand") if len(rights) == 1 else None
        if (operand is not None and rights[0].type == "index_expression" and operand.type == "selector_expression"
                and lefts and lefts[0].type == "identifier" and ctx.text(lefts[0]) == name):
            return True  # `v, ok := c.stmts[q]`, `v := c.stmts[q]`: an entry of a field's map
    return False


def hands_out_kept(ctx: FileContext, call: Node) -> bool:
    """The call reaches a function of this package whose every return hands back nil, a field or map
    entry (`return c.stmts[q]`), or a variable it stored in one (`sc.cache[query] = stmt`): its owner
    keeps what it returns, and the caller borrows it and must not release it. A return in a branch on
    the receiver's fields that the caller has already left for (`guards.ruled_out_by_caller`: go-jet's
    `if !d.cachingEnabled { return d.DB.PrepareContext(...) }`, tested by every caller first) is not
    counted."""
    from leakhunter.source.program.guards import ruled_out_by_caller

    decl = own_declaration(ctx, call)
    body = decl[1].child_by_field_name("body") if decl is not None else None
    if decl is None or body is None:
        return False
    dctx = decl[0]
    kept = False
    for ret in gs.walk(body, "return_statement"):
        if decl[1].type == "method_declaration" and ruled_out_by_caller(dctx, decl[1], ret, ctx, call):
            continue  # a mode the caller already tested and left for
        vals = ret.named_children[0].named_children if ret.named_children else []
        if not vals:
            return False  # a bare return of named results: cannot tell
        first = vals[0]
        while first.type == "parenthesized_expression" and first.named_children:
            first = first.named_children[0]
        if dctx.text(first) == "nil":
            continue
        if first.type in ("index_expression", "selector_expression") or (
            first.type == "identifier" and _kept_by_owner(dctx, body, dctx.text(first))
        ):
            kept = True
            continue
        return False
    return kept


def _assigned_from_call(ctx: FileContext, body: Node, name: str) -> bool:
    for d in gs.walk(body, ("short_var_declaration", "assignment_statement", "var_spec")):
        lefts, rights = gs.assignment_sides(d)
        names = [ctx.text(x) for x in lefts]
        if name not in names:
            continue
        if len(rights) == 1 and rights[0].type == "call_expression" and _makes(ctx, rights[0]):
            return True
        i = names.index(name)
        if len(rights) == len(names) and rights[i].type == "call_expression" and _makes(ctx, rights[i]):
            return True
    return False


def _from_reading_calls(ctx: FileContext, body: Node, name: str) -> bool:
    """Every call `name` is assigned from hands back the response with its body already read
    (`resp, body, retry, err = c.innerDo(req)`, declared `(*http.Response, []byte, ...)`: newrelic's
    client, whose innerDo defers the body's Close and reads it whole, held-out set 62): the response
    passed on holds no connection."""
    calls = []
    for d in gs.walk(body, ("short_var_declaration", "assignment_statement", "var_spec")):
        lefts, rights = gs.assignment_sides(d)
        if name in (ctx.text(x) for x in lefts):
            if not rights:
                continue  # `var resp *http.Response`: declared, nothing assigned yet
            if len(rights) != 1 or rights[0].type != "call_expression":
                return False
            calls.append(rights[0])
    if not calls:
        return False
    return all(body_read_with(ty.call_results(ctx, call)) for call in calls)


def body_read_with(results: Sequence[str]) -> bool:
    """Declared results `(*http.Response, []byte, ...)`: the callee hands the body back read (and, as
    every such API does, closed); the response beside it holds no connection."""
    return bool(results) and results[0] == "*net/http.Response" and "[]byte" in results[1:]


def hands_back_released(ctx: FileContext, call: Node) -> bool:
    """The function `call` reaches (this package, another of the module or a dependency) is found and
    never hands back a response it made and left open: every return passes on nil, something kept or
    read from a field, a response it closed, or one whose body a callee read (`_returns_fresh` false).
    LH401 asks it of a response discarded at the call (`_, err = a.client.Do(req)` on newrelic's own
    client, which reads and closes the body inside: four false findings in held-out set 62). The
    standard library's clients are never judged so: their responses are the ones to close."""
    decl = callee_declaration(ctx, call)
    return decl is not None and not _returns_fresh(decl[0], decl[1], 0)


def callee_declaration(ctx: FileContext, call: Node) -> tuple[FileContext, Node] | None:
    """The declaration a call reaches outside the standard library: a function or method of this
    package, `pkg.F` of another package of the module or a dependency, or a method of another
    package's type (`c.utsm.Subscribe` on a `*utsm.Manager`); None for std or when not found. What a
    question about the callee's own code (does it hand back an open response, can it fail) reads."""
    resolved = ty.resolve_call(ctx, call)
    if resolved is not None and _standard_library(ctx, resolved[0]):
        return None
    decl = own_declaration(ctx, call)
    if decl is None and resolved is not None:
        from leakhunter.source.program.callsites import call_declaration, method_declaration

        fn = call.child_by_field_name("function")
        decl = call_declaration(ctx, call) if fn is not None and fn.type == "selector_expression" else None
        if decl is None and resolved[0].rpartition("/")[2].count(".") == 2:
            decl = method_declaration(ctx, resolved[0])  # a method of another package's type
    return decl


def possible_callees(ctx: FileContext, call: Node) -> list[tuple[FileContext, Node]] | None:
    """What a call may run: its declaration (`callee_declaration`), or else every method of the module a
    call through an interface may reach (`implementations.interface_callees`); None when neither is known.
    A question every callee must answer the same way (can it fail, does it hand back its context with
    values only) asks each of these."""
    decl = callee_declaration(ctx, call)
    if decl is not None:
        return [decl]
    from leakhunter.source.program.implementations import interface_callees

    return interface_callees(ctx, call) or None


def _standard_library(ctx: FileContext, qualified: str) -> bool:
    """`net/http.Client.Do` names the standard library (`ModuleMap.standard`: a module named without a dot,
    `myservice`, is not)."""
    from leakhunter.source.program.index import module_map

    slash = qualified.rfind("/")
    path = qualified[: qualified.find(".", slash + 1)] if "." in qualified[slash + 1:] else qualified
    return module_map(ctx.path.absolute().parent).standard(path)


def _makes(ctx: FileContext, call: Node) -> bool:
    """A call whose result may be a resource the caller must release: not one of NOT_CREATORS (a
    helper returning what `http.ReadResponse` parsed from its caller's stream hands over no
    transport connection either: livekit's agent endpoint `readResponse`). Nor is the builtin `new`:
    `new(http.Response)` is a zero value with no body (bluemix-go's SendRequest returns one when the
    transport gave none, held-out set 68)."""
    fn = call.child_by_field_name("function")
    if fn is not None and fn.type == "identifier" and ctx.text(fn) == "new" and not ty.is_local(ctx, fn, "new"):
        return False
    return gs.qualified_call_name(ctx, call) not in NOT_CREATORS


# ---------------------------------------------------------------------- parameters


def param_effect(ctx: FileContext, call: Node, index: int, depth: int = 0) -> str:
    """What the callee of `call` does with its argument `index`: release / none / keep / ''."""
    fn = call.child_by_field_name("function")
    if fn is not None and fn.type == "func_literal":
        return _effect_in(ctx, fn, index, depth)
    if fn is None or fn.type not in ("identifier", "selector_expression"):
        return ""
    decl = own_declaration(ctx, call, by_name=True)
    if decl is None:
        return ""
    return _effect_in(decl[0], decl[1], index, depth)


def effect_in_declaration(ctx: FileContext, decl: Node, index: int) -> str:
    """`param_effect` for a declaration already found (another package's, by `call_declaration`)."""
    return _effect_in(ctx, decl, index, 0)


def keeps_argument(ctx: FileContext, call: Node, index: int) -> bool:
    """The callee keeps argument `index` (stores it in a field, a global, a map): `param_effect`, and where a
    method name is shared by several types of the package, the callee the receiver's type reaches
    (`t.SetLogger(logger)` beside another type's SetLogger: ultraviolet's NewTerminal, held-out set 66)."""
    effect = param_effect(ctx, call, index)
    if not effect:
        decl = callee_declaration(ctx, call)
        effect = _effect_in(decl[0], decl[1], index, 0) if decl is not None else ""
    return effect == "keep"


def passes_through(ctx: FileContext, call: Node, index: int, position: int) -> bool:
    """The callee (a function or method of this package) hands its argument `index` back as its result
    `position`, or nil there: every `return` gives that parameter or `nil` in that place, and a release of
    the parameter happens only in a block that then returns nil. `res, err = getError(res)` (photon-
    controller-go-sdk's REST client, held-out set 131: every list call's response went through it, and
    none was closed) keeps the same response in `res`; read as a hand-over, it hid the leak. Memoised per call
    site: the path walk asks again on every pass over a loop."""
    memo = ctx.cache.setdefault("program.passes_through", {})
    assert isinstance(memo, dict)
    key = (call.start_byte, index, position)
    if key not in memo:
        memo[key] = _passes_through(ctx, call, index, position)
    return bool(memo[key])


def _passes_through(ctx: FileContext, call: Node, index: int, position: int) -> bool:
    decl = own_declaration(ctx, call, by_name=True)
    if decl is None:
        return False
    dctx, fn = decl
    params = gs.parameters(dctx, fn)
    body = fn.child_by_field_name("body")
    if body is None or index >= len(params) or not params[index][0] or params[index][0] == "_":
        return False
    name = params[index][0]
    gave_back = False
    for ret in gs.walk(body, "return_statement"):
        values = gs.returned_values(ret)
        if position >= len(values):
            return False  # a bare return of named results, or fewer values: not this shape
        text = dctx.text(values[position])
        if text == name:
            gave_back = True
        elif text != "nil":
            return False
    if not gave_back:
        return False
    from leakhunter.source.release import UNIVERSAL_RELEASE

    for use in gs.identifiers(dctx, fn, name):
        if _releases(dctx, use, UNIVERSAL_RELEASE, 0):  # a helper that closes it counts too
            block = use.parent
            while block is not None and block.type != "block":
                block = block.parent
            stmts = gs.statements(block)
            last = stmts[-1] if stmts else None
            if last is None or last.type != "return_statement":
                return False
            vals = gs.returned_values(last)
            if position >= len(vals) or dctx.text(vals[position]) != "nil":
                return False
    return True


def _effect_in(ctx: FileContext, decl: Node, index: int, depth: int) -> str:
    from leakhunter.source.release import UNIVERSAL_RELEASE, _identifier_uses, _param_is_neutral

    memo = ctx.cache.setdefault("program.param_effect", {})
    assert isinstance(memo, dict)
    key = (decl.start_byte, index)
    if key in memo:
        return str(memo[key])
    memo[key] = "keep"  # recursion guard: a cycle decides nothing
    params = gs.parameters(ctx, decl)
    body = decl.child_by_field_name("body")
    out = "keep"
    if body is not None and params:
        i = index if index < len(params) else len(params) - 1
        name = params[i][0]
        if not name or name == "_":
            out = "none"
        else:
            uses = _identifier_uses(body).get(name, [])
            if not uses:
                out = "none"
            elif any(_releases(ctx, u, UNIVERSAL_RELEASE, depth) for u in uses) or _read_to_end(ctx, uses):
                out = "release"
            elif _param_is_neutral(ctx, decl, uses):
                out = "none"
    memo[key] = out
    return out


def _read_to_end(ctx: FileContext, uses: list[Node]) -> bool:
    """A `for p.Next() { ... }` loop over the parameter that nothing in its body leaves early (no
    `break`, `return`, `goto` or `panic` outside nested function literals): it ends only when `Next`
    returns false, which closes a `*sql.Rows` (go-doudou's `dbvendor.Scan(rows, &result)`, held-out set
    34, two LH402 findings false). A loop that may leave early, or an `if p.Next()` that reads one row,
    is not."""
    for u in uses:
        sel = u.parent
        call = sel.parent if sel is not None else None
        loop = call.parent if call is not None else None
        if (sel is None or sel.type != "selector_expression" or ctx.text(sel.child_by_field_name("field")) != "Next"
                or call is None or call.type != "call_expression" or loop is None
                or loop.type != "for_statement"):
            continue  # the call's parent is the loop only as its bare condition (clauses are wrapped)
        body = loop.child_by_field_name("body")
        if body is None:
            continue
        leaves = any(True for _ in gs.walk(body, ("break_statement", "return_statement", "goto_statement")))
        panics = any(gs.call_name(ctx, c) == "panic" for c in gs.walk(body, "call_expression"))
        if not leaves and not panics:
            return True
    return False


def _releases(ctx: FileContext, use: Node, methods: frozenset[str], depth: int) -> bool:
    """`p.Close()`, `p.Body.Close()`, `p()` of a cancel func, or `helper(p)` whose summary releases."""
    cur = use
    p = cur.parent
    hops = 0
    while p is not None and p.type == "selector_expression" and p.child_by_field_name("operand") == cur:
        gp = p.parent
        fld = ctx.text(p.child_by_field_name("field"))
        if gp is not None and gp.type == "call_expression" and gp.child_by_field_name("function") == p:
            return fld in methods
        hops += 1
        if hops > 2:
            return False
        cur, p = p, gp
    if p is not None and p.type == "call_expression" and p.child_by_field_name("function") == cur:
        return cur.type == "identifier"  # cancel()
    if p is not None and p.type == "argument_list" and depth < _MAX_DEPTH and p.parent is not None:
        call = p.parent
        ids = [a.id for a in gs.arguments(call)]
        if cur.id in ids:
            return param_effect(ctx, call, ids.index(cur.id), depth + 1) == "release"
    return False
