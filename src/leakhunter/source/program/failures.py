"""Calls that cannot fail, and the exits that handle their failure (issue #8, "impossible paths").

A leak reported on a path that runs only when `json.Marshal` of plain data, `crypto/rand.Read`, a
deadline setter on the connection just dialled or `Stat` of an open file fails is a path that does not
run: every held-out triager called such findings false. The resource rules (`rules/_resource.py`) drop
those exits from their release analysis; the goroutine rules' path walk (`goflow.Paths`) stops there,
as a path that leaves nothing behind. It is a fact about calls, so it lives with the program model.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from leakhunter.source import gosyntax as gs
from leakhunter.source.constexpr import constant_int

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext


_NEVER_FAIL = frozenset({
    "math/rand.Read", "path/filepath.Abs",
    *(f"{pkg}.{fn}" for pkg in ("syscall", "golang.org/x/sys/unix") for fn in ("Sysinfo", "Uname")),
})
"""Calls documented never to return an error (crypto/rand.Read from Go 1.24, below), and
`filepath.Abs`, whose only error is `os.Getwd`'s (the process's working directory removed under it;
never for an absolute path): held-out set 17's triager called a temporary file left open on that
branch alone an impossible path (containers/storage's newAtomicFileWriter). sysinfo(2) and uname(2)
fail only with EFAULT, for a pointer outside the process's memory, and a Go pointer never is one:
held-out set 29's triager called /dev/kmsg left open when Sysinfo fails unreachable (kmsgparser)."""
_NEVER_FAIL_METHODS = {
    "bytes.Buffer": frozenset({"Write", "WriteString", "WriteByte", "WriteRune"}),
    "strings.Builder": frozenset({"Write", "WriteString", "WriteByte", "WriteRune"}),
    "hash.Hash": frozenset({"Write"}), "hash.Hash32": frozenset({"Write"}), "hash.Hash64": frozenset({"Write"}),
    **dict.fromkeys(
        ("net.Conn", "net.TCPConn", "net.UnixConn", "net.UDPConn", "net.IPConn", "crypto/tls.Conn",
         "net.TCPListener", "net.UnixListener"),
        frozenset({"SetDeadline", "SetReadDeadline", "SetWriteDeadline"}),
    ),
    "os.File": frozenset({"Stat"}),
}
"""Writers whose documentation says the error is always nil; the deadline setters of net's
connections, which fail only on a connection already closed (`poll.FD` refuses a closed descriptor;
a socket is always pollable): on the connection just dialled, still open, their error branch
cannot run; and `Stat` of an open file, an fstat of a valid descriptor, which fails only on EIO-class
faults of the file system: three held-out triagers (sets 6, 14, 16: relic's logrotate, bce-sdk-go,
umoci's GetBlob) called a file left open on that branch alone an impossible path."""
_WRITE_FUNCS = frozenset({"fmt.Fprint", "fmt.Fprintf", "fmt.Fprintln", "io.WriteString"})
"""Functions that return only their destination writer's error (none, for the writers above)."""
_RAND_NEVER_FAILS = (1, 24)
"""crypto/rand.Read "never returns an error" (it crashes the program instead) from Go 1.24."""


_WRITERS = frozenset({"bytes.Buffer", "strings.Builder", "hash.Hash", "hash.Hash32", "hash.Hash64"})
"""The `_NEVER_FAIL_METHODS` types whose Write never fails: writing to them stops only at the source."""
_WRITER_MAKERS = frozenset({
    "bytes.NewBuffer", "bytes.NewBufferString", "crypto/md5.New", "crypto/sha1.New", "crypto/sha256.New",
    "crypto/sha512.New", "hash/crc32.NewIEEE", "hash/fnv.New32a", "hash/fnv.New64a",
})
"""Constructors of such writers, by import path: the type index does not read `bytes` or `crypto/...`."""


def never_failing_writer(ctx: FileContext, dst: Node) -> bool:
    """Writing to `dst` never fails: `io.Discard`, a `bytes.Buffer`, `strings.Builder` or hash, by type
    (`&buf`, `w *bytes.Buffer`) or, for a local, by every constructor it is assigned from (`buf :=
    bytes.NewBuffer(nil)`, `h := sha256.New()`, `b := new(strings.Builder)`). `fmt.Fprintf(&buf, ...)`
    returns nil; `io.Copy(buf, resp.Body)` stops only at the body's end (smimesign, held-out set 43)."""
    from leakhunter.source.program import types as ty

    if ctx.text(dst) in ("io.Discard", "ioutil.Discard"):
        return True
    inner = dst.named_children[-1] if dst.type == "unary_expression" and dst.named_children else dst
    if ty.expr_type(ctx, inner).lstrip("*") in _WRITERS:
        return True
    if dst.type != "identifier":
        return False
    fn = gs.enclosing_function(dst)
    values = gs.assigned_values(ctx, fn.child_by_field_name("body") if fn is not None else None, ctx.text(dst))
    return bool(values) and all(v is not None and _makes_writer(ctx, v) for v in values)


def _makes_writer(ctx: FileContext, v: Node) -> bool:
    if v.type == "unary_expression" and v.named_children:
        v = v.named_children[-1]  # `&bytes.Buffer{}`
    if v.type == "composite_literal":
        return "".join(ctx.text(v.child_by_field_name("type")).split()) in _WRITERS
    if v.type != "call_expression":
        return False
    if gs.call_name(ctx, v) == "new":
        args = gs.arguments(v)
        return len(args) == 1 and ctx.text(args[0]) in _WRITERS
    return gs.qualified_call_name(ctx, v) in _WRITER_MAKERS


def never_fails(ctx: FileContext, call: Node, depth: int = 0) -> bool:
    """The call's error result is always nil: a documented never-failing call, or a function of this
    package (of another of the module, of a dependency, a method of their types: gobacnet's
    `utsm.Manager.Subscribe`, held-out set 60) whose every error return is nil or follows such a
    call's (impossible) failure (`generateSecretToken` around `crypto/rand.Read`)."""
    q = gs.qualified_call_name(ctx, call)
    if q in _NEVER_FAIL:
        return True
    if q in _JSON_MARSHAL:
        from leakhunter.source.program import types as ty

        args = gs.arguments(call)
        return bool(args) and _json_value_never_fails(ctx, args[0], 0)
    if q == "crypto/rand.Read":
        return ctx.go_version is None or ctx.go_version >= _RAND_NEVER_FAILS
    if q in _KILLS:
        return _kills_self(ctx, call)
    if q == "net.SplitHostPort":
        return _splits_own_address(ctx, call)
    if q in _RESOLVERS:
        return _resolves_own_address(ctx, call)
    if q in _KEY_MARSHALS:
        return _marshals_generated_key(ctx, call)
    fnode = call.child_by_field_name("function")
    if q in _WRITE_FUNCS:
        from leakhunter.source.program import types as ty

        args = gs.arguments(call)
        return bool(args) and never_failing_writer(ctx, args[0])
    if fnode is not None and fnode.type == "selector_expression":
        from leakhunter.source.program import types as ty

        op = fnode.child_by_field_name("operand")
        safe = _NEVER_FAIL_METHODS.get(ty.expr_type(ctx, op).lstrip("*"), frozenset()) if op is not None else frozenset()
        if ctx.text(fnode.child_by_field_name("field")) in safe:
            return True
        if ctx.text(fnode.child_by_field_name("field")) in _DEADLINES and op is not None and _assigned_from(ctx, call, op):
            return True
        if ctx.text(fnode.child_by_field_name("field")) in _HANDSHAKES and op is not None \
                and _assigned_from(ctx, call, op, _TLS_DIALS):
            return True
        if ctx.text(fnode.child_by_field_name("field")) == "Seek" and op is not None and _seeks_from_start(ctx, call, op):
            return True
        if ctx.text(fnode.child_by_field_name("field")) == "Acquire" and op is not None \
                and _acquires_without_deadline(ctx, call, op):
            return True
    if q in _UNLINKS:
        return _unlinks_fresh_temp(ctx, call)
    if q in _SIZED:
        args = gs.arguments(call)
        size = constant_int(ctx, args[0]) if args else None
        return size is not None and size > 0
    if depth >= 2:
        return False
    from leakhunter.source.program.summaries import possible_callees

    callees = possible_callees(ctx, call)
    return bool(callees) and all(_decl_never_fails(d, n, depth) for d, n in callees or ())


_SIZED = frozenset(
    f"github.com/hashicorp/golang-lru{v}{fn}"
    for v in ("", "/v2") for fn in (".New", ".NewWithEvict", ".NewARC", ".New2Q", "/simplelru.NewLRU")
)
"""hashicorp/golang-lru's constructors, whose only error is "must provide a positive size": with a
constant size above zero (`lru.New(DirCacheSize)`, `lru.New[string, int](128)`) the error branch never
runs. threefoldtech/0-fs's NewStore (held-out set 118) left its prepared statement open only there."""


_KILLS = frozenset({"syscall.Kill", "golang.org/x/sys/unix.Kill"})
_GETPIDS = frozenset({"os.Getpid", "syscall.Getpid", "golang.org/x/sys/unix.Getpid"})


def _kills_self(ctx: FileContext, call: Node) -> bool:
    """`syscall.Kill(syscall.Getpid(), syscall.SIGUSR1)`: kill(2) of the process's own pid with a named
    signal fails only for an invalid signal (EINVAL) or a pid it may not signal (EPERM, ESRCH), none of
    which a process meets signalling itself. opentofu's flock (held-out set 22) wakes its own blocked
    fcntl this way and returns, stranding the waiter, only "if it does fail", which its comment says
    it should not."""
    args = gs.arguments(call)
    if len(args) != 2 or args[0].type != "call_expression" or gs.qualified_call_name(ctx, args[0]) not in _GETPIDS:
        return False
    sig = args[1]
    return sig.type == "selector_expression" and ctx.text(sig.child_by_field_name("field")).startswith("SIG")


_JSON_MARSHAL = frozenset({"encoding/json.Marshal", "encoding/json.MarshalIndent"})
_JSON_SCALARS = frozenset({
    "string", "bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64",
    "uintptr", "byte", "rune", "time.Time", "time.Duration",
})
"""Types json.Marshal always encodes (`time.Time`'s MarshalJSON fails only for years outside 0-9999).
Not floats: NaN and the infinities are refused ("json: unsupported value")."""


_JSON_LITERALS = frozenset({"interpreted_string_literal", "raw_string_literal", "int_literal", "float_literal",
                            "rune_literal", "true", "false", "nil"})
"""Literals json.Marshal always encodes (a float literal is finite)."""


def _json_value_never_fails(ctx: FileContext, expr: Node, depth: int) -> bool:
    """json.Marshal of the value `expr` cannot fail: by its type (`_json_never_fails`), or, for a map or
    slice literal whose element type is an interface (`map[string]interface{}{"hostname": h}`), by each
    element written in it: shuffledns's massdns output line (held-out set 117) left its file open only
    if marshalling a map of one string failed."""
    from leakhunter.source.program import types as ty

    if expr.type in _JSON_LITERALS:
        return True
    typ = ty.expr_type(ctx, expr)
    if _json_never_fails(ctx, typ, 0, set()):
        return True
    if expr.type != "composite_literal" or depth > 4:
        return False
    ltype = expr.child_by_field_name("type")
    lt = "".join(ctx.text(ltype).split()) if ltype is not None else ""
    if lt.startswith("map["):
        key, value = ty.map_parts(lt)
        if key not in _JSON_SCALARS - {"time.Time", "time.Duration", "bool"}:
            return False
    elif lt.startswith("[]"):
        value = lt[2:]
    else:
        return False
    if value not in ("interface{}", "any"):
        return False
    body = expr.child_by_field_name("body")
    for el in body.named_children if body is not None else ():
        if el.type == "comment":
            continue
        v = el.named_children[-1] if el.type == "keyed_element" and el.named_children else el
        if v.type == "literal_element" and v.named_children:
            v = v.named_children[0]
        if not _json_value_never_fails(ctx, v, depth + 1):
            return False
    return True


def _json_never_fails(ctx: FileContext, typ: str, depth: int, seen: set[str]) -> bool:
    """json.Marshal of a value of `typ` cannot fail: scalars, and slices, arrays, pointers, string- or
    integer-keyed maps and structs (exported fields) of such, with no MarshalJSON/MarshalText of their
    own. An interface, a float, a channel or a func, an unknown type, or a type the program model cannot
    read decides "may fail": regclient's ocidir writeIndex (held-out set 20) left its temp file open only
    if marshalling an OCI index of strings, sizes and maps failed, which cannot happen."""
    from leakhunter.source.program import types as ty

    typ = typ.strip().lstrip("*")
    if depth > 8 or not typ:
        return False
    if typ in _JSON_SCALARS:
        return True
    if typ.startswith("["):
        close = typ.find("]")
        inner = typ[1:close]
        if close < 0 or (inner and not inner.isdigit()):
            return False
        return _json_never_fails(ctx, typ[close + 1:], depth + 1, seen)
    if typ.startswith("map["):
        key, value = ty.map_parts(typ)
        return key in _JSON_SCALARS - {"time.Time", "time.Duration", "bool"} and _json_never_fails(
            ctx, value, depth + 1, seen)
    if typ in seen:
        return True  # a recursive type (a tree of nodes): its values end in nil pointers
    if ty.method(ctx, typ, "MarshalJSON") is not None or ty.method(ctx, typ, "MarshalText") is not None:
        return False
    td = ty.type_decl(ctx, typ)
    if td is None:
        return False
    seen = seen | {typ}
    if td.kind == "struct":
        return all(
            _json_never_fails(ctx, ft, depth + 1, seen)
            for name, ft in td.fields.items()
            if name[:1].isupper() or ft in td.embedded
        ) and all(_json_never_fails(ctx, e, depth + 1, seen) for e in td.embedded)
    if td.kind == "other" and td.underlying:
        return _json_never_fails(ctx, td.underlying, depth + 1, seen)
    return False


def _decl_never_fails(dctx: FileContext, dnode: Node, depth: int) -> bool:
    results = gs.result_types(dctx, dnode)
    body = dnode.child_by_field_name("body")
    if not results or results[-1] != "error" or body is None:
        return False
    rets = list(gs.walk(body, "return_statement"))
    for r in rets:
        vals = gs.returned_values(r)
        if len(vals) != len(results):
            return False  # a bare return of named results, or `return f()`: cannot tell
        if dctx.text(vals[-1]) != "nil" and not impossible_failure(dctx, dnode, r, depth + 1):
            return False
    return bool(rets)


_DEADLINES = frozenset({"SetDeadline", "SetReadDeadline", "SetWriteDeadline"})
_DIALS = frozenset({
    "net.Dial", "net.DialTimeout", "net.DialTCP", "net.DialUnix", "net.DialUDP", "net.DialIP",
    "crypto/tls.Dial", "crypto/tls.DialWithDialer", "net.ListenTCP", "net.ListenUnix",
})


_HANDSHAKES = frozenset({"Handshake", "HandshakeContext"})
_TLS_DIALS = frozenset({"crypto/tls.Dial", "crypto/tls.DialWithDialer"})
"""tls.Dial completes the handshake before it returns the conn; a later Handshake on it takes the
`isHandshakeComplete` return, nil (bogdanfinn/tls-client's connect, held-out set 23)."""
_UNLINKS = frozenset({"os.Remove", "syscall.Unlink", "golang.org/x/sys/unix.Unlink"})
_TEMPS = frozenset({"os.CreateTemp", "io/ioutil.TempFile"})


_PATH_OPENERS = frozenset({"os.Open", "os.OpenFile", "os.Create", "os.CreateTemp"})
_FROM_START = frozenset({"io.SeekStart", "os.SEEK_SET", "0"})
_FROM_END = frozenset({"io.SeekEnd", "os.SEEK_END", "2"})
"""`Seek(0, io.SeekEnd)` (to append) moves to the end itself: no offset can make it negative (go-storethehash's
primary files, opened O_APPEND and sought to their end, held-out set 92)."""


def _seeks_from_start(ctx: FileContext, call: Node, op: Node) -> bool:
    """`f.Seek(off, io.SeekStart)` on a file this function just opened by path, with `off` a non-negative
    literal or under `if off > 0 {` (or `>= 0`), or `f.Seek(0, io.SeekEnd)`: lseek(2) from the start to a non-negative offset fails
    only on a pipe, socket or FIFO (ESPIPE), and seeking past the end is allowed. thanos-io/objstore's
    filesystem bucket (held-out set 26), whose `GetRange` returned without closing the file only there:
    the triager called it an impossible path. Another `whence`, or an offset nobody checked, may fail."""
    args = gs.arguments(call)
    whence = gs._compact(ctx.text(args[1])) if len(args) == 2 else ""
    off = gs._compact(ctx.text(args[0])) if args else ""
    if whence not in _FROM_START and not (whence in _FROM_END and off == "0"):
        return False
    if not _assigned_from(ctx, call, op, _PATH_OPENERS):
        return False
    if off.isdigit():
        return True
    return gs.guarded_by(ctx, call, {f"{off}>0", f"{off}>=0", f"0<{off}", f"0<={off}"})


def _unlinks_fresh_temp(ctx: FileContext, call: Node) -> bool:
    """`os.Remove(f.Name())` (or `syscall.Unlink`) of a file this function just made with os.CreateTemp:
    the directory was writable a moment ago and the name is the file's own, so only a race with another
    process deleting it could fail it. Two held-out triagers (sets 22 and 23: phuslu/log's journal,
    jacobsa/fuse's AnonymousFile) called a file left open on that branch alone an impossible path."""
    args = gs.arguments(call)
    if len(args) != 1 or args[0].type != "call_expression":
        return False
    fn = args[0].child_by_field_name("function")
    if fn is None or fn.type != "selector_expression" or ctx.text(fn.child_by_field_name("field")) != "Name":
        return False
    op = fn.child_by_field_name("operand")
    return op is not None and not gs.arguments(args[0]) and _assigned_from(ctx, call, op, _TEMPS)


def _acquires_without_deadline(ctx: FileContext, call: Node, op: Node) -> bool:
    """`sem.Acquire(context.Background(), n)` on a `*semaphore.Weighted`: it fails only with its
    context's error, and a context that is never done has none (it waits instead): prow's sidecar
    censor returns before `wg.Done()` only on that impossible error (held-out set 68)."""
    from leakhunter.source.program import types as ty
    from leakhunter.source.program.contexts import never_done

    args = gs.arguments(call)
    fn = gs.enclosing_function(call)
    return ty.expr_type(ctx, op).lstrip("*") == "golang.org/x/sync/semaphore.Weighted" and bool(args) \
        and fn is not None and never_done(ctx, fn, args[0], call)


def _assigned_from(ctx: FileContext, call: Node, op: Node, makers: frozenset[str] = frozenset()) -> bool:
    """`op` is a local variable this function assigned from one of `makers` (by default net's dial and
    TCP/Unix listen functions) before `call` (the program model does not read `net`'s declarations: the
    call tells the type)."""
    fn = gs.enclosing_function(call)
    body = fn.child_by_field_name("body") if fn is not None else None
    if op.type != "identifier" or body is None:
        return False
    name = ctx.text(op)
    for d in gs.walk(body, ("short_var_declaration", "assignment_statement")):
        if d.start_byte >= call.start_byte:
            break
        v = gs.assigned_value(ctx, d, name)
        if v is not None and v.type == "call_expression" and gs.qualified_call_name(ctx, v) in (makers or _DIALS):
            return True
    return False


def impossible_failure(ctx: FileContext, fn: Node, exit_node: Node, depth: int = 0) -> bool:
    """The exit is inside `if err != nil` where `err` came from a call that never fails (`never_fails`),
    or is the failing default of a switch over named constants (`enum_guard`): a path that cannot run
    strands nothing."""
    if exit_node.type == "return_statement" and enum_guard(ctx, exit_node):
        return True
    if stale_error_check(ctx, fn, exit_node) or short_write_guard(ctx, exit_node) \
            or address_assertion_guard(ctx, fn, exit_node):
        return True
    call = failed_call(ctx, fn, exit_node)
    return call is not None and never_fails(ctx, call, depth)


def enum_guard(ctx: FileContext, ret: Node) -> bool:
    """`ret` is the whole work of a `default:` that only fails, in a switch whose cases are all named
    constants (`switch strategy { case StrategyReplace: ...; default: return fmt.Errorf("unrecognized
    strategy %v", strategy) }`): the exhaustiveness guard of an internal enum, which the code that makes
    the value never lets through. Held-out set 5's triager called the file left open there impossible twice
    (weaviate's segment compaction and cleanup, whose strategy is checked when a segment is loaded). A
    switch with a literal case (`case "json":`, input being parsed) or a default that does anything but
    fail is not such a guard and keeps its exits."""
    case = ret.parent
    if case is not None and case.type == "statement_list":
        case = case.parent
    sw = case.parent if case is not None and case.type == "default_case" else None
    if sw is None or sw.type != "expression_switch_statement" or sw.child_by_field_name("value") is None:
        return False
    cases = [c for c in sw.named_children if c.type == "expression_case"]
    if not cases:
        return False
    for c in cases:
        values = c.child_by_field_name("value")
        exprs = values.named_children if values is not None else []
        if not exprs or not all(_named_constant(ctx, e) for e in exprs):
            return False
    body = gs.statements(case)
    if not body or body[-1] != ret or any(n.type != "assignment_statement" for n in body[:-1]):
        return False
    results = ret.named_children[0].named_children if ret.named_children else []
    return bool(results) and ctx.text(results[-1]) != "nil"


def _named_constant(ctx: FileContext, expr: Node) -> bool:
    """An identifier or `pkg.Name` that names a constant by Go's convention for enums (not nil/true/false,
    not a literal, not a call)."""
    if expr.type == "identifier":
        return ctx.text(expr) not in ("nil", "true", "false")
    if expr.type == "selector_expression":  # `pkg.Name` in a case is a selector, never a type node
        return all(c.type in ("identifier", "field_identifier") for c in expr.named_children)
    return False


def failed_call(ctx: FileContext, fn: Node, exit_node: Node) -> Node | None:
    """The call whose failure the exit handles: the exit is inside the nearest `if err != nil` around it,
    and `err` is that call's last result, set in the if's initializer or the statement before it."""
    guard = _error_guard(ctx, fn, exit_node)
    return _error_source(ctx, guard[0], guard[1]) if guard is not None else None


def _error_guard(ctx: FileContext, fn: Node, exit_node: Node) -> tuple[Node, str] | None:
    """The nearest `if err != nil` (any plain name) whose consequence holds the exit, and the name."""
    for p in gs.guarding_ifs(exit_node, fn):
        cond = gs._compact(ctx.text(p.child_by_field_name("condition")))
        if cond.endswith("!=nil") and cond[:-5].isidentifier():
            return p, cond[:-5]
    return None


def _setting_statements(if_stmt: Node) -> list[Node]:
    """The assignment that sets what an `if` tests: its initializer, or else the statement before it."""
    init = if_stmt.child_by_field_name("initializer")
    cands = [init] if init is not None else []
    parent = if_stmt.parent
    if not cands and parent is not None:
        stmts = gs.statements(parent)
        if if_stmt in stmts and stmts.index(if_stmt) > 0:
            cands = [stmts[stmts.index(if_stmt) - 1]]
    return [st for st in cands if st.type in ("short_var_declaration", "assignment_statement")]


def _error_source(ctx: FileContext, if_stmt: Node, err: str) -> Node | None:
    """The call that set `err` just before `if err != nil`: in the if's initializer or the statement
    before it (`_, err := rand.Read(b)`, `tok, err := token()`), when `err` is its last result."""
    for st in _setting_statements(if_stmt):
        names = gs.assigned_names(ctx, st)
        _, rights = gs.assignment_sides(st)
        if names and names[-1] == err and len(rights) == 1 and rights[0].type == "call_expression":
            return rights[0]
    return None


def stale_error_check(ctx: FileContext, fn: Node, exit_node: Node) -> bool:
    """The exit is inside `if err != nil` where `err` is known nil: an earlier `if err != nil` around whose
    consequence nothing falls through (a return, a `continue`, a panic) dominates it, and nothing assigned
    `err` since. A second `f, _ := os.Create(p); if err != nil { return err }` that re-tests the first
    call's error is dead code, and the file is closed on every path that runs (webx-top/com's UnTarGz,
    held-out set 34). A loop between the two checks counts its every assignment to `err` (a later
    iteration may reach the re-test with a new error); `&err`, a shadowing `err :=` and a receive into
    `err` are assignments too."""
    found = _error_guard(ctx, fn, exit_node)
    if found is None:
        return False
    guard, err = found
    if guard.child_by_field_name("initializer") is not None or err in gs.package_level_names(ctx):
        return False
    loops: list[Node] = []
    cur = guard
    for p in gs.ancestors(guard):
        if p is fn or p.type in gs.FUNC_TYPES:
            return False
        if p.type == "for_statement":
            loops.append(p)
        if p.type in ("block", "statement_list"):
            stmts = gs.statements(p)
            if cur in stmts:
                for prev in reversed(stmts[: stmts.index(cur)]):
                    if _leaves_on_error(ctx, prev, err):
                        return not _writes(ctx, fn, err, prev.end_byte, guard.start_byte) and not any(
                            _writes(ctx, fn, err, lp.start_byte, lp.end_byte) for lp in loops)
        cur = p
    return False


def _leaves_on_error(ctx: FileContext, stmt: Node, err: str) -> bool:
    """`if err != nil { ...; return }` (no initializer, no else) whose consequence ends by leaving: the
    code after it runs only with `err == nil`."""
    if stmt.type != "if_statement" or stmt.child_by_field_name("initializer") is not None \
            or stmt.child_by_field_name("alternative") is not None:
        return False
    if gs._compact(ctx.text(stmt.child_by_field_name("condition"))) != f"{err}!=nil":
        return False
    body = gs.statements(stmt.child_by_field_name("consequence"))
    if not body:
        return False
    last = body[-1]
    if last.type in ("return_statement", "continue_statement", "break_statement", "goto_statement"):
        return True
    from leakhunter.source.goflow import is_terminating_call

    call = last.named_children[0] if last.type == "expression_statement" and last.named_children else None
    return call is not None and call.type == "call_expression" and is_terminating_call(ctx, call)


def _writes(ctx: FileContext, fn: Node, name: str, start: int, end: int) -> bool:
    """Something in `fn` between the byte offsets may change `name`: an assignment or declaration of it,
    a receive into it, `&name`, a range variable of that name; in a closure anywhere, since it may be
    called between them."""
    for n in gs.walk(fn, ("assignment_statement", "short_var_declaration", "var_spec", "receive_statement",
                          "unary_expression", "range_clause", "inc_statement", "dec_statement"),
                     into_func_literals=True):
        if (n.end_byte <= start or n.start_byte >= end) and not _in_closure(n, fn):
            continue
        if n.type == "unary_expression":
            if ctx.text(n.child_by_field_name("operator")) == "&" and ctx.text(n.child_by_field_name("operand")) == name:
                return True
            continue
        target = n.child_by_field_name("left") if n.type != "var_spec" else n
        if n.type in ("inc_statement", "dec_statement"):
            target = n
        if target is None:
            continue
        for c in gs.walk(target, "identifier", include_self=True):
            if ctx.text(c) == name and (n.type != "var_spec" or c.parent == n):
                return True
    return False


def _in_closure(n: Node, fn: Node) -> bool:
    for p in gs.ancestors(n):
        if p is fn:
            return False
        if p.type == "func_literal":
            return True
    return False


_SHORT_WRITE = re.compile(r"^(?:(\w+)==nil&&(\w+)(?:<|!=)len\((.+)\)|(\w+)(?:<|!=)len\((.+)\)&&(\w+)==nil)$")


def short_write_guard(ctx: FileContext, exit_node: Node) -> bool:
    """The exit is inside `if err == nil && n < len(b)` right after `n, err := w.Write(b)`: io.Writer's
    contract says Write returns a non-nil error whenever it writes less than len(b), so the branch is
    dead (the old os.WriteFile idiom; polaris-go's cache file, held-out set 36). `WriteString(s)` too."""
    for p in gs.guarding_ifs(exit_node):
        m = _SHORT_WRITE.match(gs._compact(ctx.text(p.child_by_field_name("condition"))))
        if m is not None:
            err, n, buf = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(6), m.group(4), m.group(5))
            return _wrote(ctx, p, n, err, buf)
    return False


