"""The module a Go file belongs to: its go.mod root, module path and `go` directive.

The `go` directive matters to the timer rules: since Go 1.23 an unreferenced,
unstopped Timer/Ticker is collected, so what leaks depends on the language
version the module declares, not on the toolchain running leakhunter. The module
path also gives findings a location that does not depend on where the user ran
the scan from, which keeps baseline fingerprints stable.

A module-cache copy of a module that has no go.mod (old modules, fetched as dependencies) gets
the module path the go command synthesizes for it from its cache directory, so its packages'
imports of each other resolve (`_cached_module`).

Lookups are cached per directory: a tree of ten thousand files has a few hundred
directories and usually one go.mod.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_GO_LINE = re.compile(rb"^\s*go\s+(\d+)\.(\d+)", re.MULTILINE)
_MODULE_LINE = re.compile(rb"^\s*module\s+\"?([^\s\"/][^\s\"]*)\"?", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """What the nearest go.mod says; all empty when there is none."""

    root: Path | None = None
    module: str = ""
    go_version: tuple[int, int] | None = None


def parse_go_mod(data: bytes) -> tuple[str, tuple[int, int] | None]:
    """(module path, (major, minor) of the `go` directive) from go.mod bytes.

    `go 1.22`, `go 1.22.3` and `go 1.23rc1` all count; a missing directive is None
    (the go command then assumes go 1.16, but for leakhunter "unknown" is the safer
    reading: rules treat it as the current Go).
    """
    mod = _MODULE_LINE.search(data)
    ver = _GO_LINE.search(data)
    module = mod.group(1).decode("utf-8", "replace") if mod else ""
    version = (int(ver.group(1)), int(ver.group(2))) if ver else None
    return module, version


@lru_cache(maxsize=4096)
def module_for_dir(directory: Path) -> ModuleInfo:
    """The ModuleInfo of the nearest go.mod at or above `directory` (absolute path)."""
    gomod = directory / "go.mod"
    try:
        if gomod.is_file():
            data = gomod.read_bytes()[: 1 << 20]
            module, version = parse_go_mod(data)
            return ModuleInfo(directory, module, version)
    except OSError:
        pass
    cached = _cached_module(directory)
    if cached is not None:
        return cached
    parent = directory.parent
    if parent == directory:
        return ModuleInfo()
    return module_for_dir(parent)


_VERSIONED = re.compile(r"^(.+)@v\d[^/]*$")


def _cached_module(directory: Path) -> ModuleInfo | None:
    """A module-cache copy of a module without go.mod (`<GOMODCACHE>/github.com/coreos/x@v1.0.0`):
    the go command synthesizes `module github.com/coreos/x` for it, so its packages import each
    other by that path."""
    m = _VERSIONED.match(directory.name)
    if m is None:
        return None
    parts = [m.group(1)]
    for up in directory.parents:
        if (up / "cache" / "download").is_dir():
            path = "/".join(reversed(parts))
            module = re.sub(r"!([a-z])", lambda x: x.group(1).upper(), path)
            return ModuleInfo(directory, module, None)
        parts.append(up.name)
    return None


def module_for_file(path: Path) -> ModuleInfo:
    """The ModuleInfo of the module holding the Go file at `path`."""
    return module_for_dir(path.absolute().parent)


def go_version_for(path: Path) -> tuple[int, int] | None:
    """The `go` directive of the nearest go.mod above `path` (None: no go.mod or no directive)."""
    return module_for_file(path).go_version
