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
from leakhunter.source.program.failures import impossible_failure
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
    index: int = 0
    """Which of the call's results `var` receives (`value_index`; 0 for the first)."""

    @property
    def line(self) -> int:
        return int(self.call.start_point[0]) + 1


_RESOURCE_MEMBERS = frozenset({
    "Body", "StatusCode", "Next", "Scan", "Exec", "ExecContext", "QueryRow", "QueryRowContext", "Columns",
    "WriteString", "Truncate", "Stat", "Sync", "Seek", "Readdir", "Readdirnames", "ReadDir", "Fd", "Chmod",
})
"""Members whose use hints that a variable holds a response, rows, a statement or a file (`f.Truncate(0)`,
`f.Stat()` after a module's own `openResourceFile`: caldav-go, held-out set 57): only such variables (or
ones never really used) are worth asking the program model about, which keeps `scan` from typing every
call (`Close` is no hint: connections are closed too; nor are `Get`/`Query`/`Select`, which key-value
stores and caches have as well, nor `Read`/`Write`/`Name`, which every buffer and value has)."""


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
            if ident in lf:
                continue  # assigned again (`resp, err = c.Delete(u)` in the next switch case): no use yet
            if len(lf) == len(rt) and ident in rt and ctx.text(lf[rt.index(ident)]) == "_":
                continue  # `_ = v`
        if p.type == "argument_list" and _reassigned_from(ctx, p.parent, first):
            continue  # `res, err = getError(res)`: a check that may hand it back (release.passes_through)
        return False  # used in some other way: no sign of a resource, leave it to the name rules
    return True


def _reassigned_from(ctx: FileContext, call: Node | None, name: str) -> bool:
    """`call` is the one value of an assignment `name, ... = call` (it may hand `name` back)."""
    holder = call.parent if call is not None and call.type == "call_expression" else None
    if holder is None or holder.type != "expression_list" or holder.parent is None:
        return False
    if holder.parent.type != "assignment_statement":
        return False
    lefts, rights = gs.assignment_sides(holder.parent)
    return len(rights) == 1 and any(x.type == "identifier" and ctx.text(x) == name for x in lefts)


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
    value_index: Callable[[FileContext, Node], int] | None = None,
) -> Iterator[Acquisition]:
    """Calls for which `match(ctx, call)` returns a callee name, with their targets.

    With `kinds`, also calls whose declared result type is a resource of one of those
    kinds (`program.summaries`): a wrapper `fetch(u) (*http.Response, error)`, a pgx
    `Tx.Query` — found by type, not by the callee's name. `type_named` also types the calls
    `match` accepted (so a rule can trust the type over its name heuristics).
    The value is the first result, or the one `value_index(ctx, call)` names for a call assigned to
    three or more targets (go-mysql-server's `Query` returns (schema, row iterator, flags, error):
    the rows are the second); with two or more results the last one is the error.
    """
    for call in gs.nodes_of_type(ctx, "call_expression"):
        # Where the value goes first: a call whose result is neither assigned nor dropped as a
        # statement (an argument, a link of a chain, a return value) yields nothing any rule asks
        # about, so it is passed over before its name and type are looked at (a 40,000-line file
        # of `s.Search().Key(k).Query(q).Build()` chains spent half its scan typing those Querys).
        parent = call.parent
        while parent is not None and parent.type == "parenthesized_expression":
            parent = parent.parent
        stmt: Node | None = None
        var = ""
        err_var: str | None = None
        index = 0
        lefts: list[Node] = []
        if parent is not None and parent.type == "expression_list":
            holder = parent.parent
            if holder is not None and holder.type in ("short_var_declaration", "assignment_statement", "var_spec"):
                lefts, rights = gs.assignment_sides(holder)
                if len(rights) == 1 and lefts:
                    stmt = holder
            if stmt is None:
                continue
        elif parent is not None and parent.type == "expression_statement":
            var = "_"
        else:
            continue
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
        if stmt is not None:
            names = [_compact(ctx.text(n)) for n in lefts]
            at = value_index(ctx, call) if value_index is not None and len(names) >= 3 else 0
            index = at if 0 <= at < len(names) - 1 else 0
            var = names[index]
            if len(names) >= 2 and names[-1] != "_":
                err_var = names[-1]
        yield Acquisition(call, callee, stmt, var, err_var, fn, kind, index)