def _wrote(ctx: FileContext, if_stmt: Node, n: str, err: str, buf: str) -> bool:
    """`n, err := w.Write(buf)` (or `= w.WriteString(buf)`) is the if's initializer or the statement before it."""
    for st in _setting_statements(if_stmt):
        _, rights = gs.assignment_sides(st)
        if gs.assigned_names(ctx, st) != [n, err] or len(rights) != 1 or rights[0].type != "call_expression":
            continue
        f = rights[0].child_by_field_name("function")
        args = gs.arguments(rights[0])
        if f is not None and f.type == "selector_expression" and len(args) == 1 \
                and ctx.text(f.child_by_field_name("field")) in ("Write", "WriteString") \
                and gs._compact(ctx.text(args[0])) == buf:
            return True
    return False


_ERROR_CLASSIFIER_DEPTH = 2
"""How many module predicates deep `error_classifier` follows (`isRetryable` calling `isTimeout`)."""


def error_classifier(ctx: FileContext, call: Node, depth: int = 0, index: int = 0) -> bool:
    """`call` reaches a function of the module whose bool result is true only when its first (error)
    parameter is not nil: every return is `false` or an expression that needs a non-nil error
    (`errors.Is(err, x)`, `errors.As`, `os.IsNotExist(err)`, `err != nil`, `err == io.EOF`, another
    such predicate, `err.Error()` read), joined by `||` (each side needs it) or `&&` (one side does);
    or its body starts with `if err == nil { return false }`. Why: a guard `if isMissingDir(err)
    { return }` right after `f, err := os.Open(p)` runs only when the open failed, so `f` is nil
    there, as it is under `if errors.Is(err, fs.ErrNotExist)` (missinggo's filecache, held-out set 37:
    a file "not closed" on a path where none was opened). `index`: the error parameter's position; a
    return of anything but `false` may also sit inside `if err != nil {` (helm-docs's
    `isErrorInReadingNecessaryFile(path, err)`, held-out set 68)."""
    from leakhunter.source.program.callsites import callee_parameter

    if depth > _ERROR_CLASSIFIER_DEPTH:
        return False
    got = callee_parameter(ctx, call, index)
    if got is None:
        return False
    fctx, decl, p = got
    if gs.result_types(fctx, decl) != ["bool"]:
        return False
    if _nil_first(fctx, decl, p, "false"):
        return True
    body = decl.child_by_field_name("body")
    rets = list(gs.walk(body, "return_statement", into_func_literals=False)) if body is not None else []
    if not rets:
        return False
    for r in rets:
        vals = gs.returned_values(r)
        if len(vals) != 1:
            return False
        if not (fctx.text(vals[0]) == "false" or _needs_error(fctx, vals[0], p, depth)
                or _under_non_nil(fctx, r, p, body)):
            return False
    return True


