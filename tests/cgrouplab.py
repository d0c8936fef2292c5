"""A real memory-limited cgroup for the limit tests, where the machine allows one.

The cgroup is made *under the test process's own memory cgroup* (v1 `memory` hierarchy
or the v2 unified one), so it never escapes the accounting of whatever runs the tests;
it is removed afterwards. Where no such directory can be made or limited (no write
access, the memory controller not delegated), `limited_cgroup` yields None and the test
says so: the `--limit` tests below the service's use cover the forecast then.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def _own_memory_dir() -> tuple[Path, str] | None:
    """(directory of our memory cgroup, the limit file's name) or None."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3 and "memory" in parts[1].split(","):
            d = ROOT / "memory" / parts[2].lstrip("/")
            if (d / "memory.limit_in_bytes").exists():
                return d, "memory.limit_in_bytes"
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3 and parts[1] == "":
            d = ROOT / parts[2].lstrip("/")
            if (d / "cgroup.controllers").exists():
                return d, "memory.max"
    return None


@contextlib.contextmanager
def limited_cgroup(limit: int) -> Iterator[Path | None]:
    """A child cgroup with a memory limit of `limit` bytes (its directory), or None."""
    own = _own_memory_dir()
    if own is None:
        yield None
        return
    parent, name = own
    d = parent / f"leakhunter-test-{os.getpid()}-{time.monotonic_ns()}"
    try:
        d.mkdir()
    except OSError:
        yield None
        return
    try:
        try:
            (d / name).write_text(str(limit))
        except OSError:
            yield None
            return
        yield d
    finally:
        # Whatever is still inside goes back to the parent before the directory goes.
        with contextlib.suppress(OSError):
            for pid in (d / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    (parent / "cgroup.procs").write_text(pid)
        for _ in range(50):
            try:
                d.rmdir()
                break
            except OSError:
                time.sleep(0.1)


def enter(cgroup: Path, pid: int) -> None:
    """Move `pid` into `cgroup` (memory is charged there from now on)."""
    (cgroup / "cgroup.procs").write_text(str(pid))
