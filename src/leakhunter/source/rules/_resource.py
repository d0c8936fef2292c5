"""What the close/stop/rollback rules share: find an acquisition, ask `release` about its paths.

A resource rule (LH301, LH304, LH401 to LH404) says which calls create its value and
what releases it; this module finds those calls, works out the variable and the
error that come back with it, skips values that are not the function's to release
(stored straight into a field or a global, returned directly, handed to another
call), runs the path analysis and words the finding the same way for every rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leakhunter.source import gosyntax as gs
from leakhunter.source.release import ReleaseResult, ReleaseSpec, analyze, is_local_target

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.model import Severity
    from leakhunter.source.rule import FileContext


def _compact(text: str) -> str:
    return "".join(text.split())


@dataclass(frozen=True)
class Acquisition:
    """One call that creates a value someone must release, and where its result goes."""

    call: Node
    callee: str
    """The callee as written (`http.Get`, `c.client.Do`)."""
    stmt: Node | None
    """The assignment holding the call, or None if the result is used in place."""
    var: str
    """The variable receiving the value; '_' if discarded, '' if not assigned to a name."""
    err_var: str | None
    fn: Node | None
    kind: str = ""
    """The resource kind the program model gives the call's result type ('' when matched by name only)."""

    @property
    def line(self) -> int:
        return int(self.call.start_point[0]) + 1


_RESOURCE_MEMBERS = frozenset({
    "Body", "StatusCode", "Next", "Scan", "Exec", "ExecContext", "QueryRow", "QueryRowContext", "Columns",
})
"""Members whose use hints that a variable holds a response, rows or a statement: only such
variables (or ones never really used) are worth asking the program model about, which keeps
`scan` from typing every call (`Close` is no hint: files and connections are closed too; nor
are `Get`/`Query`/`Select`, which key-value stores and caches have as well)."""


def _typed_candidate(ctx: FileContext, call: Node) -> bool:
    """Cheap syntactic screen before asking the program model for a call's result type."""
    parent = call.parent
    while parent is not None and parent.type == "parenthesized_expression":
        parent = parent.parent
    if parent is None or parent.type != "expression_list":
        return False
    holder = parent.parent
    if holder is None or holder.type not in ("short_var_declaration", "assignment_statement", "var_spec"):
        return False
    fnode = call.child_by_field_name("function")
    if fnode is None or fnode.type not in ("identifier", "selector_expression", "index_expression"):
        return False
    if fnode.type == "selector_expression":
        from leakhunter.source.program.types import STD_PACKAGES

        op = fnode.child_by_field_name("operand")
        path = gs.imports(ctx).get(ctx.text(op)) if op is not None and op.type == "identifier" else None
        if path is not None and "." not in path.partition("/")[0] and path not in STD_PACKAGES:
            return False  # a std package that hands out none of the tracked resources
    lefts, rights = gs.assignment_sides(holder)
    if len(rights) != 1 or not lefts:
        return False
    first = ctx.text(lefts[0])
    if first == "_":
        # `_, _ = fetch(u)`: a value and its error both dropped (a lone `_ = x.F()` is common and
        # rarely a resource)
        return len(lefts) >= 2 and all(ctx.text(x) == "_" for x in lefts)
    fn = gs.enclosing_function(call)
    body = fn.child_by_field_name("body") if fn is not None else None
    if fn is None or body is None or lefts[0].type != "identifier":
        return False
    for ident in _identifier_map(ctx, fn, body).get(first, ()):
        if ident.start_byte <= holder.end_byte:
            continue
        p = ident.parent
        if p is None:
            continue
        if p.type == "selector_expression" and ctx.text(p.child_by_field_name("field")) in _RESOURCE_MEMBERS:
            return True
        if p.type == "expression_list" and p.parent is not None and p.parent.type == "assignment_statement":
            lf, rt = gs.assignment_sides(p.parent)
            if len(lf) == len(rt) and ident in rt and ctx.text(lf[rt.index(ident)]) == "_":
                continue  # `_ = v`
        return False  # used in some other way: no sign of a resource, leave it to the name rules
    return True