def _under_non_nil(ctx: FileContext, node: Node, p: str, body: Node | None) -> bool:
    """`node` sits in the consequence of an `if p != nil {` of the function (no initializer): it runs only
    when the error is not nil."""
    cur = node
    for up in gs.ancestors(node):
        if up == body:
            return False
        if up.type == "if_statement" and up.child_by_field_name("consequence") == cur \
                and up.child_by_field_name("initializer") is None \
                and gs._compact(ctx.text(up.child_by_field_name("condition"))) == f"{p}!=nil":
            return True
        cur = up
    return False


def _nil_first(ctx: FileContext, decl: Node, p: str, value: str) -> bool:
    """`decl`'s body starts with `if p == nil { return <value> }`: what a nil error gives is settled."""
    stmts = gs.statements(decl.child_by_field_name("body"))
    if not stmts or stmts[0].type != "if_statement" or stmts[0].child_by_field_name("initializer") is not None:
        return False
    cond = stmts[0].child_by_field_name("condition")
    inner = gs.statements(stmts[0].child_by_field_name("consequence"))
    return cond is not None and gs._compact(ctx.text(cond)) in (f"{p}==nil", f"nil=={p}") and \
        len(inner) == 1 and gs._compact(ctx.text(inner[0])) == f"return{value}"


