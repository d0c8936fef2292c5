"""LH401 http-body-not-closed: an HTTP response whose Body is not closed on every path."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.goflow import block_terminates
from leakhunter.source.program.contexts import value_only_call
from leakhunter.source.program.failures import failed_call
from leakhunter.source.program.httpclient import client_timeout
from leakhunter.source.program.implementations import registered_grpc_service
from leakhunter.source.program.summaries import body_read_with, hands_back_released
from leakhunter.source.release import Exit, ReleaseSpec
from leakhunter.source.rule import FileContext, Rule
from leakhunter.source.rules._resource import (
    acquisitions,
    check_paths,
    dropped_on_the_way_out,
    exits_text,
    leak_severity,
    local_type_of,
    method_name,
    peer_silenced,
    receiver_text,
    var_used_with,
)

if TYPE_CHECKING:
    from tree_sitter import Node

_PACKAGE_FUNCS = frozenset({
    "net/http.Get", "net/http.Post", "net/http.Head", "net/http.PostForm",
    "golang.org/x/net/context/ctxhttp.Do", "golang.org/x/net/context/ctxhttp.Get",
    "golang.org/x/net/context/ctxhttp.Head", "golang.org/x/net/context/ctxhttp.Post",
    "golang.org/x/net/context/ctxhttp.PostForm",
})
_CLIENT_METHODS = {"Do": 1, "Get": 1, "Head": 1, "Post": 3, "PostForm": 2, "RoundTrip": 1}
_RESPONSE_FIELDS = frozenset({
    "Body", "StatusCode", "Status", "Header", "ContentLength", "Cookies", "Location", "Request",
    "TLS", "Trailer", "Proto", "Uncompressed", "TransferEncoding",
})
_SPEC = ReleaseSpec(methods=frozenset({"Close"}), path=("Body",), own=frozenset({"Write"}), drains=frozenset({
    ("io.ReadAll", 0), ("io/ioutil.ReadAll", 0), ("io.Copy", 1), ("io.CopyBuffer", 1)}))
_PEERS = frozenset({"bodyclose"})


def _is_client(ctx: FileContext, call: Node, recv: str) -> bool:
    """Does `recv` (the receiver of a Do/Get/Post call) look like an *http.Client? By its type when
    known, else by a name that ends in "client" (`c.httpClient`, `apiClient`): a name that only holds
    the word (`cfg.ClientSessionCache.Get(key)`, a TLS session cache lookup whose type was not on
    disk, held-out set 37) names something of a client's, not the client."""
    head, _, rest = recv.partition(".")
    if gs.imports(ctx).get(head) == "net/http" and rest in ("DefaultClient",):
        return True
    fn = gs.enclosing_function(call)
    if local_type_of(ctx, fn, recv) in ("http.Client", "*http.Client"):
        return True
    last = recv.rpartition(".")[2]
    return last.lower().endswith("client") and "()" not in recv


def _request_arg(ctx: FileContext, call: Node) -> bool:
    """True if the single argument of `x.Do(req)` was built by http.NewRequest* in this function."""
    args = gs.arguments(call)
    if len(args) != 1 or args[0].type != "identifier":
        return False
    fn = gs.enclosing_function(call)
    body = fn.child_by_field_name("body") if fn is not None else None
    if body is None:
        return False
    name = ctx.text(args[0])
    for d in gs.walk(body, ("short_var_declaration", "assignment_statement")):
        v = gs.assigned_value(ctx, d, name)
        if v is not None and v.type == "call_expression" and gs.is_call_to(
            ctx, v, "net/http.NewRequest", "net/http.NewRequestWithContext"
        ):
            return True
    return False


def _held_until(timeout: str) -> str:
    """What the client's Timeout does to a body nobody closes (`program.httpclient`)."""
    if not timeout:
        return ""
    return (f"; the client's Timeout ({timeout}) ends the request when it fires and closes the connection, "
            "so each such response holds it (and two transport goroutines) only until then")


def _match(ctx: FileContext, call: Node) -> str | None:
    q = gs.qualified_call_name(ctx, call)
    if q in _PACKAGE_FUNCS:
        return gs.call_name(ctx, call)
    m = method_name(ctx, call)
    nargs = _CLIENT_METHODS.get(m)
    if nargs is None or len(gs.arguments(call)) != nargs:
        return None
    recv = receiver_text(ctx, call)
    if not recv or gs.imports(ctx).get(recv) is not None:
        return None  # a package function of some other package (`foo.Get(x)`)
    if m == "RoundTrip":
        # a transport: http.DefaultTransport, a local *http.Transport, or handed a request built here
        head, _, rest = recv.partition(".")
        if (gs.imports(ctx).get(head) == "net/http" and rest == "DefaultTransport") or local_type_of(
            ctx, gs.enclosing_function(call), recv
        ) in ("http.Transport", "*http.Transport") or _request_arg(ctx, call):
            return gs.call_name(ctx, call)
        return None
    if any(a.type == "func_literal" for a in gs.arguments(call)):
        return None  # `once.Do(func() {...})`: no HTTP method takes a function
    if _is_client(ctx, call, recv) or (m == "Do" and _request_arg(ctx, call)):
        typed = _receiver_returns_response(ctx, call, m)
        if typed is False:
            return None  # the receiver's declared type says its method returns no response
        return gs.call_name(ctx, call)
    return None


def _receiver_returns_response(ctx: FileContext, call: Node, method: str) -> bool | None:
    """By the receiver's declared type: does `recv.<method>` return an `*http.Response`? None if unknown.

    Names guess (`clientOnce.Do`, an API client whose `Do` decodes and closes the body itself);
    the program model knows: `*http.Client`, or a method declared to return `*http.Response`.
    """
    from leakhunter.source.program import types

    fn = call.child_by_field_name("function")
    op = fn.child_by_field_name("operand") if fn is not None and fn.type == "selector_expression" else None
    t = types.expr_type(ctx, op) if op is not None else ""
    if not t or t == "func":
        return None
    base = t.lstrip("*")
    if base == "net/http.Client":
        return True
    sig = types.method(ctx, t, method)
    if sig is None:
        if base.startswith("sync."):
            return False  # sync.Once, sync.Pool...: never an HTTP client
        # a type the index knows, without that method, is no client; an unknown one decides nothing
        # (a dot-imported `Client` in net/http's external tests, a dependency not on disk)
        return False if types.type_decl(ctx, t) is not None else None
    # `(*http.Response, []byte, error)`: the body comes back read (client_golang's api.Client.Do)
    return bool(sig.results) and sig.results[0] == "*net/http.Response" and not body_read_with(sig.results)


_HEAD_MARKS = (b"MethodHead", b'"HEAD"')


def _bodiless(ctx: FileContext, fn: Node, call: Node) -> bool:
    """The function may send a HEAD request with a method it does not trace to the call (`c.do(ctx,
    "HEAD", u)` through a wrapper), or the request it sends comes from a builder of this package whose one
    statement returns a HEAD request (`headReq := s.headRequest(u)`, `return s.httpRequest("HEAD", u)`:
    rkt's resumable download, held-out set 113): the transport answers it with `http.NoBody` and pools the
    connection before `Do` returns, so an unclosed body holds nothing. A 204 or 304 status is judged
    per exit (`_bodiless_status`): the function that expects one still leaks the body of any other
    status it returns on (it was skipped whole until session 25, and those leaks with it)."""
    text = ctx.source[fn.start_byte : fn.end_byte]
    if any(m in text for m in _HEAD_MARKS):
        return True
    args = gs.arguments(call)
    req = args[0] if len(args) == 1 and args[0].type == "identifier" else None
    if req is None:
        return False
    name = ctx.text(req)
    values = [gs.assigned_value(ctx, d, name)
              for d in gs.walk(fn, ("short_var_declaration", "assignment_statement", "var_spec"))
              if name in gs.assigned_names(ctx, d)]
    return bool(values) and all(v is not None and v.type == "call_expression" and _head_builder(ctx, v)
                                for v in values)