def _identifier_map(ctx: FileContext, fn: Node, body: Node) -> dict[str, list[Node]]:
    """Identifiers of a function body by name, built in one walk (for the latest functions asked)."""
    memo = ctx.cache.setdefault("resource.idents", {})
    assert isinstance(memo, dict)
    got = memo.get(fn.id)
    if got is not None:
        return got  # type: ignore[no-any-return]
    got = {}
    for n in gs.walk(body, "identifier"):
        got.setdefault(n.text.decode("utf-8", "replace") if n.text else "", []).append(n)
    # only the last few functions' maps are kept: calls are visited in order (closures
    # interleave with their outer function), and keeping every function's identifiers of a
    # generated 1 MB file would cost hundreds of MB
    memo[fn.id] = got
    while len(memo) > 8:
        del memo[next(iter(memo))]
    return got


def typed_kind(ctx: FileContext, call: Node, *, screened: bool = True) -> str:
    """The resource kind of a call's result by declared type, for calls in acquisition position
    (memoised per file: several rules ask about the same calls). `screened=False` skips the
    cheap screen, for the few calls a rule already matched by name."""
    from leakhunter.source.program.summaries import created_resource

    if not screened:
        return created_resource(ctx, call)
    memo = ctx.cache.setdefault("resource.typed", {})
    assert isinstance(memo, dict)
    key = call.start_byte
    if key not in memo:
        memo[key] = created_resource(ctx, call) if _typed_candidate(ctx, call) else ""
    return str(memo[key])


def acquisitions(
    ctx: FileContext,
    match: Callable[[FileContext, Node], str | None],
    kinds: frozenset[str] = frozenset(),
    *,
    type_named: bool = False,
) -> Iterator[Acquisition]:
    """Calls for which `match(ctx, call)` returns a callee name, with their targets.

    With `kinds`, also calls whose declared result type is a resource of one of those
    kinds (`program.summaries`): a wrapper `fetch(u) (*http.Response, error)`, a pgx
    `Tx.Query` — found by type, not by the callee's name. `type_named` also types the calls
    `match` accepted (so a rule can trust the type over its name heuristics).
    The value is the first result; with two or more results the last one is the error.
    """
    for call in gs.nodes_of_type(ctx, "call_expression"):
        callee = match(ctx, call)
        kind = ""
        if kinds and (callee is None or type_named):
            kind = typed_kind(ctx, call, screened=callee is None)
        if kind:
            if kind not in kinds:
                kind = ""
            elif callee is None:
                callee = gs.call_name(ctx, call)
        if callee is None:
            continue
        fn = gs.enclosing_function(call)
        parent = call.parent
        while parent is not None and parent.type == "parenthesized_expression":
            parent = parent.parent
        stmt: Node | None = None
        var = ""
        err_var: str | None = None
        if parent is not None and parent.type == "expression_list":
            holder = parent.parent
            if holder is not None and holder.type in ("short_var_declaration", "assignment_statement", "var_spec"):
                lefts, rights = gs.assignment_sides(holder)
                if len(rights) == 1 and lefts:
                    stmt = holder
                    names = [_compact(ctx.text(n)) for n in lefts]
                    var = names[0]
                    if len(names) >= 2 and names[-1] != "_":
                        err_var = names[-1]
        elif parent is not None and parent.type == "expression_statement":
            var = "_"
        yield Acquisition(call, callee, stmt, var, err_var, fn, kind)


def check_paths(ctx: FileContext, acq: Acquisition, spec: ReleaseSpec) -> ReleaseResult | None:
    """The path analysis for a named local value; None when the value is not ours to judge."""
    if acq.stmt is None or acq.fn is None or acq.var in ("", "_"):
        return None
    if not is_local_target(ctx, acq.fn, acq.stmt, acq.var):
        return None
    if is_main(ctx, acq.fn):
        return None  # main's exits end the process, which releases everything
    res = analyze(ctx, acq.fn, acquisition=acq.stmt, var=acq.var, spec=spec, err_var=acq.err_var)
    if res.gave_up:
        return None
    if res.leaks:
        drop_process_ending(ctx, acq.call, res)
    return res


def drop_process_ending(ctx: FileContext, acquired: Node, res: ReleaseResult) -> None:
    """Forget the leaking paths on which the process is ending (`program.exits`): a return of a failure
    that every caller turns into `log.Fatal`/`os.Exit`/exit status 1, code after the program received
    its shutdown signal. The kernel releases what those paths leave behind."""
    from leakhunter.source.program import exits

    if ctx.is_test:
        return  # findings in test files are `info` whatever the callers do: spare the caller search
    if exits.after_shutdown_signal(ctx, acquired):
        res.leaks = []
        return
    res.leaks = [e for e in res.leaks if not (e.kind == "return" and exits.return_ends_process(ctx, e.node))]