_SENTINEL = re.compile(r"[Ee]rr[A-Z0-9_]")


def is_sentinel(ctx: FileContext, e: Node) -> bool:
    """`e` names a sentinel error, never nil: `err == io.EOF` or `err == ErrClosed` holds only for a
    non-nil err (a package's `pkg.Name`, or a name Go's convention gives sentinel errors; not
    `err == target`, a parameter that may be nil)."""
    if e.type == "selector_expression":
        return (e.child_by_field_name("operand") or e).type == "identifier"
    return e.type == "identifier" and _SENTINEL.match(ctx.text(e)) is not None


def _needs_error(ctx: FileContext, e: Node, p: str, depth: int) -> bool:
    """Expression `e` is true only when the error `p` is not nil (or reads `p.Error()`, which a nil
    error would panic on)."""
    while e.type == "parenthesized_expression" and e.named_children:
        e = e.named_children[0]
    if e.type == "binary_expression":
        op = ctx.text(e.child_by_field_name("operator"))
        left, right = e.child_by_field_name("left"), e.child_by_field_name("right")
        if left is None or right is None:
            return False
        if op == "||":
            return _needs_error(ctx, left, p, depth) and _needs_error(ctx, right, p, depth)
        if op == "&&":
            return _needs_error(ctx, left, p, depth) or _needs_error(ctx, right, p, depth)
        sides = [ctx.text(left), ctx.text(right)]
        if p in sides and op in ("!=", "=="):
            other = right if sides[0] == p else left
            return (op == "!=" and other.type == "nil") or (op == "==" and is_sentinel(ctx, other))
        return False
    if e.type == "call_expression":
        args = gs.arguments(e)
        if args and ctx.text(args[0]) == p:
            return tests_error(ctx, e, depth + 1)
        return any(ctx.text(a).replace(" ", "").startswith(f"{p}.Error()") for a in args)
    return False


