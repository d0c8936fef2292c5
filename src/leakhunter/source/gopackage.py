"""A whole-package view for rules that run on one file but must see the package.

Some questions are package-wide: "does anything in this package ever `delete` from
this map?" cannot be answered from the file that inserts into it. Rules still run
one file at a time (possibly in different worker processes), so each process reads
the sibling `.go` files of the same directory and package itself, parses them once,
and memoises what a rule derives from them (its "facts") keyed by the directory and
the files' sizes and mtimes. Only a couple of directories' trees are kept at a time:
the scanner visits files directory by directory, and keeping every tree would make
memory follow the size of the scanned repository.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from leakhunter.source import gosyntax as gs
from leakhunter.source.parse import parse
from leakhunter.source.rule import FileContext

if TYPE_CHECKING:
    from tree_sitter import Tree

T = TypeVar("T")

_MAX_FILE_BYTES = 4 << 20
"""Sibling files above this size (generated tables) are not parsed for the package view."""

_TREES: OrderedDict[tuple[object, ...], list[FileContext]] = OrderedDict()
_FACTS: OrderedDict[tuple[object, ...], object] = OrderedDict()
_MAX_TREES = 2
_BY_PATH: dict[str, FileContext] = {}
"""Absolute path -> parsed file of the views in `_TREES` (the same path may be spelled
relative by the scanner and absolute by the program model)."""
_MAX_FACTS = 256


def _signature(ctx: FileContext) -> tuple[object, ...] | None:
    """(dir, package, test?, sorted (name, size, mtime) of candidate files), or None if unreadable."""
    directory = ctx.path.parent
    test = ctx.is_test or ctx.path.name.endswith("_test.go")
    entries: list[tuple[str, int, int]] = []
    try:
        with os.scandir(directory) as it:
            for e in it:
                name = e.name
                if not name.endswith(".go") or name.startswith((".", "_")):
                    continue
                if name.endswith("_test.go") and not test:
                    continue
                try:
                    st = e.stat()
                except OSError:
                    continue
                if not e.is_file() or st.st_size > _MAX_FILE_BYTES:
                    continue
                entries.append((name, st.st_size, st.st_mtime_ns))
    except OSError:
        return None
    entries.sort()
    return (str(directory), gs.package_name(ctx), test, tuple(entries))


def package_files(ctx: FileContext) -> list[FileContext]:
    """`ctx` plus every other file of its package in its directory (non-test files for a non-test file).

    A test file sees the test files of its package too (same package clause). Files
    that cannot be read or whose package clause differs are left out; `ctx` itself is
    always first and is the caller's object (its cache is shared).
    """
    sig = _signature(ctx)
    if sig is None:
        return [ctx]
    hit = _TREES.get(sig)
    if hit is None:
        hit = _load(ctx, sig)
        _TREES[sig] = hit
        while len(_TREES) > _MAX_TREES:
            _TREES.popitem(last=False)
        _BY_PATH.clear()
        for files in _TREES.values():  # the newest view wins, as in cached_context's search
            for f in files:
                _BY_PATH[os.path.abspath(f.path)] = f
    else:
        _TREES.move_to_end(sig)
    return [ctx, *(f for f in hit if f.path.name != ctx.path.name)]


def _load(ctx: FileContext, sig: tuple[object, ...]) -> list[FileContext]:
    pkg = sig[1]
    out: list[FileContext] = []
    entries = sig[3]
    assert isinstance(entries, tuple)
    for name, _size, _mtime in entries:
        if name == ctx.path.name:
            out.append(ctx)  # already parsed; later callers from sibling files need it too
            continue
        path = ctx.path.parent / name
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if b"\x00" in data[:8000]:
            continue
        reuse = cached_context(path, data)  # the other view (test / non-test) of this directory
        if reuse is not None:
            if gs.package_name(reuse) == pkg:
                out.append(reuse)
            continue
        if _other_package(data, str(pkg)):
            continue  # e.g. the `x_test` files for the view of `x`: not parsed only to be dropped
        tree = parse(data)
        if len(data) >= _SKELETON_MIN_BYTES:
            skeleton = _without_data_literals(data, tree)
            if skeleton is not None:
                data, tree = skeleton, parse(skeleton)
        sib = FileContext(
            path=Path(path),
            display_path=str(path),
            source=data,
            tree=tree,
            go_version=ctx.go_version,
            is_test=name.endswith("_test.go"),
        )
        if gs.package_name(sib) != pkg:
            continue
        out.append(sib)
    return out


_SKELETON_MIN_BYTES = 64 << 10
"""Siblings from this size on are kept in the view without the insides of their data literals."""
_DATA_LITERAL_BYTES = 4 << 10
_BLANK = bytes(10 if b == 10 else 32 for b in range(256))
"""Every byte to a space except newlines: line numbers and byte offsets stay where they were."""


def _without_data_literals(data: bytes, tree: Tree) -> bytes | None:
    """`data` with the insides of large package-level composite literals blanked, or None.

    A tree costs about 40 times its source, and the view keeps every sibling's tree at
    once: go-mysql-server's collation tables (146 files, 68 MB of `map[rune]int32{...}`)
    made one worker 2.7 GB. What siblings give the rules is declarations, types and
    function bodies, not table rows, so a literal of a `var`/`const` declaration of at
    least 4 KiB with no `func` in its text keeps its braces (so its type is still
    read) and loses its elements. The file's own scan parses it whole."""
    spans: list[tuple[int, int]] = []
    for decl in tree.root_node.named_children:
        if decl.type not in ("var_declaration", "const_declaration"):
            continue
        stack = [decl]
        while stack:
            node = stack.pop()
            size = node.end_byte - node.start_byte
            if size < _DATA_LITERAL_BYTES:
                continue
            if node.type == "literal_value" and b"func" not in data[node.start_byte:node.end_byte]:
                spans.append((node.start_byte + 1, node.end_byte - 1))
                continue
            stack.extend(node.named_children)
    if not spans:
        return None
    out = bytearray(data)
    for a, b in spans:
        out[a:b] = data[a:b].translate(_BLANK)
    return bytes(out)


