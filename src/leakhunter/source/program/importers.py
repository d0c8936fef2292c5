"""Which files of a module import a package: one walk of the module per process.

exits.py asks which non-test files could call into a package (is a function only ever
run once, from `main`?); testfail.py asks which `_test.go` files do (does every test that
calls a test-support helper fail on its error?). Both read only the import block of each
file (its first 16 KiB up to the first `func`), so one walk serves both.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_IMPORT_RE = re.compile(rb'"([^"\n]+)"')
_HEAD = 16384


class Lookups(dict[str, list[Path]]):
    """Import path -> files, remembering which paths were asked for.

    A finding judged by reading other packages' files depends on those files: the scan
    result cache (cache.py) must know which, or an edit there replays a stale outcome. Every
    `get` is recorded per module root; `consulted` hands the record to the scanner."""

    def __init__(self, root: str, kind: str) -> None:
        super().__init__()
        self.root, self.kind = root, kind

    def get(self, key: str, default: Any = None) -> Any:
        _CONSULTED.setdefault(self.root, set()).add((self.kind, key))
        return super().get(key, default)


@dataclass(slots=True)
class Importers:
    """Import path -> files importing it, for the module's non-test and test files."""

    code: Lookups
    """Non-test files; the key "" lists every non-test file (exported methods can be
    reached through interfaces from anywhere)."""
    tests: Lookups


_CACHE: dict[str, Importers] = {}
_CONSULTED: dict[str, set[tuple[str, str]]] = {}


def reset() -> None:
    """Forget the walks and lookups of earlier scans in this process (the tree may have changed)."""
    _CACHE.clear()
    _CONSULTED.clear()


def consulted(root: Path | str) -> frozenset[tuple[str, str]]:
    """Every (kind, import path) looked up under module `root` by this process so far.

    The record only grows: a judgement memoised while checking one file and reused for
    another was made from lookups already in it, so it over-approximates, never misses."""
    return frozenset(_CONSULTED.get(str(root), ()))


def importers(root: Path) -> Importers:
    """The importers of every package of the module at `root` (cached per process)."""
    key = str(root)
    got = _CACHE.get(key)
    if got is not None:
        return got
    got = Importers(Lookups(key, "code"), Lookups(key, "tests"))
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith((".", "_")) and d not in ("vendor", "testdata")]
        for f in filenames:
            if not f.endswith(".go"):
                continue
            p = Path(dirpath) / f
            is_test = f.endswith("_test.go")
            into = got.tests if is_test else got.code
            if not is_test:
                into.setdefault("", []).append(p)
            try:
                with open(p, "rb") as fh:
                    head = fh.read(_HEAD)
            except OSError:
                continue
            end = head.find(b"\nfunc ")
            for m in _IMPORT_RE.finditer(head if end < 0 else head[:end]):
                into.setdefault(m.group(1).decode("utf-8", "replace"), []).append(p)
    _CACHE[key] = got
    return got
