"""Equal-length rewrites of valid Go that tree-sitter-go 0.25 cannot parse yet.

The grammar lags the language. Parsing all of GOROOT/src of Go 1.26 and Go 1.27 and
keeping the files `gofmt -e` accepts, the ERROR nodes come from two shapes:

- `new(expr)` (Go 1.26): the grammar reads `new(`/`make(` as the builtin's special
  argument list, a type first. `new(42)`, `new(T{1})`, `new(f())`, `new("key")`, and a
  local function named `make` called as `make(n - 1)` all fail, and so does a package's own
  `new` called with more than one argument (`new(iface, nil, nil, opts...)`: insomniacslk/dhcp's
  nclient4, held-out set 21).
- generic methods (Go 1.27): `func (r *Rand) N[Int intType](n Int) Int`; the grammar has
  no type parameters on a method, and the whole file becomes one ERROR node.
- a general comment spanning lines with code after it on its last line:
  `err = req.SetupGet(path) /* ...\n... */if err != nil {` (go-coap, held-out set 8). The spec says
  such a comment acts like a newline, so a semicolon goes in after `)`; the grammar's scanner
  does not insert one and the statement fails. The comment is blanked to spaces (newlines kept).
- a declaration group closed on the line of its last spec: `const ( a = 1 )`, `a = 1 /* c */)`
  (u-root's ectool, held-out set 18): the space or comment before `)` becomes `;`.
- a label named `new` or `make` (`new:` ... `break new`: projectdiscovery's errkit, held-out set 42):
  both become `nEw`/`mAke`, as the calls do.
- an `if`/`switch`/`for` header whose init statement ends a line: `if err := f()\n\t\terr != nil {`
  (kobe's ansible runner, held-out set 34). Go's automatic semicolon ends the statement at the
  newline; the grammar's scanner inserts none there. The first indentation byte of the next
  line becomes `;`.

Rather than fork the grammar (the fix is an open pull request upstream), the source bytes
are rewritten before parsing into a form the grammar accepts, of exactly the same
length, so every byte offset, line and column of the tree is the original's: findings
point at the real code. `new(expr)` becomes `nEw(expr)` (an ordinary call; the file's
own bytes, which rules read through `FileContext.text`, still say `new`), and a generic
method's type parameter list is blanked to spaces (newlines kept), which leaves an
ordinary method whose body the rules analyse as before.

Only files whose first parse holds an error are rewritten, so valid files cost nothing.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    rb"""
    (?P<ws>[ \t\r\n\f]+)
  | (?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<str>"(?:[^"\\\n]|\\.)*"?|`[^`]*`?|'(?:[^'\\\n]|\\.)*'?)
  | (?P<id>[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*)
  | (?P<num>\.?[0-9](?:[eEpP][+-]|[0-9A-Za-z_.])*)
  | (?P<op><-|\.\.\.|.)
    """,
    re.VERBOSE | re.DOTALL,
)

_OPEN = {b"(": b")", b"[": b"]", b"{": b"}"}
_CLOSE = {b")", b"]", b"}"}

Tok = tuple[str, int, int, bytes]
"""(kind, start, end, text) of one token; whitespace and comments are dropped."""


def tokens(src: bytes) -> list[Tok]:
    out: list[Tok] = []
    for m in _TOKEN.finditer(src):
        kind = m.lastgroup or "op"
        if kind in ("ws", "comment"):
            continue
        out.append((kind, m.start(), m.end(), m.group()))
    return out


class _Toks(list[Tok]):
    """Tokens plus the index of the bracket closing each opening one, computed once (linear)."""

    def __init__(self, toks: list[Tok]) -> None:
        super().__init__(toks)
        self.closer: dict[int, int] = {}
        stack: list[int] = []
        for i, t in enumerate(toks):
            if t[3] in _OPEN:
                stack.append(i)
            elif t[3] in _CLOSE and stack:
                self.closer[stack.pop()] = i


def _match(toks: list[Tok], i: int) -> int | None:
    """Index of the bracket closing the one at `i` (None if unbalanced)."""
    if isinstance(toks, _Toks):
        return toks.closer.get(i)
    return _Toks(toks).closer.get(i)


def _text(toks: list[Tok], i: int) -> bytes:
    return toks[i][3] if i < len(toks) else b""


def _type_end(toks: list[Tok], i: int, depth: int = 0) -> int | None:
    """Index just past a Go type starting at token `i`, or None if no type starts there."""
    if depth > 50 or i >= len(toks):
        return None
    kind, _, _, t = toks[i]
    if t in (b"struct", b"interface"):
        if _text(toks, i + 1) == b"{":
            j = _match(toks, i + 1)
            return None if j is None else j + 1
        return None
    if t == b"map":
        if _text(toks, i + 1) != b"[":
            return None
        j = _match(toks, i + 1)
        return None if j is None else _type_end(toks, j + 1, depth + 1)
    if t == b"chan":
        k = i + 1
        if _text(toks, k) == b"<-":
            k += 1
        return _type_end(toks, k, depth + 1)
    if t == b"<-":
        return _type_end(toks, i + 2, depth + 1) if _text(toks, i + 1) == b"chan" else None
    if t == b"func":
        if _text(toks, i + 1) != b"(":
            return None
        j = _match(toks, i + 1)
        if j is None:
            return None
        k = j + 1
        if _text(toks, k) == b"(":
            r = _match(toks, k)
            return None if r is None else r + 1
        end = _type_end(toks, k, depth + 1)
        return end if end is not None else k
    if kind == "id":
        k = i + 1
        if _text(toks, k) == b"." and k + 1 < len(toks) and toks[k + 1][0] == "id":
            k += 2
        if _text(toks, k) == b"[":
            j = _match(toks, k)
            return None if j is None else j + 1
        return k
    if t == b"*":
        return _type_end(toks, i + 1, depth + 1)
    if t == b"[":
        j = _match(toks, i)
        return None if j is None else _type_end(toks, j + 1, depth + 1)
    if t == b"(":
        j = _type_end(toks, i + 1, depth + 1)
        return j + 1 if j is not None and _text(toks, j) == b")" else None
    return None


_RENAME = {b"new": b"nEw", b"make": b"mAke"}


def _builtin_calls(toks: list[Tok]) -> list[tuple[int, bytes]]:
    """(offset, replacement) for each `new(`/`make(` whose first argument is an expression."""
    out: list[tuple[int, bytes]] = []
    for i, (kind, start, _end, t) in enumerate(toks):
        if kind != "id" or t not in _RENAME or _text(toks, i + 1) != b"(":
            continue
        if i > 0 and toks[i - 1][3] in (b".", b"func"):
            continue  # a method or a declaration named new: an ordinary identifier already
        end = _type_end(toks, i + 2)
        if end is not None and _text(toks, end) in ((b")",) if t == b"new" else (b")", b",")):
            continue  # new(T), make([]T, n): the grammar's own form; `new(a, b)` is the package's own `new`
        out.append((start, _RENAME[t]))
    return out


def _labels(toks: list[Tok]) -> list[tuple[int, bytes]]:
    """(offset, replacement) for a label named `new` or `make`: `new:` opening a statement and its
    `break new` / `continue new` / `goto new` (projectdiscovery/utils' errkit, held-out set 42: a
    valid file whose method was left unanalysed). The grammar reads the predeclared names as the
    builtins' own tokens there too."""
    out: list[tuple[int, bytes]] = []
    for i, (kind, start, _end, t) in enumerate(toks):
        if kind != "id" or t not in _RENAME:
            continue
        before = toks[i - 1][3] if i > 0 else b""
        # `new:` (not `new :=`); a key `new: v` in a literal renamed too is still an identifier there
        if before in (b"break", b"continue", b"goto") or (
                _text(toks, i + 1) == b":" and _text(toks, i + 2) != b"="):
            out.append((start, _RENAME[t]))
    return out


def _generic_method_params(toks: list[Tok]) -> list[tuple[int, int]]:
    """Byte ranges of the type parameter lists of top-level generic methods (Go 1.27)."""
    out: list[tuple[int, int]] = []
    depth = 0
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i][3]
        if t in _OPEN:
            depth += 1
        elif t in _CLOSE:
            depth -= 1
        elif depth == 0 and t == b"func" and _text(toks, i + 1) == b"(":
            r = _match(toks, i + 1)
            if r is not None and r + 2 < n and toks[r + 1][0] == "id" and toks[r + 2][3] == b"[":
                close = _match(toks, r + 2)
                if close is not None and _text(toks, close + 1) == b"(":
                    out.append((toks[r + 2][1], toks[close][2]))
                    i = close + 1
                    continue
        i += 1
    return out


