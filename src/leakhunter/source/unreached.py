"""Functions production code never reaches: a leak there happens only when a test runs it, or never.

`testcode.py` decides per file; this decides per function, for functions of ordinary files that the
package's own production code never reaches. supervisord's `HTTPChecker` (held-out set 40) is a type
of `package main` whose constructor and `Check` method (an unclosed body) are named only by
`content_checker_test.go`: nothing outside a main package can call it and nothing in the program
does, so the leak exists in two tests only, and triage counted it false (set 34's html2article `load`
got the same verdict). gravwell's `loadRemotePublicKey` (set 43), an unexported function nothing
calls, leaks on no path that runs: dead code, counted false too. `scan` shows such findings with
`--tests`, with test files' own.

Reach is by name, over every `.go` file of the directory whatever its build tags, from the roots a
package offers: `init`, `main` in a file of `package main` (a `func main` in any other package is an
ordinary unexported function: gogram's `examples/sessions/tdata`, `package examples`, held-out set
123), package-level `var`/`const` declarations (their initializers run), functions with an `//export`,
`//go:wasmexport` or `//go:linkname` directive, and in a package other than a program's `main` every
exported function and type (other packages, or a plugin's host, may call them). A reached declaration
reaches every top-level function and type its text names (comments included, so a name mentioned
anywhere in reached code counts), and every unexported method of that name; a reached type reaches
all its exported methods (an interface call, reflection or another package may reach any of them). An
unexported method only code of its own package can call, and only by writing its name (a call, a method
value, an interface of the package that lists it), so it is reached by that name alone. Names, not
types, so the answer errs toward production, never toward hiding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

_DECL = re.compile(rb"^(?:func|type|var|const|import)\b", re.MULTILINE)
_FUNC = re.compile(rb"func\s*(?:\(\s*(?:\w+\s+)?\*?\s*(\w+)\s*(?:\[[^\]]*\])?\s*\)\s*)?(\w+)")
_TYPE = re.compile(rb"type\s+(\w+)")
_IDENT = re.compile(rb"[A-Za-z_]\w*")
_DIRECTIVE = re.compile(rb"//(?:export\s|go:wasmexport\s|go:linkname\s)")
_TRAILING_COMMENT = re.compile(rb"(?:\n//[^\n]*)+\n*\Z")
_PACKAGE = re.compile(rb"^package\s+(\w+)", re.MULTILINE)
_MAIN = re.compile(rb"^func\s+main\s*\(", re.MULTILINE)


@dataclass
class _Decl:
    kind: str
    """func, method, type, or other (var, const, import, a `type (...)` group: always reached)."""
    name: bytes
    recv: bytes
    file: str
    first: int
    last: int
    text: bytes
    root: bool = False
    methods: list[_Decl] = field(default_factory=list)
    names: set[bytes] | None = None
    """The package's declared names its text mentions (read once, asked by both reaches)."""


def _decls(path: Path, source: bytes, main: bool) -> list[_Decl]:
    """Top-level declarations of one file, each from its keyword to the next one (gofmt puts both
    at column 0); the comment lines just above a `func` are read for its directives."""
    pkg = _PACKAGE.search(source)
    entry = (b"init", b"main") if pkg is not None and pkg.group(1) == b"main" else (b"init",)
    starts = [m.start() for m in _DECL.finditer(source)]
    out = []
    first, prev = 1, 0
    for i, at in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(source)
        text = _TRAILING_COMMENT.sub(b"", source[at:end])  # the next declaration's doc comment
        first += source.count(b"\n", prev, at)
        prev = at
        last = first + text.rstrip(b"\n").count(b"\n")
        head = source[max(0, at - 400):at]
        lead = [ln for ln in head.split(b"\n")[:-1][-4:] if ln.startswith(b"//")]
        if text.startswith(b"func"):
            m = _FUNC.match(text)
            if m is None:
                out.append(_Decl("other", b"", b"", path.name, first, last, text, root=True))
                continue
            recv, name = m.group(1) or b"", m.group(2)
            exported = name[:1].isupper() and not main
            root = (not recv and (name in entry or exported)) or any(
                _DIRECTIVE.match(ln) for ln in lead)
            out.append(_Decl("method" if recv else "func", name, recv, path.name, first, last, text, root))
        elif text.startswith(b"type") and (m := _TYPE.match(text)) is not None:
            out.append(_Decl("type", m.group(1), b"", path.name, first, last, text,
                             root=m.group(1)[:1].isupper() and not main))
        else:
            out.append(_Decl("other", b"", b"", path.name, first, last, text, root=True))
    return out


@lru_cache(maxsize=256)
def unreached_lines(directory: Path) -> dict[str, tuple[tuple[int, int], ...]]:
    """file name -> (first, last) line ranges of the functions of `directory`'s package that its
    production code does not reach (module docstring)."""
    prod: list[tuple[Path, bytes]] = []
    try:
        prod = [(p, p.read_bytes()) for p in sorted(directory.glob("*.go")) if not p.name.endswith("_test.go")]
    except OSError:
        return {}
    if not prod:
        return {}
    pkgs = {m.group(1) if (m := _PACKAGE.search(src)) is not None else b"" for _, src in prod}
    # a program's main package: nothing imports it, so its exported names are no roots; one without
    # `func main` is built as a plugin or a C library, whose host looks exported names up; a library
    # directory holding a `package main` generator (`//go:build ignore`) keeps its exported roots
    main = pkgs == {b"main"} and any(_MAIN.search(src) for _, src in prod)
    decls = [d for p, src in prod for d in _decls(p, src, main)]
    funcs: dict[bytes, list[_Decl]] = {}
    types: dict[bytes, _Decl] = {}
    for d in decls:
        if d.kind == "func":
            funcs.setdefault(d.name, []).append(d)
        elif d.kind == "type":
            types[d.name] = d
    unexported: dict[bytes, list[_Decl]] = {}
    for d in decls:
        if d.kind == "method":
            owner = types.get(d.recv)
            if owner is None:
                d.root = True  # a type this reading does not see declared (a `type (...)` group)
            elif d.name[:1].isupper():
                owner.methods.append(d)
            else:
                unexported.setdefault(d.name, []).append(d)  # reached by its name alone
    declared = funcs.keys() | types.keys() | unexported.keys()

    def reach(work: list[_Decl]) -> set[int]:
        seen: set[int] = set()
        while work:
            d = work.pop()
            if id(d) in seen:
                continue
            seen.add(id(d))
            work.extend(d.methods)
            if d.names is None:
                d.names = declared.intersection(_IDENT.findall(d.text))
            for name in d.names:
                work.extend(funcs.get(name, ()))
                work.extend(unexported.get(name, ()))
                if (t := types.get(name)) is not None:
                    work.append(t)
        return seen

    production = reach([d for d in decls if d.root])
    out: dict[str, list[tuple[int, int]]] = {}
    for d in decls:
        if d.kind in ("func", "method") and id(d) not in production:
            out.setdefault(d.file, []).append((d.first, d.last))
    return {f: tuple(r) for f, r in out.items()}


def production_never_reaches(path: Path, line: int) -> bool:
    """`line` of the ordinary Go file `path` is in a function its package's production code never
    reaches (only tests do, or nothing)."""
    return any(a <= line <= b for a, b in unreached_lines(path.absolute().parent).get(path.name, ()))


def reset() -> None:
    """Forget what earlier scans read (a long-lived process scanning a tree that changed)."""
    unreached_lines.cache_clear()
