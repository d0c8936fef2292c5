"""LH504 finalizer-cycle: a finalizer or cleanup that keeps its own object reachable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding, Severity
from leakhunter.source import gosyntax as gs
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node


def _root(ctx: FileContext, n: Node | None) -> str:
    """The variable an expression starts from: `x` for `x`, `&x`, `x.f.g`, `(x)`."""
    while n is not None:
        if n.type == "identifier":
            return ctx.text(n)
        if n.type in ("unary_expression", "parenthesized_expression"):
            kids = n.named_children
            n = kids[-1] if kids else None
        elif n.type == "selector_expression":
            n = n.child_by_field_name("operand")
        else:
            return ""
    return ""


class FinalizerCycle(Rule):
    """A `runtime.SetFinalizer` closure (or `runtime.AddCleanup`) that references its own object.

    The runtime keeps a finalizer function alive until it runs, and it runs only
    once the object is unreachable. A func literal that mentions the object (or the
    variable it hangs off: `SetFinalizer(c.conn, func(*Conn) { c.close() })`)
    captures it, so the object stays reachable from its own finalizer and is never
    collected — the finalizer never runs, and everything the object references
    leaks with it. `runtime.AddCleanup(ptr, fn, arg)` documents the same trap: if
    `ptr` is reachable from `fn` or `arg` (e.g. `arg` is `ptr`), it is never freed.

    Not reported: finalizers that use only their parameter (`func(f *File) {
    f.close() }`), and named functions or method expressions.

    In `_test.go` files findings are `info`: a test leaks one object for one test run, and
    tests that build the cycle do so on purpose (the runtime's own tests check that
    `AddCleanup` panics on it); on std these were 3 of 3 false positives (issue #8).

    Fix: use the finalizer's parameter instead of the captured variable, or, on
    Go 1.24+, `runtime.AddCleanup(obj, func(fd int) { closeFD(fd) }, obj.fd)` with an
    argument that is not the object.
    """

    id = "LH504"
    name = "finalizer-cycle"
    severity = "error"
    fix = "do not capture the object: use the finalizer's parameter, or runtime.AddCleanup (Go 1.24+) with an argument that is not the object"
    leaking_example = """\
func open(fd int) *File {
	f := &File{fd: fd}
	runtime.SetFinalizer(f, func(*File) {
		syscall.Close(f.fd) // captures f: f is never unreachable, never finalized
	})
	return f
}
"""
    fixed_example = """\
func open(fd int) *File {
	f := &File{fd: fd}
	runtime.AddCleanup(f, func(fd int) { syscall.Close(fd) }, f.fd)
	return f
}
"""

    @staticmethod
    def _is_object(ctx: FileContext, arg: Node, obj: str) -> bool:
        """True if `arg` is `obj` or a pointer into it (`&obj.f`); a field's value (`obj.fd`) is a copy."""
        if _root(ctx, arg) != obj:
            return False
        return arg.type == "identifier" or ctx.text(arg).startswith("&")

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        severity: Severity | None = "info" if ctx.is_test else None
        for call in gs.nodes_of_type(ctx, "call_expression"):
            q = gs.qualified_call_name(ctx, call)
            if q not in ("runtime.SetFinalizer", "runtime.AddCleanup"):
                continue
            args = gs.arguments(call)
            if len(args) < 2:
                continue
            obj = _root(ctx, args[0])
            if not obj or (obj in gs.package_vars(ctx) and not gs.is_local_name(ctx, call, obj)):
                continue  # a package-level object is never collected anyway
            kind = "finalizer" if q.endswith("SetFinalizer") else "cleanup"
            function = gs.function_name(ctx, call)
            if kind == "cleanup" and len(args) >= 3 and self._is_object(ctx, args[2], obj):
                yield self.finding(
                    ctx, args[2],
                    f"the cleanup's argument `{ctx.text(args[2])}` is (or points into) the object `{obj}`: "
                    f"the runtime holds the argument until the cleanup runs, so `{obj}` never "
                    f"becomes unreachable and is never freed",
                    function=function, severity=severity,
                )
                continue
            fn = args[1]
            if fn.type != "func_literal":
                continue
            params = {n for n, _ in gs.parameters(ctx, fn)}
            if obj in params:
                continue
            body = fn.child_by_field_name("body")
            if body is None:
                continue
            shadow = gs.local_names(ctx, fn)
            if obj in shadow:
                continue
            use = next(iter(gs.identifiers(ctx, body, obj)), None)
            if use is None:
                continue
            yield self.finding(
                ctx, use,
                f"the {kind} closure captures `{obj}`, the object it is attached to: `{obj}` stays "
                f"reachable from its own {kind}, so it is never collected and the {kind} never runs",
                function=function, severity=severity,
            )