def _head_builder(ctx: FileContext, call: Node) -> bool:
    """`call` reaches a function of this package whose body is one return statement handing back a call
    given the HEAD method (`summaries.returns_head_call`)."""
    from leakhunter.source.program.summaries import own_declaration, returns_head_call

    decl = own_declaration(ctx, call)
    body = decl[1].child_by_field_name("body") if decl is not None else None
    if decl is None or body is None or len(gs.statements(body)) != 1:
        return False
    return returns_head_call(decl[0], decl[1])


_BRANCHES = frozenset({
    "if_statement", "for_statement", "expression_switch_statement", "type_switch_statement",
    "select_statement", "func_literal", "communication_case", "expression_case", "default_case",
    "type_case",
})


_COPY_FUNCS = frozenset({"io.Copy", "io.CopyBuffer"})
_DRAIN_HELPERS = frozenset({"DrainBody", "drainBody", "DrainAndClose", "drainAndClose", "drain", "Drain"})
"""Helpers by name that read a body to its end (several HTTP libraries ship one; std's is unexported)."""


def _drains(ctx: FileContext, call: Node, var: str, target: str, decodes_to_eof: bool) -> bool:
    """Does `call` read `var`'s body to its end (or fail trying)?"""
    name = gs.call_name(ctx, call)
    args = gs.arguments(call)
    texts = [ctx.text(a) for a in args]
    if name in _COPY_FUNCS:
        # io.Copy(dst, src), io.CopyBuffer(dst, src, buf): the body is the source (io.CopyN reads only n)
        return len(texts) >= 2 and texts[1] == target
    if name in ("io.ReadAll", "ioutil.ReadAll") or name.endswith(".ReadAll"):
        return texts == [target] or (len(args) == 1 and _large_limit_of(ctx, args[0], target))
    if name == "httputil.DumpResponse":
        # reads the whole body into memory and closes the original (httputil.drainBody)
        return len(texts) == 2 and texts[0] == var and texts[1] == "true"
    if name.rpartition(".")[2] in _DRAIN_HELPERS:
        return target in texts or var in texts
    if name == "json.NewDecoder" and decodes_to_eof:
        # a decoder read until io.EOF (or while More()) has consumed the whole body
        return texts == [target]
    return target in texts and _callee_reads_to_eof(ctx, call, texts.index(target))


_MAX_LEAD = 3
"""Statements a callee may run before the read that drains its reader (a nil check, an options default)."""


def _callee_reads_to_eof(ctx: FileContext, call: Node, idx: int) -> bool:
    """The function `call` reaches (in the module or a dependency: `program.callsites.call_declaration`)
    reads its parameter `idx` to EOF with `io.ReadAll`/`io.Copy` among its first statements, before it
    can return: excelize's `OpenReader(r)` begins `b, err := io.ReadAll(r)`, so a body handed to it is
    at EOF whatever it returns (starlib's xlsx loader, held-out set 31; set 24's shape one call deeper).
    A callee that decodes part of it, or may return first, does not drain it."""
    from leakhunter.source.program.callsites import callee_parameter

    got = callee_parameter(ctx, call, idx)
    if got is None:
        return False
    fctx, decl, pname = got
    body = decl.child_by_field_name("body")
    for stmt in gs.statements(body)[: _MAX_LEAD + 1] if body is not None else ():
        for c in gs.walk(stmt, "call_expression", into_func_literals=False):
            name = gs.call_name(fctx, c)
            args = [fctx.text(a) for a in gs.arguments(c)]
            if (name in ("io.ReadAll", "ioutil.ReadAll") and args == [pname]) or (
                    name in _COPY_FUNCS and len(args) >= 2 and args[1] == pname):
                return stmt.type in ("short_var_declaration", "assignment_statement", "expression_statement")
        if any(True for _ in gs.walk(stmt, ("return_statement", "go_statement", "defer_statement"))) or (
                stmt.type not in ("short_var_declaration", "assignment_statement", "var_declaration", "if_statement")):
            return False  # it may return (or hand the reader on) before reading it
    return False


_LARGE_LIMIT = 32 << 10
"""`io.ReadAll(io.LimitReader(resp.Body, N))` with a constant N of at least this many bytes reads the
reply to its EOF in practice: the limit guards against a hostile server, not against the replies the
API sends (go-actions-cache's 32 KiB bound on small JSON replies, held-out set 24). A smaller bound
(reading the first 512 bytes of an error page) leaves the rest unread and stays a finding."""


def _large_limit_of(ctx: FileContext, arg: Node, target: str) -> bool:
    if arg.type != "call_expression" or gs.call_name(ctx, arg) != "io.LimitReader":
        return False
    inner = gs.arguments(arg)
    if len(inner) != 2 or ctx.text(inner[0]) != target:
        return False
    n = gs.const_int(ctx.text(inner[1]))
    return n is not None and n >= _LARGE_LIMIT


_EMPTY_STATUS = frozenset({"204", "http.StatusNoContent", "304", "http.StatusNotModified",
                           "205", "http.StatusResetContent"})
"""Statuses whose response has no body: net/http forces http.NoBody for 204 and 304, and a 205 must not
carry content (RFC 9110 15.3.6: the server sends Content-Length: 0, which net/http reads as http.NoBody;
go-gh's DoWithContext, held-out set 103)."""


def _status_test(ctx: FileContext, cond: Node | None, var: str, op: str) -> bool:
    """`cond` compares `var.StatusCode` with `op` ("==" or "!=") to bodiless statuses only: one
    comparison, `a == 204 || a == 304` for "==", `a != 204 && a != 304` for "!=" (either way, where
    the comparison holds, or fails, the status is one without a body)."""
    while cond is not None and cond.type == "parenthesized_expression":
        cond = cond.named_children[0] if cond.named_children else None
    if cond is None or cond.type != "binary_expression":
        return False
    got = ctx.text(cond.child_by_field_name("operator"))
    if got == ("||" if op == "==" else "&&"):
        return all(_status_test(ctx, cond.child_by_field_name(f), var, op) for f in ("left", "right"))
    if got != op:
        return False
    sides = {"".join(ctx.text(cond.child_by_field_name(f)).split()) for f in ("left", "right")}
    return f"{var}.StatusCode" in sides and len(sides - _EMPTY_STATUS) == 1


def _bodiless_status(ctx: FileContext, var: str, exit_node: Node) -> bool:
    """The exit runs only when the status is one that has no body (204, 205 or 304, by number or by the
    net/http name), or the length is 0 (`if resp.ContentLength == 0`; -1 is an unknown length, a body): inside
    `if resp.StatusCode == 204`, inside a `case http.StatusNoContent:` of
    `switch resp.StatusCode`, or after `if resp.StatusCode != 204 { return ... }` in its block or
    an enclosing one. Such a response has no body (net/http hands back `http.NoBody`, and the
    connection is free for reuse at once), so returning without Close leaves nothing held (aringo's
    `Call`, held-out set 36, whose real leak is the next return, on any other non-200 status). The
    return inside `if resp.StatusCode != 204 { return err }` is the leak: that response has a body."""
    for p in gs.guarding_ifs(exit_node):
        if _status_test(ctx, p.child_by_field_name("condition"), var, "=="):
            return True
    if gs.guarded_by(ctx, exit_node, {f"{var}.ContentLength==0", f"0=={var}.ContentLength"}):
        return True  # an empty body: the transport hands back http.NoBody (iceberg-go's doPost, set 99)
    cur = exit_node
    for p in gs.ancestors(exit_node):
        if p.type in gs.FUNC_TYPES:
            return False
        if p.type == "expression_case" and p.parent is not None and p.parent.type == "expression_switch_statement":
            value = p.parent.child_by_field_name("value")
            cases = p.child_by_field_name("value")
            if value is not None and cases is not None and \
                    "".join(ctx.text(value).split()) == f"{var}.StatusCode" and \
                    {"".join(ctx.text(c).split()) for c in cases.named_children} <= _EMPTY_STATUS:
                return True
        if p.type in ("block", "statement_list"):
            for prev in gs.statements(p):
                if prev.start_byte >= cur.start_byte:
                    break
                then = prev.child_by_field_name("consequence") if prev.type == "if_statement" else None
                if then is not None and prev.child_by_field_name("alternative") is None and \
                        _status_test(ctx, prev.child_by_field_name("condition"), var, "!=") and \
                        block_terminates(ctx, then):
                    return True
        cur = p
    return False