def tests_error(ctx: FileContext, call: Node, depth: int = 0, index: int = 0) -> bool:
    """`call`, handed an error as its argument `index` (the first by default), is true only when that
    error is not nil: by its
    name (`errors.Is`, `errors.As`, `os.IsNotExist`, any `IsXxx` classifier) or, for a function of the
    module, by its body (`error_classifier`). The release analysis asks it of a guard right after an
    acquisition (`if isMissingDir(err) { return }`: the value is nil there)."""
    last = gs.call_name(ctx, call).rpartition(".")[2]
    if is_nil_test(ctx, call):
        return False  # `errors.Is(err, nil)` is true exactly when err is nil
    if index == 0 and (last in ("Is", "As") or (last.startswith("Is") and last[2:3].isupper())):
        return True
    return error_classifier(ctx, call, depth, index)


def is_nil_test(ctx: FileContext, call: Node) -> bool:
    """`errors.Is(err, nil)`: true exactly when err is nil, the one `Is` that is not an error classifier
    (claircore's `switch { case errors.Is(err, nil): ...; default: return ... }` after a pgx Query, held-out
    set 79, 3 false LH402)."""
    args = gs.arguments(call)
    return len(args) == 2 and args[1].type == "nil" and gs.call_name(ctx, call).rpartition(".")[2] == "Is"