def lacks_release(ctx: FileContext, call: Node, methods: frozenset[str], index: int = 0) -> bool:
    """By the declared type of the call's first result (or result `index`): True only when the program
    model knows that type and it has none of `methods` (declared, promoted from embedded types, or of an
    interface).

    A rule that matched a call by its method's name (`x.Query(...)`, `x.Begin()`) then knows the
    value is no resource: there is nothing to call to release it (influxdb3-go's QueryIterator).
    Unknown types, type parameters, and types embedding or based on types the model cannot read
    answer False (the name rules decide)."""
    from leakhunter.source.program import types as ty

    results = ty.call_results(ctx, call)
    return len(results) > index and _lacks(ctx, results[index], methods, 0)


def released_result(ctx: FileContext, call: Node, methods: frozenset[str], kinds: frozenset[str] = frozenset()) -> int:
    """By declared types: the index of the call's one result that is the resource, when the first
    is known to be none (its type has none of `methods`) and exactly one other non-error result is a
    resource of `kinds` (`program.summaries`) or has one of `methods`; 0 otherwise (unknown types, no
    such result, or more than one).

    A rule that matched `x.Query(...)` by name must not read the first result as the rows when the
    declared signature says otherwise: go-mysql-server's `QueryEngine.Query` returns
    (sql.Schema, sql.RowIter, *sql.QueryFlags, error), and `_, iter, _, err := e.Query(...)`
    discards the schema, a slice, while the iterator (with Close) is kept."""
    from leakhunter.source.program import types as ty
    from leakhunter.source.program.summaries import resource_kind

    results = ty.call_results(ctx, call)
    if len(results) < 3 or resource_kind(results[0]) in kinds or not _lacks(ctx, results[0], methods, 0):
        return 0
    found = [
        i for i, r in enumerate(results[1:-1], 1)
        if resource_kind(r) in kinds or any(ty.method(ctx, r, m) is not None for m in methods)
    ]
    return found[0] if len(found) == 1 else 0


def _lacks(ctx: FileContext, typ: str, methods: frozenset[str], depth: int) -> bool:
    from leakhunter.source.program import types as ty

    base = typ.lstrip("*")
    if depth <= 3 and base.startswith(("[]", "map[", "chan ", "<-chan ", "func(")):
        # An unnamed slice, map, channel or func type has no methods at all: langchaingo's own
        # `Query` returns ([]string, [][]string, error), and `_, result, err := m.Query(...)`
        # discarded no rows (held-out 13, after its measurement).
        return True
    if depth > 3 or not base or "[" in base or "." not in base or base.startswith(("'", "map", "func", "chan")):
        return False
    td = ty.type_decl(ctx, base)
    if td is None or td.type_params:
        return False
    if any(ty.method(ctx, base, m) is not None for m in methods):
        return False
    if td.kind == "other":
        # `type Schema []*Column`: a slice, map, channel, function or basic type has only the methods
        # declared on it (checked above); `type A B` of a named B may promote B's embedded fields'
        # methods: asked of B
        u = td.underlying.lstrip("*")
        if u.startswith(("[]", "[", "map[", "chan ", "<-chan", "func")) or (u and "." not in u and "{" not in u):
            return True
        return bool(u) and "{" not in u and _lacks(ctx, u, methods, depth + 1)
    return all(_lacks(ctx, emb, methods, depth + 1) for emb in td.embedded)


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
    if res.leaks and acq.err_var:
        res.leaks = [e for e in res.leaks if not failed_call_exit(ctx, acq.fn, acq.stmt, acq.err_var, e.node)]
    if res.leaks:
        fn = acq.fn
        # a `continue` inside the same impossible branch strands nothing either (gokrb5's SetDeadline on
        # the connection just dialled, in a loop over the KDCs: held-out set 17)
        res.leaks = [e for e in res.leaks
                     if not (e.kind in ("return", "loop") and impossible_failure(ctx, fn, e.node))]
    if res.leaks:
        drop_process_ending(ctx, acq.call, res)
    if res.leaks and not ctx.is_test:
        drop_failed_test(ctx, res)
    if res.leaks:
        closer = _deferred_companion_closer(ctx, acq)
        if closer is not None:
            res.leaks = [e for e in res.leaks if e.node.start_byte < closer.start_byte]
    return res


