"""Which files of a module import a package: one walk of the module per process.

exits.py asks which non-test files could call into a package (is a function only ever
run once, from `main`?); testfail.py asks which `_test.go` files do (does every test that
calls a test-support helper fail on its error?). Both read only the import block of each
file (its first 16 KiB up to the first `func`), so one walk serves both.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

_IMPORT_RE = re.compile(rb'"([^"\n]+)"')
_HEAD = 16384


@dataclass(slots=True)
class Importers:
    """Import path -> files importing it, for the module's non-test and test files."""

    code: dict[str, list[Path]] = field(default_factory=dict)
    """Non-test files; the key "" lists every non-test file (exported methods can be
    reached through interfaces from anywhere)."""
    tests: dict[str, list[Path]] = field(default_factory=dict)


_CACHE: dict[str, Importers] = {}


def importers(root: Path) -> Importers:
    """The importers of every package of the module at `root` (cached per process)."""
    key = str(root)
    got = _CACHE.get(key)
    if got is not None:
        return got
    got = Importers()
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
