"""LH106 waitgroup-missing-done: a goroutine counted by wg.Add that can skip wg.Done()."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.goflow import go_call, goroutine_function, line, loop_between
from leakhunter.source.program.failures import impossible_failure
from leakhunter.source.program.testfail import failed_before
from leakhunter.source.release import ReleaseSpec, analyze
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node

_DONE = ReleaseSpec(methods=frozenset({"Done"}))


class WaitGroupMissingDone(Rule):
    """A goroutine counted by `wg.Add` does not call `wg.Done()` on every path.

    The pattern: `wg.Add(1); go func() { ...; if err != nil { return }; ...; wg.Done() }()`
    — an early return (or a Done inside one branch only) skips the Done, the counter
    never reaches zero, and whoever calls `wg.Wait()` blocks forever, with everything
    it holds. Also: a local WaitGroup with `Add` and `Wait` that nothing can ever mark
    Done (no `Done` anywhere, and it is not handed to anyone): reported at the `Wait`; and
    the same for an unexported WaitGroup field that nothing in the package marks Done
    (the package's concurrency facts see every method of the type).

    The fix: `defer wg.Done()` as the first statement of the goroutine (or use Go
    1.25's `wg.Go(f)`, which cannot forget).

    Not reported: a deferred Done (also inside a deferred closure); a WaitGroup the
    goroutine hands to another function (that function may call Done); `goto`;
    paths that end in panic / os.Exit / log.Fatal; paths on which the test has already
    failed (`t.Error(err); return` before `wg.Done()`: the failure is the report;
    program/testfail.py; 3 of 3 shown on the tuning set were this shape); in test code, a
    WaitGroup that counts expected outcomes (`wg.Add(expectedAccepted)` before a loop starting
    another number of goroutines): its Wait blocks only when the test is failing; a Wait nothing marks
    Done in a function that parks the process on purpose (`main`'s closing `wg.Add(1); wg.Wait()`, a
    service's start method run once per process: `once.parks_on_purpose`); a return that handles
    the failure of a call that cannot fail (`program.failures.never_fails`: `sem.Acquire` with a
    context that is never done).

    Off by default in `scan` (`--enable LH106`, or `enable` in `.leakhunter.toml`): at first contact
    with modules nobody had tuned it on, 9 of 24 production findings were true (held-out sets 1-114):
    the path that skips Done is most often one that cannot run (an Add and a Done under one flag, the
    error of a call that cannot fail there), which the path analysis does not know (`report.trust.LOW`).
    `watch`, `soak` and `goroutines --source` still run it, beside goroutines measured to park in Wait.
    """

    id = "LH106"
    name = "waitgroup-missing-done"
    severity = "error"
    enabled_by_default = False
    fix = "call defer wg.Done() first thing in the goroutine (or use wg.Go(f) on Go 1.25+)"
    leaking_example = """\
for _, u := range urls {
	wg.Add(1)
	go func() {
		body, err := fetch(u)
		if err != nil {
			return // skips wg.Done(): wg.Wait() never returns
		}
		save(body)
		wg.Done()
	}()
}
wg.Wait()"""
    fixed_example = """\
for _, u := range urls {
	wg.Add(1)
	go func() {
		defer wg.Done()
		body, err := fetch(u)
		if err != nil {
			return
		}
		save(body)
	}()
}
wg.Wait()"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if re.search(rb"\w\.\w+\.Wait\(\)", ctx.source):
            yield from self._field_never_done(ctx)
        if b"WaitGroup" not in ctx.source or b".Add(" not in ctx.source:
            return
        names, fields = _waitgroups(ctx)
        if not names and not fields:
            return
        for go in gs.nodes_of_type(ctx, "go_statement"):
            yield from self._check_go(ctx, go, names, fields)
        yield from self._never_done(ctx, names)

    def _field_never_done(self, ctx: FileContext) -> Iterator[Finding]:
        """An unexported WaitGroup field with Add and Wait but no Done (or Go) anywhere in the
        package: only this package can touch it, so the Wait can never return."""
        from leakhunter.source.program.concurrency import concurrency

        cc = concurrency(ctx)
        path = str(ctx.path)
        for key, waits in cc.wg_waits.items():
            ops = cc.wg_ops.get(key, set())
            if key in cc.opaque or "Add" not in ops or ops & {"Done", "Go"}:
                continue
            for file, start in waits:
                if file != path:
                    continue
                node = gs.call_at(ctx, start)
                if node is None or _parks(ctx, node):
                    continue
                yield self.finding(
                    ctx,
                    node,
                    f"Wait on field WaitGroup {key}, which the package Adds to but never marks "
                    "Done: the Wait blocks forever",
                    function=gs.function_name(ctx, node),
                )

    def _never_done(self, ctx: FileContext, names: set[str]) -> Iterator[Finding]:
        """A local WaitGroup with Add and Wait that nothing can ever mark Done."""
        for info in gs.functions(ctx):
            if info.body is None:
                continue
            for decl in gs.walk(info.body, ("var_spec", "short_var_declaration")):
                for ident in gs.assignment_sides(decl)[0]:
                    name = ctx.text(ident)
                    if name in names:
                        yield from self._check_local(ctx, info.body, decl, name)

    def _check_local(
        self, ctx: FileContext, body: Node, decl: Node, name: str
    ) -> Iterator[Finding]:
        scope = (
            decl.parent.parent
            if decl.parent is not None and decl.parent.type != "block"
            else decl.parent
        )
        if decl.type == "var_spec":
            vd = decl.parent
            while vd is not None and vd.type != "var_declaration":
                vd = vd.parent
            scope = vd.parent.parent if vd is not None and vd.parent is not None else None
        if scope is None:
            return
        methods: dict[str, Node] = {}
        for ident in gs.identifiers(ctx, scope, name):
            if ident.start_byte < decl.end_byte:
                continue
            sel = ident.parent
            if (
                sel is None
                or sel.type != "selector_expression"
                or sel.child_by_field_name("operand") != ident
            ):
                return  # handed on (&wg), reassigned or shadowed: someone else may call Done
            field = ctx.text(sel.child_by_field_name("field"))
            if field == "Add" and _negative_add(ctx, sel):
                return  # wg.Add(-n) releases n waiters at once (a start barrier): a Done
            methods.setdefault(field, sel)
        if "Done" in methods or "Go" in methods or "Add" not in methods or "Wait" not in methods:
            return
        if set(methods) - {"Add", "Wait"}:
            return
        wait = methods["Wait"]
        if _parks(ctx, wait):
            return
        yield self.finding(
            ctx,
            wait,
            f"{name}.Add at line {line(methods['Add'])} counts work, but nothing ever calls {name}.Done(): "
            f"{name}.Wait() blocks forever",
            function=gs.function_name(ctx, wait),
        )

    def _check_go(
        self, ctx: FileContext, go: Node, names: set[str], fields: set[str]
    ) -> Iterator[Finding]:
        fn = goroutine_function(ctx, go)
        owner = gs.enclosing_function(go)
        call = go_call(go)
        if fn is None or owner is None or call is None:
            return
        body = fn.child_by_field_name("body")
        if body is None:
            return
        pairs: list[tuple[str, str]] = []  # (name in the owner, name in the goroutine)
        if fn.type == "func_literal":
            for c in gs.walk(body, "call_expression", into_func_literals=True):
                recv = _method_receiver(ctx, c, "Done")
                if recv and _is_wg(recv, names, fields) and (recv, recv) not in pairs:
                    pairs.append((recv, recv))
        else:
            params = gs.parameters(ctx, fn)
            for i, arg in enumerate(gs.arguments(call)):
                outer = ctx.text(arg).lstrip("&").strip()
                if (
                    i < len(params)
                    and params[i][1].lstrip("*").endswith("WaitGroup")
                    and _is_wg(outer, names, fields)
                    and params[i][0] not in ("", "_")
                ):
                    pairs.append((outer, params[i][0]))
        for outer, inner in pairs:
            add = _add_before(ctx, owner, go, outer)
            if add is None:
                continue
            dones = [
                c
                for c in gs.walk(body, "call_expression")
                if _method_receiver(ctx, c, "Done") == inner
            ]
            if any(loop_between(d, body) is not None for d in dones):
                continue  # one Done per iteration (Add(n) for n items): not a per-goroutine count
            if _counts_outcomes(ctx, owner, go, add):
                continue  # a test's `wg.Add(expectedAccepted)` for numRequests goroutines
            res = analyze(ctx, fn, acquisition=None, var=inner, spec=_DONE)
            # a path that already failed the test (`t.Error(err); return`) is the test's report
            leaks = [e for e in res.leaks if not failed_before(ctx, e.node)]
            # and a return that handles the failure of a call that cannot fail is never taken (prow's
            # censor: `sem.Acquire(context.Background(), 1)`, held-out set 68)
            leaks = [e for e in leaks if not (e.kind == "return" and impossible_failure(ctx, fn, e.node))]
            if res.gave_up or not leaks or not dones:
                continue
            exit_ = leaks[0]
            done = dones[0]
            yield self.finding(
                ctx,
                done,
                f"{outer}.Add at line {line(add)} counts the goroutine started at line {line(go)}, but it "
                f"reaches {exit_.describe()} without {inner}.Done() (called only at line {line(done)}, not "
                f"deferred): {outer}.Wait() then blocks forever",
                function=gs.function_name(ctx, done),
            )


def _parks(ctx: FileContext, wait: Node) -> bool:
    """The Wait nothing marks Done is in the body of a function that parks the process on purpose
    (`once.parks_on_purpose`: `main`'s closing `wg.Add(1); wg.Wait()`, a `Start` run once per process)."""
    from leakhunter.source.program.once import parks_on_purpose

    decl = gs.enclosing_declaration(wait)
    return decl is not None and gs.enclosing_function(wait) == decl and parks_on_purpose(ctx, decl)


def _counts_outcomes(ctx: FileContext, owner: Node, go: Node, add: Node) -> bool:
    """In test code, the goroutine is started in a loop and `wg.Add(n)` before that loop adds another
    number than the loop's count (`wg.Add(expectedAccepted)` for `i < numRequests` goroutines, each
    marking Done only on the outcome it counts): the WaitGroup counts expected outcomes, not
    goroutines, and its Wait blocks only when the checked behaviour is wrong: the test then hangs
    and fails (weaviate's replica queue and key-locker tests)."""
    from leakhunter.source.program.testfail import is_test_code

    loop = loop_between(go, owner)
    if loop is None or not is_test_code(ctx) or loop.start_byte <= add.start_byte < loop.end_byte:
        return False
    args = gs.arguments(add)
    if len(args) != 1:
        return False
    n = "".join(ctx.text(args[0]).split())
    bound = _loop_count(ctx, loop)
    return bool(bound) and n != bound and not n.isdigit()


def _loop_count(ctx: FileContext, loop: Node) -> str:
    """How many times the loop runs, as the source spells it: `n` for `for i := 0; i < n; i++` or
    `for i := range n`, `len(xs)` for `for _, x := range xs`; '' when unknown."""
    for c in loop.named_children:
        if c.type == "for_clause":
            cond = c.child_by_field_name("condition")
            op = cond.child_by_field_name("operator") if cond is not None else None
            if cond is not None and cond.type == "binary_expression" and op is not None and ctx.text(op) == "<":
                return "".join(ctx.text(cond.child_by_field_name("right")).split())
            return ""
        if c.type == "range_clause":
            right = c.child_by_field_name("right")
            if right is None:
                return ""
            text = "".join(ctx.text(right).split())
            counted = text.isdigit() or (right.type == "identifier" and _is_int_count(ctx, loop, text))
            return text if counted else f"len({text})"
    return ""


def _is_int_count(ctx: FileContext, loop: Node, name: str) -> bool:
    """`for i := range n` over an integer: n was assigned a number or an int expression in the function
    (a slice or map would be ranged as well; only a plain int assignment decides)."""
    fn = gs.enclosing_function(loop)
    body = fn.child_by_field_name("body") if fn is not None else None
    for d in gs.walk(body, ("short_var_declaration", "var_spec", "const_spec")) if body is not None else ():
        v = gs.assigned_value(ctx, d, name)
        if v is not None:
            return v.type in ("int_literal", "binary_expression") or ctx.text(v).startswith("len(")
    return False


def _method_receiver(ctx: FileContext, call: Node, method: str) -> str:
    """`wg` for `wg.Done()`, `s.wg` for `s.wg.Done()`; '' if `call` is not `<x>.<method>()`."""
    fn = call.child_by_field_name("function")
    if (
        fn is None
        or fn.type != "selector_expression"
        or ctx.text(fn.child_by_field_name("field")) != method
    ):
        return ""
    return gs.call_name(ctx, fn.child_by_field_name("operand") or fn)


def _is_wg(expr: str, names: set[str], fields: set[str]) -> bool:
    if "." in expr:
        return expr.rsplit(".", 1)[-1] in fields
    return expr in names


def _add_before(ctx: FileContext, owner: Node, go: Node, wg: str) -> Node | None:
    """The last `wg.Add(...)` in the owner function before the go statement."""
    found: Node | None = None
    for c in gs.walk(owner, "call_expression"):
        if c.start_byte >= go.start_byte:
            break
        if _method_receiver(ctx, c, "Add") == wg:
            found = c
    return found


def _waitgroups(ctx: FileContext) -> tuple[set[str], set[str]]:
    """(variable and parameter names, struct field names) declared with a sync.WaitGroup type in the file."""
    cached = ctx.cache.get("lh106.waitgroups")
    if cached is not None:
        return cached  # type: ignore[return-value]
    sync_names = {k for k, v in gs.imports(ctx).items() if v == "sync"}
    wg_types = {f"{p}{s}.WaitGroup" for s in sync_names for p in ("", "*")}
    names: set[str] = set()
    fields: set[str] = set()
    for p in gs.nodes_of_type(ctx, "parameter_declaration", "var_spec", "field_declaration"):
        t = p.child_by_field_name("type")
        if t is None or "".join(ctx.text(t).split()) not in wg_types:
            continue
        idents = p.children_by_field_name("name")
        target = fields if p.type == "field_declaration" else names
        target.update(ctx.text(i) for i in idents)
        if p.type == "field_declaration" and not idents:
            fields.add("WaitGroup")  # embedded
    for d in gs.nodes_of_type(ctx, "short_var_declaration"):
        lefts, rights = gs.assignment_sides(d)
        for left, right in zip(lefts, rights, strict=False):
            text = "".join(ctx.text(right).split())
            if any(
                text in (f"{s}.WaitGroup{{}}", f"&{s}.WaitGroup{{}}", f"new({s}.WaitGroup)")
                for s in sync_names
            ):
                names.add(ctx.text(left))
    ctx.cache["lh106.waitgroups"] = (names, fields)
    return names, fields


def _negative_add(ctx: FileContext, sel: Node) -> bool:
    """`wg.Add(-h.P)`, `wg.Add(-1)`: a negative count releases like that many Done calls
    (wazero's hammer opens a start barrier of P goroutines this way; held-out set 12)."""
    call = sel.parent
    if call is None or call.type != "call_expression":
        return False
    args = call.child_by_field_name("arguments")
    named = [a for a in args.named_children if a.type != "comment"] if args is not None else []
    return len(named) == 1 and ctx.text(named[0]).lstrip("(").startswith("-")