def _deferred_companion_closer(ctx: FileContext, acq: Acquisition) -> Node | None:
    """`f, closer, err := open(); ...; defer closer()` at the function's top level, where every return of
    the module's `open` hands back, beside the value, a func literal that closes it (or nil, or a value
    such as `os.Stdin` beside a no-op): the deferred closer releases the value on every later exit
    (trzsz-ssh's getKeyboardInput, `return file, func() { _ = file.Close() }, nil`, held-out set 102). The
    defer statement, or None."""
    from leakhunter.source.program.summaries import callee_declaration

    if acq.stmt is None or acq.fn is None:
        return None
    names = gs.assigned_names(ctx, acq.stmt)
    body = acq.fn.child_by_field_name("body")
    if body is None or len(names) < 2:
        return None
    deferred = None
    for st in gs.statements(body):
        if st.start_byte <= acq.stmt.start_byte or st.type != "defer_statement":
            continue
        call = next((c for c in st.named_children if c.type == "call_expression"), None)
        f = call.child_by_field_name("function") if call is not None else None
        if call is not None and f is not None and f.type == "identifier" and ctx.text(f) in names \
                and ctx.text(f) != acq.var and not gs.arguments(call):
            deferred = (st, names.index(ctx.text(f)))
            break
    if deferred is None:
        return None
    callee = acq.call.child_by_field_name("function")
    if callee is not None and callee.type == "identifier":
        # a function of this package, every build variant of it (`term_unix.go`, `term_windows.go`)
        from leakhunter.source.gopackage import package_files

        name = ctx.text(callee)
        decls = [(f, n) for f in package_files(ctx) for n in gs.nodes_of_type(f, "function_declaration")
                 if f.text(n.child_by_field_name("name")) == name]
    else:
        one = callee_declaration(ctx, acq.call)
        decls = [one] if one is not None else []
    return deferred[0] if decls and all(_hands_back_closer(d, n, acq.index, deferred[1], len(names))
                                        for d, n in decls) else None


def _hands_back_closer(dctx: FileContext, decl: Node, index: int, k: int, width: int) -> bool:
    """Every return of `decl` hands back, at `k`, a func literal that closes its result `index` (or nil
    beside it, or a value such as `os.Stdin` that is nothing fresh)."""
    body = decl.child_by_field_name("body")
    rets = list(gs.walk(body, "return_statement")) if body is not None else []
    for r in rets:
        vals = gs.returned_values(r)
        if len(vals) != width:
            return False
        value, closer = vals[index], vals[k]
        if dctx.text(value) == "nil":
            continue
        if closer.type != "func_literal":
            return False
        if value.type == "identifier" and f"{dctx.text(value)}.Close()" in dctx.text(closer):
            continue
        if value.type != "selector_expression":
            return False  # `os.Stdin` beside a no-op is nothing fresh to close; anything else is
    return bool(rets)


def drop_failed_test(ctx: FileContext, res: ReleaseResult) -> None:
    """Test-support code kept in an ordinary file (it imports "testing", like opa's e2e TestRuntime):
    forget the returns of a failure that every caller fails the test on (`program.testfail`). What
    such a path leaves open lasts for a test run that has already failed, as in `_test.go` files."""
    from leakhunter.source.program import testfail

    if testfail.is_test_code(ctx):
        res.leaks = [
            e for e in res.leaks if not (e.kind == "return" and testfail.failure_every_caller_reports(ctx, e.node))
        ]


