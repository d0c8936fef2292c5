"""RSS, open fds, threads and start time of a local process from /proc (`watch --pid`).

Why /proc and not psutil: these four numbers are a couple of small reads, available on
every Linux without a dependency, and cheap enough to take every interval. The start
time (field 22 of /proc/PID/stat, in clock ticks since boot) is the process identity
that makes a restart under the same pid number detectable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True, slots=True)
class ProcStat:
    """One reading of a process: bytes resident, fds open, threads, and when it started."""

    pid: int
    rss: int
    fds: int | None
    threads: int
    start_time: float
    """Seconds since boot when the process started: with the pid, its identity."""
    rss_file: int = 0
    """Resident pages backed by files (the binary's text, shared libraries): they grow as
    new code paths are first touched and are never a leak, so outside-the-heap growth
    is judged without them."""


def read_procstat(pid: int, proc: Path = Path("/proc")) -> ProcStat:
    """Read /proc/PID; raises OSError (FileNotFoundError) when the process is gone."""
    base = proc / str(pid)
    statm = (base / "statm").read_text().split()
    rss = int(statm[1]) * _PAGE
    rss_file = int(statm[2]) * _PAGE
    stat = (base / "stat").read_text()
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    rest = stat[stat.rfind(")") + 2 :].split()
    threads = int(rest[17])
    start = int(rest[19]) / _TICKS
    try:
        fds: int | None = len(os.listdir(base / "fd"))
    except PermissionError:
        fds = None
    return ProcStat(pid=pid, rss=rss, fds=fds, threads=threads, start_time=start,
                    rss_file=rss_file)


def cgroup_memory_max(pid: int, proc: Path = Path("/proc"), root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """The cgroup v2 `memory.max` of `pid` (the OOM line), or None when unlimited or unknown.

    A forecast "time until OOM" needs the limit the kernel will enforce; for a local
    `--pid` that is the nearest `memory.max` on the process's cgroup path (cgroup v2),
    or `memory.limit_in_bytes` (v1).
    """
    try:
        lines = (proc / str(pid) / "cgroup").read_text().splitlines()
    except OSError:
        return None
    best: int | None = None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        controllers, path = parts[1], parts[2].lstrip("/")
        if controllers == "":
            base, name = root, "memory.max"
        elif "memory" in controllers.split(","):
            base, name = root / "memory", "memory.limit_in_bytes"
        else:
            continue
        # The nearest limit on the way up the hierarchy is the one that bites.
        candidates: list[Path] = []
        d = base / path
        while True:
            candidates.append(d / name)
            if d == base or base not in d.parents:
                break
            d = d.parent
        for c in candidates:
            try:
                text = c.read_text().strip()
            except OSError:
                continue
            if text and text != "max" and text.isdigit():
                v = int(text)
                if v < (1 << 60):
                    best = v if best is None else min(best, v)
    return best


def file_fds(pid: int, proc: Path = Path("/proc")) -> int | None:
    """How many of `pid`'s descriptors are open files (a path, not a socket, pipe or
    anonymous inode); None when /proc/PID/fd is not readable.

    Read right before a forced GC and right after it, so the files that GC's finalizers
    closed (files the code never closed, LH404) can be counted. Sockets are left out on
    purpose: connections come and go on their own (a scraper's timed-out connection, a
    client hanging up) and would read as closed by the GC."""
    base = proc / str(pid) / "fd"
    try:
        names = os.listdir(base)
    except OSError:
        return None
    n = 0
    for name in names:
        try:
            if os.readlink(base / name).startswith("/"):
                n += 1
        except OSError:
            continue  # closed while we looked
    return n


_GOMEMLIMIT_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


def parse_gomemlimit(text: str) -> int | None:
    """GOMEMLIMIT's syntax (a byte count with an optional B/KiB/MiB/GiB/TiB suffix, as the
    runtime reads it); None for `off`, an empty or a malformed value."""
    t = text.strip()
    if not t or t == "off":
        return None
    for suffix in sorted(_GOMEMLIMIT_UNITS, key=len, reverse=True):
        if t.endswith(suffix):
            num = t[: -len(suffix)]
            return int(num) * _GOMEMLIMIT_UNITS[suffix] if num.isdigit() else None
    return int(t) if t.isdigit() else None


def gomemlimit(pid: int, proc: Path = Path("/proc")) -> int | None:
    """The GOMEMLIMIT in `pid`'s environment (readable for our own user's processes)."""
    try:
        env = (proc / str(pid) / "environ").read_bytes()
    except OSError:
        return None
    for item in env.split(b"\0"):
        if item.startswith(b"GOMEMLIMIT="):
            return parse_gomemlimit(item[len(b"GOMEMLIMIT="):].decode("ascii", "replace"))
    return None
