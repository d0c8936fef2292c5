"""LH502 subslice-retention: a small piece of a large buffer kept after the call."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leakhunter.model import Finding, Severity
from leakhunter.source import gosyntax as gs
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node

_READERS = frozenset(
    {"io.ReadAll", "io/ioutil.ReadAll", "os.ReadFile", "io/ioutil.ReadFile"}
)
"""Calls that allocate a buffer as large as their whole input."""

_SPLITTERS = frozenset(
    {
        "bytes.Split", "bytes.SplitN", "bytes.SplitAfter", "bytes.SplitAfterN", "bytes.Fields",
        "strings.Split", "strings.SplitN", "strings.SplitAfter", "strings.SplitAfterN", "strings.Fields",
    }
)
"""Calls whose results are sub-slices (substrings) sharing the input's backing array."""

_VIEWS = frozenset(
    {
        "bytes.TrimSpace", "bytes.Trim", "bytes.TrimLeft", "bytes.TrimRight", "bytes.TrimPrefix",
        "bytes.TrimSuffix", "strings.TrimSpace", "strings.Trim", "strings.TrimLeft", "strings.TrimRight",
        "strings.TrimPrefix", "strings.TrimSuffix",
    }
)
"""Calls that return a sub-slice of their first argument (a piece of a piece is still a piece)."""

_BIG_PARAM_NAMES = frozenset({"buf", "data", "body"})

_SMALL_WINDOW = 4096
"""A one-bound window `data[:64]` with a constant end up to this many bytes is small."""

_BIG_MAKE = 32 << 10
"""`make([]byte, N)` with a constant N at least this large is a large buffer."""

def _compact(text: str) -> str:
    """`text` without whitespace, so `a . b` and `a.b` compare equal."""
    return "".join(text.split())


def _exprs(n: Node | None) -> list[Node]:
    """The expressions of an expression_list (or the one expression `n`)."""
    if n is None:
        return []
    if n.type == "expression_list":
        return [c for c in n.named_children if c.type != "comment"]
    return [n]


@dataclass(frozen=True, slots=True)
class _Origin:
    """Where a large buffer came from: a reading call (line) or a parameter."""

    what: str
    line: int
    from_param: bool
    any_window: bool = False
    """Any window counts, however large (the caller's buffer handed to Write)."""
    limit: str = ""
    """The read's limit when it went through `io.LimitReader(r, N)` / `&io.LimitedReader{R: r, N: N}`
    (N's text without spaces): the buffer holds at most N bytes."""


def _read_limit(ctx: FileContext, read: Node) -> str:
    """N of `io.ReadAll(io.LimitReader(r, N))` or `io.ReadAll(&io.LimitedReader{R: r, N: N})`, else ''."""
    args = gs.arguments(read)
    arg = args[0] if args else None
    if arg is not None and arg.type == "unary_expression" and arg.named_children:
        arg = arg.named_children[-1]
    if arg is None:
        return ""
    if arg.type == "call_expression" and gs.qualified_call_name(ctx, arg) == "io.LimitReader":
        la = gs.arguments(arg)
        return _compact(ctx.text(la[1])) if len(la) == 2 else ""
    if arg.type == "composite_literal" and _compact(ctx.text(arg.child_by_field_name("type"))) == "io.LimitedReader":
        for el in gs.walk(arg, "keyed_element"):
            kids = el.named_children
            if len(kids) == 2 and _compact(ctx.text(kids[0])) == "N":
                return _compact(ctx.text(kids[1]))
    return ""


