"""LH103 endless-goroutine: a goroutine that loops forever with no way to stop it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.goflow import (
    go_call,
    goroutine_function,
    is_infinite_loop,
    is_terminating_call,
    line,
    program_lifetime,
    under_once,
)
from leakhunter.source.gopackage import package_facts
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node

_STOP_NAME = re.compile(
    r"(?i)(done|quit|stop|exit|close|shut|cancel|die|kill|term|finish|ctx|context)"
)
"""A channel with one of these words in its name is a way to stop the loop."""
_SYSTEM_PACKAGES = frozenset({"runtime"})
"""The runtime's own system goroutines (finalizers, GC workers, signals) are started once by design."""
_BREAKABLE = frozenset(
    {"for_statement", "expression_switch_statement", "type_switch_statement", "select_statement"}
)


class EndlessGoroutine(Rule):
    """A goroutine loops forever: no return, no break out of the loop, no done channel.

    The pattern: `go func() { for { ...work or wait... } }()` (or `go s.loop()` whose
    body is such a loop) in a function that can run more than once — a constructor,
    a request handler, a per-connection setup. Nothing can ever end the loop, so each
    call leaves one more goroutine (and everything it references) alive.

    The fix: pass a `context.Context` (or a `done` channel) and `return` on
    `<-ctx.Done()`; keep the cancel function and call it on Close/shutdown.

    Severity `info` (was warning): on code nobody here wrote (bench/precision/triage.md)
    it measured 0/6 before the package-main and never-returning-starter exclusions and
    1/2 after them (only 2 findings left in the three corpora) — below the 75% a warning needs, because whether a loop is a leak
    or a service depends on how often its starter runs, which the syntax cannot see.
    A loop started once per process (a package-level start function
    called from `main`) is a service, not a leak — the rule cannot see how often the
    enclosing function runs. So it reports only goroutines that hold state of the call
    that starts them (a local, a parameter or the method receiver: one goroutine per
    instance); a loop over package-level state only is taken for a process-wide
    service. Not reported in `package main` when the starting function runs once per
    process — it is called only from `main`/`init`, or never by name (a CLI action
    handed to a framework) — nor when the starter itself
    never returns after the `go` statement (`select {}`, or `wg.Wait()` on a WaitGroup
    nothing marks Done but the endless goroutine itself) — the goroutine then lives exactly as long as its starter.
    Not reported in `main`, `init`, `TestMain`, `Example` functions,
    package-level initialisers, under `sync.Once.Do` or in package runtime (its system
    goroutines), nor when the loop has any way out: a
    `return`, a `break` of that loop, `goto`, `panic`/`os.Exit`/`log.Fatal`, or a
    receive from `ctx.Done()` or a channel named like done/quit/stop/close.

    A range over a ticker's channel (`for range s.ticker.C`) never ends either: Stop does not close
    C. When the owner stops that ticker elsewhere (`Close() { s.ticker.Stop() }`), the author meant
    Stop to end the loop, and every stopped owner leaves its goroutine waiting for good: that is a
    `warning`, shown by default (go-session's memory store; grpc-go's binarylog sink until v1.40
    added a done channel).

    Likewise an endless reader that answers a read error with `continue` while its owner's Close
    closes what it reads (`d.dev.Read`, `Close() { d.dev.Close() }`): after Close every read fails at
    once and the goroutine spins at full speed for good, a `warning` (zondax/ledger-go's HID reader).

    `go s.loop()` is followed into `loop` in the same file, or in another file of the
    package (then the finding is on the `go` statement). Measured by its author: 9 of 11
    findings on the Go tree and ten large modules were true; the hand-triaged precision
    study (std, prometheus, go-ethereum) found 1 of 2 after the exclusions above — hence
    `info` (see Severity).
    """

    id = "LH103"
    name = "endless-goroutine"
    severity = "info"
    fix = "take a context (or done channel) and return on <-ctx.Done(); call its cancel on shutdown"
    leaking_example = """\
func NewCache() *Cache {
	c := &Cache{items: map[string]item{}}
	go func() {
		for { // runs forever, one more per NewCache call
			time.Sleep(time.Minute)
			c.evict()
		}
	}()
	return c
}"""
    fixed_example = """\
func NewCache(ctx context.Context) *Cache {
	c := &Cache{items: map[string]item{}}
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.evict()
			}
		}
	}()
	return c
}"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if b"go " not in ctx.source:
            return
        if gs.package_name(ctx) in _SYSTEM_PACKAGES:
            return
        command = gs.package_name(ctx) == "main"
        for go in gs.nodes_of_type(ctx, "go_statement"):
            fn = goroutine_function(ctx, go)
            if (
                program_lifetime(ctx, go)
                or under_once(ctx, go)
                or _in_example(ctx, go)
                or _starter_never_returns(ctx, go, fn)
            ):
                continue
            body = fn.child_by_field_name("body") if fn is not None else None
            if fn is None or body is None:
                yield from self._other_file(ctx, go)
                continue
            for stmt in gs.statements(body):
                target = _unlabel(stmt)
                ticker = _ranged_ticker(ctx, target) if target.type == "for_statement" else None
                if ticker is not None and not _has_way_out(ctx, target) and _per_call_state(ctx, go, fn):
                    stopped = _ticker_stops(ctx, ticker, fn)
                    if stopped:
                        yield self._stopped_ticker(ctx, go, target, ticker, stopped)
                        break
                if (
                    target.type == "for_statement"
                    and (is_infinite_loop(target) or ticker is not None)
                    and not _has_way_out(ctx, target)
                ):
                    if _per_call_state(ctx, go, fn) and not (command and _started_once(ctx, go)):
                        spin = _spins_when_closed(ctx, target, fn) if ticker is None else None
                        yield self._spinning(ctx, go, target, *spin) if spin else self._report(ctx, go, fn, target)
                    break
                if (
                    target.type == "select_statement"
                    and not ctx.is_test
                    and _never_ready(ctx, target)
                ):
                    what = (
                        "`select {}`"
                        if not target.named_children
                        else "a select on channels nothing else can reach"
                    )
                    yield self.finding(
                        ctx,
                        target,
                        f"goroutine started at line {line(go)} blocks forever in {what}; it can never end",
                        function=gs.function_name(ctx, target),
                    )
                    break

    def _stopped_ticker(self, ctx: FileContext, go: Node, loop: Node, ticker: Node, stopped: str) -> Finding:
        """`for range s.ticker.C` in a goroutine whose owner's Close calls `s.ticker.Stop()`: the author
        meant Stop to end the loop, but Stop never closes C, so every stopped owner leaves its goroutine
        waiting for good (go-session's memory store, held-out set 27's triage)."""
        chan = ctx.text(ticker)
        return self.finding(
            ctx, loop,
            f"goroutine started at line {line(go)} ranges over {chan}.C, which Stop never closes: after "
            f"{stopped} stops the ticker, this goroutine waits on {chan}.C forever (with everything it "
            f"holds), one more per {gs.function_name(ctx, go) or 'call of its starter'}",
            function=gs.function_name(ctx, loop), severity="info" if ctx.is_test else "warning",
            fix=f"select on {chan}.C and on a done channel that {stopped.split(' ')[0]} closes, and return "
                "when it is closed",
        )

    def _spinning(self, ctx: FileContext, go: Node, loop: Node, read: str, closer: str) -> Finding:
        """An endless reader that answers a read error with `continue` while its owner's Close closes what
        it reads: after Close it spins at full speed for good (`_spins_when_closed`)."""
        return self.finding(
            ctx, loop,
            f"goroutine started at line {line(go)} loops forever and answers an error of {read} with "
            f"`continue`: after {closer} closes it, every read fails at once, so the goroutine spins at full "
            f"speed for good, one more per {gs.function_name(ctx, go) or 'call of its starter'}",
            function=gs.function_name(ctx, loop), severity="info" if ctx.is_test else "warning",
            fix="return when the read fails because the reader was closed (errors.Is(err, os.ErrClosed), "
                "io.EOF, or a done channel Close closes), and keep `continue` for errors worth retrying",
        )

    def _other_file(self, ctx: FileContext, go: Node) -> Iterator[Finding]:
        """`go s.loop()` whose endless body is in another file of the package: report the go statement."""
        call = go_call(go)
        callee = call.child_by_field_name("function") if call is not None else None
        if call is None or callee is None:
            return
        if callee.type == "identifier":
            key = ("func", ctx.text(callee))
        elif callee.type == "selector_expression":
            key = ("method", ctx.text(callee.child_by_field_name("field")))
        else:
            return
        if not _per_call_state(ctx, go, call):
            return
        where = package_facts(ctx, "lh103.endless", _endless_functions).get(key)
        if not where:
            return
        file, loop_line = where
        yield self.finding(
            ctx,
            go,
            f"goroutine {gs.call_name(ctx, call)} ({file}:{loop_line}) loops forever: no return, no break out "
            f"of the loop, no receive from ctx.Done() or a done channel; every call of "
            f"{gs.function_name(ctx, go) or 'its caller'} leaves one more goroutine running",
            function=gs.function_name(ctx, go),
        )

    def _report(self, ctx: FileContext, go: Node, fn: Node, loop: Node) -> Finding:
        starter = gs.function_name(ctx, go) or "its caller"
        call = go_call(go)
        started = (
            "goroutine"
            if fn.type == "func_literal"
            else f"goroutine {gs.call_name(ctx, call) if call else ''}"
        )
        return self.finding(
            ctx,
            loop,
            f"{started} started at line {line(go)} loops forever (for at line {line(loop)}): no return, "
            f"no break out of the loop, no receive from ctx.Done() or a done channel; every call of "
            f"{starter} leaves one more goroutine running",
            function=gs.function_name(ctx, loop),
        )


def _ranged_ticker(ctx: FileContext, loop: Node) -> Node | None:
    """The ticker of `for range t.C` / `for now := range s.ticker.C` (`t` a *time.Ticker): a range over
    a channel nothing ever closes, so the loop never ends on its own."""
    from leakhunter.source.program import types as ty

    rng = next((c for c in loop.named_children if c.type == "range_clause"), None)
    right = rng.child_by_field_name("right") if rng is not None else None
    if right is None or right.type != "selector_expression" or ctx.text(right.child_by_field_name("field")) != "C":
        return None
    op = right.child_by_field_name("operand")
    return op if op is not None and ty.expr_type(ctx, op).lstrip("*") == "time.Ticker" else None


def _ticker_stops(ctx: FileContext, ticker: Node, fn: Node) -> str:
    """Where the package stops this ticker from outside the loop's own function `fn` (`s.ticker.Stop()`
    in `memoryStore.Close`), as "memoryStore.Close (store.go:152)"; '' when nowhere. A Stop inside `fn`
    (`defer t.Stop()` of the loop itself) runs only after the loop, so it is no owner's attempt to end
    it (go-redis's Heartbeat). A field is matched by its name and its owner's type; a local variable of
    the function around a goroutine literal, in that function only."""
    if ticker.type == "selector_expression":
        return _field_called_elsewhere(ctx, ticker, "Stop", fn)
    # a local: the ticker of the function around a goroutine literal, stopped there after the `go`
    name = ctx.text(ticker)
    around = gs.enclosing_declaration(fn) if fn.type == "func_literal" else None
    if around is None or name in gs.local_names(ctx, fn):
        return ""
    for call in gs.walk(around, "call_expression"):
        callee = call.child_by_field_name("function")
        if (callee is not None and callee.type == "selector_expression"
                and ctx.text(callee) == f"{name}.Stop" and _outside(ctx, fn, ctx.path.name, line(call))):
            where = gs.function_name(ctx, call) or "its owner"
            return f"{where} ({ctx.path.name}:{line(call)})"
    return ""


def _outside(ctx: FileContext, fn: Node, file: str, at: int) -> bool:
    """Line `at` of `file` is not inside `fn` (a call in the loop's own function runs only after it)."""
    return file != ctx.path.name or not line(fn) <= at <= fn.end_point[0] + 1


def _field_called_elsewhere(ctx: FileContext, sel: Node, method: str, fn: Node) -> str:
    """Where the package calls `method` (Stop, Close) on the field `sel` (`s.ticker`, `d.dev`: matched by
    the field's name and its owner's type) outside `fn`, as "memoryStore.Close (store.go:152)"; ''."""
    from leakhunter.source.program import types as ty

    owner = ty.expr_type(ctx, sel.child_by_field_name("operand")).lstrip("*")
    if not owner:
        return ""
    key = (owner, ctx.text(sel.child_by_field_name("field")), method)
    hits = package_facts(ctx, "lh103.field_calls", _field_calls).get(key, [])
    used = package_facts(ctx, "lh103.names_used", _names_used)
    return next((f"{where} ({file}:{at})" for where, name, file, at in hits
                 if _outside(ctx, fn, file, at) and (not name or not name[0].islower() or name in used)), "")


def _names_used(files: list[FileContext]) -> frozenset[str]:
    """Names the package's production files use other than where they are declared: an unexported
    function or method missing here is called only by tests (package_files gives a production file only
    production siblings), so the Stop or Close inside it never runs in production (vitess' AuthServerVault:
    only its test calls `close`, and in production the server and its ticker goroutine live as long as
    the process; held-out set 3, re-scanned in session 21)."""
    out: set[str] = set()
    for f in files:
        for n in gs.walk(f.tree.root_node, ("identifier", "field_identifier"), into_func_literals=True):
            p = n.parent
            if p is not None and p.type in ("function_declaration", "method_declaration") and \
                    n == p.child_by_field_name("name"):
                continue
            out.add(f.text(n))
    return frozenset(out)


def _field_calls(files: list[FileContext]) -> dict[tuple[str, str, str], list[tuple[str, str, str, int]]]:
    """(owner type, field, method) -> (function, its bare name, file, line) of each `x.field.Stop()` /
    `x.field.Close()` in the package."""
    from leakhunter.source.program import types as ty

    out: dict[tuple[str, str, str], list[tuple[str, str, str, int]]] = {}
    for f in files:
        if b".Stop()" not in f.source and b".Close()" not in f.source:
            continue
        for call in gs.nodes_of_type(f, "call_expression"):
            callee = call.child_by_field_name("function")
            method = f.text(callee.child_by_field_name("field")) if callee is not None and callee.type == "selector_expression" else ""
            if method not in ("Stop", "Close"):
                continue
            sel = callee.child_by_field_name("operand") if callee is not None else None
            if sel is None or sel.type != "selector_expression":
                continue
            owner = ty.expr_type(f, sel.child_by_field_name("operand")).lstrip("*")
            if owner:
                where = gs.function_name(f, call) or "its owner"
                decl = gs.enclosing_declaration(call)
                name = f.text(decl.child_by_field_name("name")) if decl is not None and \
                    decl.type in ("function_declaration", "method_declaration") else ""
                key = (owner, f.text(sel.child_by_field_name("field")), method)
                out.setdefault(key, []).append((where, name, f.path.name, line(call)))
    return out


_READS = frozenset({"Read", "ReadFrom", "ReadMsg", "ReadMessage", "Recv", "RecvMsg", "Accept", "ReadPacket"})


def _spins_when_closed(ctx: FileContext, loop: Node, fn: Node) -> tuple[str, str] | None:
    """(`ledger.device.Read`, "LedgerDeviceHID.Close (ledger_hid.go:256)") for an endless loop that reads
    from a field of its owner and answers a read error with `continue` only, while the owner's Close closes
    that field elsewhere: once closed, the read fails at once, every time, and the loop spins at full speed
    for good (zondax/ledger-go's readThread, held-out set 27's triage)."""
    body = loop.child_by_field_name("body")
    if body is None:
        return None
    stmts = gs.statements(body)
    for i, st in enumerate(stmts[:-1]):
        if st.type not in ("short_var_declaration", "assignment_statement"):
            continue
        _, rights = gs.assignment_sides(st)
        names = gs.assigned_names(ctx, st)
        call = rights[0] if len(rights) == 1 and rights[0].type == "call_expression" else None
        callee = call.child_by_field_name("function") if call is not None else None
        if callee is None or callee.type != "selector_expression" or ctx.text(callee.child_by_field_name("field")) not in _READS:
            continue
        nxt = stmts[i + 1]
        cons = nxt.child_by_field_name("consequence") if nxt.type == "if_statement" else None
        if (not names or cons is None or gs._compact(ctx.text(nxt.child_by_field_name("condition"))) != f"{names[-1]}!=nil"
                or [c.type for c in gs.statements(cons)] != ["continue_statement"]):
            continue
        sel = callee.child_by_field_name("operand")
        closer = _field_called_elsewhere(ctx, sel, "Close", fn) if sel is not None and sel.type == "selector_expression" else ""
        if closer:
            return ctx.text(callee), closer
    return None


def _started_once(ctx: FileContext, go: Node) -> bool:
    """In a command (package main): the function holding the `go` runs once per process.

    True when it is only called from `main`/`init`, or never called by name at all
    (a CLI action handed to a framework as a value: one action per process run).
    A function called from anywhere else (an HTTP handler, a loop) may run many times.
    """
    decl = gs.enclosing_declaration(go)
    if decl is None or decl.type != "function_declaration":
        return False
    name_node = decl.child_by_field_name("name")
    if name_node is None:
        return False
    callers = package_facts(ctx, "lh103.callers", _callers).get(ctx.text(name_node), frozenset())
    return callers <= {"main", "init"}


def _callers(files: list[FileContext]) -> dict[str, frozenset[str]]:
    """Function name -> names of the top-level functions that call it by name.

    A call inside a closure (a handler registered from `main`) or inside a loop counts
    as an unknown caller "": it may run many times.
    """
    out: dict[str, set[str]] = {}
    for f in files:
        for call in gs.nodes_of_type(f, "call_expression"):
            callee = call.child_by_field_name("function")
            if callee is None or callee.type != "identifier":
                continue
            decl = gs.enclosing_function(call)
            name = decl.child_by_field_name("name") if decl is not None and decl.type != "func_literal" else None
            caller = f.text(name) if name is not None and gs.in_loop(call) is None else ""
            out.setdefault(f.text(callee), set()).add(caller)
    return {k: frozenset(v) for k, v in out.items()}


_WAIT = re.compile(rb"\b([A-Za-z_][\w.]*)\.Wait\(\)")


def _starter_never_returns(ctx: FileContext, go: Node, goroutine: Node | None) -> bool:
    """The function that runs the `go` statement blocks forever after it.

    Then the goroutine lives exactly as long as its starter, which is not one more
    goroutine per call: a top-level `select {}` after the go statement, or
    `wg.Wait()` on a WaitGroup that nothing in the function ever marks Done, or that
    only the endless goroutine itself would mark Done (it never gets there).
    """
    fn = gs.enclosing_function(go)
    body = fn.child_by_field_name("body") if fn is not None else None
    if fn is None or body is None:
        return False
    text = ctx.source[fn.start_byte : fn.end_byte]
    for stmt in gs.statements(body):
        if stmt.start_byte <= go.start_byte:
            continue
        if stmt.type == "select_statement" and not stmt.named_children:
            return True
        m = _WAIT.fullmatch(ctx.source[stmt.start_byte : stmt.end_byte].strip())
        if not m or m.group(1) + b".Add(" not in text:
            continue
        if m.group(1) + b".Done()" not in text:
            return True
        # the endless goroutine itself is what would call Done: it never does, so Wait never returns
        if goroutine is not None and m.group(1) + b".Done()" in ctx.source[goroutine.start_byte : goroutine.end_byte]:
            return True
    return False


def _has_way_out(ctx: FileContext, loop: Node) -> bool:
    body = loop.child_by_field_name("body")
    if body is None:
        return True
    for n in gs.walk(body):
        t = n.type
        if t in ("return_statement", "goto_statement"):
            return True
        if t == "break_statement":
            if n.named_children or _breaks(n) == loop:
                return True
        elif t == "call_expression":
            if is_terminating_call(ctx, n):
                return True
        elif t == "unary_expression":
            op = n.child_by_field_name("operator")
            if op is not None and op.type == "<-":
                operand = n.child_by_field_name("operand")
                name = gs.call_name(ctx, operand) if operand is not None else ""
                if name.endswith(".Done()") or _STOP_NAME.search(name.rsplit(".", 1)[-1]):
                    return True
    return False


def _breaks(brk: Node) -> Node | None:
    """The statement an unlabelled break leaves."""
    for p in gs.ancestors(brk):
        if p.type in _BREAKABLE:
            return p
        if p.type in gs.FUNC_TYPES:
            return None
    return None


def _in_example(ctx: FileContext, node: Node) -> bool:
    """Inside a testable `ExampleXxx` function: a stand-in for `main`, program lifetime."""
    decl = gs.enclosing_declaration(node)
    return (
        ctx.is_test
        and decl is not None
        and decl.type == "function_declaration"
        and ctx.text(decl.child_by_field_name("name")).startswith("Example")
    )


def _outer_names(ctx: FileContext, node: Node) -> set[str]:
    """Locals, parameters and receivers of every function enclosing `node`."""
    names: set[str] = set()
    fn = gs.enclosing_function(node)
    while fn is not None:
        names |= gs.local_names(ctx, fn)
        recv = fn.child_by_field_name("receiver")
        if recv is not None:
            for p in recv.named_children:
                names.update(ctx.text(n) for n in p.children_by_field_name("name"))
        fn = gs.enclosing_function(fn)
    names.discard("_")
    return names


def _per_call_state(ctx: FileContext, go: Node, fn: Node) -> bool:
    """Does the goroutine hold state of the call that starts it (a local, a parameter, the receiver)?

    A loop over package-level state only (`go collectMetrics()`) is a process-wide
    service, normally started once; one that captures `c` from `c := &Cache{}` or the
    method receiver is started per instance — one more with every call.
    """
    names = _outer_names(ctx, go)
    if not names:
        return False
    call = go_call(go)
    if call is None:
        return False
    if fn.type == "func_literal":
        inner = gs.local_names(ctx, fn)
        captured = any(
            ctx.text(i) in names and ctx.text(i) not in inner
            for i in gs.walk(fn, "identifier", into_func_literals=True)
        )
        return captured or any(
            ctx.text(i) in names
            for a in gs.arguments(call)
            for i in gs.walk(a, "identifier", into_func_literals=True)
        )
    callee = call.child_by_field_name("function")
    region = list(gs.arguments(call))
    if callee is not None and callee.type == "selector_expression":
        operand = callee.child_by_field_name("operand")
        if operand is not None:
            region.append(operand)
    return any(
        ctx.text(i) in names
        for r in region
        for i in gs.walk(r, "identifier", into_func_literals=True)
    )


def _unlabel(stmt: Node) -> Node:
    target = stmt
    while target.type == "labeled_statement":
        inner = [c for c in target.named_children if c.type.endswith("statement")]
        if not inner:
            break
        target = inner[-1]
    return target


def _endless_functions(files: list[FileContext]) -> dict[tuple[str, str], tuple[str, int] | None]:
    """(kind, name) -> (file name, loop line) for the package's functions whose body loops forever.

    A name declared twice (methods of different types) maps to None: ambiguous, not reported.
    """
    out: dict[tuple[str, str], tuple[str, int] | None] = {}
    seen: set[tuple[str, str]] = set()
    for f in files:
        for decl in gs.nodes_of_type(f, "function_declaration", "method_declaration"):
            kind = "func" if decl.type == "function_declaration" else "method"
            key = (kind, f.text(decl.child_by_field_name("name")))
            if key in seen:
                out[key] = None
                continue
            seen.add(key)
            body = decl.child_by_field_name("body")
            for stmt in gs.statements(body):
                target = _unlabel(stmt)
                if target.type == "for_statement" and is_infinite_loop(target):
                    if not _has_way_out(f, target):
                        out[key] = (f.path.name, line(target))
                    break
    return out


def _never_ready(ctx: FileContext, sel: Node) -> bool:
    """`select {}`, or a select whose every case uses a channel made inline (`case <-make(chan T):`)."""
    cases = [c for c in sel.named_children if c.type in ("communication_case", "default_case")]
    for c in cases:
        if c.type == "default_case":
            return False
        comm = c.child_by_field_name("communication")
        if comm is None:
            return False
        if comm.type == "receive_statement":
            comm = comm.child_by_field_name("right")
        if comm is None:
            return False
        chan = comm.child_by_field_name("channel" if comm.type == "send_statement" else "operand")
        if chan is None or chan.type != "call_expression" or gs.call_name(ctx, chan) != "make":
            return False
    return True