def _after_failed_read(ctx: FileContext, fn: Node, var: str, exit_node: Node) -> bool:
    """The exit handles the failure of a read of the body that can fail only in reading it:
    `io.Copy(io.Discard, B)` or `io.ReadAll(B)`, B the body or `io.LimitReader` of it (gowebdav's
    drain of at most N bytes, held-out set 22), or the body's own `Read` (a loop that streams the body
    until `Read` returns io.EOF or an error: supervisord's log tail, held-out set 40). A read error makes the transport close the connection
    itself (the body's EOF signal reports it and the persistConn's read loop ends), so nothing is held
    there. Not a copy into another writer, whose own write may be what failed, nor a decoder's error,
    which is about the content, with the connection still open."""
    call = failed_call(ctx, fn, exit_node)
    if call is None:
        return False
    name = gs.call_name(ctx, call)
    args = gs.arguments(call)
    if "".join(name.split()) == f"{var}.Body.Read":
        return True  # `n, err := resp.Body.Read(buf); if err != nil { return err }`: EOF, or a failed read
    if name in _COPY_FUNCS and len(args) >= 2 and ctx.text(args[0]) in ("io.Discard", "ioutil.Discard"):
        src = args[1]
    elif name in ("io.ReadAll", "ioutil.ReadAll") and len(args) == 1:
        src = args[0]
    else:
        return False
    if src.type == "call_expression" and gs.call_name(ctx, src) == "io.LimitReader" and gs.arguments(src):
        src = gs.arguments(src)[0]
    return "".join(ctx.text(src).split()) == f"{var}.Body"


def _drained_first(ctx: FileContext, fn: Node, var: str, acq: Node, leaks: list[Exit]) -> bool:
    """Every exit that leaves the body open comes after a read of the body to its end on its own
    path: `io.ReadAll(resp.Body)` / `io.Copy(w, resp.Body)` / `httputil.DumpResponse(resp, true)`
    that runs unconditionally before that exit (in the exit's block or one enclosing it, or in an
    `if`'s initializer), or the exit is that very statement. Each exit may have its own read
    (`if ok { io.Copy(io.Discard, b); return nil }; all, _ := io.ReadAll(b); return err`).

    A body read to EOF has already handed its connection back to the transport (the
    persistConn's readLoop sees EOF and returns the connection to the idle pool), and after a
    failed read the transport closes the connection itself, so the missing Close leaks
    nothing: hygiene, not a leak.
    """
    body = fn.child_by_field_name("body")
    if body is None:
        return False
    target = f"{var}.Body"
    fn_text = ctx.source[fn.start_byte : fn.end_byte]
    decodes_to_eof = b"io.EOF" in fn_text or b".More()" in fn_text
    drains = [
        c for c in gs.walk(body, "call_expression")
        if c.start_byte > acq.end_byte and _drains(ctx, c, var, target, decodes_to_eof)
    ]
    if not drains:
        return False
    return all(any(_covered(e.node, d) and _runs_before(ctx, d, e.node, acq) for d in drains) for e in leaks)


def _runs_before(ctx: FileContext, drain: Node, exit_node: Node, acq: Node) -> bool:
    """The drain runs on every path from the acquisition that reaches `exit_node`: between it and
    the innermost node that also holds the exit (or the acquisition) there is no branch (an `if`'s
    initializer and condition always run), or only the `else` of an `if` whose other branch never
    gets past it (`if err != nil { return err } else if b, err := io.ReadAll(resp.Body); ...`:
    mautrix's push gateway, held-out set 10)."""
    if exit_node.start_byte <= drain.start_byte and exit_node.end_byte >= drain.end_byte:
        return True
    cur = drain
    for p in gs.ancestors(drain):
        if p.start_byte <= exit_node.start_byte and p.end_byte >= exit_node.end_byte:
            return True
        if p.start_byte <= acq.start_byte and p.end_byte >= acq.end_byte:
            return True  # unconditional after the acquisition, and the exit comes later
        if p.type == "if_statement" and cur in (
            p.child_by_field_name("initializer"), p.child_by_field_name("condition"),
        ):
            cur = p
            continue
        if p.type == "if_statement" and cur == p.child_by_field_name("alternative"):
            cons = p.child_by_field_name("consequence")
            if cons is not None and block_terminates(ctx, cons):
                cur = p
                continue
        if p.type in _BRANCHES:
            return False
        cur = p
    return False


_NO_BODY_OPTION = re.compile(
    r"(?i)^(?:(?:no|discard|close|skip|drop)_?(?:response|resp)(?:_?body)?|(?:discard|close)_?(?:response_?|resp_?)?body)$"
)
"""Option fields asking a client wrapper to close the response body itself (rclone lib/rest's
`Opts{NoResponse: true}`: `Call` closes `resp.Body` and hands back the status and headers)."""


def _body_discarded_by_option(ctx: FileContext, fn: Node, call: Node) -> bool:
    """An argument of the call is an options literal (`&Opts{...}`, or a variable this function assigned
    one to) that sets such a field to `true`."""
    body = fn.child_by_field_name("body")
    for arg in gs.arguments(call):
        if arg.type == "unary_expression" and arg.named_children:
            arg = arg.named_children[-1]
        lits = [arg] if arg.type == "composite_literal" else []
        if arg.type == "identifier" and body is not None:
            name = ctx.text(arg)
            for d in gs.walk(body, ("short_var_declaration", "assignment_statement", "var_spec")):
                if d.start_byte >= call.start_byte:
                    break
                v = gs.assigned_value(ctx, d, name)
                if v is not None and v.type == "unary_expression" and v.named_children:
                    v = v.named_children[-1]
                if v is not None:
                    lits = [v] if v.type == "composite_literal" else []
        for lit in lits:
            vals = lit.child_by_field_name("body")
            for kv in gs.walk(vals, "keyed_element") if vals is not None else ():
                kids = kv.named_children
                if (len(kids) == 2 and _NO_BODY_OPTION.match(ctx.text(kids[0]).strip())
                        and ctx.text(kids[1]).strip() == "true"):
                    return True
    return False


_CONN = re.compile(r"(?i)conn$")


def _conn_closed_first(ctx: FileContext, fn: Node, acq: Node, leak: Exit) -> bool:
    """A response from `RoundTrip` (a round tripper of one connection: an `http2.ClientConn`, a
    one-request HTTP/3 transport) on a path that closes a connection (`rawConn.Close()`,
    `quicConn.CloseWithError(...)`: a variable named *conn) before the exit, on every path to it:
    closing the connection ends every stream on it, the body's included (xray-core's HTTP/2 proxy
    tunnel and hysteria's auth request)."""
    body = fn.child_by_field_name("body")
    if body is None:
        return False
    for c in gs.walk(body, "call_expression"):
        if c.start_byte <= acq.end_byte or c.start_byte >= leak.node.end_byte:
            continue
        if method_name(ctx, c) not in ("Close", "CloseWithError"):
            continue
        recv = receiver_text(ctx, c)
        if recv and _CONN.search(recv.rpartition(".")[2]) and _covered(leak.node, c) and _runs_before(
            ctx, c, leak.node, acq
        ):
            return True
    return False


