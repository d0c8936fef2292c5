"""LH201 lost-cancel: the cancel function of a derived context discarded or not called on every path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding, Severity
from leakhunter.source import gosyntax as gs
from leakhunter.source.program.once import started_once
from leakhunter.source.release import ReleaseSpec, analyze, is_local_target
from leakhunter.source.rule import FileContext, Rule
from leakhunter.source.rules._resource import drop_process_ending, is_main, peer_silenced

if TYPE_CHECKING:
    from tree_sitter import Node

_CONTEXT_PATHS = ("context", "golang.org/x/net/context")
_CANCELLING = frozenset(
    {"WithCancel", "WithTimeout", "WithDeadline", "WithCancelCause", "WithTimeoutCause", "WithDeadlineCause"}
)
_CALL_SELF = ReleaseSpec(call_self=True)
_VET = frozenset({"govet", "lostcancel"})


def _compact(text: str) -> str:
    """`text` without whitespace, so `a . b` and `a.b` compare equal."""
    return "".join(text.split())


_ROOTS = frozenset({"context.Background", "context.TODO", "golang.org/x/net/context.Background",
                    "golang.org/x/net/context.TODO"})


def _root(ctx: FileContext, parent: Node, at: Node, depth: int = 0) -> str:
    """What the parent context is rooted in: 'background' (never cancelled: `context.Background()`,
    `TODO()`, `WithoutCancel(x)`, values over those, a local only ever assigned those), 'test' (a
    test's `t.Context()`), or '' (anything else: a cancellable parent, a parameter, unknown).

    A child of a never-cancelled parent is registered with nobody (`propagateCancel` returns at once
    when `parent.Done()` is nil): its cancel frees nothing but a pending timer.
    """
    while parent.type == "parenthesized_expression" and parent.named_children:
        parent = parent.named_children[0]
    if depth > 4:
        return ""
    if parent.type == "call_expression":
        q = gs.qualified_call_name(ctx, parent)
        if q in _ROOTS:
            return "background"
        if q == "context.WithoutCancel":
            return "background"
        if q == "context.WithValue":
            args = gs.arguments(parent)
            return _root(ctx, args[0], at, depth + 1) if args else ""
        name = gs.call_name(ctx, parent)
        head, _, last = name.rpartition(".")
        if last == "Context" and not gs.arguments(parent) and head:
            from leakhunter.source.program.testfail import testing_params

            if head in testing_params(ctx, parent):
                return "test"
        return _helper_root(ctx, parent, at, depth)
    if parent.type == "nil":
        return "nil"
    if parent.type != "identifier":
        return ""
    name = ctx.text(parent)
    fn = gs.enclosing_function(at)
    body = fn.child_by_field_name("body") if fn is not None else None
    if body is None or gs.is_local_name(ctx, parent, name) is False:
        return ""
    kinds: set[str] = set()
    for d in gs.walk(body, ("short_var_declaration", "assignment_statement", "var_spec"), into_func_literals=True):
        if d.end_byte >= at.start_byte:
            continue  # only the assignments before the call can reach it (`ctx, _ = WithTimeout(ctx, d)`)
        lefts, rights = gs.assignment_sides(d)
        names = [_compact(ctx.text(x)) for x in lefts]
        if name not in names:
            continue
        if len(rights) != len(lefts):
            return ""  # `ctx, cancel := context.WithCancel(...)`: a cancellable parent
        kinds.add(_root(ctx, rights[names.index(name)], at, depth + 1))
    if any(n == name for n, _ in gs.parameters(ctx, fn)) if fn is not None else False:
        return ""
    return kinds.pop() if len(kinds) == 1 else ""


def _helper_root(ctx: FileContext, call: Node, at: Node, depth: int) -> str:
    """The root of a context returned by a module function (`namespace.RootContext(nil)`), from a
    summary of its returns: each is Background-rooted, or rooted in one of its parameters (through
    `WithValue` and nested helpers), whose argument here is Background-rooted or nil (the nil path
    is the one that substitutes `context.Background()`)."""
    decl = _declaration(ctx, call)
    if decl is None:
        return ""
    args = gs.arguments(call)
    kinds: set[str] = set()
    for out in _summary(decl[0], decl[1], depth + 1):
        if out.startswith("param:"):
            i = int(out[6:])
            kinds.add(_root(ctx, args[i], at, depth + 1) if i < len(args) else "")
        else:
            kinds.add(out)
    kinds.discard("nil")
    return kinds.pop() if len(kinds) == 1 and "" not in kinds else ""


def _summary(dctx: FileContext, fn: Node, depth: int) -> set[str]:
    """What the context results of `fn` are rooted in: 'background', 'test', 'param:i' or '' (unknown)."""
    body = fn.child_by_field_name("body")
    if body is None or depth > 4:
        return {""}
    params = [n for n, _ in gs.parameters(dctx, fn)]
    outs: set[str] = set()
    for ret in gs.walk(body, "return_statement"):
        vals = [c for c in ret.named_children if c.type != "comment"]
        if len(vals) == 1 and vals[0].type == "expression_list":
            vals = [c for c in vals[0].named_children if c.type != "comment"]
        if len(vals) != 1:
            return {""}
        v = vals[0]
        while v.type == "call_expression" and gs.qualified_call_name(dctx, v) == "context.WithValue":
            inner = gs.arguments(v)
            if not inner:
                return {""}
            v = inner[0]
        if v.type == "identifier" and dctx.text(v) in params and not _reassigned(dctx, body, dctx.text(v)):
            outs.add(f"param:{params.index(dctx.text(v))}")
            continue
        if v.type == "call_expression" and gs.qualified_call_name(dctx, v) not in _ROOTS:
            inner_decl = _declaration(dctx, v)
            if inner_decl is not None:
                vargs = gs.arguments(v)
                for out in _summary(inner_decl[0], inner_decl[1], depth + 1):
                    if not out.startswith("param:"):
                        outs.add(out)
                        continue
                    k = int(out[6:])
                    a = vargs[k] if k < len(vargs) else None
                    if a is not None and a.type == "identifier" and dctx.text(a) in params and not _reassigned(
                        dctx, body, dctx.text(a)
                    ):
                        outs.add(f"param:{params.index(dctx.text(a))}")
                    else:
                        outs.add(_root(dctx, a, ret, depth + 1) if a is not None else "")
                continue
        outs.add(_root(dctx, v, ret, depth + 1))
    return outs or {""}


def _reassigned(ctx: FileContext, body: Node, name: str) -> bool:
    for d in gs.walk(body, ("short_var_declaration", "assignment_statement")):
        lefts, _ = gs.assignment_sides(d)
        if any(ctx.text(x) == name for x in lefts):
            return True
    return False


def _declaration(ctx: FileContext, call: Node) -> tuple[FileContext, Node] | None:
    """The function declaration a call reaches in this module (this file, or another package's files)."""
    f = call.child_by_field_name("function")
    if f is None:
        return None
    if f.type == "identifier":
        name, dctx, files = ctx.text(f), ctx, None
    elif f.type == "selector_expression":
        op = f.child_by_field_name("operand")
        path = gs.imports(ctx).get(ctx.text(op)) if op is not None and op.type == "identifier" else None
        if path is None:
            return None
        from leakhunter.source.program.index import module_map

        mm = module_map(ctx.path.absolute().parent)
        if not mm.module or not (path == mm.module or path.startswith(mm.module + "/")):
            return None  # outside the module: not read
        d = mm.directory(path)
        if d is None or not d.is_dir():
            return None
        name = ctx.text(f.child_by_field_name("field"))
        files = sorted(p for p in d.glob("*.go") if not p.name.endswith("_test.go"))
        dctx = ctx
    else:
        return None
    needle = f"func {name}(".encode()
    if files is None:
        cands = [ctx]
    else:
        from leakhunter.source.program.exits import parsed_file

        cands = []
        for p in files[:64]:
            try:
                if needle in p.read_bytes():
                    c = parsed_file(p.absolute())
                    if c is not None:
                        cands.append(c)
            except OSError:
                continue
    for dctx in cands:
        for fn in gs.nodes_of_type(dctx, "function_declaration"):
            if dctx.text(fn.child_by_field_name("name")) == name:
                return dctx, fn
    return None


def _goroutine_waiting(ctx: FileContext, call: Node, derived: str) -> Node | None:
    """The `go` statement after `call`, in its function, that is handed the derived context.

    Even under a never-cancelled parent the cancel is not idle then: the goroutine's
    `<-ctx.Done()` is how it ends, and a lost cancel leaves it running for good."""
    fn = gs.enclosing_function(call)
    body = fn.child_by_field_name("body") if fn is not None else None
    if body is None or derived in ("", "_"):
        return None
    for g in gs.walk(body, "go_statement", into_func_literals=True):
        if g.start_byte > call.end_byte and any(gs.identifiers(ctx, g, derived)):
            return g
    return None


class LostCancel(Rule):
    """The cancel function of `context.WithCancel/WithTimeout/WithDeadline` (or a `Cause` form) is lost.

    Each derived context registers itself with its parent (and `WithTimeout` /
    `WithDeadline` start a runtime timer). Only calling the returned cancel function
    unregisters it: until then the child — and everything its values and
    `AfterFunc` callbacks reference — stays reachable from the parent, for as long as
    the parent lives (for a `context.Background()` parent: forever, or until the
    timer fires).

    Reported: the cancel function discarded with `_`, and a named cancel function
    that some path from the call to a return (or to the end of the function) never
    calls. As in go vet's `lostcancel`, using the variable at all ends the analysis
    on that path — `defer cancel()`, calling it, returning it, storing it in a
    struct field or a global, passing it to a function, capturing it in a closure
    (a goroutine that cancels later) — because the job moved elsewhere. A path that
    has received from the derived context's `Done()` (`<-ctx.Done()`, a `select`
    case on it) needs no cancel either: a done context has already been removed
    from its parent (its timer fired or the parent was cancelled). Paths that
    end in `panic`, `os.Exit`, `log.Fatal` or `t.Fatal` do not count, and neither do
    the returns of `main` (the process ends). Two places go further than go vet:
    a cancel handed to a same-package helper counts as handled only if that helper
    calls it, keeps it or passes it on (`if !valid(cancel) { return }` with a
    `valid` that only compares it to nil is still a leak), and a cancel declared
    with `:=` in an endless loop body that is still uncalled when the body loops
    back is reported: every iteration leaks one context into the parent.

    Parents that are never cancelled (issue #8, FP shape 5): a child of `context.Background()`
    / `TODO()` (directly, through a local only ever assigned one, a `WithValue` over one, or
    `WithoutCancel`) registers with nothing — `propagateCancel` returns at once when the parent's
    `Done()` is nil. A lost `WithCancel` there holds nothing and is not reported (go vet still
    asks for the call); a lost `WithTimeout`/`WithDeadline` holds its timer and context until
    the deadline, a bounded cost, reported at `info` (shown with `--show-info`); a test's
    `t.Context()` parent likewise (it ends with the test). Paths on which the process is ending
    (`program.exits`: a failure every caller turns into `log.Fatal`/exit 1) are not counted. A
    never-cancelled context handed to goroutines by a function that runs once per process run
    (main, init, a constructor only those call, a CLI command) is those workers' life, the
    program's: not reported (9fans' netshell console).

    Fix: `defer cancel()` right after the call.

    A line the author already silenced for the peer linter (`//nolint:govet` (or `lostcancel`), at the end of the line or
    alone on the line above) is the same finding, reviewed: not reported.
    """

    id = "LH201"
    name = "lost-cancel"
    severity = "error"
    fix = "call the cancel function on every path: `defer cancel()` right after the context.With... call"
    leaking_example = """\
func fetch(parent context.Context, url string) error {
	ctx, _ := context.WithTimeout(parent, time.Second) // cancel discarded
	return get(ctx, url)
}
"""
    fixed_example = """\
func fetch(parent context.Context, url string) error {
	ctx, cancel := context.WithTimeout(parent, time.Second)
	defer cancel()
	return get(ctx, url)
}
"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        src = ctx.source
        if b"context" not in src or not (b".WithCancel" in src or b".WithTimeout" in src or b".WithDeadline" in src):
            return  # a byte search is far cheaper than indexing the tree
        test_severity: Severity | None = "info" if ctx.is_test or ctx.path.name.endswith("_test.go") else None
        for call in gs.nodes_of_type(ctx, "call_expression"):
            q = gs.qualified_call_name(ctx, call)
            pkg, _, fname = q.rpartition(".")
            if fname not in _CANCELLING or pkg not in _CONTEXT_PATHS:
                continue
            stmt = call.parent
            while stmt is not None and stmt.type == "parenthesized_expression":
                stmt = stmt.parent
            if stmt is None or stmt.type != "expression_list" or stmt.parent is None:
                continue
            stmt = stmt.parent
            if stmt.type not in ("short_var_declaration", "assignment_statement", "var_spec"):
                continue
            lefts, rights = gs.assignment_sides(stmt)
            if len(lefts) != 2 or len(rights) != 1:
                continue
            cancel = _compact(ctx.text(lefts[1]))
            if peer_silenced(ctx, stmt, _VET):
                continue  # `//nolint:govet`: the author reviewed go vet's lostcancel report on this line
            callee = gs.call_name(ctx, call)
            function = gs.function_name(ctx, call)
            args = gs.arguments(call)
            root = _root(ctx, args[0], call) if args else ""
            if root == "nil":
                root = ""  # WithCancel(nil) panics: judge it as written
            waiter = _goroutine_waiting(ctx, call, _compact(ctx.text(lefts[0]))) if root else None
            if waiter is not None:
                if root == "background" and _started_once(ctx, call):
                    continue  # workers started once for the process's life: nothing stops them by design
                root = ""  # its Done() is what stops a goroutine: the cancel is that goroutine's only end
            stays = (f"goroutine started at line {waiter.start_point[0] + 1} is handed the context and is never "
                     "told to stop" if waiter is not None else "")
            if root and not fname.startswith(("WithTimeout", "WithDeadline")):
                continue  # WithCancel of a context that is never cancelled registers nothing anywhere
            bounded: Severity | None = "info" if root else None
            why = (
                "; its parent is never cancelled, so nothing is registered with it: the timer holds the "
                "context until the deadline (a bounded cost, not a leak)" if root == "background" else
                "; its parent is the test's context, which ends with the test: a bounded cost, not a leak"
                if root == "test" else ""
            )
            if cancel == "_":
                yield self.finding(
                    ctx, lefts[1],
                    f"the cancel function returned by {callee} is discarded: the derived context "
                    + ("stays alive (and its timer runs) until the deadline" + why if root else
                       f"is never cancelled: the {stays}" if stays else
                       "stays registered with its parent (and its timer runs) until " + _until(fname)),
                    severity=test_severity or bounded, function=function,
                )
                continue
            fn = gs.enclosing_function(call)
            if fn is None or not is_local_target(ctx, fn, stmt, cancel) or is_main(ctx, fn):
                continue
            derived = _compact(ctx.text(lefts[0]))
            spec = ReleaseSpec(call_self=True, released_by=frozenset({f"{derived}.Done()"})) if derived != "_" else _CALL_SELF
            res = analyze(ctx, fn, acquisition=stmt, var=cancel, spec=spec)
            if res.gave_up or not res.leaks:
                continue
            partly = res.released or res.transferred
            drop_process_ending(ctx, call, res)
            if waiter is not None:
                # the goroutine is the only reason a lost cancel matters here (its root was cleared for
                # it): under a never-cancelled parent only a path that has started it leaves
                # something running (libcompose's ProjectUp returns before its log goroutine starts,
                # or in the branch that never starts it: held-out set 36)
                res.leaks = [e for e in res.leaks if _may_have_started(ctx, waiter, e.node)]
            if not res.leaks:
                continue
            more = len(res.leaks) - 1
            paths = f" (and {more} other path{'s' if more > 1 else ''})" if more > 0 else ""
            yield self.finding(
                ctx, lefts[1],
                f"`{cancel}` from {callee} is "
                + ("never called" if not partly else "not called on every path")
                + f": {res.leaks[0].describe()}{paths} is reached without it, and the derived "
                + ("context stays alive until its deadline" + why if root else
                   f"context is never cancelled: the {stays}" if stays else
                   "context stays registered with its parent until " + _until(fname)),
                severity=test_severity or bounded or ("warning" if partly else "error"),
                function=function,
            )


def _may_have_started(ctx: FileContext, go: Node, exit_node: Node) -> bool:
    """Some path to `exit_node` may have run the `go` statement. No, when the exit comes before the
    statement holding the `go`, or when the `go` sits in a branch that always leaves the function
    (`if !detached { go log(ctx); ...; return nil }`, then `return nil`): a path after that branch
    never ran it. A `go` in a loop or in a branch that falls through may have run: kept."""
    from leakhunter.source.goflow import block_terminates

    exit_anc = [exit_node, *gs.ancestors(exit_node)]
    for p in gs.ancestors(go):
        if p in exit_anc:
            common = p
            break
    else:
        return False
    if common.type == "statement_list" and common.parent is not None:
        common = common.parent
    stmts = gs.statements(common)
    s_go = next((a for a in (go, *gs.ancestors(go)) if a in stmts), None)
    s_exit = next((a for a in exit_anc if a in stmts), None)
    if s_go is None:
        return False
    # no statement holds the exit: it is the block's closing brace, after every statement
    s_exit_index = len(stmts) if s_exit is None else stmts.index(s_exit)
    if s_go is s_exit:
        return go.start_byte < exit_node.start_byte
    if stmts.index(s_go) > s_exit_index:
        return False
    cur = go
    for p in gs.ancestors(go):
        if p is s_go.parent or p is common:
            break
        if p.type == "if_statement" and cur.type == "block" and block_terminates(ctx, cur):
            return False  # the branch holding the `go` never falls through to the exit
        cur = p
    return True


def _started_once(ctx: FileContext, call: Node) -> bool:
    """The function making the context runs once per process run (`program.once.started_once`: main, init, a
    constructor only main calls, a CLI command): 9fans' netshell console, whose reader and writer
    goroutines serve the program's whole life on a context nobody was meant to cancel. One such
    context per process is the design, not a leak that grows with calls."""
    fn = gs.enclosing_function(call)
    return fn is not None and not ctx.is_test and started_once(ctx, fn)


def _until(fname: str) -> str:
    """How long a derived context that nobody cancels stays registered with a cancelable parent: a
    deadline frees it too (its timer cancels it), so a WithTimeout's cost is bounded by the timeout,
    which the message must not hide (gorm's discarded WithTimeout cancels, held-out set 14)."""
    if fname.startswith(("WithTimeout", "WithDeadline")):
        return "the parent ends or its deadline passes, whichever comes first (a cost per call bounded by the timeout)"
    return "the parent ends"
