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


def _bare_type(t: str) -> str:
    """`Rule` for `*Rule`, `*pkg.Rule[K]`: the named type a parameter's type text points to."""
    t = t.strip().lstrip("*").split("[", 1)[0]
    return t.rpartition(".")[2] if t.replace(".", "").replace("_", "").isalnum() else ""


def _struct_fields(ctx: FileContext, name: str) -> list[tuple[str, str]]:
    """(field names, field type text) of the struct type `name` declared in the file's package."""
    from leakhunter.source.gopackage import package_files

    for f in package_files(ctx):
        for spec in gs.walk(f.tree.root_node, "type_spec"):
            n, t = spec.child_by_field_name("name"), spec.child_by_field_name("type")
            if n is None or t is None or f.text(n) != name or t.type != "struct_type":
                continue
            out = []
            for fd in gs.walk(t, "field_declaration"):
                ft = fd.child_by_field_name("type")
                names = ", ".join(f.text(c) for c in fd.children_by_field_name("name")) or f.text(ft)
                out.append((names, " ".join(f.text(ft).split()) if ft is not None else ""))
            return out
    return []


def _held_through_fields(
    ctx: FileContext, call: Node, lit: Node, obj: str, inner: set[str]
) -> tuple[str, str, str, str] | None:
    """(captured name, field, field type, object type) when the closure captures a receiver or parameter of
    the enclosing function whose struct type has a field holding values of the object's type: OPA
    v1.18.0's `runtime.AddCleanup(rule, func(k ...) { as.mergedLabels.Delete(k) }, k)`, where `as`
    (the *AnnotationSet receiver) keeps `byRule map[*Rule][]*Annotations`, so the rule is reachable
    from its own cleanup and never collected (opa#8817, real leaks set 3)."""
    fn = gs.enclosing_function(call)
    while fn is not None and fn.type == "func_literal":
        fn = gs.enclosing_function(fn)
    if fn is None:
        return None
    typed = dict(gs.parameters(ctx, fn))
    recv = fn.child_by_field_name("receiver") if fn.type == "method_declaration" else None
    if recv is not None:
        for p in recv.named_children:
            if p.type == "parameter_declaration":
                pname, ptype = p.child_by_field_name("name"), p.child_by_field_name("type")
                if pname is not None and ptype is not None:
                    typed[ctx.text(pname)] = ctx.text(ptype)
    otype = _bare_type(typed.get(obj, ""))
    if not otype:
        return None
    word = re.compile(rf"\b{re.escape(otype)}\b")
    body = lit.child_by_field_name("body")
    for name, t in typed.items():
        if name in ("", "_", obj) or name in inner or body is None or held_use(ctx, body, name) is None:
            continue
        holder = _bare_type(t)
        if not holder or holder == otype:
            continue
        for field, ftype in _struct_fields(ctx, holder):
            if word.search(ftype):
                return name, field, ftype, f"*{otype}" if f"*{otype}" in ftype else otype
    return None


def held_use(ctx: FileContext, body: Node, name: str) -> Node | None:
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
            use = next(iter(gs.identifiers(ctx, body, obj)), None)
            if use is None:
                held = _held_through_fields(ctx, call, fn, obj, params | shadow)
                if held is not None:
                    name, field, ftype, otype = held
                    yield self.finding(
                        ctx, held_use(ctx, body, name) or fn,
                        f"the {kind} closure captures `{name}`, whose field {field} ({ftype}) holds {otype} "
                        f"values: if it holds `{obj}`, `{obj}` stays reachable from its own {kind}, so it is "
                        f"never collected and the {kind} never runs",
                        function=function, severity=severity or "warning",
                    )
                continue
            yield self.finding(
                ctx, use,
                f"the {kind} closure captures `{obj}`, the object it is attached to: `{obj}` stays "
                f"reachable from its own {kind}, so it is never collected and the {kind} never runs",
                function=function, severity=severity,
            )