def _covered(exit_node: Node, drain: Node) -> bool:
    """The exit is the drain's own statement, or comes after it."""
    if exit_node.start_byte <= drain.start_byte and exit_node.end_byte >= drain.end_byte:
        return True
    return exit_node.start_byte >= drain.end_byte


_CANCELLERS = frozenset({
    "context.WithCancel", "context.WithTimeout", "context.WithDeadline",
    "context.WithCancelCause", "context.WithTimeoutCause", "context.WithDeadlineCause",
})
_REQUEST_BUILDERS = ("net/http.NewRequest", "net/http.NewRequestWithContext")


def _request_origin(ctx: FileContext, fn: Node, call: Node) -> tuple[str | None, str | None] | None:
    """(context, method) of the request a client call sends, as the source spells them: the context
    expression (None when the request carries `context.Background()`: `http.NewRequest`, a literal)
    and the method expression (None when unknown). None when no argument is a request built in
    this function (`req, _ := http.NewRequestWithContext(c, m, ...)`, `req = req.WithContext(c)`,
    `must(http.NewRequestWithContext(...))`, `r.Clone(c)`, `&http.Request{Method: m}`; the last
    assignment before the call decides)."""
    body = fn.child_by_field_name("body")
    if body is None:
        return None
    for arg in gs.arguments(call):
        state: list[str | None] | None = None
        values: list[Node] = []
        if arg.type == "identifier":
            name = ctx.text(arg)
            for d in gs.walk(body, ("short_var_declaration", "assignment_statement", "var_spec")):
                if d.start_byte >= call.start_byte:
                    break
                v = gs.assigned_value(ctx, d, name)
                if v is not None:
                    values.append(v)
        else:
            inner = arg.child_by_field_name("function") if arg.type == "call_expression" else None
            base = inner.child_by_field_name("operand") if inner is not None and inner.type == "selector_expression" else None
            if base is not None and base.type == "identifier" and method_name(ctx, arg) in ("WithContext", "Clone"):
                # `c.Do(req.WithContext(ctx))`: the request built above, with this context
                for d in gs.walk(body, ("short_var_declaration", "assignment_statement", "var_spec")):
                    if d.start_byte >= call.start_byte:
                        break
                    v = gs.assigned_value(ctx, d, ctx.text(base))
                    if v is not None:
                        values.append(v)
            values.append(arg)
        for v in values:
            state = _request_step(ctx, v, state)
        if state is not None:
            return state[0], state[1]
    return None


def _request_step(ctx: FileContext, v: Node, state: list[str | None] | None) -> list[str | None] | None:
    """The (context, method) after one assignment of the request variable (see `_request_origin`)."""
    if v.type == "unary_expression" and v.named_children:
        v = v.named_children[-1]
    if v.type == "composite_literal" and ctx.text(v.child_by_field_name("type")) == "http.Request":
        method = None
        lit = v.child_by_field_name("body")
        for kv in gs.walk(lit, "keyed_element") if lit is not None else ():
            kids = kv.named_children
            if len(kids) == 2 and ctx.text(kids[0]) == "Method":
                method = ctx.text(kids[1])
        return [None, method]
    if v.type != "call_expression":
        return state
    inner = [v, *(a for a in gs.arguments(v) if a.type == "call_expression")]  # `must.Get(http.NewRequest...)`
    for c in inner:
        args = gs.arguments(c)
        if gs.is_call_to(ctx, c, "net/http.NewRequestWithContext") and len(args) >= 2:
            return [ctx.text(args[0]), ctx.text(args[1])]
        if gs.is_call_to(ctx, c, "net/http.NewRequest") and args:
            return [None, ctx.text(args[0])]
        if method_name(ctx, c) in ("WithContext", "Clone") and len(args) == 1 and state is not None:
            return [ctx.text(args[0]), state[1]]
    built = _built_by_helper(ctx, v)
    return built if built is not None else state


def _built_by_helper(ctx: FileContext, call: Node) -> list[str | None] | None:
    """[context, None] for `req, err := c.buildRequest(ctx, ...)`: a helper of the module whose returned
    request is made with one of its parameters as context (`http.NewRequestWithContext(p, ...)`, or
    `req = req.WithContext(p)` before it returns `req`); the context is the caller's argument there
    (splitio's SSE client builds its stream request so from a context whose cancel it defers, held-out
    set 32). None when the helper is not found or builds it otherwise."""
    from leakhunter.source.program.callsites import call_declaration

    got = call_declaration(ctx, call)
    if got is None:
        return None
    hctx, decl = got
    body = decl.child_by_field_name("body")
    params = [n for n, _ in gs.parameters(hctx, decl)]
    args = gs.arguments(call)
    if body is None or len(args) != len(params):
        return None
    made: str | None = None
    for c in gs.walk(body, "call_expression", into_func_literals=False):
        cargs = gs.arguments(c)
        first = hctx.text(cargs[0]) if cargs else ""
        if (gs.is_call_to(hctx, c, "net/http.NewRequestWithContext") or method_name(hctx, c) == "WithContext") \
                and first in params:
            if made is not None and made != first:
                return None  # two contexts: cannot tell which the returned request carries
            made = first
    if made is None:
        return None
    arg = args[params.index(made)]
    return [ctx.text(arg), None] if arg.type == "identifier" else None


def _head_method(text: str | None) -> bool:
    return text is not None and (text in ('"HEAD"', "http.MethodHead") or text.endswith((".HEAD", ".MethodHead")))


def _cancelled_on_return(
    ctx: FileContext, fn: Node, cname: str, call: Node, depth: int = 0, level: int = 0
) -> bool:
    """`cname` is a context derived in `fn` from `context.WithCancel/Timeout/Deadline` whose cancel
    is deferred before `call` (directly, or through `With*` wrappers: `httptrace.WithClientTrace(c,
    ...)`, `context.WithValue(c, ...)`; never `context.WithoutCancel`), or from the incoming server
    request's `r.Context()` (`_server_request`), or a parameter every caller passes such a context
    (`_callers_cancel`, up to `_MAX_LEVELS` callers up)."""
    body = fn.child_by_field_name("body")
    if body is None or depth > 4 or not cname.isidentifier():
        return False
    found = False
    assigned = False
    for d in gs.walk(body, ("short_var_declaration", "assignment_statement", "var_spec")):
        if d.start_byte >= call.start_byte:
            break
        v = gs.assigned_value(ctx, d, cname)
        if v is None:
            continue
        assigned = True
        if v.type != "call_expression":
            return False
        names = gs.assigned_names(ctx, d)
        if _server_request_context(ctx, fn, v):
            found = True
            continue
        if gs.qualified_call_name(ctx, v) == _ERRGROUP and names.index(cname) == 1 and _waits(ctx, fn, names[0], d):
            found = True  # `g, c := errgroup.WithContext(...)`: c ends when g.Wait returns, before fn does
            continue
        if gs.qualified_call_name(ctx, v) in _CANCELLERS:
            at = names.index(cname)
            if at + 1 >= len(names) or not _deferred_before(ctx, fn, names[at + 1], call):
                return False
            found = True
            continue
        last = gs.call_name(ctx, v).rpartition(".")[2]
        args = gs.arguments(v)
        vi = value_only_call(ctx, v) if len(names) == 1 else None
        if vi is not None and vi < len(args) and _soon_cancelled(ctx, fn, args[vi], d, depth + 1, level):
            found = True  # `ctx = g.Logger.PrepareCtx(ctx, id)`: values added, done when its parent is
            continue
        derives = (len(names) == 1 and last.startswith("With") and last != "WithoutCancel") or (
            len(names) == 2 and names[0] == cname and last == "Start"  # `ctx, span := tracer.Start(ctx, ...)`
        )
        if not derives or not args or not _soon_cancelled(ctx, fn, args[0], d, depth + 1, level):
            return False
        found = True
    if assigned:
        return found
    if depth <= 1 and any(n == cname for n, _ in gs.parameters(ctx, fn)):
        return _rpc_handler_context(ctx, fn, cname) or _callers_cancel(ctx, fn, cname, level)
    outer = gs.enclosing_function(fn) if fn.type == "func_literal" else None
    if outer is not None:
        # a context the closure captures (an errgroup's or a goroutine's work): judged where it is made,
        # as of the closure's creation
        return _cancelled_on_return(ctx, outer, cname, fn, depth, level)
    return False


