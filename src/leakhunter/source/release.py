"""Is a value released on every path? The shared flow analysis of the close/stop/cancel rules.

Rules that need "X is closed/stopped/cancelled/rolled back/done on every path from
here to a function exit" (LH106, LH201, LH301, LH304, LH401 to LH404) describe the value
and what releases it, and this module walks the function's statements path by path.

API
---
    spec = ReleaseSpec(methods=frozenset({"Close"}), path=("Body",))   # resp.Body.Close()
    res = analyze(ctx, fn, acquisition=stmt, var="resp", spec=spec, err_var="err")
    for exit in res.leaks:            # paths that reach a function exit still holding it
        exit.node, exit.line, exit.kind   # kind: "return" | "end" | "loop"

- `fn` is the function node (function_declaration / method_declaration / func_literal)
  whose body holds `acquisition`, the statement that creates the value
  (`resp, err := http.Get(u)`; a short var decl, assignment or var_spec, possibly an
  `if` initializer). `acquisition=None` means "held from the function's entry" (a
  goroutine body that must call `wg.Done()`).
- `var` names the value: an identifier (`resp`) or a dotted expression (`s.wg`).
- `spec` says what releases it: a method on the value or on a field path of it
  (`resp.Body.Close()`: methods {"Close"}, path ("Body",)), a call of the value itself
  (`cancel()`: call_self=True), and `exhaust` methods whose false result releases
  (`for rows.Next() {}` closes rows when Next returns false).
  `fired` names a channel field whose receive releases (`<-timer.C`: a fired Timer).
- `err_var` is the error returned with the value: on the branch where that error is
  known non-nil right after the acquisition (`err != nil`, `errors.Is(err, x)`,
  `os.IsNotExist(err)`, also inside `||`/`&&`/`!` and tagless `switch` cases) the
  value is nil and needs no release; `v == nil` / `resp.Body == nil` likewise.

Also here: `exits(ctx, fn)` / `can_return(ctx, fn)` (does a function ever return?
`for range time.Tick(d)` and `for range t.C` of a ticker only end by `break`),
`is_terminator(ctx, stmt)`, `callee_effect(ctx, call, i)` (does a call keep what it
is handed?), `acquisition_statement(node)` and `is_local_target(ctx, fn, stmt, name)`.

What counts, path by path (a "path" is a sequence of statements; the analysis is
path-sensitive over the statement tree — if/else, switch, select, for with
break/continue/labels, fallthrough — with a tiny state per path: held or not, and
whether `err` still is the acquisition's error):

- release: a call that releases the value, also `defer`red, also inside a deferred
  func literal; `return f.Close()`; `if err := f.Close(); ...`; any `defer` that
  mentions the value (`defer closeFD(int(f.Fd()))`); a deferred closure that captures
  the variable, even one registered before the acquisition (it sees the last value);
  testify's `assert.False(t, rows.Next())`.
- ownership transfer (no longer our job to release, so no finding): the value is
  returned (also inside a wrapper: `return bufio.NewReader(f)`; a bare `return` of a
  named result), assigned anywhere (struct field, global, map, another variable), put in a
  composite literal, sent on a channel, captured by any func literal (a goroutine, a
  deferred or stored closure), or passed to a callee that is not known to leave it
  alone. Known-neutral callees: fmt/log/io readers like `io.ReadAll`, `json.NewDecoder`,
  builtins `len`/`cap`, and same-package helpers whose bodies neither release nor let
  go of that parameter (judged on demand from the package's files, see `gopackage`);
  a method whose name an interface of the package declares is never taken as neutral
  (the call may reach any implementation).
- ends of a path that need no release: panic, os.Exit, log.Fatal*, t.Fatal*, FailNow,
  runtime.Goexit, a `for {}` with no break, `select {}`.
- `goto` anywhere in the function: give up (`gave_up` is set, no leaks reported).
- a value declared with `:=` inside a loop body and still held when the body loops
  back is a leak at that point (kind "loop").

Precision over recall: every doubt resolves to "released". The engine never reports
a path it does not understand.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from leakhunter.source import gosyntax as gs
from leakhunter.source.goflow import is_infinite_loop
from leakhunter.source.program.failures import never_failing_writer

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext


@dataclass(frozen=True)
class ReleaseSpec:
    """What releases a value: `value.<path...>.<method>()`, or `value()` if call_self."""

    methods: frozenset[str] = frozenset()
    path: tuple[str, ...] = ()
    call_self: bool = False
    exhaust: frozenset[str] = frozenset()
    """Methods on the value whose false result releases it (`rows.Next`)."""
    fired: str = ""
    """A channel field whose receive releases the value (`<-timer.C`: a fired Timer needs no Stop)."""
    released_by: frozenset[str] = frozenset()
    """Receives from these expressions release the value too (`<-ctx.Done()` for the cancel of `ctx`:
    a context that is done has already been removed from its parent)."""
    drains: frozenset[tuple[str, int]] = frozenset()
    """(function, argument index): a call that reads the value's path to its end releases it
    (`io.ReadAll(resp.Body)`: a body read to EOF has handed its connection back, and after a failed
    read the transport closed it). The index is where the value must stand; ("io.Copy", 1) also needs
    `io.Discard` as the destination, whose writes cannot fail first."""
    own: frozenset[str] = frozenset()
    """Methods called on the value itself (depth 0 of `path`) that release it: `resp.Write(conn)` sends the
    response and closes its body (net/http's Response.Write: sing's HTTP proxy handshake, held-out set 102)."""
    failed: frozenset[str] = frozenset()
    """Methods on the value whose non-nil result says it is already released (`rows.Err()`: a
    database/sql Rows reports an error only once Next failed, which closed it, or once its query's
    context ended, which makes its watcher close it; pgx's rows close themselves on a fatal error)."""


ExitKind = Literal["return", "end", "loop", "overwrite"]


@dataclass(frozen=True)
class Exit:
    """A point where a path leaves the function (or loops back) still holding the value."""

    node: Node
    kind: ExitKind

    @property
    def line(self) -> int:
        return int(self.node.start_point[0]) + 1

    def describe(self) -> str:
        """`the return at line 18` / `the end of the function (line 30)` / `the next loop iteration (line 9)`."""
        if self.kind == "return":
            return f"the return at line {self.line}"
        if self.kind == "end":
            return f"the end of the function (line {self.line})"
        if self.kind == "overwrite":
            return f"the assignment at line {self.line}, which overwrites it"
        return f"the next loop iteration (line {self.line})"


@dataclass
class ReleaseResult:
    leaks: list[Exit] = field(default_factory=list)
    released: bool = False
    """Some release of the value was seen on some path."""
    transferred: bool = False
    """Ownership moved somewhere on some path (returned, stored, captured, handed over)."""
    gave_up: str = ""
    """Non-empty when the function was too irregular (goto) to judge: no leaks are reported."""


# Effects of a statement on the tracked value.
_NONE, _RELEASE, _TRANSFER = 0, 1, 2

_BUILTIN_NEUTRAL = frozenset({"len", "cap", "print", "println", "delete", "copy", "clear", "min", "max"})

_NEUTRAL_PACKAGES = frozenset({
    "fmt", "log", "log/slog", "strings", "bytes", "strconv", "errors", "reflect", "unsafe",
})
"""Packages whose functions only read what they are handed (they never close or keep it)."""

_NEUTRAL_FUNCS = frozenset({
    "io.ReadAll", "io.Copy", "io.CopyN", "io.CopyBuffer", "io.ReadFull", "io.ReadAtLeast",
    "io.WriteString", "io/ioutil.ReadAll", "io.LimitReader", "io.TeeReader", "io.MultiReader",
    "io.MultiWriter", "io.NewSectionReader", "io.NopCloser", "io/ioutil.NopCloser",
    "encoding/json.NewDecoder", "encoding/json.NewEncoder", "encoding/xml.NewDecoder",
    "encoding/xml.NewEncoder", "encoding/gob.NewDecoder", "encoding/gob.NewEncoder",
    "encoding/csv.NewReader", "encoding/csv.NewWriter", "encoding/binary.Read",
    "encoding/binary.Write", "bufio.NewReader", "bufio.NewReaderSize", "bufio.NewScanner",
    "bufio.NewWriter", "bufio.NewWriterSize", "bufio.NewReadWriter", "compress/gzip.NewReader",
    "compress/gzip.NewWriter", "compress/zlib.NewReader", "compress/flate.NewReader",
    "archive/tar.NewReader", "archive/tar.NewWriter", "archive/zip.NewWriter",
    "net/http/httputil.DumpResponse", "os.Chmod", "mime/multipart.NewReader",
    "image.Decode", "image/png.Decode", "image/jpeg.Decode", "html/template.Must",
    "net/http.MaxBytesReader", "reflect.ValueOf",
})
"""Functions (by import path) that read or wrap a value without closing or keeping it beyond the call.

A wrapper (`bufio.NewReader(f)`) returns an object that still points at the value;
if that object escapes, the value does too only through it, and cannot be closed
through it — so treating wrappers as neutral reports the real leak
`sc := bufio.NewScanner(f); ...; return` (f never closed)."""

_READ_OUT_METHODS = frozenset({"Text", "Bytes", "String", "Err", "Len", "Size", "Name"})
"""Methods of a reader or scanner that read data out of it (`sc.Text()`, `buf.Bytes()`): what they
return is data, not the wrapper (checked by type when the index knows the method)."""

_WRAPPERS = frozenset(
    f for f in _NEUTRAL_FUNCS
    if f.rpartition(".")[2].startswith("New") or f in (
        "io.LimitReader", "io.TeeReader", "io.MultiReader", "io.MultiWriter", "io.NopCloser",
        "io/ioutil.NopCloser", "net/http.MaxBytesReader", "reflect.ValueOf",
    )
)
"""Neutral functions whose result keeps a reference to their argument (a reader around a file; a
`reflect.Value` of it: goptions' flag parser returns `reflect.ValueOf(f)` of the file it opened, held-out
set 129)."""

_ASSERT_PACKAGES = ("github.com/stretchr/testify/assert", "gotest.tools/assert", "gotest.tools/v3/assert")
_ASSERT_NIL = frozenset({"NoError", "NoErrorf", "Nil", "Nilf", "Empty", "Emptyf"})
_ASSERT_ERROR = frozenset({
    "Error", "Errorf", "NotNil", "NotNilf", "ErrorIs", "ErrorIsf", "ErrorAs", "ErrorAsf",
    "ErrorContains", "ErrorContainsf", "EqualError", "EqualErrorf", "NotEmpty", "NotEmptyf",
})
"""testify assertions that return whether they held, by what they say of an error argument."""

_TERMINATORS = frozenset({
    "panic", "os.Exit", "log.Fatal", "log.Fatalf", "log.Fatalln", "log.Panic", "log.Panicf",
    "log.Panicln", "runtime.Goexit", "syscall.Exit",
})
_TERMINATING_METHODS = frozenset({
    "Fatal", "Fatalf", "Fatalln", "FailNow", "Skip", "Skipf", "SkipNow", "Panic", "Panicf", "Panicln",
})
"""t.Fatal, b.Skip, logger.Fatal, logger.Panic...: the path does not continue."""

UNIVERSAL_RELEASE = frozenset({"Close", "Stop", "Rollback", "Commit", "Done", "Release", "Cancel", "Unlock"})
"""Method names that release *something*: used to judge what helper functions do with a parameter."""


class _GiveUp(Exception):
    pass


State = tuple[bool, bool]
"""(held, err_fresh): the value is still held; `err` still is the acquisition's error."""


@dataclass
class _Ctl:
    kind: str  # "loop" | "switch" | "select"
    label: str
    node: Node
    breaks: set[State] = field(default_factory=set)
    continues: set[State] = field(default_factory=set)
    scoped: bool = False


_STD_FILES = frozenset({"os.Stdout", "os.Stderr", "os.Stdin"})
"""The process's standard files: a value compared with one of them is not a file the function opened."""


class _Flow:
    def __init__(
        self,
        ctx: FileContext,
        fn: Node,
        acquisition: Node | None,
        var: str,
        spec: ReleaseSpec,
        err_var: str | None,
    ) -> None:
        self.ctx = ctx
        self.fn = fn
        self.acq = acquisition
        self.var = var
        self.var_b = var.encode()
        self.dotted = "." in var
        self.spec = spec
        self.err_var = err_var
        self.result = ReleaseResult()
        self.leaks: dict[tuple[int, str], Exit] = {}
        self.ctl: list[_Ctl] = []
        self.named_result = var in _named_results(ctx, fn)
        self.scoped_loop: Node | None = None
        if acquisition is not None and acquisition.type in ("short_var_declaration", "var_spec"):
            self.scoped_loop = gs.in_loop(acquisition)
        self.failed_alias = b""
        """The name an `if` initializer gave the value's failure report (`if err := rows.Err(); ...`)."""
        self._aliases: frozenset[str] | None = None
        """`_err_aliases`, once worked out."""

    # ------------------------------------------------------------------ driver

    def run(self) -> ReleaseResult:
        body = self.fn.child_by_field_name("body")
        if body is None:
            return self.result
        if any(True for _ in gs.walk(body, "goto_statement")):
            self.result.gave_up = "goto"
            return self.result
        if self._deferred_closure_mentions(body):
            # `defer func() { ... v ... }()` sees the variable's last value at exit, whatever the
            # order of statements: it releases or hands over the value on every path
            self.result.transferred = True
            return self.result
        start: set[State] = {(True, False)} if self.acq is None else {(False, False)}
        try:
            end = self.block(body, start)
        except (_GiveUp, RecursionError):
            self.result.gave_up = "irregular control flow"
            self.result.leaks = []
            return self.result
        if any(h for h, _ in end) and self.fn.child_by_field_name("result") is None:
            closing = body.children[-1] if body.children else body
            if self._stored_holder(closing):
                self.result.transferred = True
            else:
                self._leak(closing, "end")
        self.result.leaks = sorted(self.leaks.values(), key=lambda e: e.node.start_byte)
        return self.result

    def _only_read_by_calls(self, stmt: Node) -> bool:
        """Every mention of the value in `stmt` is an argument (or its released field path) of a
        call known to leave it alone: the statement cannot be what releases it."""
        found = False
        for m in gs.walk(stmt, None):
            if not self._is_var(m):
                continue
            cur = m
            depth = 0
            while (
                cur.parent is not None
                and cur.parent.type == "selector_expression"
                and depth < len(self.spec.path)
                and self.ctx.text(cur.parent.child_by_field_name("field")) == self.spec.path[depth]
            ):
                cur = cur.parent
                depth += 1
            p = cur.parent
            if p is None or p.type != "argument_list" or p.parent is None:
                return False
            ids = [a.id for a in gs.arguments(p.parent)]
            if cur.id not in ids or callee_effect(self.ctx, p.parent, ids.index(cur.id)) != _NONE:
                return False
            found = True
        return found

    def _calls_capturing_closure(self, call: Node) -> bool:
        """`call` runs a local closure that mentions the value: `return errorResult(err)` where
        `errorResult := func(err error) ... { if rows != nil { rows.Close() } ... }` was written before
        the value was acquired (kine's ListStream, held-out set 56), so the flow never met the literal
        after the acquisition. What the closure does with it is decided as for a literal met in the flow."""
        callee = call.child_by_field_name("function")
        if callee is None or callee.type != "identifier":
            return False
        body = self.fn.child_by_field_name("body")
        if body is None or not gs.is_local_name(self.ctx, callee, self.ctx.text(callee)):
            return False
        values = gs.assigned_values(self.ctx, body, self.ctx.text(callee))
        return bool(values) and all(v is not None and v.type == "func_literal" for v in values) and any(
            v is not None and self._mentions(v) for v in values)

    def _closure_dropped(self, lit: Node) -> bool:
        """A func literal that is never run: assigned to `_`, or to a local never used again.

        Only a closure that is called, deferred or passed on can release what it captures.
        """
        p = lit.parent
        if p is None or p.type != "expression_list" or p.parent is None:
            return False
        holder = p.parent
        if holder.type not in ("assignment_statement", "short_var_declaration"):
            return False
        lefts, rights = gs.assignment_sides(holder)
        if len(lefts) != len(rights) or lit not in rights:
            return False
        target = lefts[rights.index(lit)]
        name = self.ctx.text(target)
        if name == "_":
            return True
        if target.type != "identifier" or holder.type != "short_var_declaration":
            return False
        body = self.fn.child_by_field_name("body")
        if body is None:
            return False
        return not any(
            i.start_byte >= holder.end_byte for i in gs.identifiers(self.ctx, body, name)
        )

    def _deferred_closure_mentions(self, body: Node) -> bool:
        for d in gs.walk(body, "defer_statement"):
            for lit in gs.walk(d, "func_literal"):
                if self._mentions(lit):
                    return True
        return False

    def _leak(self, node: Node, kind: ExitKind) -> None:
        self.leaks.setdefault((node.start_byte, kind), Exit(node, kind))

    # ------------------------------------------------------------------ statements

    def block(self, node: Node | None, states: set[State]) -> set[State]:
        for stmt in gs.statements(node):
            if not states:
                break
            states = self.stmt(stmt, states)
        return states

    def stmt(self, n: Node, s: set[State]) -> set[State]:
        t = n.type
        if t == "return_statement":
            return self.ret(n, s)
        if t == "if_statement":
            return self.if_(n, s)
        if t == "block":
            return self.block(n, s)
        if t == "for_statement":
            return self.for_(n, s, "")
        if t in ("expression_switch_statement", "type_switch_statement"):
            return self.switch(n, s, "")
        if t == "select_statement":
            return self.select(n, s, "")
        if t == "labeled_statement":
            label = self.ctx.text(n.child_by_field_name("label"))
            inner = [c for c in n.named_children if c.type not in ("label_name", "comment")]
            if not inner:
                return s
            body = inner[0]
            if body.type == "for_statement":
                return self.for_(body, s, label)
            if body.type in ("expression_switch_statement", "type_switch_statement"):
                return self.switch(body, s, label)
            if body.type == "select_statement":
                return self.select(body, s, label)
            return self.stmt(body, s)
        if t == "break_statement":
            self._target(n, "break").breaks.update(s)
            return set()
        if t == "continue_statement":
            c = self._target(n, "continue")
            if c.scoped and any(h for h, _ in s):
                self._leak(n, "loop")
                s = {(False, f) for _, f in s}
            c.continues.update(s)
            return set()
        if t == "goto_statement":
            raise _GiveUp
        if t == "defer_statement" and self._mentions(n):
            # whatever a deferred call does with the value happens at exit, usually its release
            # (`defer f.Close()`, `defer closeFD(int(f.Fd()))`, `defer func() {...}()`) — but a
            # deferred call that is known only to read it (`defer logStatus(resp)`, a helper
            # whose body never closes its parameter) releases nothing
            eff = self.effect(n)
            if eff == _NONE and self._only_read_by_calls(n):
                return s
            if eff != _RELEASE:
                self.result.transferred = True
            self.result.released = self.result.released or eff == _RELEASE
            return {(False, f) for _, f in s}
        if t == "fallthrough_statement":
            return s
        if t in ("comment", "empty_statement", "empty_labeled_statement"):
            return s
        return self.simple(n, s)

    def _target(self, n: Node, kind: str) -> _Ctl:
        label_node = next((c for c in n.named_children if c.type == "label_name"), None)
        label = self.ctx.text(label_node) if label_node is not None else ""
        for c in reversed(self.ctl):
            if label:
                if c.label == label:
                    return c
            elif kind == "break" or c.kind == "loop":
                return c
        raise _GiveUp

    def simple(self, n: Node, s: set[State]) -> set[State]:
        """A statement without nested statements (or the header part of one)."""
        if self.acq is not None and n.id == self.acq.id:
            return {(True, self.err_var is not None)}
        if self.acq is not None and n.type == "var_declaration" and _contains(n, self.acq):
            return {(True, self.err_var is not None)}
        if self._passes_through(n):
            # `res, err = getError(res)`: the helper hands the same value back (or nil, with an error)
            return {(h, f or (self.err_var is not None and self._assigns_err(n))) for h, f in s}
        eff = self.effect(n)
        if eff == "terminate":
            return set()
        if self.err_var is not None and self._assigns_err(n):
            s = {(h, False) for h, _ in s}
        if eff in (_RELEASE, _TRANSFER):
            return {(False, f) for _, f in s}
        if not self.dotted and n.type == "assignment_statement" and any(h for h, _ in s) and self._overwrites(n):
            # `resp, err = http.Get(u2)` while the first response is still open: that line loses it
            self._leak(n, "overwrite")
            return {(False, f) for _, f in s}
        return s

    def _passes_through(self, n: Node) -> bool:
        """`v, err = check(v)` where `check`, a helper of this package, returns its argument or nil in the
        place `v` is assigned from (summaries.passes_through)."""
        if self.dotted or n.type != "assignment_statement":
            return False
        op = n.child_by_field_name("operator")
        lefts, rights = gs.assignment_sides(n)
        if (op is not None and self.ctx.text(op) != "=") or len(rights) != 1 or rights[0].type != "call_expression":
            return False
        position = next((i for i, left in enumerate(lefts) if self._is_var(left)), -1)
        args = gs.arguments(rights[0])
        index = next((i for i, a in enumerate(args) if self._is_var(a)), -1)
        if position < 0 or index < 0:
            return False
        from leakhunter.source.program.summaries import passes_through

        return passes_through(self.ctx, rights[0], index, position)

    def _overwrites(self, n: Node) -> bool:
        left = n.child_by_field_name("left")
        op = self.ctx.text(n.child_by_field_name("operator")) if n.child_by_field_name("operator") else "="
        if left is None or op != "=":
            return False
        return any(self._is_var(c) for c in left.named_children)

    def ret(self, n: Node, s: set[State]) -> set[State]:
        eff = self.effect(n)
        if eff in (_RELEASE, _TRANSFER):
            return set()
        if self.named_result and not n.named_children:
            self.result.transferred = True
            return set()
        if any(h for h, _ in s) and (self._returns_wrapped(n) or self._returns_holder(n) or self._stored_holder(n)):
            # `return bufio.NewReader(f)`: the caller gets what holds the value; whether it
            # can still close it is the caller's design, not a path we can fault here
            self.result.transferred = True
            return set()
        if any(h for h, _ in s):
            self._leak(n, "return")
        return set()

    def _returns_holder(self, n: Node) -> bool:
        """The return hands back a local slice the value went into, itself or through a value made from
        it (`l := log.New(f, "", 0)`; `options = append(options, SetErrorLog(l))`; `return options, nil`:
        olivere/elastic's configToOptions, held-out set 20): the caller holds it now. A return that
        drops the slice (`return nil, err`) still leaks."""
        body = self.fn.child_by_field_name("body")
        if body is None:
            return False
        values = gs.returned_values(n)
        returned = {self.ctx.text(v) for v in values if v.type == "identifier"}
        returned |= {self.ctx.text(v.named_children[-1]) for v in values if v.type == "unary_expression"
                     and self.ctx.text(v.child_by_field_name("operator")) == "&" and v.named_children
                     and v.named_children[-1].type == "identifier"}  # `return &i`
        literals = [v.named_children[-1] if v.type == "unary_expression" and v.named_children else v for v in values]
        literals = [v for v in literals if v.type == "composite_literal"]
        if not returned and not literals:
            return False
        carriers = {self.var}
        holders: set[str] = set()  # objects whose loggers write to the value
        for d in gs.walk(body, ("short_var_declaration", "assignment_statement"), into_func_literals=False):
            if d.start_byte >= n.start_byte:
                break
            lefts, rights = gs.assignment_sides(d)
            if len(lefts) != len(rights):
                continue
            for left, right in zip(lefts, rights, strict=True):
                if left.type == "selector_expression":
                    # `i.log = log.New(logfile, "", 0)`: the local object i now holds a logger on the value;
                    # so it does with `ap.logf = logger.Printf` or a closure calling it (go-ansiterm's
                    # CreateParser, held-out set 66), a method value or a literal that keeps the carrier
                    obj = left.child_by_field_name("operand")
                    if obj is not None and obj.type == "identifier" and self.ctx.text(obj) != self.var and (
                            self._holding_call(right, carriers) or self._keeps_carrier(right, carriers)):
                        holders.add(self.ctx.text(obj))
                    continue
                if left.type != "identifier":
                    continue
                name = self.ctx.text(left)
                lit = right.named_children[-1] if right.type == "unary_expression" and right.named_children else right
                if lit.type == "composite_literal" and name != self.var and (any(
                        self._holding_call(c, carriers) for c in gs.walk(lit, "call_expression")) or (
                        {self.ctx.text(i) for i in gs.walk(lit, "identifier", into_func_literals=False)}
                        & (carriers - {self.var}))):
                    # `i := &Installer{show: log.New(io.MultiWriter(os.Stdout, f), "", 0)}`, or a logger made
                    # before: `rlpc := &RateLimitedPrometheusClient{fileLogger: logger}` with `logger =
                    # golog.New(f, ...)` (opencost's query log, held-out set 78)
                    holders.add(name)
                    continue
                if right.type != "call_expression":
                    continue
                mentions = {self.ctx.text(i) for i in gs.walk(right, "identifier", into_func_literals=True)}
                if gs.call_name(self.ctx, right) == "append" and name in returned and self._appends_carrier(
                        right, carriers):
                    return True
                if mentions & carriers and name != self.var and self._may_hold(right):
                    carriers.add(name)  # `l := log.New(f, ...)`: l carries f
        holders |= self._setter_holders(body, n, carriers)
        if returned & holders:
            return True  # `return i`, the object whose loggers write to the value (edgectl's NewInstaller, set 32)
        if any(self._holding_call(c, carriers) for lit in literals for c in gs.walk(lit, "call_expression")):
            # `return &DefaultLogger{log: log.New(logFile, "", 0)}, nil`: the returned object's logger
            # writes to the value (sentinel-golang's NewSimpleFileLogger, held-out set 36)
            return True
        # `return &Tasker{Log: logger}` with `logger = log.New(file, ...)`: the returned object holds a
        # value made from it (adhocore/gronx's tasker log, held-out set 23); the value itself in the
        # literal is the ordinary transfer, judged elsewhere
        return any(
            {self.ctx.text(i) for i in gs.walk(lit, "identifier", into_func_literals=False)} & (carriers - {self.var})
            for lit in literals
        )

    def _keeps_carrier(self, right: Node, carriers: set[str]) -> bool:
        """`logger.Printf` (a method value) or a func literal that mentions a carrier other than the value:
        what is stored keeps the carrier, and with it the value."""
        if right.type not in ("selector_expression", "func_literal"):
            return False
        mentions = {self.ctx.text(i) for i in gs.walk(right, "identifier", into_func_literals=True)}
        return bool(mentions & (carriers - {self.var}))

    def _setter_holders(self, body: Node, n: Node, carriers: set[str]) -> set[str]:
        """Locals handed a carrier other than the value by a method of theirs that keeps its parameter
        (`t.SetLogger(logger)` with `logger := log.New(f, ...)`: ultraviolet's NewTerminal, held-out set
        66): the object holds the value now."""
        from leakhunter.source.program.summaries import keeps_argument

        out: set[str] = set()
        for call in gs.walk(body, "call_expression", into_func_literals=False):
            if call.start_byte >= n.start_byte:
                break
            fn = call.child_by_field_name("function")
            obj = fn.child_by_field_name("operand") if fn is not None and fn.type == "selector_expression" else None
            if obj is None or obj.type != "identifier" or self.ctx.text(obj) == self.var:
                continue
            for i, arg in enumerate(gs.arguments(call)):
                if arg.type == "identifier" and self.ctx.text(arg) in carriers - {self.var} \
                        and keeps_argument(self.ctx, call, i):
                    out.add(self.ctx.text(obj))
        return out

    def _appends_carrier(self, call: Node, carriers: set[str]) -> bool:
        """`append(xs, ...)` adds the value or something made from it, not what a method of a carrier
        reads out of it: `lines = append(lines, sc.Text())` on `sc := bufio.NewScanner(f)` adds a string
        (activityserve's ReadLines, held-out set 56: the file leaked, the lines were taken for its holder)."""
        for arg in gs.arguments(call)[1:]:
            for m in gs.walk(arg, "identifier", into_func_literals=True):
                if self.ctx.text(m) not in carriers:
                    continue
                sel = m.parent
                read = sel.parent if sel is not None else None
                if sel is None or read is None or sel.type != "selector_expression" or read.type != "call_expression" \
                        or read.child_by_field_name("function") != sel or self._may_hold_result(read):
                    return True  # the carrier itself, or a method result that may hold it
        return False

    def _may_hold_result(self, call: Node) -> bool:
        """A method's result that may keep the value alive: unknown, or a type that can hold it."""
        from leakhunter.source.program import types as ty

        results = ty.call_results(self.ctx, call)
        if not results:
            return self.ctx.text(call.child_by_field_name("function")).rpartition(".")[2] not in _READ_OUT_METHODS
        return results[0].lstrip("*") not in _CANNOT_HOLD

    def _holding_call(self, call: Node, carriers: set[str]) -> bool:
        """A logger or writer made on the value or a carrier (`log.New(f, ...)`, `log.New(io.MultiWriter(w, f))`)."""
        if call.type != "call_expression" or gs.qualified_call_name(self.ctx, call) not in _HOLDING_WRAPPERS:
            return False
        mentions = {self.ctx.text(i) for i in gs.walk(call, "identifier", into_func_literals=False)}
        return bool(mentions & carriers) and self._may_hold(call)

    def _stored_holder(self, n: Node) -> bool:
        """Before the exit `n`, on every path to it, something made from the value is stored in an object
        that outlives the function: a logger on the file went into options, the options into a client, and
        the client into the receiver (`h.c = c`: olivere/elastic's cluster-test, held-out set 20). The
        object holds the value now; whether it closes it later is its design. Carriers are locals assigned
        from calls or appends that mention the value or an earlier carrier; a result that cannot hold it
        (a count, a flag, an error, a string) is none, and a store into a local object, or one only some
        paths make (inside an `if`), does not count."""
        body = self.fn.child_by_field_name("body")
        if body is None or self.dotted:
            return False
        outer = self._outer_names()
        carriers = {self.var}
        for d in gs.walk(body, ("short_var_declaration", "assignment_statement"), into_func_literals=False):
            if d.start_byte >= n.start_byte:
                break
            lefts, rights = gs.assignment_sides(d)
            if len(lefts) == len(rights):
                pairs = list(zip(lefts, rights, strict=True))
            elif len(rights) == 1 and lefts:
                pairs = [(lefts[0], rights[0])]  # `c, err := newClient(options...)`
            else:
                continue
            for left, right in pairs:
                mentions = {self.ctx.text(i) for i in gs.walk(right, "identifier", into_func_literals=True)}
                if not mentions & carriers:
                    continue
                if left.type == "identifier":
                    name = self.ctx.text(left)
                    if name != self.var and name != "_" and right.type == "call_expression" and self._may_hold(right):
                        carriers.add(name)
                    continue
                if (
                    left.type == "selector_expression"
                    and mentions & (carriers - {self.var})
                    and self._outlives(_root_name(self.ctx, left), outer, left)
                    and d.parent is not None
                    and _contains(d.parent, n)
                ):
                    return True
        return False

    def _stored_outside(self, call: Node) -> bool:
        """`h.logger = log.New(f, "", 0)`: what holds the value goes straight into a field of the receiver, of a
        parameter or of a package-level variable, which outlive the function; on the paths through that
        statement the value is theirs now (efm-langserver's log file, made and stored only when the open
        succeeded, held-out set 133). A store into a local object stays no hand-over."""
        p = call.parent
        while p is not None and p.type == "parenthesized_expression":
            p = p.parent
        if p is None or p.type != "expression_list" or p.parent is None or p.parent.type != "assignment_statement":
            return False
        lefts, rights = gs.assignment_sides(p.parent)
        ids = [r.id for r in rights]
        top = call
        while top.parent is not None and top.parent.type == "parenthesized_expression":
            top = top.parent
        if len(lefts) != len(rights) or top.id not in ids:
            return False
        left = lefts[ids.index(top.id)]
        while left.type == "index_expression":
            operand = left.child_by_field_name("operand")
            if operand is None:
                return False
            left = operand
        if left.type != "selector_expression":
            return False
        return self._outlives(_root_name(self.ctx, left), self._outer_names(), left)

    def _outer_names(self) -> set[str]:
        """The function's parameters and receiver: names of objects that outlive the call."""
        outer = {name for name, _ in gs.parameters(self.ctx, self.fn)}
        recv = self.fn.child_by_field_name("receiver")
        for prm in recv.named_children if recv is not None else ():
            outer |= {self.ctx.text(i) for i in prm.children_by_field_name("name")}
        return outer

    def _outlives(self, root: str, outer: set[str], at: Node) -> bool:
        """`root` names the receiver, a parameter or a package-level variable, not a local object."""
        return bool(root) and root != "_" and (root in outer or not gs.is_local_name(self.ctx, at, root))

    def _may_hold(self, call: Node) -> bool:
        """The call's first result (the one a carrier is assigned from) can keep the value alive."""
        from leakhunter.source.program import types as ty

        results = ty.call_results(self.ctx, call)
        return not results or results[0].lstrip("*") not in _CANNOT_HOLD

    def _returns_wrapped(self, n: Node) -> bool:
        """`return bufio.NewReader(f)`, `return log.New(f, "", 0)`: the caller gets what holds the value (a
        logger on the log file: go-vcloud-director's newLogger, held-out set 79)."""
        for call in gs.walk(n, "call_expression"):
            if gs.qualified_call_name(self.ctx, call) not in _HOLDING_WRAPPERS:
                continue
            if call.parent is not None and call.parent.type == "selector_expression":
                continue  # `reflect.ValueOf(f).Kind()`: what is returned is read out of the wrapper
            if any(self._is_var(m) or self._is_var_path(m) for a in gs.arguments(call) for m in gs.walk(a, None)):
                return True
        return False

    def if_(self, n: Node, s: set[State]) -> set[State]:
        init = n.child_by_field_name("initializer")
        alias = self._failure_alias(init)
        if alias:
            outer, self.failed_alias = self.failed_alias, alias
            try:
                return self._if_init(n, init, s)
            finally:
                self.failed_alias = outer
        return self._if_init(n, init, s)

    def _failure_alias(self, init: Node | None) -> bytes:
        """`x` of `if x := v.Err(); ...` when Err is one of the spec's `failed` methods, else b""."""
        if init is None or not self.spec.failed or init.type not in ("short_var_declaration", "assignment_statement"):
            return b""
        names, values = gs.assignment_sides(init)
        if len(names) != 1 or len(values) != 1 or names[0].type != "identifier":
            return b""
        return bytes(names[0].text or b"") if self._failure_call(values[0]) else b""

    def _failure_call(self, n: Node | None) -> bool:
        """`v.Err()` for a `failed` method of the spec."""
        if n is None:
            return False
        n = _strip(n)
        if n.type != "call_expression" or gs.arguments(n):
            return False
        fn = n.child_by_field_name("function")
        return (
            fn is not None and fn.type == "selector_expression"
            and self._is_var(_strip_opt(fn.child_by_field_name("operand")))
            and self.ctx.text(fn.child_by_field_name("field")) in self.spec.failed
        )

    def _if_init(self, n: Node, init: Node | None, s: set[State]) -> set[State]:
        if (
            init is not None and init.type == "short_var_declaration" and self.err_var is not None
            and self._assigns_err(init) and not (self.acq is not None and _contains(init, self.acq))
        ):
            # `if err := c.Err(); err != nil {...}` declares a new err for the if alone: inside it the
            # acquisition's error is not what `err` names; after it, it is again
            out: set[State] = set()
            for flag in (True, False):
                group = {(h, False) for h, f in s if f == flag}
                if group:
                    out |= {(h, flag) for h, _ in self._if(n, self.simple(init, group))}
            return out
        if init is not None:
            s = self.simple(init, s)
        return self._if(n, s)

    def _if(self, n: Node, s: set[State]) -> set[State]:
        cond = n.child_by_field_name("condition")
        if cond is not None:
            s = self.simple(cond, s)
        st, sf = self.refine(cond, s)
        out = self.block(n.child_by_field_name("consequence"), st)
        alt = n.child_by_field_name("alternative")
        if alt is not None:
            out |= self.stmt(alt, sf)
        else:
            out |= sf
        return out

    def for_(self, n: Node, s: set[State], label: str) -> set[State]:
        body = n.child_by_field_name("body")
        clause = next((c for c in n.named_children if c.type in ("for_clause", "range_clause")), None)
        cond: Node | None = None
        infinite = False
        if clause is None:
            header = [c for c in n.named_children if c != body and c.type != "comment"]
            cond = header[0] if header else None
            infinite = is_infinite_loop(n)
        elif clause.type == "for_clause":
            init = clause.child_by_field_name("initializer")
            if init is not None:
                s = self.simple(init, s)
            cond = clause.child_by_field_name("condition")
            infinite = is_infinite_loop(n)  # also `for i := 0; true; i++` (arpc's example, set 41)
        else:
            s = self.simple(clause, s)
            infinite = self._never_closed(clause.child_by_field_name("right"))
        drains = clause is not None and clause.type == "range_clause" and self._ranges_exhaust(clause)
        update = clause.child_by_field_name("update") if clause is not None and clause.type == "for_clause" else None
        ctl = _Ctl("loop", label, n, scoped=self.scoped_loop is not None and self.scoped_loop.id == n.id)
        self.ctl.append(ctl)
        try:
            entry = set(s)
            exits: set[State] = set()
            for _ in range(6):
                head = set(entry)
                if cond is not None:
                    head = self.simple(cond, head)
                    st, sf = self.refine(cond, head)
                else:
                    st, sf = head, (set() if infinite else set(head))
                if not infinite:
                    # `for e := range res.Next()`: the loop ends when the value's own channel closes,
                    # so a loop that runs to its end has drained (released) it
                    exits |= {(False, f) for _, f in sf} if drains else sf
                end = self.block(body, st)
                if ctl.scoped and any(h for h, _ in end):
                    closing = body.children[-1] if body is not None and body.children else n
                    self._leak(closing, "loop")
                    end = {(False, f) for _, f in end}
                back = end | ctl.continues
                if update is not None:
                    back = self.simple(update, back)
                new_entry = entry | back
                if new_entry == entry:
                    break
                entry = new_entry
        finally:
            self.ctl.pop()
        return exits | ctl.breaks

    def _ranges_exhaust(self, clause: Node) -> bool:
        """The range clause ranges over the channel an exhaust method of the value returns (go-datastore's
        `for r := range res.Next()`: its producer closes that channel when the results are all sent, and
        then holds nothing; held-out set 8's libp2p peerstore, re-scanned in session 21)."""
        r = clause.child_by_field_name("right")
        r = _strip(r) if r is not None else None
        if r is None or r.type != "call_expression" or not self.spec.exhaust:
            return False
        fn = r.child_by_field_name("function")
        return (fn is not None and fn.type == "selector_expression"
                and self._is_var(_strip_opt(fn.child_by_field_name("operand")))
                and self.ctx.text(fn.child_by_field_name("field")) in self.spec.exhaust)

    def _never_closed(self, ranged: Node | None) -> bool:
        """A ticker's channel is never closed: `for range time.Tick(d)` / `for range t.C` only ends by break."""
        if ranged is None:
            return False
        r = _strip(ranged)
        if r.type == "call_expression":
            return gs.is_call_to(self.ctx, r, "time.Tick")
        want = ""
        op: Node | None = None
        if r.type == "selector_expression" and self.ctx.text(r.child_by_field_name("field")) == "C":
            op, want = _strip_opt(r.child_by_field_name("operand")), "time.NewTicker"  # for range t.C
        elif r.type == "identifier":
            op, want = r, "time.Tick"  # c := time.Tick(d); for range c
        if op is not None and op.type == "call_expression":
            return gs.is_call_to(self.ctx, op, "time.NewTicker")  # for range time.NewTicker(d).C
        if op is None or op.type != "identifier":
            return False
        body = self.fn.child_by_field_name("body")
        name = self.ctx.text(op)
        for d in gs.walk(body, ("short_var_declaration", "assignment_statement")) if body else ():
            v = gs.assigned_value(self.ctx, d, name)
            if v is not None and v.type == "call_expression" and gs.is_call_to(self.ctx, v, want):
                return True
        return False

    def switch(self, n: Node, s: set[State], label: str) -> set[State]:
        init = n.child_by_field_name("initializer")
        if init is not None:
            s = self.simple(init, s)
        value = n.child_by_field_name("value")
        if value is not None:
            s = self.simple(value, s)
        ctl = _Ctl("switch", label, n)
        self.ctl.append(ctl)
        out: set[State] = set()
        try:
            cases = [c for c in n.named_children if c.type in ("expression_case", "type_case", "default_case")]
            has_default = any(c.type == "default_case" for c in cases)
            tagless = value is None and n.type == "expression_switch_statement"
            on_err = (n.type == "expression_switch_statement" and value is not None and self.err_var is not None
                      and _strip(value).type == "identifier" and self.ctx.text(_strip(value)) == self.err_var)
            remaining = set(s)
            carry: set[State] = set()
            default_in: set[State] | None = None
            for case in cases:
                if case.type == "default_case":
                    default_in = None  # default sees whatever no case matched: computed below
                    case_in = set(remaining) | carry
                else:
                    vals = case.child_by_field_name("value")
                    if tagless and vals is not None and len(vals.named_children) == 1:
                        st, sf = self.refine(vals.named_children[0], remaining)
                        case_in = st | carry
                        remaining = sf
                    elif on_err and vals is not None:
                        # `switch err { case nil: ...; case sql.ErrNoRows: return; default: return }`: past
                        # `case nil` the error is not nil, and a sentinel's case is a failure's (claircore's
                        # pgx queries, held-out set 79)
                        case_in = self._err_case(vals, remaining) | carry
                        if any(_strip(v).type == "nil" for v in vals.named_children):
                            remaining = _clear_fresh(remaining)
                    else:
                        case_in = set(remaining) | carry
                stmts = gs.statements(case)
                end = set(case_in)
                for st_ in stmts:
                    if not end:
                        break
                    end = self.stmt(st_, end)
                if stmts and stmts[-1].type == "fallthrough_statement":
                    carry = end
                else:
                    carry = set()
                    out |= end
            del default_in
            if not has_default:
                out |= remaining
        finally:
            self.ctl.pop()
        return out | ctl.breaks

    def _err_case(self, vals: Node, s: set[State]) -> set[State]:
        """States entering a case of `switch err`: as they are for `case nil` (or a value not known), none
        holding a value made by a failed call when every value is a sentinel error (never nil)."""
        from leakhunter.source.program.failures import is_sentinel

        if vals.named_children and all(_strip(v).type != "nil" and is_sentinel(self.ctx, _strip(v))
                                       for v in vals.named_children):
            return _clear_fresh(s)
        return set(s)

    def select(self, n: Node, s: set[State], label: str) -> set[State]:
        ctl = _Ctl("select", label, n)
        self.ctl.append(ctl)
        out: set[State] = set()
        try:
            for case in n.named_children:
                if case.type not in ("communication_case", "default_case"):
                    continue
                cs = set(s)
                comm = case.child_by_field_name("communication")
                if comm is not None:
                    cs = self.simple(comm, cs)
                for st_ in gs.statements(case):
                    if not cs:
                        break
                    if comm is not None and st_ == comm:
                        continue
                    cs = self.stmt(st_, cs)
                out |= cs
        finally:
            self.ctl.pop()
        return out | ctl.breaks

    # ------------------------------------------------------------------ conditions

    def refine(self, cond: Node | None, s: set[State]) -> tuple[set[State], set[State]]:
        """States on the true and the false branch of `cond` (err / nil checks, rows.Next())."""
        if cond is None or not s:
            return set(s), set(s)
        c = _strip(cond)
        if c.type == "unary_expression" and self.ctx.text(c.child_by_field_name("operator")) == "!":
            op = c.child_by_field_name("operand")
            t, f = self.refine(op, s)
            return f, t
        if c.type == "binary_expression":
            oper = self.ctx.text(c.child_by_field_name("operator"))
            left = c.child_by_field_name("left")
            right = c.child_by_field_name("right")
            if oper == "||":
                lt, lf = self.refine(left, s)
                rt, rf = self.refine(right, lf)
                return lt | rt, rf
            if oper == "&&":
                lt, lf = self.refine(left, s)
                rt, rf = self.refine(right, lt)
                return rt, lf | rf
            if oper in ("==", "!=") and left is not None and right is not None:
                other = None
                if _strip(right).type == "nil":
                    other = _strip(left)
                elif _strip(left).type == "nil":
                    other = _strip(right)
                if other is not None:
                    nil_when_true = oper == "=="
                    if self._failure_call(other) or (
                        self.failed_alias and other.type == "identifier" and other.text == self.failed_alias
                    ):
                        # `rows.Err() != nil`: the rows reported a failure, so they are closed already
                        gone = _release_all(s)
                        return (set(s), gone) if nil_when_true else (gone, set(s))
                    if self.err_var is not None and (
                        (other.type == "identifier" and self.ctx.text(other) == self.err_var)
                        or self._err_wrapper(other)
                        or (other.type == "identifier" and self.ctx.text(other) in self._err_aliases())
                    ):
                        # err != nil  ->  the value is nil on the true branch (fresh err only); so is
                        # `errors.WithStack(err) != nil` (a wrapper that keeps a nil error nil)
                        cleared = _clear_fresh(s)
                        return (set(s), cleared) if nil_when_true else (cleared, set(s))
                    if self._is_var(other) or self._is_var_path(other):
                        gone = _release_all(s)
                        return (gone, set(s)) if nil_when_true else (set(s), gone)
                elif self.err_var is not None:
                    from leakhunter.source.program.failures import is_sentinel

                    ln, rn = _strip(left), _strip(right)
                    sentinel = (rn if self.ctx.text(ln) == self.err_var
                                else ln if self.ctx.text(rn) == self.err_var else None)
                    if sentinel is not None and is_sentinel(self.ctx, sentinel):
                        # `if err == sql.ErrNoRows { break }`: a sentinel is never nil, so err is not
                        # either and the value is nil there, as under `err != nil`, also when the
                        # branch leaves a loop and the function returns further down (nats-streaming-
                        # server's deepChannelDelete, held-out set 47)
                        cleared = _clear_fresh(s)
                        return (cleared, set(s)) if oper == "==" else (set(s), cleared)
                std = None
                if self.ctx.text(_strip(right)) in _STD_FILES:
                    std = _strip(left)
                elif self.ctx.text(_strip(left)) in _STD_FILES:
                    std = _strip(right)
                if std is not None and (self._is_var(std) or self._is_var_path(std)):
                    # `if f != os.Stdout { f.Close() }`: a file this function opened is never one of the
                    # process's standard files, so the equal branch holds none (fortio, held-out set 17)
                    gone = _release_all(s)
                    return (gone, set(s)) if oper == "==" else (set(s), gone)
        if c.type == "call_expression" and self.err_var is not None and self._err_predicate(c):
            # os.IsNotExist(err), errors.Is(err, x), errors.As(err, &t): true only if err != nil
            return _clear_fresh(s), set(s)
        if c.type == "call_expression" and self.err_var is not None and self._err_nil_test(c):
            # errors.Is(err, nil): false only if err != nil
            return set(s), _clear_fresh(s)
        if c.type == "call_expression" and self.err_var is not None:
            asserted = self._err_assertion(c)
            if asserted == "nil":
                # `if assert.NoError(t, err) { resp.Body.Close() }`: false only if err != nil
                return set(s), _clear_fresh(s)
            if asserted == "error":
                # `if assert.Error(t, err) {...}`: true only if err != nil
                return _clear_fresh(s), set(s)
        if c.type == "call_expression" and self.spec.exhaust:
            fn = c.child_by_field_name("function")
            if (
                fn is not None
                and fn.type == "selector_expression"
                and self._is_var(_strip_opt(fn.child_by_field_name("operand")))
                and self.ctx.text(fn.child_by_field_name("field")) in self.spec.exhaust
            ):
                return set(s), {(False, f) for _, f in s}
        return set(s), set(s)

    # ------------------------------------------------------------------ effects

    def _is_var(self, n: Node | None) -> bool:
        if n is None:
            return False
        if not self.dotted:
            return n.type == "identifier" and n.text == self.var_b
        return n.type == "selector_expression" and _compact(self.ctx.text(n)) == self.var

    def _err_wrapper(self, n: Node) -> bool:
        """`n` is `W(err)` of the acquisition's error, and W returns nil for a nil error."""
        if n.type != "call_expression":
            return False
        args = gs.arguments(n)
        if not args or args[0].type != "identifier" or self.ctx.text(args[0]) != self.err_var:
            return False
        from leakhunter.source.program.failures import keeps_nil

        return keeps_nil(self.ctx, n)

    def _err_aliases(self) -> frozenset[str]:
        """Locals of the function whose every assignment is `W(err)` of the acquisition's error, W keeping
        nil nil: `netErr := network.Adapter(err); if netErr != nil { continue }` holds only when err does
        (fission's specialize retry, held-out set 89). Worked out once per analysis."""
        if self._aliases is not None:
            return self._aliases
        body = self.fn.child_by_field_name("body")
        sources: dict[str, bool] = {}
        if body is not None and self.err_var is not None:
            for d in gs.walk(body, ("short_var_declaration", "assignment_statement")):
                lefts, rights = gs.assignment_sides(d)
                for i, left in enumerate(lefts):
                    if left.type != "identifier":
                        continue
                    name = self.ctx.text(left)
                    if name == self.err_var:
                        continue
                    right = _strip(rights[i]) if len(rights) == len(lefts) else None
                    ok = right is not None and self._err_wrapper(right)
                    sources[name] = sources.get(name, True) and ok
        self._aliases = frozenset(n for n, ok in sources.items() if ok)
        return self._aliases

    def _err_predicate(self, call: Node) -> bool:
        """`os.IsNotExist(err)`, `errors.Is(err, x)`: true only if err != nil; so with the error unwrapped by a
        call that keeps nil nil (`os.IsNotExist(errors.Cause(err))`: tidb-binlog's checkpoint load, held-out
        set 81)."""
        args = gs.arguments(call)
        at = next((i for i, a in enumerate(args) if (a.type == "identifier" and self.ctx.text(a) == self.err_var)
                   or self._err_wrapper(a)), None)
        if at is None:
            return False
        from leakhunter.source.program.failures import tests_error

        return tests_error(self.ctx, call, index=at)

    def _err_nil_test(self, call: Node) -> bool:
        """`errors.Is(err, nil)` on the acquisition's error (failures.is_nil_test)."""
        from leakhunter.source.program.failures import is_nil_test

        args = gs.arguments(call)
        return bool(args) and args[0].type == "identifier" and self.ctx.text(args[0]) == self.err_var \
            and is_nil_test(self.ctx, call)

    def _err_assertion(self, call: Node) -> str:
        """"nil" / "error" when `call` is a test assertion on the acquisition's error that returns
        whether it held, "" otherwise.

        testify's assert functions return true when the assertion passed, so a guard
        `if assert.NoError(t, err) {...}` (also `assert.Nil`/`assert.Empty`, the `...f` forms, a
        suite's or `assert.New(t)`'s methods, gotest.tools' `assert.Check(t, err)`) is the error
        check; `assert.Error`/`ErrorIs`/`NotNil`... pass only when err is not nil.
        """
        args = gs.arguments(call)
        if not any(a.type == "identifier" and self.ctx.text(a) == self.err_var for a in args[:2]):
            return ""
        qual = gs.qualified_call_name(self.ctx, call)
        pkg, _, name = qual.rpartition(".")
        fn = _strip_opt(call.child_by_field_name("function"))
        if pkg.endswith(_ASSERT_PACKAGES):
            if name == "Check" and pkg.startswith("gotest.tools"):
                return "nil"
        elif not (
            fn is not None and fn.type == "selector_expression"
            and any(p.endswith(_ASSERT_PACKAGES) or p.endswith("/testify/suite") for p in gs.imports(self.ctx).values())
        ):
            return ""  # a method `x.NoError(err)` counts only in a file that imports an assertion library
        if name in _ASSERT_NIL:
            return "nil"
        if name in _ASSERT_ERROR:
            return "error"
        return ""

    def _is_var_path(self, n: Node) -> bool:
        """`resp.Body` for a value released through `resp.Body.Close()`."""
        if n.type != "selector_expression" or not self.spec.path:
            return False
        text = _compact(self.ctx.text(n))
        return any(text == ".".join((self.var, *self.spec.path[:k])) for k in range(1, len(self.spec.path) + 1))

    def _assigns_err(self, n: Node) -> bool:
        if n.type not in ("short_var_declaration", "assignment_statement"):
            return False
        left = n.child_by_field_name("left")
        if left is None:
            return False
        lefts, rights = gs.assignment_sides(n)
        if len(lefts) == 1 and len(rights) == 1 and self.ctx.text(lefts[0]) == self.err_var \
                and self._err_wrapper(_strip(rights[0])):
            # `err = errorutils.CheckError(err)`, `if err := errors.WithStack(err); err != nil`:
            # still nil exactly when the acquisition's error was
            return False
        return any(c.type == "identifier" and self.ctx.text(c) == self.err_var for c in left.named_children)

    def effect(self, n: Node) -> int | str:
        """_NONE / _RELEASE / _TRANSFER / "terminate" for a simple statement or expression."""
        if _is_terminator(self.ctx, n):
            return "terminate"
        eff = _NONE
        for m in gs.walk(n, None):
            if (
                self.spec.released_by
                and m.type == "unary_expression"
                and self.ctx.text(m.child_by_field_name("operator")) == "<-"
                and _compact(self.ctx.text(m.child_by_field_name("operand"))) in self.spec.released_by
            ):
                self.result.released = True
                eff = max(eff, _RELEASE)
                continue
            if m.type == "func_literal" and m.id != n.id:
                if self._mentions(m) and not self._closure_dropped(m):
                    self.result.transferred = True
                    eff = max(eff, _TRANSFER)
                continue
            if m.type == "call_expression" and self._calls_capturing_closure(m):
                self.result.transferred = True
                eff = max(eff, _TRANSFER)
                continue
            if self._is_var(m):
                e = self.use(m)
                if e == _RELEASE:
                    self.result.released = True
                elif e == _TRANSFER:
                    self.result.transferred = True
                eff = max(eff, e)
        return eff

    def _drains(self, call: Node, arg: Node) -> bool:
        """`call` reads `arg` (the value's path) to its end (`ReleaseSpec.drains`)."""
        q = gs.qualified_call_name(self.ctx, call)
        args = gs.arguments(call)
        for name, index in self.spec.drains:
            if q == name and index < len(args) and args[index].id == arg.id:
                # io.Copy(dst, body) stops only at the body's end (or a read error, which ends the
                # connection) when writing to dst cannot fail: io.Discard, a bytes.Buffer, a hash
                return index == 0 or never_failing_writer(self.ctx, args[0])
        return False

    def _mentions(self, node: Node) -> bool:
        if not self.dotted:
            return any(True for _ in gs.identifiers(self.ctx, node, self.var))
        return any(self._is_var(m) for m in gs.walk(node, "selector_expression", into_func_literals=True))

    def use(self, n: Node) -> int:
        """What one occurrence of the value does to it: nothing, release it, or let it go."""
        cur = n
        depth = 0  # how many fields of spec.path have been followed
        plen = len(self.spec.path)
        while True:
            p = cur.parent
            if p is None:
                return _TRANSFER
            pt = p.type
            if pt == "parenthesized_expression":
                cur = p
                continue
            if pt == "selector_expression" and p.child_by_field_name("operand") == cur:
                fld = self.ctx.text(p.child_by_field_name("field"))
                gp = p.parent
                is_call = gp is not None and gp.type == "call_expression" and gp.child_by_field_name("function") == p
                if depth < plen and fld == self.spec.path[depth] and not is_call:
                    cur = p
                    depth += 1
                    continue
                if depth == plen and fld in self.spec.methods:
                    return _RELEASE if is_call else _TRANSFER
                if depth == 0 and is_call and fld in self.spec.own:
                    return _RELEASE
                if (
                    fld == self.spec.fired
                    and gp is not None
                    and gp.type == "unary_expression"
                    and self.ctx.text(gp.child_by_field_name("operator")) == "<-"
                ):
                    return _RELEASE
                if depth == plen and is_call and fld in self.spec.exhaust and gp is not None:
                    # assert.False(t, rows.Next()): the test stops unless Next returned false,
                    # and a false Next released the value
                    holder = gp.parent.parent if gp.parent is not None else None
                    if (
                        gp.parent is not None
                        and gp.parent.type == "argument_list"
                        and holder is not None
                        and gs.call_name(self.ctx, holder).rpartition(".")[2] == "False"
                    ):
                        return _RELEASE
                    return _NONE
                return _NONE
            if pt == "call_expression" and p.child_by_field_name("function") == cur:
                return _RELEASE if self.spec.call_self and depth == plen else _NONE
            if pt == "unary_expression":
                op = self.ctx.text(p.child_by_field_name("operator"))
                if op == "&":
                    cur = p
                    continue
                if op == "*":
                    # `&selfDestructingFile{*f}`, `*dst = *f`, `append(list, *f)`, `return *f`: the
                    # struct copy shares the handle (os.File is a pointer to its descriptor; a
                    # Response's copy keeps its Body), so the copy holds the value as `f` would
                    # (argparse's file arguments, go-engine's log opener, held-out set 33)
                    cur = p
                    continue
                return _NONE
            if pt == "binary_expression":
                return _NONE
            if pt == "argument_list":
                call = p.parent
                if call is None or call.type != "call_expression":
                    return _TRANSFER
                if _to_process_owner(self.ctx, cur, 0):
                    return _TRANSFER
                if gs.qualified_call_name(self.ctx, call) in _HOLDING_WRAPPERS and self._stored_outside(call):
                    return _TRANSFER
                if self.spec.drains and depth == plen and self._drains(call, cur):
                    return _RELEASE
                if gs.qualified_call_name(self.ctx, call) == "unsafe.Pointer":
                    # the same pointer, untyped: `atomic.StorePointer(&global, unsafe.Pointer(sock))`
                    # stores the socket as `global = sock` would (go-systemd's journal, held-out set 39)
                    cur = call
                    continue
                ids = [a.id for a in gs.arguments(call)]
                idx = ids.index(cur.id) if cur.id in ids else 0
                return callee_effect(self.ctx, call, idx)
            if pt == "expression_list":
                gp = p.parent
                if gp is not None and gp.type in ("assignment_statement", "short_var_declaration"):
                    if gp.child_by_field_name("left") == p:
                        return _NONE
                    lefts, rights = gs.assignment_sides(gp)
                    ids = [r.id for r in rights]
                    if len(lefts) == len(rights) and cur.id in ids and self.ctx.text(lefts[ids.index(cur.id)]) == "_":
                        return _NONE  # `_ = v` silences the compiler; it releases nothing
                    return _TRANSFER
                if gp is not None and gp.type == "range_clause":
                    return _NONE
                return _TRANSFER
            if pt in ("assignment_statement", "short_var_declaration") and p.child_by_field_name("left") == cur:
                return _NONE
            if pt == "send_statement":
                return _TRANSFER if p.child_by_field_name("value") == cur else _NONE
            if pt in ("index_expression", "slice_expression"):
                return _NONE if p.child_by_field_name("operand") == cur else _TRANSFER
            if pt in ("expression_statement", "inc_statement", "dec_statement", "if_statement",
                      "expression_switch_statement", "range_clause", "for_clause"):
                return _NONE
            if pt == "type_conversion_expression":
                cur = p
                continue
            return _TRANSFER


_CANNOT_HOLD = frozenset({
    "bool", "string", "error", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32",
    "uint64", "uintptr", "float32", "float64", "byte", "rune", "time.Duration",
})
"""Types of a result that cannot keep a file or a connection alive (`n, err := io.Copy(w, f)`)."""


def _root_name(ctx: FileContext, sel: Node) -> str:
    """The variable a field path starts from (`h` of `h.c.x`), '' when it is not a plain name."""
    cur = sel
    while cur.type == "selector_expression":
        op = cur.child_by_field_name("operand")
        if op is None:
            return ""
        cur = op
    return ctx.text(cur) if cur.type == "identifier" else ""


def _clear_fresh(s: set[State]) -> set[State]:
    """The states where the acquisition's own error is non-nil: the value is nil, nothing to release."""
    return {(False, f) if f else (h, f) for h, f in s}


def _release_all(s: set[State]) -> set[State]:
    return {(False, f) for _, f in s}


def _contains(outer: Node, inner: Node) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def _strip(n: Node) -> Node:
    while n.type == "parenthesized_expression" and n.named_children:
        n = n.named_children[0]
    return n


def _strip_opt(n: Node | None) -> Node | None:
    return _strip(n) if n is not None else None


def _compact(s: str) -> str:
    return "".join(s.split())


def _named_results(ctx: FileContext, fn: Node) -> set[str]:
    res = fn.child_by_field_name("result")
    out: set[str] = set()
    if res is not None and res.type == "parameter_list":
        for p in res.named_children:
            out.update(ctx.text(x) for x in p.children_by_field_name("name"))
    return out


def _is_terminator(ctx: FileContext, n: Node) -> bool:
    if n.type != "expression_statement":
        return False
    call = _strip(n.named_children[0]) if n.named_children else None
    if call is None or call.type != "call_expression":
        return False
    name = gs.qualified_call_name(ctx, call)
    if name in _TERMINATORS:
        return True
    fn = call.child_by_field_name("function")
    if fn is not None and fn.type == "selector_expression":
        return ctx.text(fn.child_by_field_name("field")) in _TERMINATING_METHODS
    return False


def is_terminator(ctx: FileContext, stmt: Node) -> bool:
    """True if the statement ends the path: panic, os.Exit, log.Fatal*, t.Fatal*, FailNow, Goexit."""
    return _is_terminator(ctx, stmt)


# ---------------------------------------------------------------------- callees

_PROCESS_SINKS = frozenset({
    "log.SetOutput", "log.Default().SetOutput", "log/slog.SetDefault", "github.com/sirupsen/logrus.SetOutput",
    "k8s.io/klog/v2.SetOutput", "google.golang.org/grpc/grpclog.SetLoggerV2", "go.uber.org/zap.ReplaceGlobals",
})
"""Calls that install what they are handed as the process's logger or log output: it lives for the process."""

_LOG_WRAPPERS = frozenset({
    "log.New", "log/slog.New", "log/slog.NewTextHandler", "log/slog.NewJSONHandler",
    "google.golang.org/grpc/grpclog.NewLoggerV2", "go.uber.org/zap.New", "go.uber.org/zap/zapcore.NewCore",
    "go.uber.org/zap/zapcore.AddSync", "go.uber.org/zap/zapcore.Lock",
})
"""Loggers and handlers whose result writes to the writer they are handed (the file lives as long as they do)."""

_HOLDING_WRAPPERS = _LOG_WRAPPERS | _WRAPPERS
"""Calls whose result keeps the value it is handed (a logger on a file, a writer around it)."""


def _to_process_owner(ctx: FileContext, node: Node, depth: int) -> bool:
    """Does the value of `node` end up owned by the process: handed to a process-wide sink
    (`log.SetOutput(f)`, `slog.SetDefault(...)`), or stored in a package-level variable or
    `os.Stdout`, directly or through writers and loggers that wrap it
    (`log.SetOutput(io.MultiWriter(os.Stdout, f))`, `l := slog.New(slog.NewTextHandler(f, nil));
    slog.SetDefault(l)`)?

    A file handed over this way is meant to stay open for the rest of the process (a test
    binary's log file set up once from TestMain): nothing can close it through its new owner,
    and closing it would break logging. A wrapper that stays local (`sc := bufio.NewScanner(f)`)
    does not count: the file still leaks when the function returns.
    """
    if depth > 4:
        return False
    cur = node
    p = cur.parent
    while p is not None and p.type == "parenthesized_expression":
        cur, p = p, p.parent
    if p is None:
        return False
    if p.type == "argument_list":
        call = p.parent
        if call is None or call.type != "call_expression":
            return False
        qual = gs.qualified_call_name(ctx, call)
        if qual in _PROCESS_SINKS:
            return True
        return (qual in _WRAPPERS or qual in _LOG_WRAPPERS) and _to_process_owner(ctx, call, depth + 1)
    if depth == 0:
        return False  # the value itself stored anywhere is a transfer already; this is for its wrappers
    if p.type == "expression_list" and p.parent is not None:
        stmt = p.parent
        if stmt.type not in ("assignment_statement", "short_var_declaration", "var_spec"):
            return False
        lefts, rights = gs.assignment_sides(stmt)
        ids = [r.id for r in rights]
        if cur.id not in ids or len(lefts) != len(rights):
            return False
        left = lefts[ids.index(cur.id)]
        if stmt.type == "assignment_statement" and not gs.is_define(stmt) and _is_process_wide(ctx, left):
            return True
        fn = gs.enclosing_function(stmt)
        if fn is None or left.type != "identifier":
            return False
        name = ctx.text(left)
        # a local, declared here or before (`var logOut io.Writer = os.Stdout; ...; logOut = io.MultiWriter(logOut,
        # f); logrus.SetOutput(logOut)`: wost-go's SetLogging, held-out set 122): whatever it is handed on to
        return any(
            use.id != left.id and use.start_byte > stmt.start_byte and _to_process_owner(ctx, use, depth + 1)
            for use in gs.identifiers(ctx, fn, name)
        )
    return False


def _is_process_wide(ctx: FileContext, left: Node) -> bool:
    """A package-level variable (`logOut = ...`), another package's (`os.Stdout = ...`), or a field of a
    package-level variable of this package (`Logger.Out = mw`: gophish's logrus logger, set up once from
    its config, held-out set 76)."""
    if left.type == "identifier":
        return not gs.is_local_name(ctx, left, ctx.text(left)) and ctx.text(left) != "_"
    if left.type == "selector_expression":
        operand = left.child_by_field_name("operand")
        if operand is not None and operand.type == "identifier" and ctx.text(operand) in gs.imports(ctx):
            return True
        return _package_variable(ctx, left, _root_name(ctx, left))
    return False


def _package_variable(ctx: FileContext, at: Node, name: str) -> bool:
    """`name`, read at `at`, is a package-level variable of this package: declared by a package-level `var`,
    and not a local, a parameter or a receiver of the functions around `at` (which would shadow it)."""
    from leakhunter.source.program.types import own_package

    if not name or name == "_" or name not in own_package(ctx).vars or gs.is_local_name(ctx, at, name):
        return False
    fn = gs.enclosing_function(at)
    while fn is not None:
        if fn.type == "method_declaration" and name in {n for n, _ in gs.parameters(ctx, fn, "receiver")}:
            return False
        fn = gs.enclosing_function(fn)
    return True



def callee_effect(ctx: FileContext, call: Node, index: int) -> int:
    """What a call does with the value passed as its argument `index`: nothing, or take it over.

    Known-neutral library functions and same-package helpers that neither release nor
    keep that parameter leave the value with the caller; any other callee is assumed to
    take ownership (a finding there would be a guess).
    """
    fn = call.child_by_field_name("function")
    if fn is None:
        return _TRANSFER
    fn = _strip(fn)
    if fn.type == "func_literal" or (fn.type in ("identifier", "selector_expression") and not _is_import_call(ctx, fn)):
        from leakhunter.source.program.summaries import param_effect

        summary = param_effect(ctx, call, index)
        if summary == "release":
            return _RELEASE
        if summary == "none":
            return _NONE
        if summary == "keep":
            return _TRANSFER
    if fn.type == "identifier":
        name = ctx.text(fn)
        if name in _BUILTIN_NEUTRAL:
            return _NONE
        if name == "append" or name == "panic":
            return _TRANSFER
        if name in gs.local_names(ctx, gs.enclosing_function(call) or ctx.tree.root_node):
            return _TRANSFER
        return _NONE if _helper_neutral(ctx, name, False, index) else _TRANSFER
    if fn.type == "selector_expression":
        qual = gs.qualified_call_name(ctx, call)
        head = gs.call_name(ctx, call).partition(".")[0]
        if head in gs.imports(ctx):
            pkg = qual.rpartition(".")[0]
            if qual in _NEUTRAL_FUNCS or pkg in _NEUTRAL_PACKAGES:
                return _NONE
            return _imported_effect(ctx, call, index)
        method = ctx.text(fn.child_by_field_name("field"))
        return _NONE if _helper_neutral(ctx, method, True, index) else _TRANSFER
    return _TRANSFER


def _imported_effect(ctx: FileContext, call: Node, index: int) -> int:
    """A function of another package of the module (or a dependency) whose body the program model
    can read: what it does with the argument, as for a helper of this package. Without it, handing
    a file to `util.CalculateContentMD5(f, size)` read as giving it away, and every later exit was
    excused: bce-sdk-go's upload bodies (held-out set 14) were reported only on an impossible `Stat`
    branch, never on the md5 failure that leaks. Standard library functions not listed as neutral
    stay a transfer (`http.NewRequest` takes a body's Close through a type assertion)."""
    from leakhunter.source.program.callsites import call_declaration
    from leakhunter.source.program.summaries import effect_in_declaration

    found = call_declaration(ctx, call)
    if found is None:
        return _TRANSFER
    summary = effect_in_declaration(found[0], found[1], index)
    if summary == "release":
        return _RELEASE
    if summary == "none":
        return _NONE
    return _TRANSFER


def _is_import_call(ctx: FileContext, fn: Node) -> bool:
    if fn.type != "selector_expression":
        return False
    op = fn.child_by_field_name("operand")
    return op is not None and op.type == "identifier" and ctx.text(op) in gs.imports(ctx)


@dataclass
class _PackageDecls:
    """Top-level functions and methods of the package by name, and the names interfaces declare.

    Helpers are judged on demand (most values are never handed to a same-package
    helper), and only their own bodies are walked.
    """

    funcs: dict[str, list[tuple[FileContext, Node]]]
    methods: dict[str, list[tuple[FileContext, Node]]]
    interface_methods: frozenset[str]
    memo: dict[tuple[int, int, int], bool] = field(default_factory=dict)


def _package_decls(ctx: FileContext) -> _PackageDecls:
    cached = ctx.cache.get("release.decls")
    if isinstance(cached, _PackageDecls):
        return cached
    from leakhunter.source.gopackage import package_files

    funcs: dict[str, list[tuple[FileContext, Node]]] = {}
    methods: dict[str, list[tuple[FileContext, Node]]] = {}
    iface: set[str] = set()
    for f in package_files(ctx):
        for decl in f.tree.root_node.named_children:
            if decl.type == "function_declaration":
                funcs.setdefault(f.text(decl.child_by_field_name("name")), []).append((f, decl))
            elif decl.type == "method_declaration":
                methods.setdefault(f.text(decl.child_by_field_name("name")), []).append((f, decl))
            elif decl.type == "type_declaration":
                for elem in _raw_nodes(decl, "method_elem"):
                    nn = elem.child_by_field_name("name") or (elem.named_children[0] if elem.named_children else None)
                    iface.add(f.text(nn))
    out = _PackageDecls(funcs, methods, frozenset(iface))
    ctx.cache["release.decls"] = out
    return out


def _helper_neutral(ctx: FileContext, name: str, method: bool, index: int) -> bool:
    """True if every same-package function (or method) `name` only reads its parameter `index`.

    A method name that some interface of the package declares may be called through
    that interface, reaching implementations elsewhere: never neutral.
    """
    if not method:
        # a package-level function name is unique in its package (build tags aside): when this
        # file declares it, judge it here without reading the sibling files
        own = [d for d in ctx.tree.root_node.named_children
               if d.type == "function_declaration" and ctx.text(d.child_by_field_name("name")) == name]
        if own:
            memo = ctx.cache.setdefault("release.own_neutral", {})
            assert isinstance(memo, dict)
            own_key = (name, index)
            if own_key not in memo:
                memo[own_key] = all(_decl_param_neutral(ctx, d, index) for d in own)
            return bool(memo[own_key])
    decls = _package_decls(ctx)
    if method and name in decls.interface_methods:
        return False
    cands = (decls.methods if method else decls.funcs).get(name)
    if not cands:
        return False
    for f, decl in cands:
        key = (id(f), decl.start_byte, index)
        ok = decls.memo.get(key)
        if ok is None:
            ok = _decl_param_neutral(f, decl, index)
            decls.memo[key] = ok
        if not ok:
            return False
    return True


def _decl_param_neutral(ctx: FileContext, decl: Node, index: int) -> bool:
    body = decl.child_by_field_name("body")
    params = gs.parameters(ctx, decl)
    if body is None or not params:
        return False
    if index >= len(params):
        if not params[-1][1].startswith("..."):
            return False
        index = len(params) - 1
    name = params[index][0]
    if not name or name == "_":
        return False
    return _param_is_neutral(ctx, decl, _identifier_uses(body).get(name, []))


def _raw_nodes(root: Node, node_type: str) -> Iterator[Node]:
    """Nodes of one type under `root` by a plain traversal: sibling files are read once, and
    building gosyntax's full index for each of them would cost more than the walk."""
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == node_type:
            yield n
        stack.extend(n.children)


def _identifier_uses(body: Node) -> dict[str, list[Node]]:
    out: dict[str, list[Node]] = {}
    for n in _raw_nodes(body, "identifier"):
        out.setdefault(n.text.decode("utf-8", "replace") if n.text else "", []).append(n)
    return out


def _raw_imports(ctx: FileContext) -> dict[str, str]:
    cached = ctx.cache.get("release.imports")
    if isinstance(cached, dict):
        return cached
    out: dict[str, str] = {}
    for decl in ctx.tree.root_node.named_children:
        if decl.type != "import_declaration":
            continue
        for spec in _raw_nodes(decl, "import_spec"):
            path = ctx.text(spec.child_by_field_name("path")).strip('"`')
            name = spec.child_by_field_name("name")
            if name is None:
                out[ctx.import_name(path)] = path
            elif name.type == "package_identifier":
                out[ctx.text(name)] = path
    ctx.cache["release.imports"] = out
    return out


def _param_is_neutral(ctx: FileContext, decl: Node, uses: list[Node]) -> bool:
    """True if the function body only reads the parameter whose uses are given (never releases,
    stores or hands it on)."""
    for use in uses:
        if gs.enclosing_function(use) != decl:
            return False  # captured by a closure
        p = use.parent
        if p is not None and p.type in ("short_var_declaration", "var_spec", "parameter_declaration"):
            return False  # shadowed: too clever to follow
        if _uses_as_helper_neutral(ctx, use) != _NONE:
            return False
    return True


def _uses_as_helper_neutral(ctx: FileContext, use: Node) -> int:
    # callee_effect would recurse into helper facts while they are being computed:
    # inside helpers, any call taking the parameter counts as a hand-over unless it is
    # a known-neutral library function.
    cur = use
    while True:
        p = cur.parent
        if p is None or p.type not in ("parenthesized_expression", "selector_expression", "unary_expression"):
            break
        if p.type == "selector_expression":
            gp = p.parent
            is_call = gp is not None and gp.type == "call_expression" and gp.child_by_field_name("function") == p
            fld = ctx.text(p.child_by_field_name("field"))
            if is_call:
                return _RELEASE if fld in UNIVERSAL_RELEASE else _NONE
            if fld in UNIVERSAL_RELEASE:
                return _TRANSFER
        cur = p
    p = cur.parent
    if p is not None and p.type == "argument_list" and p.parent is not None:
        call = p.parent
        fn = call.child_by_field_name("function")
        if fn is not None and fn.type == "identifier" and ctx.text(fn) in _BUILTIN_NEUTRAL:
            return _NONE
        if fn is not None and fn.type == "selector_expression":
            head, _, rest = gs.call_name(ctx, call).partition(".")
            path = _raw_imports(ctx).get(head)
            if path is not None:
                qual = f"{path}.{rest}"
                if qual in _NEUTRAL_FUNCS or path in _NEUTRAL_PACKAGES:
                    return _NONE
        return _TRANSFER
    if p is not None and p.type in ("binary_expression", "expression_statement", "if_statement", "index_expression"):
        return _NONE
    if p is not None and p.type == "expression_list" and p.parent is not None:
        gp = p.parent
        if gp.type in ("assignment_statement", "short_var_declaration") and gp.child_by_field_name("left") == p:
            return _NONE
    return _TRANSFER


# ---------------------------------------------------------------------- entry points


def analyze(
    ctx: FileContext,
    fn: Node,
    *,
    acquisition: Node | None,
    var: str,
    spec: ReleaseSpec,
    err_var: str | None = None,
) -> ReleaseResult:
    """Exits of `fn` reachable from `acquisition` where `var` is still held (see module doc)."""
    return _Flow(ctx, fn, acquisition, var, spec, err_var).run()


def acquisition_statement(node: Node) -> Node | None:
    """The statement (short var decl, assignment, var_spec) whose right side holds `node`."""
    for p in gs.ancestors(node):
        if p.type in ("short_var_declaration", "assignment_statement", "var_spec"):
            return p
        if p.type in gs.FUNC_TYPES or p.type.endswith("_statement") or p.type == "block":
            return None
    return None


def is_local_target(ctx: FileContext, fn: Node, stmt: Node, name: str) -> bool:
    """True if `name`, assigned by `stmt`, is a local variable of `fn` (not a global or a field).

    Values put straight into a field, a global or an outer function's variable belong
    to someone else: those acquisitions are not the function's to release.
    """
    if name in ("", "_") or "." in name or "[" in name:
        return False
    if stmt.type in ("short_var_declaration", "var_spec"):
        return True
    return name in gs.local_names(ctx, fn) and name not in _named_results(ctx, fn)


def functions_with_calls(ctx: FileContext, names: Iterable[str]) -> list[Node]:
    """Call expressions in the file whose import-qualified callee is one of `names`."""
    wanted = frozenset(names)
    return [c for c in gs.nodes_of_type(ctx, "call_expression") if gs.qualified_call_name(ctx, c) in wanted]


def exits(ctx: FileContext, fn: Node) -> list[Exit]:
    """The reachable exits of `fn` (returns and a reachable end of body); [] if it never returns.

    A function whose every path loops forever, panics or exits the process has none:
    what it holds, it holds for the life of the program (or of its goroutine).
    With `goto` the answer is unknown and every return counts as reachable.
    """
    res = _Flow(ctx, fn, None, "\x00", ReleaseSpec(), None).run()
    if res.gave_up:
        body = fn.child_by_field_name("body")
        rets = list(gs.walk(body, "return_statement")) if body is not None else []
        return [Exit(r, "return") for r in rets]
    return res.leaks


def can_return(ctx: FileContext, fn: Node) -> bool:
    """True if some path of `fn` reaches a return or the end of its body."""
    body = fn.child_by_field_name("body")
    if body is None:
        return True
    res = _Flow(ctx, fn, None, "\x00", ReleaseSpec(), None).run()
    if res.gave_up:
        return True
    # a function with results cannot fall off its end; the flow records no "end" exit for it
    return bool(res.leaks)
