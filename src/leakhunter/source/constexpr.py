"""Values of constant conditions: `if debug {`, `if !nativeReceive {`, `if verbose > 1 {`.

The compiler drops a branch whose condition is a constant; code under it never runs, and a leak
written there is no leak (btrfs's `const nativeReceive = false` guards an unfinished native
receive that opens two files and panics "not implemented": held-out set 54). Constants declared
in the same file (package level, or in the enclosing function) are read, and a package-level one of
another file of the package when it is the only declaration of its name in the directory, whatever
the build tags: a file compiles only together with its own declarations, and one that names a
constant of another file compiles only in builds holding that file. A name declared in two files
may have a twin per build (`debug_on.go` / `debug_off.go`), so its value is not known from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leakhunter.source import gosyntax as gs

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext

Value = bool | int

_DEPTH = 8
"""How many constants deep a value is followed (`const a = b; const b = !c; ...`)."""

_COMPARE = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def constant_bool(ctx: FileContext, expr: Node | None) -> bool | None:
    """The condition's value when the compiler knows it; None when it may vary."""
    v = _value(ctx, expr, 0)
    return v if isinstance(v, bool) else None


def constant_int(ctx: FileContext, expr: Node | None) -> int | None:
    """The integer value of a constant expression (`1024`, `DirCacheSize`, `4 << 10`); None when it may vary."""
    v = _value(ctx, expr, 0)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _value(ctx: FileContext, n: Node | None, depth: int) -> Value | None:
    if n is None or depth > _DEPTH:
        return None
    t = n.type
    if t == "true":
        return True
    if t == "false":
        return False
    if t == "int_literal":
        try:
            return int(ctx.text(n).replace("_", ""), 0)
        except ValueError:
            return None
    if t == "parenthesized_expression":
        inner = [c for c in n.named_children if c.type != "comment"]
        return _value(ctx, inner[0], depth) if len(inner) == 1 else None
    if t == "unary_expression":
        op = ctx.text(n.child_by_field_name("operator"))
        v = _value(ctx, n.child_by_field_name("operand"), depth)
        if op == "!" and isinstance(v, bool):
            return not v
        if op == "-" and isinstance(v, int) and not isinstance(v, bool):
            return -v
        return None
    if t == "binary_expression":
        return _binary(ctx, n, depth)
    if t == "identifier":
        return _constant(ctx, n, depth)
    return None


def _binary(ctx: FileContext, n: Node, depth: int) -> Value | None:
    op = ctx.text(n.child_by_field_name("operator"))
    left = _value(ctx, n.child_by_field_name("left"), depth)
    if op in ("&&", "||"):
        if not isinstance(left, bool):
            return None
        if (op == "&&" and left is False) or (op == "||" and left is True):
            return left  # short-circuit: the right side is never evaluated
        right = _value(ctx, n.child_by_field_name("right"), depth)
        return right if isinstance(right, bool) else None
    if left is None:
        return None
    right = _value(ctx, n.child_by_field_name("right"), depth)
    if right is None or isinstance(left, bool) != isinstance(right, bool):
        return None
    cmp = _COMPARE.get(op)
    if cmp is None or (isinstance(left, bool) and op not in ("==", "!=")):
        return None
    return bool(cmp(left, right))


def _constant(ctx: FileContext, ident: Node, depth: int) -> Value | None:
    """A `const` that `ident` names, not shadowed by a local variable or parameter: of this file, or
    of another file of the package, the only declaration of its name (`_shared_const`)."""
    name = ctx.text(ident)
    spec = gs.const_spec(ctx, ident) if b"const" in ctx.source else None
    if gs.is_local_name(ctx, ident, name):
        return None
    if spec is None:
        got = _shared_const(ctx, name)
        if got is None:
            return None
        ctx, spec = got
    names = [ctx.text(c) for c in spec.children_by_field_name("name")]
    value = spec.child_by_field_name("value")
    if value is None or name not in names:
        return None  # implicit repetition (`iota` blocks): not followed
    exprs = [c for c in value.named_children if c.type != "comment"] if value.type == "expression_list" else [value]
    if len(exprs) != len(names):
        return None
    return _value(ctx, exprs[names.index(name)], depth + 1)


def _shared_const(ctx: FileContext, name: str) -> tuple[FileContext, Node] | None:
    """The package-level `const name` of another file of the package, when no other file of the
    directory, whatever its build tags, declares the name at package level: in every build that
    compiles this file the name is that constant (a build without its file would not compile this
    one), so its value holds (x/build's `const devPause = false` in coordinator.go, read in
    buildstatus.go, held-out set 64). A name declared in two files (`debug_on.go` / `debug_off.go`,
    a const in one and a var in the other) has a value per build: unknown."""
    from leakhunter.source.gopackage import package_files

    found: tuple[FileContext, Node] | None = None
    for f in package_files(ctx)[1:]:
        if name.encode() not in f.source:
            continue
        spec = gs.package_consts(f).get(name)
        if spec is None and name not in gs.package_vars(f):
            continue
        if spec is None or found is not None:
            return None  # a var of the name, or a second declaration: a twin for other builds
        found = (f, spec)
    return found