_ERRGROUP = "golang.org/x/sync/errgroup.WithContext"
_STREAM = re.compile(r"^\*?(?:\w+\.)?(?:\w+_\w+Server|ServerStream|(?:ServerStreaming|ClientStreaming|BidiStreaming)Server\[.*\])$")


def _rpc_handler_context(ctx: FileContext, fn: Node, cname: str) -> bool:
    """`cname` is the context of a gRPC server method: `func (s *T) M(ctx context.Context, req *pb.Req)
    (*pb.Resp, error)` on a type embedding the generated `Unimplemented…Server`. grpc-go cancels that
    context when the method returns, as net/http does a handler's."""
    if fn.type != "method_declaration":
        return False
    params = gs.parameters(ctx, fn)
    results = gs.result_types(ctx, fn)
    if len(params) != 2 or params[0] != (cname, "context.Context") or not params[1][1].startswith("*"):
        return False
    if len(results) != 2 or results[1] != "error" or not results[0].startswith("*"):
        return False
    return _embeds_unimplemented_server(ctx, fn) or registered_grpc_service(ctx, fn)


def _embeds_unimplemented_server(ctx: FileContext, fn: Node) -> bool:
    """The method's receiver type embeds a generated `Unimplemented…Server` (in this package's files)."""
    from leakhunter.source.gopackage import package_files

    recv = fn.child_by_field_name("receiver")
    rtype = _compact_text(ctx, recv).rpartition(" ")[2].lstrip("(*").rstrip(")") if recv is not None else ""
    if not rtype.isidentifier():
        return False
    for f in package_files(ctx):
        for spec in gs.nodes_of_type(f, "type_spec"):
            if f.text(spec.child_by_field_name("name")) != rtype:
                continue
            st = spec.child_by_field_name("type")
            for field in gs.walk(st, "field_declaration") if st is not None and st.type == "struct_type" else ():
                if field.child_by_field_name("name") is None:
                    t = f.text(field.child_by_field_name("type")).lstrip("*").rpartition(".")[2]
                    if t.startswith("Unimplemented") and t.endswith("Server"):
                        return True
            return False
    return False


def _compact_text(ctx: FileContext, node: Node) -> str:
    return " ".join(ctx.text(node).split())


def _waits(ctx: FileContext, fn: Node, group: str, after: Node) -> bool:
    """`group.Wait()` is called in `fn` (outside its closures) after `after`."""
    body = fn.child_by_field_name("body")
    for c in gs.walk(body, "call_expression") if body is not None else ():
        if c.start_byte > after.end_byte and ctx.text(c.child_by_field_name("function")) == f"{group}.Wait":
            return True
    return False


def _soon_cancelled(ctx: FileContext, fn: Node, expr: Node, at: Node, depth: int = 0, level: int = 0) -> bool:
    """The context expression `expr` (used at `at` in `fn`) ends when `fn` or a caller up the chain
    returns: a name `_cancelled_on_return` accepts, or the server request's `r.Context()` itself."""
    if expr.type == "identifier":
        return _cancelled_on_return(ctx, fn, ctx.text(expr), at, depth, level)
    return expr.type == "call_expression" and _server_request_context(ctx, fn, expr)


def context_ends_soon(ctx: FileContext, fn: Node, expr: Node, at: Node) -> bool:
    """The context expression `expr`, used at `at` in `fn`, is cancelled when `fn` or its callers
    return (for LH402 too: database/sql closes rows whose query context is done)."""
    return _soon_cancelled(ctx, fn, expr, at)


_SENDING = ("do", "roundtrip", "send", "execute", "retry", "forward", "proxy")
"""Call names (lower case, by prefix) that send a request handed to them: `c.Do(r)`, `sendWithRetry(r)`."""


def _server_request_context(ctx: FileContext, fn: Node, call: Node) -> bool:
    """`r.Context()` of the request a server handed this function: net/http cancels it when the
    handler returns (ServeHTTP's `cancelCtx`), and the transport's read loop then closes any response
    still open on a request that carries it. `r` is a `*http.Request` parameter of `fn` (or of a
    function enclosing the closure `fn`) that is no outgoing request: `fn` is no `RoundTrip`, and
    `r` is handed to no call named like a send (`Do`, `RoundTrip`, `send…`,
    `retry…`, `forward…`) and `fn` returns no `*http.Response`. Also gin's `c.Request.Context()` and echo's
    `c.Request().Context()` for a `*gin.Context`/`echo.Context` parameter `c`."""
    if method_name(ctx, call) != "Context" or gs.arguments(call):
        return False
    f = call.child_by_field_name("function")
    op = f.child_by_field_name("operand") if f is not None else None
    if op is None:
        return False
    text = ctx.text(op)
    head, _, rest = text.partition(".")
    if rest in ("Request", "Request()") and head.isidentifier():
        return any(
            n == head and t.endswith(("gin.Context", "echo.Context"))
            for n, t in _params_outwards(ctx, fn)
        )
    if not text.isidentifier():
        return False
    if any(n == text and _STREAM.match(t.replace(" ", "")) for n, t in _params_outwards(ctx, fn)):
        return True  # a gRPC server stream's context: it ends when the streaming method returns
    owner = next((o for o, n, t in _params_with_owner(ctx, fn) if n == text), None)
    if owner is None or not any(n == text and t.removeprefix("*") == "http.Request" and t.startswith("*")
                                for n, t in gs.parameters(ctx, owner)):
        return False
    if owner.type == "method_declaration" and ctx.text(owner.child_by_field_name("name")) == "RoundTrip":
        return False
    if any(r.endswith("http.Response") for r in gs.result_types(ctx, owner)):
        return False  # hands back a response: a client wrapper given an outgoing request
    body = owner.child_by_field_name("body")
    for c in gs.walk(body, "call_expression", into_func_literals=True) if body is not None else ():
        last = gs.call_name(ctx, c).rpartition(".")[2].lower()
        if last.startswith(_SENDING) and any(ctx.text(a) == text for a in gs.arguments(c)):
            return False  # the function sends this request (itself or through a helper): a client's request
    return True


def _params_with_owner(ctx: FileContext, fn: Node) -> Iterator[tuple[Node, str, str]]:
    """Parameters visible in `fn`: its own, then those of the functions enclosing it (a closure)."""
    cur: Node | None = fn
    seen: set[str] = set()
    while cur is not None:
        for n, t in gs.parameters(ctx, cur):
            if n not in seen:
                seen.add(n)
                yield cur, n, t
        cur = gs.enclosing_function(cur) if cur.type == "func_literal" else None


def _params_outwards(ctx: FileContext, fn: Node) -> Iterator[tuple[str, str]]:
    for _, n, t in _params_with_owner(ctx, fn):
        yield n, t


