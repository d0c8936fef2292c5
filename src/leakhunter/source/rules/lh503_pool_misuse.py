"""LH503 pool-misuse: buffers put back into a sync.Pool without a reset or a size cap."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.gopackage import package_facts
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node

_BUFFER_NEW = ("new(bytes.Buffer)", "&bytes.Buffer{}", "bytes.NewBuffer(", "bytes.NewBufferString(")
_RESETS = frozenset({"Reset", "Truncate", "reset"})
_SIZE_CALLS = ("Cap()", "Len()", "cap(", "len(")


def _compact(text: str) -> str:
    """`text` without whitespace, so `a . b` and `a.b` compare equal."""
    return "".join(text.split())


@dataclass(frozen=True, slots=True)
class _Facts:
    kinds: dict[str, str]
    """Pool variable -> "buffer" (*bytes.Buffer) or "bytes" ([]byte or *[]byte)."""
    reset_on_get: frozenset[str]
    """Pools whose values are reset right after Get somewhere in the package."""


def _pool_kind(ctx: FileContext, spec: Node) -> str | None:
    """"buffer"/"bytes" for a package-level `var p = sync.Pool{New: ...}` whose New makes one."""
    if "sync.Pool{" not in _compact(ctx.text(spec)):
        return None
    for kv in gs.walk(spec, "keyed_element"):
        key = kv.child_by_field_name("key")
        value = kv.child_by_field_name("value")
        if ctx.text(key) != "New" or value is None:
            continue
        for fn in gs.walk(value, "func_literal"):
            # what New returns: the expression itself, or what the returned variable was given
            assigned = {
                ctx.text(a.child_by_field_name("left")): _compact(ctx.text(a.child_by_field_name("right")))
                for a in gs.walk(fn, "short_var_declaration")
            }
            for ret in gs.walk(fn, "return_statement"):
                r = _compact(ctx.text(ret))[len("return"):]
                r = assigned.get(r, assigned.get(r.lstrip("&"), r))
                if r.startswith(_BUFFER_NEW):
                    return "buffer"
                if r.startswith(("make([]byte,", "new([]byte)", "[]byte{")):
                    return "bytes"
    return None


def _gets(ctx: FileContext, node: Node) -> Iterator[tuple[str, str]]:
    """(pool, variable) for each `v := pool.Get().(*T)` (or `v, _ :=`) under `node`."""
    for a in gs.walk(node, ("short_var_declaration", "assignment_statement", "var_spec"), into_func_literals=True):
        lefts, rights = gs.assignment_sides(a)
        if not lefts or len(rights) != 1:
            continue
        r = rights[0]
        while r.type in ("type_assertion_expression", "parenthesized_expression", "unary_expression"):
            kids = r.named_children
            if not kids:
                break
            r = kids[0]
        if r.type == "call_expression":
            name = gs.call_name(ctx, r)
            if name.endswith(".Get"):
                yield name[:-4], _compact(ctx.text(lefts[0]))


def _resets(ctx: FileContext, scope: Node, var: str) -> bool:
    """True if `var` (or `*var`) is reset or truncated somewhere in `scope`."""
    bare = var.lstrip("*&")
    for c in gs.walk(scope, "call_expression", into_func_literals=True):
        name = gs.call_name(ctx, c)
        head, _, method = name.rpartition(".")
        if method in _RESETS and head.strip("()*") == bare:
            return True
    for a in gs.walk(scope, "assignment_statement", into_func_literals=True):
        # b = b[:0] / *bp = (*bp)[:0]: the length is reset
        text = _compact(ctx.text(a))
        if text.startswith((f"{bare}=", f"*{bare}=")) and "[:0]" in text:
            return True
    return False


def _compute(files: list[FileContext]) -> _Facts:
    kinds: dict[str, str] = {}
    for f in files:
        for name, spec in gs.package_vars(f).items():
            k = _pool_kind(f, spec)
            if k is not None:
                kinds[name] = k
    reset: set[str] = set()
    if kinds:
        for f in files:
            for decl in gs.nodes_of_type(f, "function_declaration", "method_declaration"):
                for pool, var in _gets(f, decl):
                    if pool in kinds and _resets(f, decl, var):
                        reset.add(pool)
    return _Facts(kinds, frozenset(reset))


class PoolMisuse(Rule):
    """A `*bytes.Buffer` or `[]byte` goes back into a `sync.Pool` not reset, or with no size cap.

    Two shapes, for package-level pools whose `New` makes a `*bytes.Buffer` or a
    `[]byte` (`*[]byte`):

    - Put without a reset (warning): the buffer is put back with its contents, and
      nothing resets it after `Get` either. The next user appends to stale data, and
      every pooled buffer keeps the largest content it ever held.
    - Put without a size cap (info): a buffer that grew to hold one huge message is
      pooled like any other, so after one spike the pool holds (and hands out) huge
      buffers and the heap's high-water mark never falls (golang/go#23199; `fmt` and
      `encoding/json` check `Cap()` before `Put` for this reason). Put is considered
      capped when the function compares the buffer's `Cap()`/`Len()`/`cap()`/`len()`.

    A reset right after `Get` anywhere in the package (`b := pool.Get().(*bytes.Buffer);
    b.Reset()`) counts. Pools of other types are not checked; `Put` of a non-pointer
    slice (an allocation per Put) is staticcheck's SA6002.

    The size-cap shape is a cost rather than a leak (an idle pool is emptied over two
    GC cycles; a busy one keeps its largest buffers), so it is `info`, and not
    reported in test files. Read by hand on code nobody here wrote (std, caddy,
    go-ethereum, staticcheck, x/tools, cli, prometheus, nats): 22 size-cap findings,
    19 real (caddy's pooled response, template and proxy-body buffers, go-ethereum's
    RLP encoding buffers), 3 harmless (buffers that only hold short type or function
    names). An earlier "not reset" on fixed-size `[]byte` scratch pools (overwritten,
    never appended to) was wrong and is no longer reported: `[]byte` pools are only
    checked for growth by `append` without a cap.

    Severity `info` for both shapes (the not-reset shape was warning): the precision
    study (bench/precision/triage.md) measured 5/7 true (71%, below the 75% a warning
    needs) — all size-cap findings; the two false ones are compiler buffers of type
    names, small by nature, which the syntax cannot tell from message buffers.

    Fix: `b.Reset()` before `Put`, and drop buffers above a cap instead of pooling
    them: `if b.Cap() > 64<<10 { return }`.
    """

    id = "LH503"
    name = "pool-misuse"
    severity = "info"
    fix = "reset the buffer before Put, and do not pool buffers above a size cap: if b.Cap() > 64<<10 { return }"
    leaking_example = """\
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func render(v any) string {
	b := bufPool.Get().(*bytes.Buffer)
	fmt.Fprint(b, v)
	s := b.String()
	bufPool.Put(b) // not reset, and pooled however large it grew
	return s
}
"""
    fixed_example = """\
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func render(v any) string {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	fmt.Fprint(b, v)
	s := b.String()
	if b.Cap() <= 64<<10 { // drop buffers that grew for one huge value
		bufPool.Put(b)
	}
	return s
}
"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        puts = [
            c for c in gs.nodes_of_type(ctx, "call_expression")
            if gs.call_name(ctx, c).endswith(".Put") and len(gs.arguments(c)) == 1
        ]
        if not puts:
            return
        facts = package_facts(ctx, "LH503", _compute)
        test = ctx.is_test or ctx.path.name.endswith("_test.go")  # the size cap is a production cost
        for call in puts:
            pool = gs.call_name(ctx, call)[:-4]
            kind = facts.kinds.get(pool)
            if kind is None or gs.is_local_name(ctx, call, pool):
                continue
            fn = gs.enclosing_function(call)
            if fn is None:
                continue
            arg = gs.arguments(call)[0]
            var = _compact(ctx.text(arg))
            function = gs.function_name(ctx, call)
            if kind == "bytes":
                if not test and self._appends(ctx, fn, var) and not self._capped(ctx, fn, var):
                    yield self.finding(
                        ctx, call,
                        f"`{var}` is appended to and goes back into `{pool}` whatever size it grew "
                        f"to: after one large value the pool keeps huge buffers alive; check its "
                        f"capacity before Put",
                        severity="info",
                        function=function,
                    )
                continue
            if pool not in facts.reset_on_get and not _resets(ctx, fn, var):
                yield self.finding(
                    ctx, call,
                    f"`{var}` goes back into `{pool}` without a Reset, and nothing resets it after Get: "
                    f"the next user sees stale contents and every pooled buffer keeps the largest "
                    f"size it ever reached",
                    function=function,
                )
            elif not test and not self._capped(ctx, fn, var):
                yield self.finding(
                    ctx, call,
                    f"`{var}` goes back into `{pool}` whatever size it grew to: after one large value "
                    f"the pool keeps huge buffers alive; check its capacity before Put",
                    severity="info",
                    function=function,
                )

    @staticmethod
    def _appends(ctx: FileContext, fn: Node, var: str) -> bool:
        """True if `var` (a []byte or *[]byte) is grown with append in `fn`."""
        bare = var.lstrip("*&")
        for c in gs.walk(fn, "call_expression", into_func_literals=True):
            if gs.call_name(ctx, c) == "append":
                args = gs.arguments(c)
                if args and _compact(ctx.text(args[0])).strip("()*") == bare:
                    return True
        return False

    @staticmethod
    def _capped(ctx: FileContext, fn: Node, var: str) -> bool:
        bare = var.lstrip("*&")
        for b in gs.walk(fn, "binary_expression", into_func_literals=True):
            op = ctx.text(b.child_by_field_name("operator"))
            if op not in ("<", "<=", ">", ">="):
                continue
            text = _compact(ctx.text(b))
            if bare in text and any(s in text for s in _SIZE_CALLS):
                return True
        return False