def _newline_comments(src: bytes) -> list[tuple[int, int]]:
    """Spans of `/* ... */` comments holding a newline with code after them on their last line."""
    out: list[tuple[int, int]] = []
    for m in _TOKEN.finditer(src):
        if m.lastgroup != "comment" or not m.group().startswith(b"/*") or b"\n" not in m.group():
            continue
        rest = src[m.end(): src.find(b"\n", m.end()) if b"\n" in src[m.end():] else len(src)].strip()
        if rest and not rest.startswith((b"//", b"/*")):
            out.append((m.start(), m.end()))
    return out


_GROUPS = frozenset({b"const", b"var", b"type", b"import"})


def _group_closers(toks: list[Tok], src: bytes) -> list[tuple[int, bytes]]:
    """(offset, replacement) ending the last spec of a `const (`/`var (`/`type (`/`import (` group whose
    `)` shares its line (`a = 1 /* note */)`, u-root's ectool, held-out set 18): the grammar wants a
    terminator there that Go's automatic semicolon supplies. The space (or comment, blanked) before
    the `)` becomes `;`. With nothing between the two (an empty raw string, then `)`: ajstarks/deck's
    generated code, held-out set 86) one blank between two tokens of that last line moves to the end as
    the `;`: the tokens after it shift one column left, inside a declaration no finding points into. A
    last line with no blank at all (`a=(1<<1))`) has no equal-length form."""
    out: list[tuple[int, bytes]] = []
    for i, t in enumerate(toks[:-1]):
        if t[3] not in _GROUPS or toks[i + 1][3] != b"(":
            continue
        j = _match(toks, i + 1)
        if j is None or j - 1 <= i + 1 or toks[j - 1][3] == b";":
            continue
        gap = src[toks[j - 1][2]: toks[j][1]]
        if gap and (b"\n" in gap or b"\r" in gap):
            continue
        if gap:
            out.append((toks[j - 1][2], b" " * (len(gap) - 1) + b";"))
            continue
        close = toks[j][1]
        for k in range(j - 1, i + 1, -1):
            between = src[toks[k - 1][2]: toks[k][1]]
            if b"\n" in between or b"\r" in between:
                break  # the last spec's line starts at toks[k]: no blank on it
            if between.strip(b" \t") == b"" and between:
                ws = toks[k - 1][2]
                out.append((ws, src[ws + 1: close] + b";"))
                break
    return out