_MAX_LEVELS = 4
"""Callers followed up from a context parameter to where its context is made (dendrite's identity-server
calls: handler -> CheckAndProcessInvite -> queryIDServer -> checkIDServerSignatures -> the request)."""


def _callers_cancel(ctx: FileContext, fn: Node, cname: str, level: int = 0) -> bool:
    """`cname` is a context parameter of a function, and every call of it passes a context that ends
    when its caller returns: cancelled on return (`defer cancel()`) or in the statement right after
    the call (`err = c.write(reqCtx, ts); cancel()`), an incoming server request's `r.Context()`, or
    again such a parameter of the caller (up to `_MAX_LEVELS` callers up; a recursive call passing
    the parameter on counts as its own callers'). An unexported function's calls are those of its
    package; an exported function's (not a method: an interface may reach it from anywhere) also
    those of the module's packages importing its own, and one with no call in the module decides
    nothing. A function also used as a value, or a name another declaration of the package shares,
    decides nothing (its callers cannot all be seen)."""
    if fn.type not in ("function_declaration", "method_declaration") or level >= _MAX_LEVELS:
        return False
    key = (str(ctx.path), len(ctx.source), fn.start_byte, cname, level)
    got = _CALLERS_MEMO.get(key)
    if got is None:
        _CALLERS_MEMO[key] = False  # recursion guard
        got = _callers_cancel_uncached(ctx, fn, cname, level)
        if len(_CALLERS_MEMO) > 4096:
            _CALLERS_MEMO.clear()
        _CALLERS_MEMO[key] = got
    return got


_CALLERS_MEMO: dict[tuple[str, int, int, str, int], bool] = {}
"""Answers of `_callers_cancel` per (file and its size, function, parameter, level): a chain of callers is asked
about again for each response of the functions below it."""


def _callers_cancel_uncached(ctx: FileContext, fn: Node, cname: str, level: int) -> bool:
    from leakhunter.source.program.callsites import every_caller_argument

    return every_caller_argument(
        ctx, fn, cname,
        lambda f, cfn, arg, call: _soon_cancelled(f, cfn, arg, call, 0, level + 1)
        or (arg.type == "identifier" and _cancelled_right_after(f, cfn, f.text(arg), call)),
    )


def _cancelled_right_after(ctx: FileContext, fn: Node, cname: str, call: Node) -> bool:
    """`c, cancel := context.WithTimeout(...)` before the call, and the statement after the call's
    own statement is `cancel()`."""
    body = fn.child_by_field_name("body")
    if body is None:
        return False
    cancel = ""
    for d in gs.walk(body, ("short_var_declaration", "assignment_statement")):
        if d.start_byte >= call.start_byte:
            break
        v = gs.assigned_value(ctx, d, cname)
        if v is None:
            continue
        names = gs.assigned_names(ctx, d)
        at = names.index(cname)
        ok = v.type == "call_expression" and gs.qualified_call_name(ctx, v) in _CANCELLERS and at + 1 < len(names)
        cancel = names[at + 1] if ok else ""
    if not cancel or cancel == "_":
        return False
    stmt = call
    for p in gs.ancestors(call):
        if p.type in ("block", "statement_list") or p is fn:
            break
        stmt = p
    block = stmt.parent
    stmts = gs.statements(block) if block is not None else []
    if stmt not in stmts or stmts.index(stmt) + 1 >= len(stmts):
        return False
    nxt = stmts[stmts.index(stmt) + 1]
    c = nxt.named_children[0] if nxt.type == "expression_statement" and nxt.named_children else None
    return c is not None and c.type == "call_expression" and ctx.text(c.child_by_field_name("function")) == cancel


def _deferred_before(ctx: FileContext, fn: Node, cancel: str, call: Node) -> bool:
    """`defer cancel()` (or a deferred closure calling it) runs before `call` in a block that holds it."""
    body = fn.child_by_field_name("body")
    if body is None or cancel == "_":
        return False
    for d in gs.walk(body, "defer_statement"):
        if d.start_byte >= call.start_byte:
            break
        block = d.parent
        if block is None or not (block.start_byte <= call.start_byte and call.end_byte <= block.end_byte):
            continue
        deferred = next((c for c in d.named_children if c.type == "call_expression"), None)
        if deferred is None:
            continue
        f = deferred.child_by_field_name("function")
        if f is not None and ctx.text(f) == cancel:
            return True
        if f is not None and f.type == "func_literal":
            lit = f.child_by_field_name("body")
            for st in gs.statements(lit):
                c = st.named_children[0] if st.type == "expression_statement" and st.named_children else None
                if c is not None and c.type == "call_expression" and ctx.text(c.child_by_field_name("function")) == cancel:
                    return True
    return False


def _released_with_request(ctx: FileContext, fn: Node, call: Node) -> str:
    """Why the response of `call` holds nothing whatever the body's fate ('' if it may):
    `head` for a HEAD request (the transport answers with `http.NoBody` and pools the connection
    before `Do` returns), `cancel` when the request's context is cancelled by a `defer cancel()`
    of this function (the transport's read loop then closes the body and its connection)."""
    if method_name(ctx, call) == "Head" or gs.call_name(ctx, call).endswith(".Head"):
        return "head"
    if _cancel_returned_and_deferred(ctx, call):
        return "cancel"
    origin = _request_origin(ctx, fn, call)
    if origin is None:
        return ""
    cexpr, mexpr = origin
    if _head_method(mexpr):
        return "head"
    if cexpr is not None and _cancelled_on_return(ctx, fn, cexpr, call):
        return "cancel"
    if cexpr is not None and cexpr.endswith(".Context()"):
        ctx_call = _context_call(ctx, fn, call, cexpr)
        if ctx_call is not None and _server_request_context(ctx, fn, ctx_call):
            return "cancel"
    if cexpr is None:
        # `client.DoHTTPRequest(ctx, req)`: a client method given the context beside the request sends
        # the request with it (gomatrixserverlib's fclient); `http.NewRequest` gave it none of its own.
        # The context may be a parameter or this function's own `context.With*` whose cancel it defers
        # (restic's rclone probe through `ctxhttp.Do(ctx, client, req)`: `_cancelled_on_return` checks it)
        args = gs.arguments(call)
        first = args[0] if len(args) >= 2 else None
        if first is not None and (_is_context(ctx, fn, first) or first.type == "identifier") \
                and _soon_cancelled(ctx, fn, first, call):
            return "cancel"
    return ""


def _cancel_returned_and_deferred(ctx: FileContext, call: Node) -> bool:
    """`res, cancel, err := poller.request(...)` then at once `defer cancel()`: the helper made the request
    under its own `context.With*` and hands its cancel back beside the response (posthog-go's feature-flag
    poller, held-out set 20): every return after the defer cancels the request, and the transport then
    closes the body and its connection, as for a cancel of this function's own context."""
    from leakhunter.source.program import types as ty

    stmt = call.parent.parent if call.parent is not None and call.parent.type == "expression_list" else None
    if stmt is None or stmt.type not in ("short_var_declaration", "assignment_statement"):
        return False
    names = gs.assigned_names(ctx, stmt)
    results = ty.call_results(ctx, call)
    cancels = [n for n, t in zip(names, results, strict=False) if t == "context.CancelFunc" and n != "_"]
    block = stmt.parent
    if not cancels or block is None:
        return False
    stmts = gs.statements(block)
    nxt = stmts[stmts.index(stmt) + 1] if stmt in stmts and stmts.index(stmt) + 1 < len(stmts) else None
    if nxt is None or nxt.type != "defer_statement":
        return False
    deferred = next((c for c in nxt.named_children if c.type == "call_expression"), None)
    f = deferred.child_by_field_name("function") if deferred is not None else None
    return deferred is not None and f is not None and ctx.text(f) in cancels and not gs.arguments(deferred)