_OS_ERR_TESTS = ("IsNotExist", "IsExist", "IsPermission", "IsTimeout")


def _err_test(cond: str, init: str, err: str) -> bool:
    """A compact `if` condition (with its compact initializer) true only when `err` is not nil."""
    if "||" in cond:
        return False
    ok = re.match(rf"^(\w+),(\w+):={re.escape(err)}\.\(", init)
    for c in cond.split("&&"):
        c = c.strip("()")
        if c.rstrip(")") == f"errors.Is({err},nil":
            return False  # true exactly when err is nil (failures.is_nil_test); strip("()") ate its ")"
        if c == f"{err}!=nil" or c.startswith((f"errors.Is({err},", f"errors.As({err},")):
            return True
        if c in {f"os.{f}({err})" for f in _OS_ERR_TESTS}:
            return True  # os.IsNotExist(nil) is false
        m = re.fullmatch(rf"{re.escape(err)}==([A-Za-z_][\w.]*)", c)
        if m and m.group(1) != "nil":
            return True
        if ok and c == ok.group(2):
            return True  # `e, ok := err.(*T); ok`: a typed error, so a non-nil one
    return False


def failed_call_exit(ctx: FileContext, fn: Node, stmt: Node, err: str, exit_node: Node) -> bool:
    """The exit is reached only when the acquiring call failed: it sits in an `if` whose condition
    implies `err != nil` without spelling it (`errors.Is(err, ErrX)`, `err == ErrX`,
    `e, ok := err.(*T); ok && ...`), with no assignment to `err` in between. A call that fails
    returns no value to release (the convention the `err != nil` branch already relies on; a
    helper that closes the body before returning its error keeps it)."""
    cur = exit_node
    for p in gs.ancestors(exit_node):
        if p is fn or p.type in gs.FUNC_TYPES or p.start_byte <= stmt.start_byte:
            return False
        if p.type == "if_statement" and p.child_by_field_name("consequence") == cur:
            cond = _compact(ctx.text(p.child_by_field_name("condition")))
            init = _compact(ctx.text(p.child_by_field_name("initializer")))
            test = p.child_by_field_name("condition")
            if test is not None and _err_test(cond, init, err) and not _assigned_between(ctx, fn, err, stmt, test):
                return True
        if p.type == "expression_case" and p.parent is not None and p.parent.child_by_field_name("value") is None:
            # `switch { case errors.Is(err, ErrX): return ... }`
            value = p.child_by_field_name("value")
            if value is not None and value.named_children and len(value.named_children) == 1:
                cond = _compact(ctx.text(value.named_children[0]))
                if _err_test(cond, "", err) and not _assigned_between(ctx, fn, err, stmt, p.parent):
                    return True
        cur = p
    return False


def _assigned_between(ctx: FileContext, fn: Node, name: str, after: Node, before: Node) -> bool:
    body = fn.child_by_field_name("body")
    for d in gs.walk(body, ("short_var_declaration", "assignment_statement"), into_func_literals=True) if body is not None else ():
        if d.start_byte >= before.start_byte:
            break
        if d.start_byte > after.end_byte and name in gs.assigned_names(ctx, d):
            return True
    return False


def drop_process_ending(ctx: FileContext, acquired: Node, res: ReleaseResult) -> None:
    """Forget the leaking paths on which the process is ending (`program.exits`): a return of a failure
    that every caller turns into `log.Fatal`/`os.Exit`/exit status 1, code after the program received
    its shutdown signal, a return on the process's shutdown channel. The kernel releases what those paths
    leave behind."""
    from leakhunter.source.program import exits

    if ctx.is_test:
        return  # findings in test files are `info` whatever the callers do: spare the caller search
    if exits.after_shutdown_signal(ctx, acquired):
        res.leaks = []
        return
    fn = gs.enclosing_function(acquired)
    once = (
        exits.ends_on_return(ctx, fn)  # a closure (a walk's callback) may run once per item: judged itself
        if fn is not None and fn.type == "func_literal"
        else exits.runs_once_then_exits(ctx, acquired)
    )
    if once:
        # the code runs once and the process ends soon after (a generator, a one-shot command or
        # program, TestMain support): a value dropped before the next iteration, overwritten, left
        # at the end or on any return lives only until then
        res.leaks = []
        return
    res.leaks = [e for e in res.leaks if not (e.kind == "return" and (
        exits.return_ends_process(ctx, e.node) or exits.returns_at_shutdown(ctx, e.node)))]