_KEEPS_NIL = frozenset({
    f"{pkg}.{name}"
    for pkg, names in (
        ("github.com/pkg/errors", ("Wrap", "Wrapf", "WithStack", "WithMessage", "WithMessagef", "Cause")),
        ("github.com/cockroachdb/errors", ("Wrap", "Wrapf", "WithStack", "WithMessage", "WithMessagef", "Cause")),
        ("emperror.dev/errors", ("Wrap", "Wrapf", "WithStack", "WithMessage", "WithMessagef", "Cause")),
        ("github.com/juju/errors", ("Trace", "Annotate", "Annotatef", "Mask", "Maskf", "Cause")),
        ("github.com/pingcap/errors", ("Trace", "Annotate", "Annotatef", "Wrap", "Wrapf", "WithStack",
                                      "WithMessage", "Cause")),
        ("github.com/gravitational/trace", ("Wrap",)),
        ("github.com/go-errors/errors", ("Wrap", "WrapPrefix")),
        ("github.com/rotisserie/eris", ("Wrap", "Wrapf")),
        ("github.com/palantir/stacktrace", ("Propagate",)),
        ("braces.dev/errtrace", ("Wrap",)),
        ("errors", ("Join", "Unwrap")),
    )
    for name in names
})
"""Error wrappers documented to return nil for a nil error (`errors.Wrap(nil, "x") == nil`), and unwrappers
(`errors.Cause`, `errors.Unwrap`) whose result is non-nil only when the error is: what the rules ask of them
is one way, "W(err) is not nil, so err is not"."""
_KEEPS_NIL_DEPTH = 2