def _is_context(ctx: FileContext, fn: Node, expr: Node) -> bool:
    """`expr` is a `context.Context` parameter (of `fn` or a function enclosing it) or `r.Context()`."""
    if expr.type == "call_expression":
        return method_name(ctx, expr) == "Context" and not gs.arguments(expr)
    name = ctx.text(expr)
    return expr.type == "identifier" and any(n == name and t == "context.Context" for n, t in _params_outwards(ctx, fn))


def _context_call(ctx: FileContext, fn: Node, call: Node, cexpr: str) -> Node | None:
    """The `X.Context()` call spelled `cexpr` in `fn` before `call` (the request's context argument)."""
    body = fn.child_by_field_name("body")
    for c in gs.walk(body, "call_expression", into_func_literals=True) if body is not None else ():
        if c.start_byte >= call.end_byte:
            break
        if ctx.text(c) == cexpr:
            return c
    return None


def _request_contexts(ctx: FileContext, fn: Node) -> set[str]:
    """Contexts the function's requests carry: `NewRequestWithContext(c, ...)`, `req.WithContext(c)`."""
    body = fn.child_by_field_name("body")
    out: set[str] = set()
    for call in gs.walk(body, "call_expression") if body is not None else ():
        args = gs.arguments(call)
        if not args or args[0].type != "identifier":
            continue
        if gs.is_call_to(ctx, call, "net/http.NewRequestWithContext") or method_name(ctx, call) == "WithContext":
            out.add(ctx.text(args[0]))
    return out


def _under_done_context(ctx: FileContext, exit_node: Node, fn: Node, names: set[str]) -> bool:
    """The exit is reached only once the request's context is done (`if err := c.Err(); err != nil`,
    `if c.Err() != nil`): the transport has then torn the connection down itself (its read loop
    closes the body when the request's context ends), so the unclosed body holds nothing."""
    for p in gs.guarding_ifs(exit_node, fn):
        cond = "".join(ctx.text(p.child_by_field_name("condition")).split())
        init = "".join(ctx.text(p.child_by_field_name("initializer")).split())
        for c in names:
            if cond == f"{c}.Err()!=nil" or (init.endswith(f":={c}.Err()") and cond == init.partition(":=")[0] + "!=nil"):
                return True
    return False