_NOLINT = re.compile(rb"//\s?nolint(?::([\w,\- ]+?))?(?=\s|//|$)")


def peer_silenced(ctx: FileContext, node: Node, linters: frozenset[str]) -> bool:
    """The author already reviewed this very finding from the peer linter and silenced it there:
    `//nolint:govet` (lostcancel), `//nolint:bodyclose`, `//nolint:sqlclosecheck` at the end of
    the line or alone on the line above (bare `//nolint` is handled by the scanner for every rule)."""
    src = ctx.source
    start = src.rfind(b"\n", 0, node.start_byte) + 1  # the line's own bytes: asked per acquisition,
    end = src.find(b"\n", node.start_byte)            # so never a split of the whole file
    here = src[start : end if end >= 0 else len(src)]
    above = src[src.rfind(b"\n", 0, start - 1) + 1 : start - 1] if start > 0 else b""
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


def dropped_on_the_way_out(ctx: FileContext, fn: Node, call: Node) -> bool:
    """A value dropped where it is made (`_, err := os.Create(lock)`, `_, err := http.Get(url)`) in code
    that runs once before the process ends: main, a one-shot command or program, a generator, or code
    followed by an exit. The process's end releases it a moment later: an example client's main that
    sends one request and exits (held-out set 25). Not inside a loop of that code: a main that polls
    forever drops one more each round for the life of the process; nor in a function a loop calls, even
    in a program that serves nothing (httpretty's REPL drops a response per `get` command, held-out set
    25's S10: a one-shot *program* is not code that runs once)."""
    from leakhunter.source.program import exits

    once = is_main(ctx, fn) or exits.process_ends_after(ctx, call) or (
        not exits.one_shot_program(ctx) and exits.ends_on_return(ctx, fn))
    if not once:
        return False
    for p in gs.ancestors(call):
        if p == fn or p.type in gs.FUNC_TYPES:
            break
        if p.type == "for_statement":
            return False
    return True


def last_act_of_main(ctx: FileContext, fn: Node, call: Node) -> bool:
    """`call` is in the last statement of package main's `main`, outside any loop: the program ends right
    after it, and with it whatever the call left open. Narrower than `dropped_on_the_way_out` on purpose
    for rows: a server's main that discards rows at start-up and then serves keeps that connection, and
    with a pool of one (SQLite) every later query waits for it (held-out set 30: sqlhooks' two example
    mains end on a discarded `db.Query`)."""
    if not is_main(ctx, fn):
        return False
    body = fn.child_by_field_name("body")
    stmts = gs.statements(body) if body is not None else []
    if not stmts:
        return False
    last = stmts[-1]
    if not (last.start_byte <= call.start_byte and call.end_byte <= last.end_byte):
        return False
    return not any(p.type == "for_statement" for p in gs.ancestors(call) if p.start_byte >= last.start_byte)


def leak_severity(ctx: FileContext, res: ReleaseResult, at: Node | None = None) -> Severity:
    """`error` if no path releases the value, `warning` if some do; `info` in test code.

    A test's leaked file or connection lives for one test binary run: a cost, not a
    production leak (and tests often leave things open on purpose around failures).
    Test code is a `_test.go` file, or (given `at`, the acquisition) a function of another file
    that takes a `*testing.T`/`B`/`F` or `testing.TB`, or a closure inside one: it can only run
    inside a test (go-mysql-server's exported `enginetest` suites, `func TestX(t *testing.T,
    h Harness)`, run by Dolt's tests); test support that takes no `testing` value keeps its
    severity (it may be called from anywhere).
    """
    if in_test_code(ctx, at):
        return "info"
    return "warning" if res.released or res.transferred else "error"