_NOLINT = re.compile(rb"//\s?nolint(?::([\w,\- ]+?))?(?=\s|//|$)")


def peer_silenced(ctx: FileContext, node: Node, linters: frozenset[str]) -> bool:
    """The author already reviewed this very finding from the peer linter and silenced it there:
    `//nolint:govet` (lostcancel), `//nolint:bodyclose`, `//nolint:sqlclosecheck` at the end of
    the line or alone on the line above (bare `//nolint` is handled by the scanner for every rule)."""
    row = int(node.start_point[0])
    lines = ctx.source.split(b"\n", row + 1)
    here = lines[row] if row < len(lines) else b""
    above = lines[row - 1] if row >= 1 else b""
    for text in (here, above if above.lstrip().startswith(b"//") else b""):
        m = _NOLINT.search(text)
        if m and m.group(1) and linters & {x.strip() for x in m.group(1).decode("utf-8", "replace").split(",")}:
            return True
    return False


def is_main(ctx: FileContext, fn: Node) -> bool:
    """True for `func main()` of package main."""
    return (
        fn.type == "function_declaration"
        and ctx.text(fn.child_by_field_name("name")) == "main"
        and gs.package_name(ctx) == "main"
    )


def leak_severity(ctx: FileContext, res: ReleaseResult) -> Severity:
    """`error` if no path releases the value, `warning` if some do; `info` in test files.

    A test's leaked file or connection lives for one test binary run: a cost, not a
    production leak (and tests often leave things open on purpose around failures).
    """
    if ctx.is_test:
        return "info"
    return "warning" if res.released or res.transferred else "error"


def exits_text(res: ReleaseResult) -> str:
    """`on the return at line 18` / `... and 2 other paths` / `before the next loop iteration (line 9)`."""
    first = res.leaks[0]
    prep = {"return": "on", "end": "at", "loop": "before", "overwrite": "before"}[first.kind]
    text = f"{prep} {first.describe()}"
    more = len(res.leaks) - 1
    if more <= 0:
        return text
    return f"{text} and {more} other path{'s' if more > 1 else ''}"


def var_used_with(ctx: FileContext, fn: Node, var: str, fields: frozenset[str]) -> bool:
    """True if `var.<field>` appears in `fn` for one of `fields` (a hint of the value's type)."""
    body = fn.child_by_field_name("body")
    if body is None:
        return False
    for ident in gs.identifiers(ctx, body, var):
        p = ident.parent
        if (
            p is not None
            and p.type == "selector_expression"
            and p.child_by_field_name("operand") == ident
            and ctx.text(p.child_by_field_name("field")) in fields
        ):
            return True
    return False


def receiver_text(ctx: FileContext, call: Node) -> str:
    """`c.client` for `c.client.Do(req)`; '' for a plain function call."""
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "selector_expression":
        return ""
    return _compact(ctx.text(fn.child_by_field_name("operand")))


def method_name(ctx: FileContext, call: Node) -> str:
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "selector_expression":
        return ""
    return ctx.text(fn.child_by_field_name("field"))


def local_type_of(ctx: FileContext, fn: Node | None, name: str) -> str:
    """The declared or constructed type text of a local/parameter `name` in `fn`, '' if unknown.

    `c *http.Client` (parameter), `var c http.Client`, `c := &http.Client{...}` and
    `d := net.Dialer{...}` are recognised; anything else is ''.
    """
    if fn is None or "." in name:
        return ""
    for pname, ptype in gs.parameters(ctx, fn):
        if pname == name:
            return ptype.lstrip("*")
    body = fn.child_by_field_name("body")
    if body is None:
        return ""
    for d in gs.walk(body, ("short_var_declaration", "var_spec", "assignment_statement")):
        lefts, rights = gs.assignment_sides(d)
        for i, left in enumerate(lefts):
            if ctx.text(left) != name:
                continue
            if d.type == "var_spec":
                t = d.child_by_field_name("type")
                if t is not None:
                    return _compact(ctx.text(t)).lstrip("*")
            if i < len(rights) and len(rights) == len(lefts):
                r = rights[i]
                if r.type == "unary_expression" and r.named_children:
                    r = r.named_children[-1]
                if r.type == "composite_literal":
                    return _compact(ctx.text(r.child_by_field_name("type")))
    return ""