class HTTPBodyNotClosed(Rule):
    """An `*http.Response` whose `Body` is not closed on every path after the error check.

    The pattern: `resp, err := http.Get(u)` (or `Post`, `Head`, `PostForm`, or a
    client's `Do`/`Get`/`Post`/`Head`/`PostForm`, including `http.DefaultClient` and
    clients held in struct fields; a transport's `RoundTrip`; x/net's `ctxhttp`) and a path from there to a return that does not
    call `resp.Body.Close()` — typically an early `return` on a bad status code.

    Why it leaks: until the body is closed, the transport keeps the connection and
    its two goroutines (`persistConn.readLoop` / `writeLoop`) plus their buffers; the
    connection is never reused or freed. Under load, goroutines and open file
    descriptors grow with every leaked response.

    The fix: `defer resp.Body.Close()` right after the error check. To let the
    connection be reused, read the body to the end before closing
    (`io.Copy(io.Discard, resp.Body)`).

    Not reported (precision first): the path where `err != nil` (the response is nil
    there); responses returned to the caller, stored in a struct, a global or a map,
    sent on a channel, captured by a closure or goroutine, or handed to a function
    that is not known to leave them open (helpers in the same package are read: one
    that only reads its parameter does not count as closing); bodies closed in a
    deferred closure or behind an `if resp != nil`; functions using `goto`. Method
    calls named `Do`/`Get`/`Post` are only taken for HTTP clients: the receiver is
    `http.DefaultClient`, has type `*http.Client`, is named like a client, or `Do`
    is handed a request built by `http.NewRequest` in the same function.
    Responses are also recognised by type (the program model): a call whose declared
    result is `*http.Response` — a wrapper `fetch(u) (*http.Response, error)` in this
    or another package of the module, a method on a field typed `*http.Client`
    whatever its name, a generic `must(http.Get(u))` — creates one, unless it is a
    same-package function that returns a stored response (a getter), a recorder's
    `Result()`, `http.ReadResponse`, or carries bodyclose's `bodyclose:handled` directive.
    Ownership is judged honestly: `_ = resp` closes nothing, a closure that closes the
    body releases it only if it runs, a `defer` of a helper that only reads the
    response releases nothing, and `http.MaxBytesReader`/`io.LimitReader` around the
    body leave the obligation on the original body.
    A body read to EOF (`io.ReadAll(resp.Body)`, `io.Copy(w, resp.Body)`, a
    `json.NewDecoder(resp.Body)` decoded until `io.EOF` or while `More()`) unconditionally
    is not reported on any exit after that read: at EOF the transport has already
    returned the connection to its pool, and after a failed read it closes the
    connection itself, so nothing is held (Close is hygiene).
    Nor are functions that expect no body at all (a HEAD request, a 204 No Content or
    304 Not Modified status): the transport answers those with `http.NoBody` and has
    already pooled the connection; nor a return under `if resp.StatusCode == 204` (or 304, or 205
    Reset Content, which a server must send with no content)
    in a function that reads other statuses' bodies (the leak is on the returns for those).
    Exits reached only once the request's context is done (`if err := ctx.Err(); err != nil
    { return err }` for the context the request carries) hold nothing: the transport's read
    loop closes the connection and the body when that context ends. For the same reason a
    request whose context the function cancels on return (`c, cancel := context.WithTimeout(...)`,
    `defer cancel()`, through `With*` wrappers such as `httptrace.WithClientTrace`, never
    `context.WithoutCancel`) leaks nothing on any return, discarded response included (a loop
    iteration or an overwrite before the return still counts); nor does an unexported helper
    whose every caller in the package cancels the context it passes on return or right after
    the call. The same holds for the incoming server request's context (`r.Context()` of a
    `*http.Request` parameter the function does not send itself; gin's `c.Request.Context()`,
    echo's `c.Request().Context()`): net/http cancels it when the handler returns; for an
    errgroup's context in a function that calls the group's `Wait`; for a context a closure
    captures from a function that ends it; and for a context parameter every caller passes
    such a context, followed up to four callers (an exported function's callers across the
    module's packages that import it; at least one call must be seen). gRPC cancels a server
    method's context (`M(ctx, *Req) (*Resp, error)` on a type embedding the generated
    `Unimplemented…Server`) and a server stream's `stream.Context()` when the method returns: same. A request whose method is HEAD (`"HEAD"`, `http.MethodHead`, any `X.HEAD`), and
    `Head(url)`, has no body to close. A body read to its end on each exit's own path (each
    exit may have its own read; `httputil.DumpResponse(resp, true)` reads and closes it, a
    helper named `DrainBody` drains it) is released. Exits under a test that implies the call
    failed (`errors.Is(err, X)`, `err == ErrX`, `e, ok := err.(*T); ok`) get a nil response, as
    on `err != nil`; exits after a call that cannot fail (`crypto/rand.Read`, a
    `bytes.Buffer` write, a helper whose only failure is such a call's) cannot run.
    Receivers are judged by their declared type where the program model knows it: a
    `sync.Once.Do` (or any `Do` whose type does not return an `*http.Response`) is no HTTP
    call, nor is a `Do` given a func literal; a `Do` declared to return
    `(*http.Response, []byte, error)` hands back a body already read and closed.
    Paths on which the process is ending are not counted (`program.exits`): a failure returned
    to callers that all `log.Fatal`/`os.Exit`/return exit status 1 (two levels up, across the
    module's packages), any return of a CLI command's `Run(args []string) int`, a cobra `RunE`,
    and code after the program received its shutdown signal: the kernel releases what they leave.
    "Closed but not drained" is not reported: whether the body was read to the end
    cannot be told precisely from the source.
    Severity: `error` when no path closes the body, `warning` when some do.
    In `_test.go` files findings are `info`: a test binary's leak lasts one test run; so in
    functions of other files that take a `*testing.T`/`B`/`F` or `testing.TB` (and closures in
    them): test support that can only run inside a test.
    A client with `http.Client.Timeout` (`program.httpclient`: a local, package variable or field
    built as `http.Client{Timeout: d}`, then `c.Timeout = d`, or by a constructor of the module or a
    dependency that sets it, also through an option like `WithTimeout(3*time.Second)`; `d` a
    duration written in the code, not a config value that may be zero): the body left open is
    released when the timer fires. net/http keeps that timer running after `Do` returns
    (`setRequestCancel`; `cancelTimerBody.Close` is what stops it), and when it fires the request's
    context ends and the transport closes the connection (its read loop's `case
    <-rc.treq.ctx.Done()`; HTTP/2 resets the stream), so the two transport goroutines end too.
    Such a finding is `info` and says so: a bounded cost (one connection held for up to the
    timeout per such response), not a leak that grows. Decided in session 7 after held-out sets 4
    and 6 (contour's e2e poller, trivy's version check, rekor's fetch), from net/http's
    client.go and transport.go (Go 1.26 and 1.27).

    A line the author already silenced for the peer linter (`//nolint:bodyclose`, at the end of the line or
    alone on the line above) is the same finding, reviewed: not reported.
    """

    id = "LH401"
    name = "http-body-not-closed"
    severity = "error"
    fix = (
        "defer resp.Body.Close() right after the error check; read the body to the end "
        "(io.Copy(io.Discard, resp.Body)) so the connection can be reused"
    )
    leaking_example = """\
resp, err := http.Get(url)
if err != nil {
	return err
}
if resp.StatusCode != http.StatusOK {
	return fmt.Errorf("status %d", resp.StatusCode) // body never closed
}
defer resp.Body.Close()"""
    fixed_example = """\
resp, err := http.Get(url)
if err != nil {
	return err
}
defer resp.Body.Close()
if resp.StatusCode != http.StatusOK {
	return fmt.Errorf("status %d", resp.StatusCode)
}"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        """One finding per response variable and set of leaking returns: `resp` assigned from
        `a.Get` or `a.Delete` in the cases of a switch and left open on one return is one bug,
        reported at its first call, naming the others (`also a.Delete at line 58`)."""
        merged: dict[tuple[object, ...], int] = {}
        out: list[Finding] = []
        alsos: dict[int, list[str]] = {}
        for f, key, also in self._findings(ctx):
            at = merged.get(key) if key is not None else None
            if at is not None:
                alsos.setdefault(at, []).append(also)
                continue
            if key is not None:
                merged[key] = len(out)
            out.append(f)
        for at, more in alsos.items():
            head, sep, rest = out[at].message.partition(" is not closed ")
            out[at] = dataclasses.replace(out[at], message=f"{head} (also {', '.join(more)}){sep}{rest}")
        yield from out

    def _findings(self, ctx: FileContext) -> Iterator[tuple[Finding, tuple[object, ...] | None, str]]:
        for acq in acquisitions(ctx, _match, frozenset({"http-response"})):
            if peer_silenced(ctx, acq.call, _PEERS):
                continue  # `//nolint:bodyclose`: the author reviewed bodyclose's report on this line
            fname = gs.function_name(ctx, acq.call)
            if acq.var == "_":
                if ctx.is_test or method_name(ctx, acq.call) == "RoundTrip":
                    continue  # tests discard responses of requests meant to fail; transports are plumbing
                if acq.fn is not None and _released_with_request(ctx, acq.fn, acq.call):
                    continue  # a HEAD response, or a request whose context the function cancels on return
                if acq.fn is not None and dropped_on_the_way_out(ctx, acq.fn, acq.call):
                    continue  # one request, then the process ends with its connection (an example's main)
                if not acq.callee.startswith("http.") and hands_back_released(ctx, acq.call):
                    continue  # the module's own client closes (or reads) the body before handing it back
                timeout = client_timeout(ctx, acq.call)
                yield self.finding(
                    ctx, acq.call,
                    f"the response of {acq.callee} is discarded, so its Body can never be closed"
                    + _held_until(timeout),
                    function=fname,
                    severity="info" if timeout else None,
                ), None, ""
                continue
            if acq.fn is None or not acq.var:
                continue
            if not acq.callee.startswith("http.") and method_name(ctx, acq.call) != "RoundTrip" \
                    and hands_back_released(ctx, acq.call):
                continue  # the module's own client hands back a response it closed: bluemix-go's Post, set 68
                # (a one-connection round tripper's parsed response is judged by its connection, below)
            if (
                not acq.kind
                and not acq.callee.startswith("http.")
                and not var_used_with(ctx, acq.fn, acq.var, _RESPONSE_FIELDS)
            ):
                continue
            res = check_paths(ctx, acq, _SPEC)
            if res is not None and res.leaks:
                why = _released_with_request(ctx, acq.fn, acq.call)
                if why == "head":
                    continue
                if why == "cancel":
                    # the deferred cancel ends the request on every return; a response dropped before
                    # the next loop iteration or an overwrite still holds its connection until then
                    res.leaks = [e for e in res.leaks if e.kind in ("loop", "overwrite")]
            if res is not None and res.leaks:
                done = _request_contexts(ctx, acq.fn)
                if done:
                    res.leaks = [e for e in res.leaks if not _under_done_context(ctx, e.node, acq.fn, done)]
            if res is not None and res.leaks and _body_discarded_by_option(ctx, acq.fn, acq.call):
                continue  # `rest.Opts{NoResponse: true}`: the client closes the body before returning
            if res is not None and res.leaks and method_name(ctx, acq.call) == "RoundTrip":
                res.leaks = [e for e in res.leaks if not _conn_closed_first(ctx, acq.fn, acq.call, e)]
            if res is not None and res.leaks:
                res.leaks = [e for e in res.leaks if not _after_failed_read(ctx, acq.fn, acq.var, e.node)
                             and not _bodiless_status(ctx, acq.var, e.node)]
            if res is None or not res.leaks or _drained_first(ctx, acq.fn, acq.var, acq.call, res.leaks):
                continue
            if _bodiless(ctx, acq.fn, acq.call):
                continue
            timeout = client_timeout(ctx, acq.call)
            exits = exits_text(res, "closes")
            key = (acq.fn.id, acq.var, exits, bool(timeout))
            yield self.finding(
                ctx, acq.call,
                f"{acq.var}.Body from {acq.callee} at line {acq.line} is not closed {exits}"
                + _held_until(timeout),
                severity="info" if timeout else leak_severity(ctx, res, acq.call),
                function=fname,
                fix=(
                    f"{acq.var}.Body.Close() is called on some paths only: replace it with one "
                    f"`defer {acq.var}.Body.Close()` right after the error check"
                    if res.released and res.leaks[0].kind != "overwrite"
                    and f"{acq.var}.Body.Close()" in ctx.text(acq.fn) else
                    # released by reading it to its end on some paths (ReleaseSpec.drains), no Close
                    f"{acq.var}.Body is read to its end on some paths only: close it on every path "
                    f"with one `defer {acq.var}.Body.Close()` right after the error check"
                    if res.released and res.leaks[0].kind != "overwrite"
                    and re.search(r"\b(?:ReadAll|Copy)\(", ctx.text(acq.fn)) else
                    f"close {acq.var}.Body before assigning {acq.var} again"
                    if res.leaks[0].kind == "overwrite" else None
                ),
            ), key, f"{acq.callee} at line {acq.line}"