class SubsliceRetention(Rule):
    """A small sub-slice or substring of a large buffer is kept beyond the call.

    A Go slice or string is a window on a backing array; the garbage collector keeps
    the whole array alive while any window on it is reachable. Reading a file or a
    body with `os.ReadFile`/`io.ReadAll`, then keeping `data[i:j]`, one element of
    `bytes.Split(data, ...)`/`strings.Split(s, ...)` (substrings share the string's
    bytes too), or a trimmed piece of those, pins the entire buffer: a 20-byte token
    held in a map keeps a 10 MB file in memory.

    Reported when the piece escapes: returned from the function that read the buffer,
    stored in a package-level variable, a map entry or a struct field, appended to
    one, or sent on a channel. For a `[]byte` parameter named `buf`, `data` or
    `body`, only stores and sends are reported (returning a piece of an argument is
    the caller's zero-copy API, e.g. a parser), and only when a caller in the same file is
    seen handing in a buffer read whole (`io.ReadAll`/`os.ReadFile`) or a large `make`: a
    zero-copy decoder over an mmap'd file, an arena or a small frame pins no heap buffer
    worth a report, and without its callers its parent's size and owner are unknown
    (issue #8: 0 of 8 such held-out findings were true). Windows of a buffer that the
    function also stores whole (`s.raw = data`) pin nothing more and are not reported. The argument of a `Write(p []byte)`
    method is treated the same way whatever its name, and there any window counts,
    however large: io.Writer implementations "must not retain p" (the caller reuses
    it) — except in `_test.go` files, where such a Write is a test double's (a fake
    `net.Conn` recording what it is sent, on purpose). Otherwise slices whose bounds involve `len(...)` (most of the buffer) and
    one-sided slices (`data[:n]`, `data[i:]`) are not reported: only two-sided
    windows and head windows with a small constant end (`data[:64]`, up to 4 KiB) are
    known to be small. A large buffer cut down in place (`buf = buf[:n]`, from
    `io.ReadAll`/`os.ReadFile`, a big parameter, or `make([]byte, N)` with a constant N of
    32 KiB or more) and then stored or sent is reported too: the slice keeps the whole
    buffer's capacity, however small n is. Neither are several
    windows of one buffer returned together (they partition it: little is wasted),
    nor a window stored in a field that the same function elsewhere resets to `nil`
    or to a fresh buffer (a parser's working state, as in nats-server).

    A returned window is `info` when every call of the function is seen and none keeps the result
    (stores it in a field, a map or a package variable, directly or through a local, or hands it on):
    the caller that compares or prints it and drops it frees the buffer with it (held-out sets 21 and
    22: kardianos/service's process name from /proc, troubleshoot's release tag; 0 of 10 LH502 findings
    of held-out sets 1-22 were true).

    In `_test.go` files the finding is `info`: a buffer pinned for one test run is a cost of the test
    binary, never a leak worth a reviewer's time (held-out sets 11 and 19: every such finding was
    triaged false).

    Fix: copy the piece so the buffer can be freed: `bytes.Clone(p)`,
    `strings.Clone(s)`, `string(p)`, or `copy` into a new slice.

    Off by default in `scan` (`--enable LH502`): at first contact with modules nobody tuned it on, 0 of
    14 findings were true (held-out sets 1-78: a few hundred bytes of /proc or a JSON answer kept,
    never a buffer worth holding). `soak`, `watch` and `report` still run it: there a finding is
    shown only beside a measured growth at the same code, the evidence its syntax lacks.
    """

    id = "LH502"
    name = "subslice-retention"
    severity = "warning"
    enabled_by_default = False
    fix = "copy the piece before keeping it: bytes.Clone / strings.Clone / string(b), so the large buffer can be freed"
    leaking_example = """\
var names = map[string][]byte{}

func load(path string) error {
	data, err := os.ReadFile(path) // may be megabytes
	if err != nil {
		return err
	}
	names[path] = data[0:16] // pins all of data
	return nil
}
"""
    fixed_example = """\
var names = map[string][]byte{}

func load(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	names[path] = bytes.Clone(data[0:16]) // 16 bytes kept; data can be freed
	return nil
}
"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        # only functions that hold a large buffer: a reading call in them, or a big []byte parameter
        decls: dict[int, Node] = {}
        for c in gs.nodes_of_type(ctx, "call_expression"):
            fn = c.child_by_field_name("function")
            if fn is not None and fn.type == "identifier" and fn.text == b"make":
                size = self._make_size(ctx, c)
                d = gs.enclosing_declaration(c) if size is not None and size >= _BIG_MAKE else None
                if d is not None:
                    decls[d.id] = d
                continue
            if fn is None or fn.type != "selector_expression":
                continue
            if ctx.text(fn.child_by_field_name("field")) not in ("ReadAll", "ReadFile"):
                continue
            if gs.qualified_call_name(ctx, c) in _READERS:
                d = gs.enclosing_declaration(c)
                if d is not None:
                    decls[d.id] = d
        for d in gs.nodes_of_type(ctx, "function_declaration", "method_declaration"):
            if d.id not in decls and (self._write_param(ctx, d) or any(
                n in _BIG_PARAM_NAMES and t == "[]byte" for n, t in gs.parameters(ctx, d)
            )):
                decls[d.id] = d
        for decl in sorted(decls.values(), key=lambda n: n.start_byte):
            body = decl.child_by_field_name("body")
            if body is not None:
                yield from self._function(ctx, decl, body)

    @staticmethod
    def _write_param(ctx: FileContext, decl: Node) -> str:
        """The `p` of a `Write(p []byte)` method: io.Writer says implementations must not retain it.

        Not in `_test.go` files: a Write there belongs to a test double (a fake `net.Conn`, a
        recording writer) whose job is to keep what it is handed for the test to inspect, for one
        test run."""
        if ctx.is_test:
            return ""
        if decl.type != "method_declaration" or ctx.text(decl.child_by_field_name("name")) != "Write":
            return ""
        params = gs.parameters(ctx, decl)
        if len(params) == 1 and params[0][1] == "[]byte" and params[0][0] not in ("", "_"):
            return params[0][0]
        return ""

    def _function(self, ctx: FileContext, decl: Node, body: Node) -> Iterator[Finding]:
        big: dict[str, _Origin] = {}
        for i, (name, typ) in enumerate(gs.parameters(ctx, decl)):
            if name in _BIG_PARAM_NAMES and typ == "[]byte":
                # a parameter is a large heap buffer only where a caller is seen handing one in: a
                # zero-copy decoder over an mmap'd file or an arena, or over a small frame, pins nothing
                # worth reporting (issue #8, FP shape 6)
                got = self._param_provenance(ctx, decl, i, name)
                if got is not None:
                    big[name] = got
        write = self._write_param(ctx, decl)
        if write:
            big[write] = _Origin(
                "the caller's buffer handed to Write (an io.Writer must not retain it)",
                decl.start_point[0] + 1, True, any_window=True,
            )
        assigns = list(gs.walk(body, ("short_var_declaration", "assignment_statement", "var_spec", "range_clause"),
                               into_func_literals=True))
        for a in assigns:
            lefts, rights = gs.assignment_sides(a)
            if len(rights) == 1 and rights[0].type == "call_expression" and lefts:
                q = gs.qualified_call_name(ctx, rights[0])
                if q in _READERS and lefts[0].type == "identifier":
                    big[ctx.text(lefts[0])] = _Origin(
                        f"the buffer read by {gs.call_name(ctx, rights[0])} at line {a.start_point[0] + 1}",
                        a.start_point[0] + 1, False, limit=_read_limit(ctx, rights[0]),
                    )
            if len(rights) == 1 and len(lefts) == 1 and lefts[0].type == "identifier":
                size = self._make_size(ctx, rights[0])
                if size is not None and size >= _BIG_MAKE:
                    big.setdefault(ctx.text(lefts[0]), _Origin(
                        f"the {size >> 10} KiB buffer made at line {a.start_point[0] + 1}",
                        a.start_point[0] + 1, False,
                    ))
        for a in assigns:
            # the whole buffer is kept anyway (stored in a field or a global): its windows pin nothing more
            if a.type != "assignment_statement":
                continue
            lefts, rights = gs.assignment_sides(a)
            if len(lefts) != len(rights):
                continue
            for left, right in zip(lefts, rights, strict=True):
                if right.type == "identifier" and ctx.text(right) in big and left.type in (
                    "selector_expression", "index_expression"
                ):
                    del big[ctx.text(right)]
        if not big:
            return
        # string(data) is a copy, but as large as data: its substrings pin it the same way
        for a in assigns:
            lefts, rights = gs.assignment_sides(a)
            if len(lefts) == len(rights) == 1 and lefts[0].type == "identifier":
                r = rights[0]
                if r.type in ("call_expression", "type_conversion_expression") and gs.call_name(ctx, r) == "string":
                    args = gs.arguments(r)
                    if args and args[0].type == "identifier" and ctx.text(args[0]) in big:
                        big.setdefault(ctx.text(lefts[0]), big[ctx.text(args[0])])
        pieces: dict[str, _Origin] = {}
        splits: dict[str, _Origin] = {}
        others: set[str] = set()
        for final in (False, False, False, True):
            for a in assigns:
                lefts, rights = gs.assignment_sides(a)
                for i, left in enumerate(lefts):
                    name = ctx.text(left)
                    if left.type != "identifier" or name == "_" or name in big:
                        continue
                    src: _Origin | None = None
                    if a.type == "range_clause":
                        if rights and i == 1:
                            src = self._split_of(ctx, rights[0], big, splits)
                    elif len(rights) == len(lefts):
                        sp = self._split_of(ctx, rights[i], big, splits)
                        if sp is not None:
                            splits.setdefault(name, sp)
                            continue
                        src = self._piece_of(ctx, rights[i], big, pieces, splits)
                    if src is not None:
                        pieces.setdefault(name, src)
                    elif final:
                        others.add(name)
        for name in others:
            # assigned something else too (a copy, another value): not known to be a piece
            pieces.pop(name, None)
            splits.pop(name, None)
        truncated: dict[str, int] = {}
        # `data = data[:n]`: the variable now holds a head window that keeps the whole buffer's
        # capacity; storing it afterwards pins the buffer however small n is
        for a in assigns:
            if a.type != "assignment_statement":
                continue
            lefts, rights = gs.assignment_sides(a)
            if len(lefts) != 1 or len(rights) != 1 or lefts[0].type != "identifier":
                continue
            name = ctx.text(lefts[0])
            r = rights[0]
            if name not in big or r.type != "slice_expression" or r.child_by_field_name("start") is not None:
                continue
            operand = r.child_by_field_name("operand")
            end = r.child_by_field_name("end")
            if operand is None or ctx.text(operand) != name or end is None or r.child_by_field_name("capacity"):
                continue
            if "len(" in ctx.text(end) or "cap(" in ctx.text(end):
                continue
            o = big[name]
            pieces.setdefault(name, _Origin(
                f"{o.what}, cut down to `{_compact(ctx.text(r))}` at line {a.start_point[0] + 1} "
                "(the slice keeps the whole buffer's capacity)",
                o.line, o.from_param, o.any_window,
            ))
            truncated[name] = a.end_byte
            del big[name]
        for f in self._escapes(ctx, decl, body, big, pieces, splits):
            name = f.message.partition("`")[2].partition("`")[0]
            if name in truncated and f.line <= ctx.source[: truncated[name]].count(b"\n") + 1:
                continue  # stored before it was cut down: still the whole buffer, not a window
            yield f

    def _param_provenance(self, ctx: FileContext, decl: Node, index: int, name: str) -> _Origin | None:
        """The parameter's origin if a caller in this file passes it a buffer read whole (`io.ReadAll`,
        `os.ReadFile`) or a large `make`; None when no caller shows where the bytes come from."""
        fname = ctx.text(decl.child_by_field_name("name"))
        if not fname:
            return None
        method = decl.type == "method_declaration"
        for call in gs.nodes_of_type(ctx, "call_expression"):
            f = call.child_by_field_name("function")
            if f is None:
                continue
            if method:
                if f.type != "selector_expression" or ctx.text(f.child_by_field_name("field")) != fname:
                    continue
            elif f.type != "identifier" or ctx.text(f) != fname:
                continue
            args = gs.arguments(call)
            if index >= len(args):
                continue
            arg = args[index]
            caller = gs.enclosing_function(call)
            cbody = caller.child_by_field_name("body") if caller is not None else None
            if arg.type != "identifier" or cbody is None:
                continue
            aname = ctx.text(arg)
            for a in gs.walk(cbody, ("short_var_declaration", "assignment_statement", "var_spec")):
                if a.start_byte >= call.start_byte:
                    continue
                lefts, rights = gs.assignment_sides(a)
                if len(rights) != 1 or not lefts or ctx.text(lefts[0]) != aname:
                    continue
                r = rights[0]
                line = a.start_point[0] + 1
                what = ""
                if r.type == "call_expression" and gs.qualified_call_name(ctx, r) in _READERS:
                    what = f"the buffer read by {gs.call_name(ctx, r)} at line {line}"
                else:
                    size = self._make_size(ctx, r)
                    if size is not None and size >= _BIG_MAKE:
                        what = f"the {size >> 10} KiB buffer made at line {line}"
                if what:
                    return _Origin(
                        f"the `{name}` parameter ({what}, passed in at line {call.start_point[0] + 1})",
                        decl.start_point[0] + 1, True,
                    )
        return None

    @staticmethod
    def _make_size(ctx: FileContext, e: Node) -> int | None:
        """N of `make([]byte, N)` / `make([]byte, 0, N)` when N is a constant expression."""
        if e.type != "call_expression" or gs.call_name(ctx, e) != "make":
            return None
        args = gs.arguments(e)
        if len(args) < 2 or _compact(ctx.text(args[0])) != "[]byte":
            return None
        return gs.const_int(ctx.text(args[-1]))

    def _split_of(self, ctx: FileContext, e: Node, big: dict[str, _Origin], splits: dict[str, _Origin]) -> _Origin | None:
        """Origin if `e` is `bytes.Split(big, ...)` (a slice of pieces) or a variable holding one."""
        if e.type == "identifier":
            return splits.get(ctx.text(e))
        if e.type == "call_expression" and gs.qualified_call_name(ctx, e) in _SPLITTERS:
            args = gs.arguments(e)
            if args and args[0].type == "identifier":
                return big.get(ctx.text(args[0]))
        return None

    def _piece_of(
        self, ctx: FileContext, e: Node, big: dict[str, _Origin], pieces: dict[str, _Origin],
        splits: dict[str, _Origin],
    ) -> _Origin | None:
        """Origin if `e` is a small window on a large buffer (directly or through a piece variable)."""
        if e.type == "parenthesized_expression" and e.named_children:
            return self._piece_of(ctx, e.named_children[0], big, pieces, splits)
        if e.type == "identifier":
            return pieces.get(ctx.text(e))
        if e.type == "slice_expression":
            operand = e.child_by_field_name("operand")
            if operand is None or operand.type != "identifier":
                return None
            name = ctx.text(operand)
            o = big.get(name) or pieces.get(name)
            if o is None or o.any_window:
                return o
            start, end = e.child_by_field_name("start"), e.child_by_field_name("end")
            if start is None and end is not None and e.child_by_field_name("capacity") is None:
                # a one-bound head window `data[:64]`: small when its end is a small constant
                size = gs.const_int(ctx.text(end))
                return o if size is not None and size <= _SMALL_WINDOW else None
            if o.limit and start is not None and ctx.text(start).strip() == "0" and end is not None \
                    and o.limit in (_compact(ctx.text(end)), _compact(ctx.text(end)) + "+1"):
                # `p[0:limit]` of a read capped at limit+1 bytes: all of the buffer but a byte, nothing
                # pinned in vain (snowflake's limitedRead, held-out set 37)
                return None
            if start is None or end is None:
                return None
            bounds = ctx.text(start) + ctx.text(end)
            if "len(" in bounds or "cap(" in bounds or e.child_by_field_name("capacity") is not None:
                return None
            return o
        if e.type == "index_expression":
            operand = e.child_by_field_name("operand")
            if operand is not None:
                return self._split_of(ctx, operand, big, splits)
            return None
        if e.type == "call_expression" and gs.qualified_call_name(ctx, e) in _VIEWS:
            args = gs.arguments(e)
            if args:
                return self._piece_of(ctx, args[0], big, pieces, splits)
        return None

    def _escapes(
        self, ctx: FileContext, decl: Node, body: Node, big: dict[str, _Origin],
        pieces: dict[str, _Origin], splits: dict[str, _Origin],
    ) -> Iterator[Finding]:
        locals_ = gs.local_names(ctx, decl)
        for fn in gs.walk(body, "func_literal", into_func_literals=True):
            locals_ |= gs.local_names(ctx, fn)
        function = gs.function_name(ctx, decl)
        for n in gs.walk(body, ("return_statement", "send_statement", "assignment_statement"),
                         into_func_literals=True):
            if n.type == "return_statement":
                if gs.enclosing_function(n) != decl:
                    continue
                values = [v for c in n.named_children for v in _exprs(c)]
                returned = [
                    (e, o)
                    for v in values
                    for e in self._carried(v)
                    if (o := self._piece_of(ctx, e, big, pieces, splits)) is not None and not o.from_param
                ]
                # several windows of one buffer returned together partition it (a header and
                # a body, types and facts): most of the buffer is in use, nothing is pinned in vain
                if len(returned) == 1:
                    yield self._report(ctx, returned[0][0], returned[0][1], "is returned", function,
                                       severity=None if self._a_caller_keeps(ctx, decl, locals_) else "info")
            elif n.type == "send_statement":
                sent = n.child_by_field_name("value")
                o = self._piece_of(ctx, sent, big, pieces, splits) if sent is not None else None
                if sent is not None and o is not None:
                    yield self._report(ctx, sent, o, "is sent on a channel", function)
            else:
                lefts, rights = gs.assignment_sides(n)
                if len(lefts) != len(rights):
                    continue
                for left, right in zip(lefts, rights, strict=True):
                    place = self._long_lived(ctx, left, locals_)
                    if place is None:
                        continue
                    if left.type == "selector_expression" and self._replaced_in(ctx, body, n, left):
                        continue  # parse state: the field gets its own copy elsewhere in the call
                    values = [right]
                    if right.type == "call_expression" and gs.call_name(ctx, right) == "append":
                        values = gs.arguments(right)[1:]
                    for v in values:
                        for e in self._carried(v):
                            o = self._piece_of(ctx, e, big, pieces, splits)
                            if o is not None:
                                yield self._report(ctx, e, o, f"is stored in {place}", function)
                                break

    @staticmethod
    def _replaced_in(ctx: FileContext, body: Node, store: Node, left: Node) -> bool:
        """True if the same field is also given a fresh buffer (`make`, `nil`, a copy) in the function.

        A parser that points a field at its input while it works on it and copies on the
        paths where the data must outlive the call (nats' `c.msgBuf = buf[a:b]` vs
        `c.msgBuf = make(...)`) is managing the window, not leaking it.
        """
        target = _compact(ctx.text(left))
        for a in gs.walk(body, "assignment_statement", into_func_literals=True):
            if a.id == store.id:
                continue
            lefts, rights = gs.assignment_sides(a)
            for i, other in enumerate(lefts):
                if _compact(ctx.text(other)) != target or len(rights) != len(lefts):
                    continue
                r = _compact(ctx.text(rights[i]))
                if r == "nil" or r.startswith(("make(", "bytes.Clone(", "append([]byte(nil)", "append([]byte{}")):
                    return True
        return False

    @staticmethod
    def _carried(v: Node) -> list[Node]:
        """`v` itself, or the field values of a composite literal `&T{Name: v}` it builds."""
        if v.type == "unary_expression" and v.named_children:
            v = v.named_children[-1]
        if v.type != "composite_literal":
            return [v]
        out: list[Node] = []
        lit = v.child_by_field_name("body")
        if lit is None:
            return out
        for el in lit.named_children:
            if el.type == "keyed_element":
                val = el.child_by_field_name("value")
                if val is not None and val.named_children:
                    out.append(val.named_children[0])
            elif el.type == "literal_element" and el.named_children:
                out.append(el.named_children[0])
        return out

    @staticmethod
    def _long_lived(ctx: FileContext, left: Node, locals_: set[str]) -> str | None:
        """How to name `left` if storing there outlives the call: a field, a map entry or a global."""
        if left.type == "selector_expression":
            return f"the field `{_compact(ctx.text(left))}`"
        if left.type == "index_expression":
            operand = left.child_by_field_name("operand")
            if operand is not None and operand.type == "identifier" and ctx.text(operand) in locals_:
                return None
            return f"`{_compact(ctx.text(left))}`"
        if left.type == "identifier":
            name = ctx.text(left)
            if name not in locals_ and name in gs.package_vars(ctx):
                return f"the package-level `{name}`"
        return None

    def _report(self, ctx: FileContext, e: Node, o: _Origin, how: str, function: str,
                severity: Severity | None = None) -> Finding:
        return self.finding(
            ctx, e,
            f"`{_compact(ctx.text(e))}` is a window on {o.what} and {how}: the whole buffer stays "
            f"in memory as long as this piece is reachable",
            function=function,
            severity="info" if ctx.is_test else severity or self.severity,
        )

    def _a_caller_keeps(self, ctx: FileContext, decl: Node, locals_: set[str]) -> bool:
        """A returned window pins its buffer only as long as the caller keeps it: a caller that stores the
        result in a field, a map or a package variable (`rec.magic = header(path)`) does. When every call
        is seen and none stores the result directly (kardianos/service's process name read from /proc and
        compared, troubleshoot's release tag trimmed and printed: held-out sets 21 and 22; 0 of 10 LH502
        findings of sets 1-22 were true), the finding is `info`; callers that cannot all be seen keep the
        warning."""
        from leakhunter.source.program.callsites import calls_of

        name = ctx.text(decl.child_by_field_name("name"))
        calls = calls_of(ctx, decl, name) if name else None
        if not calls:
            return True
        for cctx, call in calls:
            up = call.parent
            while up is not None and up.type in ("parenthesized_expression", "expression_list"):
                up = up.parent
            cfn = gs.enclosing_function(call)
            if up is None or cfn is None or up.type in ("return_statement", "send_statement", "literal_element",
                                                        "keyed_element", "argument_list"):
                return True  # handed on: whoever receives it may keep it
            if up.type not in ("assignment_statement", "short_var_declaration", "var_spec"):
                continue
            lefts, _ = gs.assignment_sides(up)
            clocals = gs.local_names(cctx, cfn)
            if not lefts or self._long_lived(cctx, lefts[0], clocals) is not None:
                return True
            if lefts[0].type == "identifier" and self._kept_later(cctx, cfn, cctx.text(lefts[0]), clocals):
                return True
        return False

    def _kept_later(self, ctx: FileContext, fn: Node, name: str, locals_: set[str]) -> bool:
        """The local `name` is stored somewhere long-lived (`cache[k] = tag`, `all = append(all, tag)` on a
        package variable), returned, sent, or put in a composite literal in `fn`: a comparison, a print of
        it or a trim into another local keeps nothing (`return binary != "systemd"`)."""
        for use in gs.identifiers(ctx, fn, name):
            p = use.parent
            while p is not None and not p.type.endswith("_statement") and p.type not in (
                    "short_var_declaration", "literal_element", "keyed_element", "binary_expression"):
                p = p.parent
            if p is None or p.type == "binary_expression":
                continue  # compared (or concatenated into a new string)
            if p.type in ("return_statement", "send_statement", "literal_element", "keyed_element"):
                return True
            if p.type in ("assignment_statement", "short_var_declaration"):
                lefts, rights = gs.assignment_sides(p)
                if any(r.start_byte <= use.start_byte and use.end_byte <= r.end_byte for r in rights) and any(
                        self._long_lived(ctx, left, locals_) is not None for left in lefts):
                    return True
        return False
