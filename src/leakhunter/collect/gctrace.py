"""GODEBUG=gctrace=1 lines → the live-heap series, for services that only leave logs.

The runtime prints one line per GC (runtime/mgc.go, gcMarkTermination)::

    gc 12 @3.456s 2%: 0.011+1.2+0.003 ms clock, 0.045+0.3/1.1/0+0.013 ms cpu,
        4->5->2 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 4 P (forced)

`gc N` counts cycles since start, `@T s` is the time since the process started, and
`A->B->C MB` are the heap at GC start, at GC end, and the *live* (marked) heap — the
third number is the post-GC live heap, exactly what leak detection needs (shifted
>>20, so MiB). Go 1.27 may insert ` (checking for goroutine leaks)` after the CPU
percentage; Go before 1.18 has no stacks/globals fields. Lines are matched anywhere in
a line, so log prefixes (timestamps, container names) are fine, and everything else
in the log is ignored.

A cycle number that goes back means the process restarted: a new process identity
in the store, so the series splits there exactly as for a live watch. `@T` is
relative to the process start; the absolute time is anchored so that the log's
last line falls at `end_ts` (the file's modification time by default), and a
restarted process is placed right after the previous one ended.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from leakhunter.bounds import compile_linear
from leakhunter.collect.store import Store
from leakhunter.errors import CorruptInputError

# Every number has a digit bound (a GC line's numbers are small: a 400-digit heap would
# overflow a float, a 400-digit `@T` be infinite), and the whole pattern runs on RE2, so
# a 600 KB line of repeated `gc 1 @1s 1%: x ` costs one linear pass, not a quadratic
# search. A line whose numbers exceed the bounds is not a GC line and is skipped.
_LINE = compile_linear(
    r"gc (\d{1,12}) @(\d{1,12}(?:\.\d{1,9})?)s (\d{1,6})%(?: \([^)]*\))?: .*? "
    r"(\d{1,15})->(\d{1,15})->(\d{1,15}) MB, (\d{1,15}) MB goal(.*)$",
    "gctrace line pattern",
)
_MAX_LINE = 1 << 16
"""Longer lines are not GC lines (a real one is under 300 bytes) and are not matched."""
_MB = 1 << 20


@dataclass(frozen=True, slots=True)
class GCLine:
    """One GC cycle as the runtime traced it."""

    num: int
    t: float
    """Seconds since the process started."""
    cpu_pct: int
    heap_start: int
    heap_end: int
    heap_live: int
    goal: int
    forced: bool


def parse_lines(lines: Iterable[bytes]) -> list[list[GCLine]]:
    """GC lines grouped per process (a new group where the cycle number goes back)."""
    runs: list[list[GCLine]] = []
    last = None
    for raw in lines:
        if len(raw) > _MAX_LINE or b"gc " not in raw:
            continue
        m = _LINE.search(raw.rstrip(b"\r\n"))
        if not m:
            continue
        g = GCLine(
            num=int(m.group(1)), t=float(m.group(2)), cpu_pct=int(m.group(3)),
            heap_start=int(m.group(4)) * _MB, heap_end=int(m.group(5)) * _MB,
            heap_live=int(m.group(6)) * _MB, goal=int(m.group(7)) * _MB,
            forced=b"(forced)" in m.group(8),
        )
        if last is None or g.num <= last.num or g.t < last.t:
            runs.append([])
        runs[-1].append(g)
        last = g
    return runs


def load_into(store: Store, target: str, runs: list[list[GCLine]], *, end_ts: float) -> int:
    """Write the runs into `store` as `gc_live_heap` / `gc_goal` series; returns the count."""
    if not runs or not any(runs):
        raise CorruptInputError("no GODEBUG=gctrace=1 lines found (lines like 'gc 3 @0.5s 1%: ...')")
    # Anchor: the last run ends at end_ts; earlier runs end where the next one starts.
    bases: list[float] = [0.0] * len(runs)
    t_end = end_ts
    for i in range(len(runs) - 1, -1, -1):
        bases[i] = t_end - runs[i][-1].t
        t_end = bases[i]
    n = 0
    for i, run in enumerate(runs):
        base = bases[i]
        pid = store.open_process(target, ts=base + run[0].t,
                                 reason="first GC line" if i == 0 else "gc cycle count restarted")
        for g in run:
            store.add_samples(target, pid, base + g.t,
                              {"gc_live_heap": float(g.heap_live), "gc_goal": float(g.goal)})
            n += 1
        store.update_process(pid, ts=base + run[-1].t, num_gc=float(run[-1].num))
    store.commit()
    return n