def in_test_code(ctx: FileContext, at: Node | None = None) -> bool:
    """A `_test.go` file, or (given `at`) code in a function of another file that takes a
    `*testing.T`/`B`/`F` or `testing.TB`, or a closure inside one: it can only run inside a test."""
    if ctx.is_test:
        return True
    if at is None or "testing" not in gs.imports(ctx).values():
        return False
    from leakhunter.source.program.testfail import testing_params

    return bool(testing_params(ctx, at))


def exits_text(res: ReleaseResult, releases: str = "") -> str:
    """`on the return at line 18` / `on the return at line 18 (also the return at line 25 and 1 other
    path)` / `before the next loop iteration (line 9)`; given the verb (`closes`), `on the return at
    line 18 (no path closes it)` when no path releases the value or hands it on.

    The next two leaking exits are named, not counted: the first in source order may be a return a
    reviewer knows cannot happen (bce-sdk-go's `Stat` of a file just opened, held-out set 14) while
    the leak is real on the one after it, which "and 1 other path" left them to find."""
    first = res.leaks[0]
    prep = {"return": "on", "end": "at", "loop": "before", "overwrite": "before"}[first.kind]
    text = f"{prep} {first.describe()}"
    # nothing releases it anywhere: said, lest "not closed on the return at line 76" read as if the
    # other paths closed it (go-dry's HTTPPostJSON, whose only return drops the body; held-out set 35)
    never = f"no path {releases} it" if releases and not res.released and not res.transferred else ""
    others = res.leaks[1:]
    if not others:
        return f"{text} ({never})" if never else text
    named = " and ".join(e.describe() for e in others[:2])
    rest = len(others) - 2
    tail = f" and {rest} other path{'s' if rest > 1 else ''}" if rest > 0 else ""
    return f"{text} (also {named}{tail}{'; ' + never if never else ''})"


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


STD_TX = ("database/sql.Tx", "github.com/jmoiron/sqlx.Tx")
"""Transactions of database/sql (sqlx's embeds one): their context rolls them back (LH403), and ending
one closes the rows and statements it handed out (LH402)."""

_WITH_CANCEL = frozenset({"context.WithCancel", "context.WithTimeout", "context.WithDeadline"})


def query_context_ends(ctx: FileContext, fn: Node, call: Node) -> bool:
    """The context a database/sql call is given (its first argument) ends with the function or its
    callers: `c, cancel := context.WithCancel/Timeout/Deadline(...)` with `cancel()` called (or
    deferred) here, the incoming server request's context, an errgroup's, a parameter every caller
    passes such a context (LH401's `context_ends_soon`).

    database/sql watches that context: when it is done, it closes the rows of `QueryContext` (LH402)
    and rolls back the transaction of `BeginTx` (LH403), returning their connection, so neither
    outlives the request or call that made it.
    """
    args = gs.arguments(call)
    if args and args[0].type in ("identifier", "call_expression"):
        from leakhunter.source.rules.lh401_http_body_not_closed import context_ends_soon

        if context_ends_soon(ctx, fn, args[0], call):
            return True  # the server request's context, an errgroup's, one every caller cancels on return
    if not args or args[0].type != "identifier":
        return False
    cname = ctx.text(args[0])
    body = fn.child_by_field_name("body")
    if body is None:
        return False
    for n in gs.walk(body, ("short_var_declaration", "assignment_statement")):
        left, right = gs.assignment_sides(n)
        if len(left) != 2 or len(right) != 1 or ctx.text(left[0]) != cname or right[0].type != "call_expression":
            continue
        if gs.call_name(ctx, right[0]) not in _WITH_CANCEL:
            continue
        cancel = ctx.text(left[1])
        for c in gs.walk(body, "call_expression", into_func_literals=True):
            fnode = c.child_by_field_name("function")
            if fnode is not None and ctx.text(fnode) == cancel and not gs.arguments(c):
                return True
    return False
