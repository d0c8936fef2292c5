"""LH107 context-not-propagated: a function holding a ctx starts work that ignores it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding, Severity
from leakhunter.source import gosyntax as gs
from leakhunter.source.gopackage import package_facts
from leakhunter.source.program import exits
from leakhunter.source.program.contexts import never_cancelled
from leakhunter.source.rule import FileContext, Rule
from leakhunter.source.rules._resource import peer_silenced

if TYPE_CHECKING:
    from tree_sitter import Node

_HTTP_NO_CTX = {"Get": "Get", "Head": "Head", "Post": "Post", "PostForm": "PostForm"}
_SQL_METHODS: dict[str, frozenset[str]] = {
    # Prepare and Begin are not reported: the work that outlives a caller is the statement
    # run, which takes its own ctx (QueryContext, tx.ExecContext); 43 Prepare/Begin findings
    # triaged over four sets were all false, none true (dendrite's prepared SQLite queries).
    "DB": frozenset({"Query", "QueryRow", "Exec", "Ping"}),
    "Tx": frozenset({"Query", "QueryRow", "Exec"}),
    "Stmt": frozenset({"Query", "QueryRow", "Exec"}),
}
_SQL_CTX = {"Begin": "BeginTx(ctx, nil)", "Ping": "PingContext(ctx)"}
_PEERS = frozenset({"noctx", "contextcheck"})
"""The peer linters of this check: a `//nolint` naming one of them on the call's line (or alone on the
line above) is the author's answer to this very report (storj's tagsql: ten `s.db.Exec(...) //nolint:
noctx, fallback for non-context behaviour` in the branch of a configuration flag, held-out set 20)."""


class ContextNotPropagated(Rule):
    """A function that receives a `ctx` calls something that ignores it.

    The pattern: inside `func F(ctx context.Context, ...)` (or a goroutine it starts):
    `context.Background()` / `context.TODO()`, `http.Get/Head/Post/PostForm`,
    `http.NewRequest` (without a later `req.WithContext`), or `db.Query/QueryRow/Exec/
    Ping` on a `*sql.DB`, `*sql.Tx` or `*sql.Stmt` instead of the `...Context` form
    (`Prepare`/`Begin` without ctx are not reported: the statements they lead to take ctx). When the caller gives up (client gone, deadline passed), that work keeps
    running: goroutines in IO wait and held connections pile up under cancellation.

    The fix: pass the caller's ctx down — `http.NewRequestWithContext(ctx, ...)`,
    `db.QueryContext(ctx, ...)`, or derive from ctx (`context.WithoutCancel(ctx)` for
    work that must outlive the request but keep its values).

    Severity: warning for the HTTP and database calls (5/5 true positives on the Go
    tree and ten large modules); info for `context.Background()` / `TODO()`, which is
    often a deliberate detachment the syntax cannot tell from a mistake (3/8 true
    positives in the same trees: `LoadModFile(loader, context.TODO())` and
    `compactBarrier(context.TODO(), ch)` look alike).

    A handler that waits on a context of its own making (warning): a function holding its caller's
    context (a `ctx` parameter it never mentions, an `*http.Request` or a gRPC server stream whose
    `Context()` it never asks for) makes `context.WithCancel(context.Background())` and blocks on that
    context's `Done()`. When the caller gives up (the stream's client goes away) nothing ends the wait:
    the handler, its stream and what it registered stay until something else cancels. GoBGP v3.7.0's
    WatchEvent leaked a goroutine group and ~70 KiB per ended watch this way (osrg/gobgp#2592; `soak`
    called it in the running daemon); the fix derives from `stream.Context()`. Not reported when the
    caller's context is looked at anywhere in the function (relayed by hand, or waited on beside).

    In `_test.go` files every finding is `info`: work a test does not cancel runs at most until the
    test binary ends (held-out sets 1-20: 7 of 26 such findings true, all harmless).

    Deliberately not reported (decisions, precision first): a `_` context parameter
    (ignored on purpose); `ctx = context.Background()` defaulting a nil ctx; a
    `context.Background()` with a comment on the line above, or on its own line
    saying why (detached, outlive, on purpose, ...): the author detached it
    deliberately and said so; a function that returns a context.Context (it builds
    contexts, and a detached one is its job); database handles whose type is not
    visible in the file (a `Query` on an unknown receiver may have no ctx form);
    `f(context.Background())` / `x.M(context.Background())` where every `f` of the
    package (or the method `T.M` when `x` is a parameter of type `T`/`*T`) leaves its
    context parameter `_` or unnamed (the callee never reads it, so passing ctx cancels nothing);
    a function that runs once before the process ends (program/exits.ends_on_return: a one-shot
    CLI command, a generator), a closure inside one, or a call after which the process ends: nothing
    piles up; a
    request serialised by hand (`req.Write(conn)`) and never handed to a client; a request never sent
    (only filled in, read, handed to `http.ProxyFromEnvironment` or to a function that only fills it
    in: a dummy for a token's `SetAuthHeader`); a context
    parameter that can never be cancelled (`never_cancelled`: every call of the function, one at
    least seen, passes `context.Background()`/`TODO()`/`WithoutCancel(...)`, a value-only
    derivation of one (`context.WithValue`, a helper whose every return is its context or
    `WithValue` of it), a local assigned only such, or such a parameter of its caller, up to three
    callers up): passing it would cancel nothing; also a func literal's context parameter when the
    literal is called on the spot or bound to a local the function only calls, every call passing
    such a context.
    """

    id = "LH107"
    name = "context-not-propagated"
    severity = "warning"
    fix = "pass the caller's ctx down (NewRequestWithContext, QueryContext, ...), or derive from it"
    leaking_example = """\
func (s *Store) Load(ctx context.Context, id int) (*User, error) {
	row := s.db.QueryRow("SELECT name FROM users WHERE id = ?", id) // ignores ctx
	...
}"""
    fixed_example = """\
func (s *Store) Load(ctx context.Context, id int) (*User, error) {
	row := s.db.QueryRowContext(ctx, "SELECT name FROM users WHERE id = ?", id)
	...
}"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if b"context" not in ctx.source:
            return
        any_ctx = {k for k, v in gs.imports(ctx).items() if v in ("context", "golang.org/x/net/context")}
        if not any_ctx:
            return
        ctx_pkgs = {k for k, v in gs.imports(ctx).items() if v == "context"}
        ctx_types = {f"{p}.Context" for p in ctx_pkgs}
        http_pkgs = {k for k, v in gs.imports(ctx).items() if v == "net/http"}
        sql_types = _sql_types(ctx)
        http_req = {f"*{p}.Request" for p in http_pkgs}
        detaches = b"WithCancel(" in ctx.source and b".Done()" in ctx.source  # a byte test spares the walk
        for info in gs.functions(ctx):
            if info.body is None:
                continue
            waits = list(self._detached_waits(
                ctx, info.node, info.body, any_ctx, {f"{p}.Context" for p in any_ctx}, http_req
            )) if detaches else []
            yield from waits
            if waits:
                continue  # the wait is the finding; the function's other calls are judged with it fixed
            ctx_names = [n for n, t in gs.parameters(ctx, info.node) if t in ctx_types]
            if not ctx_names or all(n in ("", "_") for n in ctx_names):
                continue
            name = next(n for n in ctx_names if n not in ("", "_"))
            yield from self._check_fn(
                ctx, info.node, info.body, name, ctx_pkgs, ctx_types, http_pkgs, sql_types
            )

    def _detached_waits(
        self, ctx: FileContext, fn: Node, body: Node, ctx_pkgs: set[str], ctx_types: set[str], http_req: set[str]
    ) -> Iterator[Finding]:
        """A function that holds its caller's context (a `ctx` parameter, an `*http.Request`, a gRPC
        server stream) derives a context from `context.Background()` and then waits on that one's
        `Done()`, never looking at the caller's: when the caller gives up (the stream's client goes
        away, the request is cancelled) nothing ends the wait, and the function with all it holds (the
        stream, its connection's buffers, the watch it registered) stays until something else cancels.
        GoBGP's WatchEvent (v3.7.0, fixed in v3.8.0 by deriving from `stream.Context()`): a goroutine
        and ~70 KiB kept per ended watch, found leaking in a real daemon by `soak` (real leaks, set 2)."""
        sources = [(n, t) for n, t in gs.parameters(ctx, fn)
                   if n not in ("", "_") and (t in ctx_types or t in http_req or _GRPC_STREAM.search(t))]
        if not sources:
            return
        text = ctx.source[body.start_byte:body.end_byte]
        for name, typ in sources:
            held = rb"\b" + re.escape(name.encode()) + (rb"\b" if typ in ctx_types else rb"\s*\.\s*Context\(\)")
            if re.search(held, text):
                return  # the caller's context is looked at (passed on, or watched to cancel by hand)
        name, typ = sources[0]
        for stmt in gs.walk(body, "short_var_declaration"):
            if gs.enclosing_function(stmt) != fn:
                continue
            lefts, rights = gs.assignment_sides(stmt)
            if len(lefts) != 2 or len(rights) != 1 or rights[0].type != "call_expression":
                continue
            call = rights[0]
            head, _, method = gs.call_name(ctx, call).rpartition(".")
            args = gs.arguments(call)
            if head not in ctx_pkgs or method != "WithCancel" or not args or args[0].type != "call_expression":
                continue
            bhead, _, bmethod = gs.call_name(ctx, args[0]).rpartition(".")
            if bhead not in ctx_pkgs or bmethod not in ("Background", "TODO"):
                continue
            derived = ctx.text(lefts[0]).strip()
            wait = _waits_on_done(ctx, fn, body, derived)
            if wait is None:
                continue
            source = f"{name}.Context()" if typ not in ctx_types else name
            who = ("the stream's client goes away" if _GRPC_STREAM.search(typ) else
                   "the request is cancelled" if typ in http_req else f"{name} is cancelled")
            yield self.finding(
                ctx, args[0],
                f"{gs.function_name(ctx, fn)} holds its caller's context ({source}) but waits at line "
                f"{wait.start_point[0] + 1} on {derived}.Done() of a context derived from {bhead}.{bmethod}(): when "
                f"{who}, nothing ends the wait, and the function with all it holds stays until something else "
                f"cancels; derive {derived} from {source}",
                severity="info" if ctx.is_test else self.severity,
                function=gs.function_name(ctx, fn),
            )

    def _check_fn(
        self,
        ctx: FileContext,
        fn: Node,
        body: Node,
        ctx_name: str,
        ctx_pkgs: set[str],
        ctx_types: set[str],
        http_pkgs: set[str],
        sql_types: dict[str, str],
    ) -> Iterator[Finding]:
        fname = gs.function_name(ctx, fn)
        for f in self._candidates(ctx, fn, body, ctx_name, ctx_pkgs, ctx_types, http_pkgs, sql_types, fname):
            if exits.ends_on_return(ctx, fn) or (
                    fn.type == "func_literal" and exits.ends_on_return(ctx, gs.enclosing_declaration(fn))):
                return  # runs once per process (a one-shot command, a generator): nothing piles up; a
                # closure runs within such a run (gubernator's healthcheck retries `http.Get` in one)
            if never_cancelled(ctx, fn, ctx_name):
                return  # every caller passes a context that is never done: passing it cancels nothing
            yield f

    def _candidates(
        self,
        ctx: FileContext,
        fn: Node,
        body: Node,
        ctx_name: str,
        ctx_pkgs: set[str],
        ctx_types: set[str],
        http_pkgs: set[str],
        sql_types: dict[str, str],
        fname: str,
    ) -> Iterator[Finding]:
        has_with_context: bool | None = None
        in_tests: Severity = "info" if ctx.is_test else self.severity
        makes_context = any(t in ctx_types for t in gs.result_types(ctx, fn))
        for call in _calls(ctx, body, ctx_types):
            callee = gs.call_name(ctx, call)
            head, _, method = callee.rpartition(".")
            relevant = (
                (head in ctx_pkgs and method in ("Background", "TODO"))
                or (head in http_pkgs and (method in _HTTP_NO_CTX or method == "NewRequest"))
                or (bool(head) and method in ("Query", "QueryRow", "Exec", "Prepare", "Begin", "Ping"))
            )
            if not relevant or exits.process_ends_after(ctx, call) or exits.after_shutdown_signal(ctx, call):
                continue  # nothing to report, or the process is ending: what the call leaves ends with it
            if peer_silenced(ctx, call, _PEERS):
                continue  # `//nolint:noctx`: the author reviewed noctx's report of this very call
            if head in ctx_pkgs and method in ("Background", "TODO"):
                if (
                    _defaulting(ctx, call, ctx_name)
                    or _commented(ctx, call)
                    or _detached_for_cleanup(ctx, call, body, ctx_name)
                    or makes_context
                    or _callee_ignores_ctx(ctx, call)
                ):
                    continue
                yield self.finding(
                    ctx,
                    call,
                    f"{fname} receives {ctx_name} but calls {callee}() here: work started from it is not "
                    f"cancelled when {ctx_name} is; derive from {ctx_name} instead",
                    severity="info",
                    function=gs.function_name(ctx, call),
                )
            elif head in http_pkgs and method in _HTTP_NO_CTX:
                yield self.finding(
                    ctx,
                    call,
                    f"{fname} receives {ctx_name} but {callee}(...) ignores it: the request keeps running after "
                    f"the caller gives up; use http.NewRequestWithContext({ctx_name}, ...) and Client.Do",
                    severity=in_tests,
                    function=gs.function_name(ctx, call),
                )
            elif head in http_pkgs and method == "NewRequest":
                if has_with_context is None:
                    text = ctx.source[body.start_byte : body.end_byte]
                    # req.WithContext(ctx) later, or the deprecated req.Cancel = ctx.Done()
                    has_with_context = b".WithContext(" in text or b".Cancel = " in text
                if has_with_context or _handed_with_ctx(ctx, call, body, ctx_name) or _written_by_hand(ctx, call, body) \
                        or _never_sent(ctx, call, body):
                    continue
                yield self.finding(
                    ctx,
                    call,
                    f"{fname} receives {ctx_name} but builds the request with {callee}: it is not cancelled "
                    f"with {ctx_name}; use http.NewRequestWithContext({ctx_name}, ...)",
                    severity=in_tests,
                    function=gs.function_name(ctx, call),
                )
            elif head and method in ("Query", "QueryRow", "Exec", "Prepare", "Begin", "Ping"):
                kind = _sql_kind(head, sql_types)
                if kind is None or method not in _SQL_METHODS[kind]:
                    continue
                if kind == "Stmt" and _prepared_on_tx(ctx, fn, head, sql_types):
                    continue
                if kind == "Tx" and _begun_with(ctx, fn, head, ctx_name):
                    continue  # the Tx holds ctx: when it ends the transaction rolls back and frees its connection
                better = _SQL_CTX.get(method, f"{method}Context({ctx_name}, ...)").replace(
                    "ctx", ctx_name
                )
                yield self.finding(
                    ctx,
                    call,
                    f"{fname} receives {ctx_name} but calls {callee} on a *sql.{kind}, which ignores it: the "
                    f"query holds its connection after the caller gives up; use {head}.{better}",
                    severity=in_tests,
                    function=gs.function_name(ctx, call),
                )


_GRPC_STREAM = re.compile(r"^\w+\.\w+_\w+Server$|^\w+_\w+Server$|grpc\.(?:ServerStream|\w+StreamingServer\[)")
"""A gRPC server stream parameter: protoc-gen-go-grpc's `pb.Svc_MethodServer` interfaces, `grpc.ServerStream`,
or the generic `grpc.ServerStreamingServer[T]` / `grpc.BidiStreamingServer[Req, Res]`: its `Context()` ends
when the client goes away."""


def _waits_on_done(ctx: FileContext, fn: Node, body: Node, derived: str) -> Node | None:
    """The statement of `fn` itself (not a closure or goroutine) that blocks on `<-derived.Done()`: the
    receive as a statement, or a `select` without `default` whose every case receives from it."""
    want = f"<-{derived}.Done()"
    for n in gs.walk(body, "unary_expression"):
        if gs.enclosing_function(n) != fn or "".join(ctx.text(n).split()) != want:
            continue
        up = n.parent
        if up is not None and up.type == "expression_statement":
            return up
        if up is not None and up.type == "receive_statement" and up.parent is not None and \
                up.parent.type == "communication_case":
            select = up.parent.parent
            cases = [c for c in select.named_children if c.type in ("communication_case", "default_case")] \
                if select is not None else []
            if cases and all(c.type == "communication_case" and want in "".join(ctx.text(
                    c.child_by_field_name("communication")).split()) for c in cases):
                return select
    return None


def _callee_ignores_ctx(ctx: FileContext, bg: Node) -> bool:
    """`f(context.Background())` where every `f` of the package names its context `_` or not at all.

    Such a callee never looks at its context, so handing it the caller's ctx would
    cancel nothing: the finding would only be noise.
    """
    args = bg.parent
    outer = args.parent if args is not None and args.type == "argument_list" else None
    fn = outer.child_by_field_name("function") if outer is not None else None
    if fn is None:
        return False
    ignoring = package_facts(ctx, "lh107.ignores-ctx", _ctx_ignoring_functions)
    if fn.type == "selector_expression":
        operand, field = fn.child_by_field_name("operand"), fn.child_by_field_name("field")
        if field is None:
            return False
        recv = _param_type(ctx, bg, ctx.text(operand)) if operand is not None else ""
        if recv and f"{recv}.{ctx.text(field)}" in ignoring:
            return True
        fn = field
    if fn.type not in ("identifier", "field_identifier"):
        return False
    return ctx.text(fn) in ignoring


def _param_type(ctx: FileContext, node: Node, name: str) -> str:
    """The named type (`Head` for `h *Head`) of parameter `name` of a function around `node`."""
    fn = gs.enclosing_function(node)
    while fn is not None:
        for pname, ptype in gs.parameters(ctx, fn):
            if pname == name:
                t = ptype.lstrip("*")
                return t if t.isidentifier() else ""
        fn = gs.enclosing_function(fn)
    return ""


def _ctx_ignoring_functions(files: list[FileContext]) -> frozenset[str]:
    """Names of package functions/methods whose every definition leaves its context parameters unnamed or `_`."""
    ignoring: set[str] = set()
    using: set[str] = set()
    for f in files:
        for info in gs.functions(f):
            if info.kind == "literal":
                continue
            params = [n for n, t in gs.parameters(f, info.node) if t.endswith("context.Context")]
            if not params:
                continue
            name = info.name.rpartition(".")[2]
            target = ignoring if all(n in ("", "_") for n in params) else using
            target.add(name)
            if info.kind == "method":
                target.add(f"{info.receiver}.{name}")
    return frozenset(ignoring - using)


def _calls(ctx: FileContext, body: Node, ctx_types: set[str]) -> Iterator[Node]:
    """Calls in `body` and in the goroutines it starts (`go func(){...}()`).

    Other closures run at another time — a shutdown callback, a deferred cleanup —
    often after ctx is already cancelled, where a fresh context is the right call.
    A goroutine literal that takes its own context is judged on its own.
    """
    stack = [body]
    while stack:
        n = stack.pop()
        if n.type == "func_literal" and n != body:
            call = n.parent
            if call is None or call.parent is None or call.parent.type != "go_statement":
                continue
            if any(t in ctx_types for _, t in gs.parameters(ctx, n)):
                continue
        if n.type == "call_expression":
            yield n
        stack.extend(reversed(n.children))


def _request_local(ctx: FileContext, call: Node) -> tuple[Node, str] | None:
    """(the statement, the local) that `req, err := http.NewRequest(...)` assigns; None when the request
    is used inline or dropped (`_`)."""
    stmt = call.parent.parent if call.parent is not None else None
    if stmt is None or stmt.type not in ("short_var_declaration", "assignment_statement"):
        return None
    names = gs.assigned_names(ctx, stmt)
    if not names or names[0] in ("_", ""):
        return None
    return stmt, names[0]


def _written_by_hand(ctx: FileContext, call: Node, body: Node) -> bool:
    """The request is serialised by hand (`req.Write(conn)`, `req.WriteProxy(w)`) onto a connection
    the function dialled itself, and never handed to a client: no client call exists to cancel (the
    ctx governs the dial and the conn; `http.ReadResponse(r, req)` only reads the answer). Tailscale's
    DERP client upgrades its conn this way."""
    got = _request_local(ctx, call)
    if got is None:
        return False
    stmt, req = got
    written = False
    for n in gs.walk(body, "call_expression", into_func_literals=True):
        if n.start_byte < stmt.end_byte:
            continue
        if gs.call_name(ctx, n) in (f"{req}.Write", f"{req}.WriteProxy"):
            written = True
        elif not gs.call_name(ctx, n).endswith("ReadResponse") and any(
            ctx.text(a).strip() in (req, "&" + req) for a in gs.arguments(n)
        ):
            return False  # handed to something that may send it (client.Do, a RoundTripper)
    return written


_SENDING_METHODS = frozenset({"Clone", "Write", "WriteProxy", "WithContext"})
"""Methods of `*http.Request` that send it or hand out a copy that may be sent; its other methods and
its fields (`req.Header.Set`, `req.SetBasicAuth`, `req.URL`) only read or fill it in."""
_NOT_SENDING = frozenset({"net/http.ProxyFromEnvironment", "net/http/httputil.DumpRequest"})


def _never_sent(ctx: FileContext, call: Node, body: Node) -> bool:
    """The request is never sent: after it is built, it is only filled in or read (`req.Header.Get`),
    handed to `http.ProxyFromEnvironment` to learn the proxy for its URL (x/build's buildlet dialer,
    held-out set 64), or to a function of the module or a dependency that only reads or fills in its
    parameter (pkgsite's dummy request for `oauth2.Token.SetAuthHeader`, then `req.Header.Get`). No
    client ever runs it, so there is nothing for ctx to cancel."""
    got = _request_local(ctx, call)
    if got is None:
        return False
    stmt, req = got
    return all(_filled_in_only(ctx, ident, 0) for ident in gs.identifiers(ctx, body, req)
               if ident.start_byte >= stmt.end_byte)


def _filled_in_only(ctx: FileContext, ident: Node, depth: int) -> bool:
    """One use of a request: a field or a method that neither sends it nor copies it, or an argument of
    a call that does not send it (`_never_sent`), read through the callee up to two levels down."""
    up = ident.parent
    if up is not None and up.type == "selector_expression" and up.child_by_field_name("operand") == ident:
        return ctx.text(up.child_by_field_name("field")) not in _SENDING_METHODS
    if up is None or up.type != "argument_list" or up.parent is None or up.parent.type != "call_expression":
        return False  # stored, returned, sent on a channel, reassigned: may be sent elsewhere
    outer = up.parent
    if gs.qualified_call_name(ctx, outer) in _NOT_SENDING:
        return True
    if depth >= 2:
        return False
    from leakhunter.source.program.summaries import callee_declaration

    decl = callee_declaration(ctx, outer)
    index = next((i for i, a in enumerate(gs.arguments(outer)) if a == ident), None)
    if decl is None or index is None:
        return False
    dctx, fn = decl
    params = gs.parameters(dctx, fn)
    fbody = fn.child_by_field_name("body")
    if index >= len(params) or params[index][1].startswith("...") or fbody is None:
        return False
    name = params[index][0]
    return name in ("", "_") or all(_filled_in_only(dctx, i, depth + 1) for i in gs.identifiers(dctx, fbody, name))


def _handed_with_ctx(ctx: FileContext, call: Node, body: Node, ctx_name: str) -> bool:
    """The new request is returned, or handed to a call together with ctx (`a.do(ctx, req)`).

    Such helpers attach the context themselves (`req.WithContext(ctx)`); a returned
    request is the caller's to attach.
    """
    stmt = call.parent.parent if call.parent is not None else None
    if stmt is None or stmt.type not in ("short_var_declaration", "assignment_statement"):
        return True  # used inline: we cannot follow it
    names = gs.assigned_names(ctx, stmt)
    if not names or names[0] in ("_", ""):
        return True
    req = names[0]
    fn = body.parent
    results = fn.child_by_field_name("result") if fn is not None else None
    if results is not None and results.type == "parameter_list" and req in {
        ctx.text(n) for d in results.named_children for n in d.children_by_field_name("name")
    } and not any(
        n.start_byte > stmt.end_byte and req in {ctx.text(a) for a in gs.arguments(n)}
        for n in gs.walk(body, "call_expression", into_func_literals=True)
    ):
        return True  # a named result (`req, err = http.NewRequest(...)` ... `return`) sent nowhere here
    # the request kept under another name first (`t.req = req`, a cached request sent as `t.req` on every
    # call: phlare's agent hands it to ctxhttp.Do(ctx, ...), held-out set 92)
    names_of = {req}
    for a in gs.walk(body, "assignment_statement", into_func_literals=True):
        left, right = gs.assignment_sides(a)
        if a.start_byte > stmt.end_byte and len(left) == len(right) == 1 and ctx.text(right[0]) == req:
            names_of.add(ctx.text(left[0]))
    for n in gs.walk(body, ("call_expression", "return_statement"), into_func_literals=True):
        if n.start_byte < stmt.end_byte:
            continue
        if n.type == "return_statement":
            # the request itself returned (`return req, nil`), not a call's result (`return c.Do(req)`
            # sends it here: that call is judged below)
            if req in {ctx.text(v).lstrip("&") for v in gs.returned_values(n)}:
                return True
            continue
        idents = {ctx.text(i) for i in gs.walk(n, "identifier", into_func_literals=True)}
        if n.type == "call_expression":
            args = [ctx.text(a) for a in gs.arguments(n)]
            if req in args and (ctx_name in idents or _kept_as_template(ctx, n, args.index(req))):
                return True
            if ctx_name in idents and any(a in names_of for a in args):
                return True
    return False


def _kept_as_template(ctx: FileContext, call: Node, index: int, depth: int = 0) -> bool:
    """The callee keeps argument `index` in a struct (`&CurlJob{request: request}`, directly or through
    one more call): the request is a template another method sends later, with whatever context it is
    given then (go-quartz's `NewCurlJob(request)`, whose Execute does `request.WithContext(ctx)`, held-out
    set 22). Nothing is sent here to be cancelled."""
    from leakhunter.source.program.callsites import callee_parameter

    got = callee_parameter(ctx, call, index) if depth < 2 else None
    body = got[1].child_by_field_name("body") if got is not None else None
    if got is None or body is None:
        return False
    dctx, _decl, name = got
    for n in gs.walk(body, ("keyed_element", "assignment_statement", "call_expression")):
        if n.type == "keyed_element" and n.named_children and dctx.text(n.named_children[-1]) == name:
            return True  # `request: request` in a composite literal
        if n.type == "assignment_statement":
            lefts, rights = gs.assignment_sides(n)
            if any(le.type == "selector_expression" and dctx.text(r) == name
                   for le, r in zip(lefts, rights, strict=False)):
                return True  # `j.request = request`
        if n.type == "call_expression":
            args = [dctx.text(a) for a in gs.arguments(n)]
            if name in args and _kept_as_template(dctx, n, args.index(name), depth + 1):
                return True
    return False


def _defaulting(ctx: FileContext, call: Node, ctx_name: str) -> bool:
    """`ctx = context.Background()`, inside `if ctx == nil {` or the else of `if ctx != nil`: a default."""
    p = call.parent
    if p is not None and p.type == "expression_list" and p.parent is not None:
        stmt = p.parent
        if stmt.type == "assignment_statement":
            left = "".join(ctx.text(stmt.child_by_field_name("left")).split())
            if ctx_name in left.split(","):
                return True
    for a in gs.ancestors(call):
        if a.type in gs.FUNC_TYPES:
            return False
        if a.type == "if_statement":
            cond = "".join(ctx.text(a.child_by_field_name("condition")).split())
            if f"{ctx_name}==nil" in cond:
                return True
            alt = a.child_by_field_name("alternative")
            if f"{ctx_name}!=nil" in cond and alt is not None and alt.start_byte <= call.start_byte:
                return True  # if ctx != nil { ...ctx... } else { context.Background() }
    return False


_DELIBERATE = re.compile(
    r"(?i)(detach|independent|outlive|on purpose|intentional|deliberate|not (be )?cancel|regardless|"
    r"even if|survive|background|nolint|ignor\w* (the )?(provided |caller'?s? |parent )?(ctx|context)|"
    r"(new|fresh|separate|different|own) (root )?(ctx|context))"
)


_CLEANUP = re.compile(
    r"clean|shutdown|teardown|close|stop|flush|release|rollback|unlock|drain|finali[sz]e"
    r"|abort|revert|undo|delete|remove|detach",
    re.IGNORECASE,
)


def _detached_for_cleanup(ctx: FileContext, call: Node, body: Node, ctx_name: str) -> bool:
    """A fresh context for work that must finish even though ctx is gone (FP shape #8).

    `defer store.Release(context.Background(), id)`; a `context.Background()` after
    `<-ctx.Done()` / a `ctx.Err() != nil` check (ctx is already cancelled: using it would
    skip the cleanup); a context assigned to `cleanupCtx` / `shutdownCtx`, or used in a
    function or call whose name says cleanup/shutdown/close/rollback.
    """
    for p in gs.ancestors(call):
        if p == body:
            break
        if p.type == "defer_statement":
            return True
        if p.type in ("if_statement", "communication_case"):
            cond = p.child_by_field_name("condition") or p.child_by_field_name("communication")
            text = ctx.text(cond)
            if f"{ctx_name}.Done()" in text or f"{ctx_name}.Err()" in text:
                return True
        if p.type == "call_expression" and p != call and _CLEANUP.search(gs.call_name(ctx, p)):
            return True
        if p.type in ("short_var_declaration", "assignment_statement", "var_spec"):
            left = p.child_by_field_name("left") or p.child_by_field_name("name")
            if _CLEANUP.search(ctx.text(left)):
                return True
    before = ctx.source[body.start_byte : call.start_byte]
    if f"<-{ctx_name}.Done()".encode() in before or f"{ctx_name}.Err() != nil".encode() in before:
        return True
    fn = gs.enclosing_function(call)
    name = gs.function_name(ctx, fn) if fn is not None else ""
    return bool(_CLEANUP.search(name.rsplit(".", 1)[-1]))


def _commented(ctx: FileContext, call: Node) -> bool:
    """The author said the detachment is deliberate.

    A comment on the line right above the call counts; so does one on the call's own
    line or in the four lines above that says why (detached, outlive, ignore the
    context, a new/separate context, ...).
    """
    row = call.start_point[0]
    lines = ctx.source.splitlines()
    fn_start = gs.enclosing_function(call)
    if (
        row > 0
        and lines[row - 1].strip().startswith(b"//")
        and (fn_start is None or fn_start.start_point[0] < row - 1)
    ):
        return True
    if row < len(lines):
        _, sep, comment = lines[row][call.end_point[1] :].partition(b"//")
        if sep and _DELIBERATE.search(comment.decode("utf-8", "replace")):
            return True
    fn = gs.enclosing_function(call)
    first = fn.start_point[0] + 1 if fn is not None else 0
    for r in range(max(first, row - 5), row):
        text = lines[r].strip()
        if text.startswith(b"//") and _DELIBERATE.search(text.decode("utf-8", "replace")):
            return True
    return False


def _prepared_on_tx(ctx: FileContext, fn: Node, stmt: str, sql_types: dict[str, str]) -> bool:
    """`stmt` is a local of `fn` prepared on a transaction (`tx.Prepare`, `tx.PrepareContext`, with `tx`
    a *sql.Tx or a local from `BeginTx`/`Begin`): it runs on the connection the transaction holds until
    it commits or rolls back (a `BeginTx(ctx)` rolls back when ctx ends), so its Exec outlives nothing
    (go-f3, held-out set 59; operator-registry's loader, set 62: five false findings)."""
    body = fn.child_by_field_name("body")
    values = gs.assigned_values(ctx, body, stmt) if "." not in stmt else []
    if not values:
        return False
    for v in values:
        if v is None or v.type != "call_expression":
            return False
        head, _, method = gs.call_name(ctx, v).rpartition(".")
        if method not in ("Prepare", "PrepareContext") or not head:
            return False
        if _sql_kind(head, sql_types) != "Tx" and not any(
                w is not None and w.type == "call_expression"
                and gs.call_name(ctx, w).rpartition(".")[2] in ("Begin", "BeginTx")
                for w in gs.assigned_values(ctx, body, head)):
            return False
    return True


def _begun_with(ctx: FileContext, fn: Node, tx: str, ctx_name: str) -> bool:
    """Every assignment of the local `tx` in `fn` is `db.BeginTx(ctx_name, ...)`: the transaction was handed the
    caller's context, and when it is cancelled database/sql rolls the transaction back and frees its
    connection, so a ctx-less statement on it holds nothing past the one statement running (tailsql's
    `tx.QueryRow(...)` after `s.db.BeginTx(ctx, nil)`, held-out set 80; go-f3, set 59). A Tx begun with
    `context.Background()`, or a Tx handed in, is still reported."""
    body = fn.child_by_field_name("body")
    sources = gs.assigned_values(ctx, body, tx) if body is not None and tx.isidentifier() else []
    if not sources:
        return False
    for v in sources:
        if v is None or v.type != "call_expression" or gs.call_name(ctx, v).rpartition(".")[2] != "BeginTx":
            return False
        args = gs.arguments(v)
        if not args or ctx.text(args[0]) != ctx_name:
            return False
    return True


def _sql_kind(expr: str, sql_types: dict[str, str]) -> str | None:
    if expr in sql_types:
        return sql_types[expr]
    if "." in expr:
        return sql_types.get("." + expr.rsplit(".", 1)[-1])
    return None


def _sql_types(ctx: FileContext) -> dict[str, str]:
    """Names (and `.field` names) declared with *sql.DB / *sql.Tx / *sql.Stmt in the file.

    A name declared with two different types in the file is dropped (ambiguous).
    """
    if b"database/sql" not in ctx.source:
        return {}
    pkgs = {k for k, v in gs.imports(ctx).items() if v == "database/sql"}
    found: dict[str, set[str]] = {}

    def add(name: str, kind: str) -> None:
        found.setdefault(name, set()).add(kind)

    for p in gs.nodes_of_type(ctx, "parameter_declaration", "var_spec", "field_declaration"):
        t = p.child_by_field_name("type")
        text = "".join(ctx.text(t).split()).lstrip("*")
        pkg, _, kind = text.partition(".")
        if t is None:
            kind = "other"  # `var x = ...`: typed by its value, which we do not follow
        elif pkg not in pkgs or kind not in _SQL_METHODS:
            kind = "other"
        prefix = "." if p.type == "field_declaration" else ""
        for n in p.children_by_field_name("name"):
            add(prefix + ctx.text(n), kind)
    for d in gs.nodes_of_type(ctx, "short_var_declaration"):
        lefts, rights = gs.assignment_sides(d)
        if len(rights) != 1 or not lefts:
            for left in lefts:
                add(ctx.text(left), "other")
            continue
        callee = gs.call_name(ctx, rights[0]) if rights[0].type == "call_expression" else ""
        head, _, method = callee.rpartition(".")
        if not callee:
            add(ctx.text(lefts[0]), "other")
        elif head in pkgs and method in ("Open", "OpenDB"):
            add(ctx.text(lefts[0]), "DB")
        elif (
            method in ("Begin", "BeginTx")
            and _sql_kind(head, {k: next(iter(v)) for k, v in found.items()}) == "DB"
        ):
            add(ctx.text(lefts[0]), "Tx")
        elif method in ("Prepare", "PrepareContext") and _sql_kind(
            head, {k: next(iter(v)) for k, v in found.items()}
        ) in ("DB", "Tx"):
            add(ctx.text(lefts[0]), "Stmt")
        else:
            add(ctx.text(lefts[0]), "other")
    return {k: next(iter(v)) for k, v in found.items() if len(v) == 1 and "other" not in v}