_PACKAGE_LINE = re.compile(rb"^package[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?:;|//|\r?$)", re.MULTILINE)


def _other_package(data: bytes, pkg: str) -> bool:
    """True when the file's package clause, read without parsing, is surely not `pkg`.

    Only line comments may precede the clause in what is trusted: a line inside a
    `/* */` comment could look like a clause, so a file with one before it is left to
    the parser (as is anything the pattern does not read plainly)."""
    m = _PACKAGE_LINE.search(data, 0, 1 << 16)
    if m is None or b"/*" in data[: m.start()]:
        return False
    return m.group(1).decode() != pkg


def package_facts(ctx: FileContext, key: str, compute: Callable[[list[FileContext]], T]) -> T:
    """`compute(package_files(ctx))`, memoised per process by package signature and `key`.

    `compute` must return a value that does not hold tree nodes of sibling files (those
    trees are dropped when the directory leaves the small tree cache); plain data only.
    """
    sig = _signature(ctx)
    if sig is None:
        return compute([ctx])
    full = (key, *sig)
    if full in _FACTS:
        _FACTS.move_to_end(full)
        return _FACTS[full]  # type: ignore[return-value]
    value = compute(package_files(ctx))
    _FACTS[full] = value
    while len(_FACTS) > _MAX_FACTS:
        _FACTS.popitem(last=False)
    return value


def cached_context(path: Path, source: bytes) -> FileContext | None:
    """A file of a package view already parsed in this process, if its bytes are still `source`.

    The scanner asks before parsing a file: the first file of a directory makes the
    package view parse its siblings, so the scanner can reuse those trees (and their
    memoised indexes) instead of parsing every file twice. (Added by scan-core.)
    """
    # Every file of the views in `_TREES` is in `_BY_PATH` under its absolute path (the newest
    # view's copy): two spellings of one path that compare equal as Paths have one abspath.
    hit = _BY_PATH.get(os.path.abspath(path))
    if hit is not None and hit.source == source:
        return hit
    return None
