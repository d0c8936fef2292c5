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


PER_REQUEST_MIN = 50
"""Requests one allocation-per-request point spans at least: a 0.5 s scrape at 50 req/s holds 25,
and the target's own rendering of the profile each scrape asks for lands whole in one interval."""


def per_request(store: Store, target: str, name: str = "heap_alloc_total",
                per: str = "load_requests") -> list[Segment]:
    """`name`'s increase per request of the driving load, between scrapes, one segment per process
    identity (points span PER_REQUEST_MIN requests or more). Empty without a load count: under
    `watch` traffic comes and goes, and an allocation rate says nothing about one request, unless
    `--requests-metric` reads the count from the service's own counter."""
    load = {(p.process_id, p.ts): p.value for p in store.series(target, per)}
    if not load:
        return []
    out: list[Segment] = []
    by_pid: dict[int, Segment] = {}
    start: dict[int, tuple[float, float]] = {}
    for p in store.series(target, name):
        done = load.get((p.process_id, p.ts))
        if done is None:
            continue
        prev = start.get(p.process_id)
        if prev is not None and done - prev[1] < PER_REQUEST_MIN:
            continue  # the point spans more requests: keep its start
        start[p.process_id] = (p.value, done)
        if prev is None or p.value < prev[0]:
            continue
        seg = by_pid.get(p.process_id)
        if seg is None:
            seg = by_pid[p.process_id] = Segment(p.process_id)
            out.append(seg)
        seg.ts.append(p.ts)
        seg.values.append((p.value - prev[0]) / (done - prev[1]))
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