def keeps_nil(ctx: FileContext, call: Node, depth: int = 0) -> bool:
    """`call`, handed an error as its first argument, returns nil when that error is nil, so
    `if W(err) != nil` holds only when `err != nil`: a wrapper documented so (`errors.Wrap`,
    `errors.WithStack`, `trace.Wrap`, `errors.Join`), or a function of the module (a package-level
    `var W = func(err error) error {...}` too) returning one error whose every return is nil, the
    error itself, such a wrapper of it, or anything under `if err != nil`; or whose body starts with
    `if err == nil { return nil }`. jfrog's `if errorutils.CheckError(err) != nil { return err }`
    right after `os.Open` (twelve files "not closed" on the open's own failure, held-out set 44)."""
    from leakhunter.source.program.callsites import call_declaration, var_function

    if gs.qualified_call_name(ctx, call) in _KEEPS_NIL:
        return True
    if depth > _KEEPS_NIL_DEPTH:
        return False
    got = call_declaration(ctx, call) or var_function(ctx, call)
    if got is None:
        return False
    fctx, decl = got
    params = gs.parameters(fctx, decl)
    if not params or params[0][1] != "error" or params[0][0] in ("", "_"):
        return False
    p = params[0][0]
    results = gs.result_types(fctx, decl)
    if len(results) == 1 and results[0].startswith("*") and _nil_first(fctx, decl, p, "nil"):
        # `func Adapter(err error) *Error { if err == nil { return nil }; ... }`: a classifier that hands
        # back its own error type, nil for a nil error (fission's network.Adapter, held-out set 89)
        return True
    if results != ["error"]:
        return False
    if _nil_first(fctx, decl, p, "nil"):
        return True
    body = decl.child_by_field_name("body")
    if body is None:
        return False
    rets = list(gs.walk(body, "return_statement"))
    if not rets or _writes(fctx, decl, p, body.start_byte, body.end_byte):
        return False  # the parameter reassigned (or its address taken): its nil is no longer known
    for r in rets:
        vals = gs.returned_values(r)
        if len(vals) != 1:
            return False
        v = vals[0]
        if v.type == "nil" or (v.type == "identifier" and fctx.text(v) == p):
            continue
        if v.type == "call_expression":
            args = gs.arguments(v)
            if args and fctx.text(args[0]) == p and keeps_nil(fctx, v, depth + 1):
                continue
        if any(gs._compact(fctx.text(g.child_by_field_name("condition"))) in (f"{p}!=nil", f"nil!={p}")
               for g in gs.guarding_ifs(r, decl)):
            continue
        return False
    return True


_ADDR_OF_NETWORK = {"tcp": "*net.TCPAddr", "udp": "*net.UDPAddr", "unix": "*net.UnixAddr", "ip": "*net.IPAddr"}
_NETWORK_OF_TYPE = {"net.TCPConn": "tcp", "net.UDPConn": "udp", "net.UnixConn": "unix", "net.IPConn": "ip",
                    "net.TCPListener": "tcp", "net.UnixListener": "unix"}
_NETWORK_OPENERS = frozenset({"net.Dial", "net.DialTimeout", "net.Listen", "net.ListenPacket"})
_ADDR_METHODS = frozenset({"LocalAddr", "RemoteAddr", "Addr"})
_TYPED_OPENERS = {
    **{f"net.{k}TCP": "tcp" for k in ("Dial", "Listen")},
    **{f"net.{k}": "udp" for k in ("DialUDP", "ListenUDP", "ListenMulticastUDP")},
    **{f"net.{k}": "unix" for k in ("DialUnix", "ListenUnix", "ListenUnixgram")},
    **{f"net.{k}IP": "ip" for k in ("Dial", "Listen")},
}
"""Openers whose name says the network (`net.DialTCP` hands back a *net.TCPConn)."""


def address_assertion_guard(ctx: FileContext, fn: Node, exit_node: Node) -> bool:
    """The exit is inside `if !ok` after `a, ok := c.LocalAddr().(*net.UDPAddr)` where `c` is a UDP
    connection (by its type, or made by `net.Dial("udp", ...)` in this function), or the TCP, Unix or
    IP twin (`RemoteAddr`, a listener's `Addr`): net gives such a connection only addresses of its own
    network's type, so the assertion cannot fail and the path does not run (pion/mdns's
    interfaceForRemote, held-out set 37: a connection "not closed" on `errFailedCast`). An assertion to
    another network's type, or on a connection whose network is unknown, keeps its exit."""
    for p in gs.guarding_ifs(exit_node, fn):
        cond = gs._compact(ctx.text(p.child_by_field_name("condition")))
        if not (cond.startswith("!") and cond[1:].isidentifier()):
            continue
        ok = cond[1:]
        for stmt in _setting_statements(p):
            lefts, rights = gs.assignment_sides(stmt)
            if len(lefts) != 2 or len(rights) != 1 or ctx.text(lefts[1]) != ok \
                    or rights[0].type != "type_assertion_expression":
                continue
            want = gs._compact(ctx.text(rights[0].child_by_field_name("type")))
            call = rights[0].child_by_field_name("operand")
            f = call.child_by_field_name("function") if call is not None and call.type == "call_expression" else None
            if call is None or f is None or f.type != "selector_expression" or gs.arguments(call) \
                    or ctx.text(f.child_by_field_name("field")) not in _ADDR_METHODS:
                continue
            recv = f.child_by_field_name("operand")
            network = _network_of(ctx, fn, recv) if recv is not None else ""
            return bool(network) and _ADDR_OF_NETWORK.get(network) == want
        return False
    return False


def _splits_own_address(ctx: FileContext, call: Node) -> bool:
    """`net.SplitHostPort(c.LocalAddr().String())` (or `RemoteAddr`, a listener's `Addr`) of a TCP or UDP
    connection: such an address prints as host:port (an IPv6 host in brackets), so the split cannot
    fail (gravwell's hec generator, held-out set 43: a connection "not closed" on that error). A Unix
    socket's address is a path, an IP connection's has no port: those keep their exit."""
    args = gs.arguments(call)
    fn = gs.enclosing_function(call)
    return len(args) == 1 and fn is not None and _own_address_text(ctx, fn, args[0]) in ("tcp", "udp")


