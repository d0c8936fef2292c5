"""LH505 goroutine-per-request: one unbounded goroutine per request, connection or item."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node

_ACQUIRE = (".Acquire", ".TryAcquire", ".Wait", ".Lock")
"""Calls before a `go` that bound how many run at once (semaphore.Weighted, a WaitGroup barrier)."""

_BOUND_METHODS = frozenset({"acquire", "tryacquire", "wait", "allow", "take", "reserve", "lock"})
"""The same, case-insensitive on the method name: rate limiters (`Allow`, `Wait`, `Reserve`),
token buckets (`Take`) and a package's own semaphore helpers (`s.acquire()`)."""


def _compact(text: str) -> str:
    """`text` without whitespace, so `a . b` and `a.b` compare equal."""
    return "".join(text.split())


def _is_handler(ctx: FileContext, fn: Node) -> bool:
    types = [t for _, t in gs.parameters(ctx, fn)]
    return any(t.endswith("http.ResponseWriter") for t in types) and any(
        t.endswith("*http.Request") for t in types
    )


class GoroutinePerRequest(Rule):
    """A `go` statement per request, connection or received item, with nothing bounding how many run.

    Three shapes: a `go` statement in an HTTP handler (a `func(http.ResponseWriter,
    *http.Request)`) that does not wait for it and is not tied to the request's
    context; a `go` statement per accepted connection (`for { conn, err :=
    ln.Accept(); ...; go handle(conn) }`); and a `go` statement per item ranged from
    a channel (`for req := range reqs { go handle(req) }`). The `go` must be handed
    the item (the connection, the ranged value, or something made from it). A
    receive inside a `for`/`select` loop is not reported: on real code (go-ethereum)
    those channels were reconnect and notification signals delivering one item at a
    time, not work queues. The number of goroutines
    then follows the traffic: a burst becomes a burst of goroutines, each with its
    stack and everything it references, and any other leak in the handled path is
    multiplied by it.

    This is a cost, not a leak on its own (`net/http` itself serves each connection
    on its own goroutine), so it is reported at `info`. Not reported when something
    bounds the fan-out before the `go`: a send on a semaphore channel
    (`sem <- struct{}{}`), a token received from a token channel (`<-tokens`),
    `semaphore.Weighted.Acquire`, a rate limiter's `Wait`/`Allow`/`Reserve`, a package's
    own `acquire()` helper, an `errgroup` with `SetLimit` or a `netutil.LimitListener`
    in the same function, or a handler that waits for its goroutines (`wg.Wait()`, a
    receive or `select` after the `go`).

    On std, caddy, nats-server, go-ethereum, x/tools, cli and prometheus it reports 5
    places, all accept loops serving each connection on its own goroutine
    (`net/http`, `net/rpc`, `fcgi`, go-ethereum's IPC server, caddy's h2 listener):
    real instances of the shape — and the reason it is `info`.

    Fix: a fixed worker pool reading from a channel, `errgroup.Group.SetLimit`, a
    semaphore channel, or `netutil.LimitListener` for connections.
    """

    id = "LH505"
    name = "goroutine-per-request"
    severity = "info"
    fix = "bound the fan-out: a worker pool, errgroup.SetLimit, a semaphore channel, or netutil.LimitListener"
    leaking_example = """\
func serve(jobs <-chan Job) {
	for j := range jobs {
		go process(j) // one goroutine per job, however many arrive
	}
}
"""
    fixed_example = """\
func serve(jobs <-chan Job) {
	sem := make(chan struct{}, 16)
	for j := range jobs {
		sem <- struct{}{} // at most 16 at once
		go func() {
			defer func() { <-sem }()
			process(j)
		}()
	}
}
"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if ctx.is_test or ctx.path.name.endswith("_test.go"):
            return  # test servers and fan-outs are bounded by the test
        for go in gs.nodes_of_type(ctx, "go_statement"):
            fn = gs.enclosing_function(go)
            if fn is None:
                continue
            why = self._per_request(ctx, go, fn)
            if why is not None:
                yield self.finding(
                    ctx, go,
                    f"a goroutine is started {why} with nothing bounding how many run at once: "
                    f"the goroutine count follows the traffic",
                    function=gs.function_name(ctx, go),
                )

    def _per_request(self, ctx: FileContext, go: Node, fn: Node) -> str | None:
        loop = gs.in_loop(go)
        if loop is not None:
            kind = self._incoming_loop(ctx, loop, fn)
            if kind is None or not self._uses_item(ctx, loop, go):
                return None
            if self._bounded_before(ctx, loop.child_by_field_name("body"), go):
                return None
            return kind
        if _is_handler(ctx, fn):
            body = fn.child_by_field_name("body")
            if self._bounded_before(ctx, body, go) or self._waits_after(ctx, body, go):
                return None
            text = ctx.text(go)
            if ".Done()" in text or ".Context()" in text or any(True for _ in gs.identifiers(ctx, go, "ctx")):
                return None  # it is tied to the request's context: it ends with the request
            return "per HTTP request in this handler"
        return None

    def _incoming_loop(self, ctx: FileContext, loop: Node, fn: Node) -> str | None:
        """How the loop takes in work, if it does: accepting connections or receiving from a channel."""
        body = loop.child_by_field_name("body")
        if body is None:
            return None
        for c in gs.walk(body, "call_expression"):
            if gs.call_name(ctx, c).endswith(".Accept"):
                return "per accepted connection"
        for rc in loop.named_children:
            if rc.type == "range_clause":
                right = rc.child_by_field_name("right")
                if right is not None and self._is_channel(ctx, right, fn):
                    return f"per item received from `{ctx.text(right)}`"
                return None
        # A `for { select { case x := <-ch: go f(x) } }` loop is not reported: in real code
        # those channels are mostly reconnect / notify / restart signals that deliver one
        # item at a time (go-ethereum's rpc client, ethstats, tx indexer), not a work queue.
        return None

    @staticmethod
    def _uses_item(ctx: FileContext, loop: Node, go: Node) -> bool:
        """True if the `go` is handed what the loop took in: the ranged value, a received value, a conn."""
        items: set[str] = set()
        for d in gs.walk(loop, ("range_clause", "short_var_declaration", "assignment_statement", "receive_statement")):
            if d.start_byte >= go.start_byte:
                break
            lefts, rights = gs.assignment_sides(d)
            if d.type == "range_clause":
                items.update(ctx.text(x) for x in lefts)
                continue
            if len(rights) == 1 and (
                ctx.text(rights[0]).startswith("<-")
                or (rights[0].type == "call_expression" and gs.call_name(ctx, rights[0]).endswith(".Accept"))
            ):
                items.update(ctx.text(x) for x in lefts[:1])
            elif any(True for r in rights for name in items for _ in gs.identifiers(ctx, r, name)):
                items.update(ctx.text(x) for x in lefts)  # derived: c := srv.newConn(rw)
        items.discard("_")
        return any(True for name in items for _ in gs.identifiers(ctx, go, name))

    @staticmethod
    def _is_channel(ctx: FileContext, expr: Node, fn: Node) -> bool:
        """True if the ranged expression is known to be a channel (a chan parameter or a make(chan))."""
        if expr.type != "identifier":
            return False
        name = ctx.text(expr)
        for p, t in gs.parameters(ctx, fn):
            if p == name:
                return "chan " in t + " " or t.startswith(("chan", "<-chan"))
        for d in gs.walk(fn, ("short_var_declaration", "var_spec")):
            if name in gs.assigned_names(ctx, d):
                v = gs.assigned_value(ctx, d, name)
                typ = d.child_by_field_name("type") if d.type == "var_spec" else None
                text = _compact(ctx.text(v) if v is not None else ctx.text(typ))
                return text.startswith(("make(chan", "make(<-chan", "chan", "<-chan"))
        return False

    @staticmethod
    def _bounded_before(ctx: FileContext, scope: Node | None, go: Node) -> bool:
        """True if, in `scope` before the `go`, a bound is taken: a send on a semaphore channel, a
        token received from a token channel, an Acquire/Wait/Allow/Take call (semaphore, rate
        limiter, pool), including lower-case helpers (`s.acquire()`); or the function limits
        the fan-out as a whole (`errgroup.SetLimit`, `netutil.LimitListener`)."""
        if scope is None:
            return False
        fn = gs.enclosing_function(go)
        if fn is not None:
            text = ctx.source[fn.start_byte : fn.end_byte]
            if b".SetLimit(" in text or b"LimitListener(" in text:
                return True
        for n in gs.walk(scope, ("send_statement", "call_expression", "unary_expression")):
            if n.start_byte >= go.start_byte:
                break
            if n.type == "send_statement":
                return True
            if n.type == "unary_expression":
                if ctx.text(n.child_by_field_name("operator")) == "<-":
                    return True  # `<-tokens`: a token taken before each start
                continue
            name = gs.call_name(ctx, n)
            last = name.rpartition(".")[2].lower()
            if name.endswith(_ACQUIRE) or last in _BOUND_METHODS:
                return True
        return False

    @staticmethod
    def _waits_after(ctx: FileContext, scope: Node | None, go: Node) -> bool:
        """True if the handler waits after the `go` (Wait, a receive or a select): it is bounded by the request."""
        if scope is None:
            return False
        for n in gs.walk(scope, ("call_expression", "unary_expression", "select_statement", "receive_statement")):
            if n.start_byte < go.end_byte:
                continue
            if n.type == "call_expression":
                if gs.call_name(ctx, n).endswith(".Wait"):
                    return True
            elif n.type != "unary_expression" or ctx.text(n).startswith("<-"):
                return True
        return False
