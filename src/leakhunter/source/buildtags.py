"""Files no toolchain that builds the module compiles: a build constraint false for every Go release.

`// +build linux,!go1.11` (songgao/water's `syscalls_linux_legacy.go`, held-out set 28) is kept beside
its replacement for toolchains older than Go 1.11; a module whose `go` directive is 1.11 or later (or,
without one, 1.16, what the go command assumes) is never built by one, so a leak there leaks in no
binary. Only the release tags are decided: `go1.N` is true for every N up to the module's `go`
directive (any toolchain that builds the module is at least that release); every other tag (an OS,
an architecture, `cgo`, a custom tag, a later release) may be either, and the file is skipped only
when no choice of them makes the constraint true. `//go:build ignore` files stay scanned: they are
programs run by hand (`go run gen.go`), which program/exits.py already treats as run-once.

Both syntaxes: the `//go:build` line (Go 1.17+, `&&`, `||`, `!`, parentheses) and, without it, the
`// +build` lines (space = or, comma = and, `!` = not; several lines = and), before the package
clause.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

_GO_BUILD = re.compile(rb"^//go:build\s+(.+?)\s*$")
_PLUS_BUILD = re.compile(rb"^// \+build\s+(.+?)\s*$")
_RELEASE = re.compile(r"^go1\.(\d+)$")
_TOKEN = re.compile(r"\s*(\(|\)|&&|\|\||!|[\w.\-]+)")
_MAX_FREE = 12
"""Tags other than releases tried in every combination; more than this and the file is kept."""
DEFAULT_GO = (1, 16)
"""The release the go command assumes for a go.mod without a `go` directive."""

Expr = Callable[[dict[str, bool]], bool]


def never_built(head: bytes, go_version: tuple[int, int] | None) -> str | None:
    """The constraint (as written) when it is false for every toolchain that can build a module with
    this `go` directive; None when the file may be built (or has no constraint we can read)."""
    written, expr, tags = _constraint(head)
    if expr is None or not any(_RELEASE.match(t) for t in tags):
        return None
    major, minor = go_version or DEFAULT_GO
    if major != 1:
        minor = 10 ** 6  # a Go 2 module: every go1.N release tag holds
    fixed = {t: True for t in tags if (m := _RELEASE.match(t)) and int(m.group(1)) <= minor}
    free = sorted(t for t in tags if t not in fixed)
    if len(free) > _MAX_FREE:
        return None
    for values in itertools.product((False, True), repeat=len(free)):
        if expr({**fixed, **dict(zip(free, values, strict=True))}):
            return None
    return written


def _constraint(head: bytes) -> tuple[str, Expr | None, set[str]]:
    go_build: str | None = None
    plus: list[str] = []
    for raw in head.split(b"\n"):
        line = raw.rstrip(b"\r")
        if line.startswith((b"package ", b"package\t")):
            break
        m = _GO_BUILD.match(line)
        if m:
            go_build = m.group(1).decode("utf-8", "replace")
            continue
        m = _PLUS_BUILD.match(line)
        if m:
            plus.append(m.group(1).decode("utf-8", "replace"))
    tags: set[str] = set()
    if go_build is not None:
        try:
            expr = _parse_go_build(go_build, tags)
        except ValueError:
            return go_build, None, set()
        return f"//go:build {go_build}", expr, tags
    if not plus:
        return "", None, set()
    exprs = [_parse_plus_build(p, tags) for p in plus]
    return "; ".join(f"// +build {p}" for p in plus), (lambda env: all(e(env) for e in exprs)), tags


def _parse_plus_build(line: str, tags: set[str]) -> Expr:
    ors: list[list[tuple[bool, str]]] = []
    for option in line.split():
        terms = []
        for term in option.split(","):
            neg = term.startswith("!")
            name = term.lstrip("!")
            tags.add(name)
            terms.append((neg, name))
        ors.append(terms)
    return lambda env: any(all(env[n] != neg for neg, n in terms) for terms in ors)


def _parse_go_build(text: str, tags: set[str]) -> Expr:
    """A recursive-descent parser for `//go:build` expressions (go/build/constraint's grammar)."""
    toks: list[str] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if text[pos:].strip() == "":
                break
            raise ValueError(text)
        toks.append(m.group(1))
        pos = m.end()
    at = [0]

    def peek() -> str | None:
        return toks[at[0]] if at[0] < len(toks) else None

    def take() -> str:
        if at[0] >= len(toks):
            raise ValueError(text)
        at[0] += 1
        return toks[at[0] - 1]

    def binary(op: str, operand: Callable[[], Expr], both: Callable[[bool, bool], bool]) -> Expr:
        left = operand()
        while peek() == op:
            take()
            right = operand()
            left = (lambda a, b: lambda env: both(a(env), b(env)))(left, right)
        return left

    def or_expr() -> Expr:
        return binary("||", and_expr, lambda x, y: x or y)

    def and_expr() -> Expr:
        return binary("&&", not_expr, lambda x, y: x and y)

    def not_expr() -> Expr:
        if peek() == "!":
            take()
            inner = not_expr()
            return lambda env: not inner(env)
        return atom()

    def atom() -> Expr:
        tok = take()
        if tok == "(":
            inner = or_expr()
            if take() != ")":
                raise ValueError(text)
            return inner
        if tok in (")", "&&", "||", "!"):
            raise ValueError(text)
        tags.add(tok)
        return lambda env: env[tok]

    expr = or_expr()
    if at[0] != len(toks):
        raise ValueError(text)
    return expr