_HEADS = frozenset({b"if", b"switch", b"for"})
_ENDS_STATEMENT = frozenset({b")", b"]", b"}", b"++", b"--", b"break", b"continue", b"return", b"fallthrough"})
"""Tokens after which a newline ends a statement (with identifiers and literals), by Go's semicolon rule."""


def _header_semicolons(toks: list[Tok], src: bytes) -> list[tuple[int, bytes]]:
    """(offset, b";") for each newline in an `if`/`switch`/`for` header, outside brackets, where Go
    inserts a semicolon: after a token that ends a statement, before the next one (kobe's
    `if err := os.Symlink(a, b)` ending a line and `err != nil {` on the next, held-out set 34). The
    `;` takes the first indentation byte of the next line, so lines and columns stay."""
    out: list[tuple[int, bytes]] = []
    for i, t in enumerate(toks):
        if t[3] not in _HEADS:
            continue
        depth = 0
        for j in range(i + 1, len(toks) - 1):
            tj = toks[j][3]
            if tj in _OPEN:
                if tj == b"{" and depth == 0:
                    break  # the body
                depth += 1
                continue
            if tj in _CLOSE:
                depth -= 1
            if depth or toks[j + 1][3] in (b";", b"{"):
                continue
            if toks[j][0] not in ("id", "num", "str") and tj not in _ENDS_STATEMENT:
                continue
            gap = src[toks[j][2]: toks[j + 1][1]]
            nl = gap.rfind(b"\n")
            if nl < 0 or not gap[nl + 1:] or gap[nl + 1:nl + 2] not in (b"\t", b" "):
                continue
            out.append((toks[j][2] + nl + 1, b";"))
    return out


def rewrite(src: bytes) -> bytes:
    """`src` with the shapes above replaced by equal-length forms the grammar accepts."""
    toks = _Toks(tokens(src))
    calls = _builtin_calls(toks)
    calls += _labels(toks)
    calls += _group_closers(toks, src)
    calls += _header_semicolons(toks, src)
    params = _generic_method_params(toks)
    params += _newline_comments(src)
    if not calls and not params:
        return src
    buf = bytearray(src)
    for off, rep in calls:
        buf[off : off + len(rep)] = rep
    for a, b in params:
        buf[a:b] = bytes(c if c in (0x0A, 0x0D) else 0x20 for c in buf[a:b])
    assert len(buf) == len(src)
    return bytes(buf)
