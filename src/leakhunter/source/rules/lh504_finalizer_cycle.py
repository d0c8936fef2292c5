"""LH504 finalizer-cycle: a finalizer or cleanup that keeps its own object reachable."""

from __future__ import annotations

import re
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


def _held_through_fields(
    ctx: FileContext, call: Node, lit: Node, obj: Node, inner: set[str]
) -> tuple[Node, str, str, str, str] | None:
    """(the captured name's use, the name, field, field type, object type) when the closure captures a
    receiver or parameter of the enclosing function whose struct type (the program model's) has a field
    holding values of the object's type: OPA v1.18.0's `runtime.AddCleanup(rule, func(k ...) {
    as.mergedLabels.Delete(k) }, k)`, where `as` (the *AnnotationSet receiver) keeps `byRule
    map[*Rule][]*Annotations`, so the rule is reachable from its own cleanup and never collected
    (opa#8817, real leaks set 3)."""
    from leakhunter.source.program import types as ty

    fn = gs.enclosing_declaration(call)
    body = lit.child_by_field_name("body")
    otype = ty.expr_type(ctx, obj).lstrip("*")
    if fn is None or body is None or "." not in otype:
        return None
    own = ty.own_path(ctx) + "."
    word = re.compile(rf"(?<![\w./]){re.escape(otype)}\b")
    names = [n for n, _ in gs.parameters(ctx, fn, "receiver") + gs.parameters(ctx, fn)]
    for name in names:
        use = _first_use(ctx, body, name) if name not in ("", "_") and name not in inner else None
        holder = ty.expr_type(ctx, use) if use is not None else ""
        td = ty.type_decl(ctx, holder) if holder.lstrip("*") != otype else None
        if use is None or td is None or td.kind != "struct":
            continue
        for field, ftype in td.fields.items():
            if word.search(ftype):
                shown = otype.replace(own, "")
                return use, name, field, ftype.replace(own, ""), f"*{shown}" if f"*{otype}" in ftype else shown
    return None


def _first_use(ctx: FileContext, body: Node, name: str) -> Node | None:
    """The first mention of `name` in `body`."""
    return next(iter(gs.identifiers(ctx, body, name)), None)


class FinalizerCycle(Rule):
    """A `runtime.SetFinalizer` closure (or `runtime.AddCleanup`) that references its own object.

    The runtime keeps a finalizer function alive until it runs, and it runs only
    once the object is unreachable. A func literal that mentions the object (or the
    variable it hangs off: `SetFinalizer(c.conn, func(*Conn) { c.close() })`)
    captures it, so the object stays reachable from its own finalizer and is never
    collected — the finalizer never runs, and everything the object references
    leaks with it. `runtime.AddCleanup(ptr, fn, arg)` documents the same trap: if
    `ptr` is reachable from `fn` or `arg` (e.g. `arg` is `ptr`), it is never freed.

    Also (warning, a may): a closure that captures a receiver or parameter of the enclosing function
    whose struct type has a field holding values of the object's type (OPA v1.18.0's AnnotationSet:
    the cleanup captures the set, whose `byRule` map keeps the rule; opa#8817, a leak `soak` called in
    the running server): if that field holds this object, it is never collected.

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
            use = _first_use(ctx, body, obj)
            if use is None:
                held = _held_through_fields(ctx, call, fn, args[0], params | shadow)
                if held is not None:
                    at, name, field, ftype, otype = held
                    yield self.finding(
                        ctx, at,
                        f"the {kind} closure captures `{name}`, whose field {field} ({ftype}) holds {otype} "
                        f"values: if it holds `{obj}`, `{obj}` stays reachable from its own {kind}, so it is "
                        f"never collected and the {kind} never runs",
                        function=function, severity=severity or "warning",
                        fix=f"capture only what the {kind} needs (the field it touches, not `{name}`), or "
                            f"keep no per-object {kind} on a value `{name}` holds",
                    )
                continue
            yield self.finding(
                ctx, use,
                f"the {kind} closure captures `{obj}`, the object it is attached to: `{obj}` stays "
                f"reachable from its own {kind}, so it is never collected and the {kind} never runs",
                function=function, severity=severity,
            )