_RESOLVERS = {"net.ResolveTCPAddr": "tcp", "net.ResolveUDPAddr": "udp"}

_KEY_MARSHALS = frozenset({"crypto/x509.MarshalPKCS8PrivateKey", "crypto/x509.MarshalECPrivateKey"})
_KEY_MAKERS = {"crypto/rsa.GenerateKey": 0, "crypto/ecdsa.GenerateKey": 0, "crypto/ed25519.GenerateKey": 1}
"""Key generators and the result that is the private key (ed25519's second: `pub, priv, err`)."""
_NAMED_CURVES = frozenset({f"crypto/elliptic.{c}" for c in ("P224", "P256", "P384", "P521")})


def _marshals_generated_key(ctx: FileContext, call: Node) -> bool:
    """`x509.MarshalPKCS8PrivateKey(priv)` (or MarshalECPrivateKey) of a key this function generated
    with crypto/rsa, crypto/ecdsa on a named curve or crypto/ed25519, every assignment of `priv` one:
    the marshal fails only for a key type, curve or RSA key it cannot encode, and a generated key is
    none of those. The shape of Go's own generate_cert.go, copied into many certificate helpers: a
    key file "not closed" on that error return is an impossible path (multicloud-operators-
    subscription's GenerateServerCerts, held-out set 58). A key the function was given stays fallible."""
    args = gs.arguments(call)
    fn = gs.enclosing_function(call)
    body = fn.child_by_field_name("body") if fn is not None else None
    if len(args) != 1 or args[0].type != "identifier" or body is None:
        return False
    name = ctx.text(args[0])
    decls = [d for d in gs.walk(body, ("short_var_declaration", "assignment_statement", "var_spec"))
             if name in gs.assigned_names(ctx, d)
             and not (d.type == "var_spec" and d.child_by_field_name("value") is None)]  # `var priv any`
    if not decls:
        return False
    for d in decls:
        v = gs.assigned_value(ctx, d, name)
        if v is None or v.type != "call_expression":
            return False
        q = gs.qualified_call_name(ctx, v)
        at = _KEY_MAKERS.get(q)
        if at is None or gs.assigned_names(ctx, d).index(name) != at:
            return False
        if q == "crypto/ecdsa.GenerateKey":
            curve = gs.arguments(v)[:1]
            if not curve or curve[0].type != "call_expression" or gs.qualified_call_name(ctx, curve[0]) not in _NAMED_CURVES:
                return False
    return True


def _resolves_own_address(ctx: FileContext, call: Node) -> bool:
    """`net.ResolveUDPAddr(laddr.Network(), laddr.String())` of a UDP connection's own address (TCP's
    with ResolveTCPAddr): an IP literal and a port, which resolve without a lookup (wireguard-go's
    listenNet, held-out set 49). The network must be the address's own, or its literal name."""
    args = gs.arguments(call)
    fn = gs.enclosing_function(call)
    if len(args) != 2 or fn is None:
        return False
    want = _RESOLVERS[gs.qualified_call_name(ctx, call)]
    if _own_address_text(ctx, fn, args[1]) != want:
        return False
    net = args[0]
    if gs.string_value(ctx, net) == want:
        return True
    f = net.child_by_field_name("function") if net.type == "call_expression" else None
    addr = args[1].child_by_field_name("function")
    return (f is not None and addr is not None and f.type == "selector_expression" and not gs.arguments(net)
            and ctx.text(f.child_by_field_name("field")) == "Network"
            and ctx.text(f.child_by_field_name("operand")) == ctx.text(addr.child_by_field_name("operand")))


def _own_address_text(ctx: FileContext, fn: Node, e: Node) -> str:
    """The network ("tcp", "udp", ...) of the connection whose own address `e` prints: `X.String()`
    where X is `c.LocalAddr()` (`RemoteAddr`, a listener's `Addr`) or a local assigned only from one;
    "" otherwise."""
    f = e.child_by_field_name("function") if e.type == "call_expression" else None
    if f is None or f.type != "selector_expression" or gs.arguments(e) \
            or ctx.text(f.child_by_field_name("field")) != "String":
        return ""
    addr = f.child_by_field_name("operand")
    if addr is not None and addr.type == "identifier":
        made = gs.assigned_values(ctx, fn.child_by_field_name("body"), ctx.text(addr))
        addr = made[0] if len(made) == 1 else None
    g = addr.child_by_field_name("function") if addr is not None and addr.type == "call_expression" else None
    if addr is None or g is None or g.type != "selector_expression" or gs.arguments(addr) \
            or ctx.text(g.child_by_field_name("field")) not in _ADDR_METHODS:
        return ""
    conn = g.child_by_field_name("operand")
    return _network_of(ctx, fn, conn) if conn is not None else ""


def _network_of(ctx: FileContext, fn: Node, conn: Node) -> str:
    """"tcp" / "udp" / "unix" / "ip" for a connection or listener of that network, "" if unknown: by its
    declared type, or for a local made by `net.Dial`/`Listen`/`ListenPacket` with a literal network or
    by an opener that names it (`net.DialTCP`)."""
    from leakhunter.source.program import types as ty

    network = _NETWORK_OF_TYPE.get(ty.expr_type(ctx, conn).lstrip("*"), "")
    if network or conn.type != "identifier":
        return network
    made = gs.assigned_values(ctx, fn.child_by_field_name("body"), ctx.text(conn))
    if len(made) == 1 and made[0] is not None and made[0].type == "call_expression" \
            and gs.qualified_call_name(ctx, made[0]) in _TYPED_OPENERS:
        return _TYPED_OPENERS[gs.qualified_call_name(ctx, made[0])]
    if len(made) != 1 or made[0] is None or made[0].type != "call_expression" \
            or gs.qualified_call_name(ctx, made[0]) not in _NETWORK_OPENERS:
        return ""
    args = gs.arguments(made[0])
    lit = gs.string_value(ctx, args[0]) if args else None
    if lit is None:
        return ""
    base = lit.rstrip("46")
    return base if base in _ADDR_OF_NETWORK else "unix" if lit in ("unixgram", "unixpacket") else ""
