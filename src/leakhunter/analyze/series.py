"""Series as analysis sees them: split at restarts, warm-up dropped.

Why split: a restarted process starts from an empty heap; joining its samples to the
previous process's would read as a drop (or, after a crash-loop, as a climb). Every
sample in the store carries the id of the process identity it came from, so the
split is exact, not guessed from the values.

Why drop warm-up: right after start (or after load begins) caches, pools and
connection buffers fill; that climb is not a leak. The first `WARMUP_FRACTION` of a
segment's points (at least one point once there are ten) is ignored; a longer
warm-up is what the plateau test is for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leakhunter.collect.store import Store

WARMUP_FRACTION = 0.1


@dataclass(slots=True)
class Segment:
    """The points of one series from one process identity, oldest first."""

    process_id: int
    ts: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    @property
    def span(self) -> float:
        return self.ts[-1] - self.ts[0] if len(self.ts) > 1 else 0.0

    def __len__(self) -> int:
        return len(self.ts)


def segments(store: Store, target: str, name: str) -> list[Segment]:
    """One segment per process identity, in time order."""
    out: list[Segment] = []
    by_pid: dict[int, Segment] = {}
    for p in store.series(target, name):
        seg = by_pid.get(p.process_id)
        if seg is None:
            seg = by_pid[p.process_id] = Segment(p.process_id)
            out.append(seg)
        seg.ts.append(p.ts)
        seg.values.append(p.value)
    return out


def drop_warmup(seg: Segment, fraction: float = WARMUP_FRACTION) -> Segment:
    n = len(seg)
    k = int(n * fraction) if n >= 10 else 0
    return Segment(seg.process_id, seg.ts[k:], seg.values[k:])


def median_interval(seg: Segment) -> float:
    if len(seg) < 2:
        return 0.0
    d = sorted(b - a for a, b in zip(seg.ts, seg.ts[1:], strict=False))
    return d[len(d) // 2]


def downsample(seg: Segment, max_points: int) -> Segment:
    """Medians of equal-count bins, so a day of 10 s samples fits a fast trend fit.

    Medians keep the robustness Theil-Sen relies on; the bins are consecutive, so the
    autocorrelation correction still sees the series' shape.
    """
    n = len(seg)
    if n <= max_points:
        return seg
    out = Segment(seg.process_id)
    for i in range(max_points):
        a, b = i * n // max_points, (i + 1) * n // max_points
        ts = sorted(seg.ts[a:b])
        vs = sorted(seg.values[a:b])
        out.ts.append(ts[len(ts) // 2])
        out.values.append(vs[len(vs) // 2])
    return out
