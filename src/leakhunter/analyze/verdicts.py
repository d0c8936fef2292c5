"""From stored series to verdicts: leak, plateau, no leak, or "watch longer".

One verdict per series (`Verdict.series` names it), computed on the latest process
segment (series are split at restarts; warm-up dropped; see `series.py`):

| series                      | growing means      |
|-----------------------------|--------------------|
| `heap_live` / `gc_live_heap`| `heap-leak`        |
| `goroutines`                | `goroutine-leak`   |
| `nonheap` (RSS - heap held) | `non-heap-growth`  |
| `fds`                       | `non-heap-growth`  |

A series is a leak only when the growth is both **significant** (the Theil-Sen 95%
interval, widened for autocorrelation by the Hamed-Rao / AR(1) factor of `trend.py`,
lies above zero; the corrected Mann-Kendall p-value is reported beside it) and
**practically relevant** (the growth over the analysed window is at least 10% of the
starting level and above an absolute floor per series: 1 MiB of heap,
20 goroutines, 4 MiB outside the heap, 16 fds). GC sawtooth cannot trigger it: the
heap series is the post-GC live heap (heap profile in-use totals, or the gctrace
"live" number), never HeapAlloc; its shape comes from the heap goal (NextGC) unless
goroutine stacks grew in the window — the goal counts stack roots, so deep parked
stacks would otherwise read as a heap leak. A series that grew significantly early but is
flat over its last third is a `plateau`. When neither growth nor its absence is
established, the verdict is `inconclusive` with an estimate of how much longer to
watch (the slope's interval narrows roughly as T^-1.5 while the relevance bar
falls as T^-1).

Precedence (the order of the list; the first is the headline):
leaks first — `heap-leak`, then `goroutine-leak` and `non-heap-growth`; when both of
the latter hold, `non-heap-growth` comes first if the stack memory added per new
goroutine exceeds 32 KiB (deep stacks: the memory, not the count, is the problem,
as with goroutines parked deep in recursion), otherwise the goroutine leak comes
first and the non-heap verdict says the growth is their stacks. Then `plateau`,
`inconclusive`, `no-leak`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from leakhunter.analyze.series import Segment, downsample, drop_warmup, median_interval, segments
from leakhunter.analyze.trend import Trend, plateau, trend
from leakhunter.collect.store import Store
from leakhunter.model import Finding, Verdict, VerdictKind
from leakhunter.units import human_amount, human_bytes, human_duration

MIN_POINTS = 8
MAX_FIT_POINTS = 400
REL_MIN = 0.10
DEEP_STACK_BYTES = 32 << 10
STACK_TAINT_MIN = 256 << 10
"""Stack growth (bytes over the goal's window) below which the heap goal is trusted."""
STACK_TAINT_SHARE = 0.25
"""...and the share of the goal's own growth the stacks must reach to taint it."""


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    name: str
    label: str
    leak_kind: VerdictKind
    unit: str
    floor: float


SPECS: dict[str, SeriesSpec] = {
    "heap_live": SeriesSpec("heap_live", "live heap", "heap-leak", "bytes", 1 << 20),
    "gc_live_heap": SeriesSpec("gc_live_heap", "live heap (gctrace)", "heap-leak", "bytes", 1 << 20),
    "goroutines": SeriesSpec("goroutines", "goroutines", "goroutine-leak", "goroutines", 20),
    "nonheap": SeriesSpec("nonheap", "RSS outside the Go heap", "non-heap-growth", "bytes", 4 << 20),
    "fds": SeriesSpec("fds", "open file descriptors", "non-heap-growth", "fds", 16),
}


@dataclass(slots=True)
class SeriesResult:
    """A verdict plus the numbers behind it (for ordering and cross-series evidence)."""

    verdict: Verdict
    segment: Segment | None = None
    trend: Trend | None = None
    deep_stacks: bool = False


def analyze_series(
    store: Store, target: str, spec: SeriesSpec, *, restarts: int = 0
) -> SeriesResult | None:
    """The verdict for one series of one target, or None when the target has no such series."""
    segs = segments(store, target, spec.name)
    if not segs:
        return None
    seg = drop_warmup(segs[-1])
    ev: list[str] = []
    if spec.name == "heap_live":
        seg = _heap_from_goal(store, target, seg, ev)
    if len(segs) > 1:
        ev.append(
            f"{len(segs) - 1} restart(s) seen; the series is split there and only the "
            "latest process is judged"
        )
    n = len(seg)
    step = median_interval(seg) or 10.0
    if n < MIN_POINTS:
        more = (MIN_POINTS - n) * step
        ev.insert(0, f"only {n} samples of the {spec.label} in this process; need {MIN_POINTS}")
        v = Verdict("inconclusive", 0.0, 0.0, spec.unit, ev, series=spec.name)
        _watch_more(v, more)
        return SeriesResult(v, seg)
    seg = downsample(seg, MAX_FIT_POINTS)
    n = len(seg)
    t0 = seg.ts[0]
    x = [t - t0 for t in seg.ts]
    y = seg.values
    span = x[-1]
    tr = trend(x, y)
    head = y[: max(3, n // 3)]
    level = abs(statistics.median(head))
    bar = max(REL_MIN * level, spec.floor)
    growth = tr.slope * span
    per_min = tr.slope * 60
    ev.append(
        f"{spec.label} {human_amount(y[0], spec.unit)} → {human_amount(y[-1], spec.unit)} "
        f"over {human_duration(span)} ({n} samples); Theil-Sen "
        f"{human_amount(per_min, spec.unit, sign=True)}/min, 95% CI "
        f"[{human_amount(tr.low * 60, spec.unit, sign=True)}, "
        f"{human_amount(tr.high * 60, spec.unit, sign=True)}]/min"
    )
    ev.append(
        f"Mann-Kendall p={tr.p:.2g} (Hamed-Rao corrected, variance x{tr.n_over_nstar:.1f}; "
        f"uncorrected p={tr.p_uncorrected:.2g})"
    )
    sig_up = tr.growing
    relevant = growth >= bar
    pl = plateau(x, y)
    early_relevant = bool(
        pl and pl.early.slope * (pl.split_ts - x[0]) >= bar and pl.early.growing
    )
    if pl is not None and pl.is_plateau and early_relevant and (sig_up or not relevant):
        ratio = max(pl.late.slope, 0.0) / pl.early.slope if pl.early.slope > 0 else 0.0
        conf = max(0.95, 1 - pl.early.p) * (1 - ratio) * min(1.0, 0.5 + pl.late.p)
        ev.append(
            f"grew {human_amount(pl.early.slope * 60, spec.unit, sign=True)}/min until "
            f"{human_duration(pl.split_ts)} in, then "
            f"{human_amount(pl.late.slope * 60, spec.unit, sign=True)}/min "
            f"(late trend p={pl.late.p:.2g}): levelled off — a warm-up or a bounded cache"
        )
        v = Verdict("plateau", round(conf, 3), pl.late.slope * 60, spec.unit, ev, series=spec.name)
        return SeriesResult(v, seg, tr)
    if sig_up and relevant:
        ev.append(
            f"growth {human_amount(growth, spec.unit, sign=True)} is "
            f"{100 * growth / max(level, 1e-9):.0f}% of the starting level "
            f"(relevance bar {human_amount(bar, spec.unit)})"
        )
        # The 95% interval excludes zero, so at least 0.95; the rank test can say more.
        v = Verdict(spec.leak_kind, round(min(0.999, max(0.95, 1 - tr.p)), 3), per_min,
                    spec.unit, ev, series=spec.name)
        return SeriesResult(v, seg, tr)
    upper = max(tr.high, 0.0) * span
    if upper < bar:
        conf = min(0.99, 0.5 + 0.5 * (1 - upper / bar))
        if sig_up:
            ev.append(
                f"the growth is significant but small: {human_amount(growth, spec.unit, sign=True)} "
                f"over the window, under the relevance bar {human_amount(bar, spec.unit)}"
            )
        else:
            ev.append(
                f"at most {human_amount(upper, spec.unit, sign=True)} over the window at the "
                f"95% upper bound, under the relevance bar {human_amount(bar, spec.unit)}"
            )
        v = Verdict("no-leak", round(conf, 3), per_min, spec.unit, ev, series=spec.name)
        return SeriesResult(v, seg, tr)
    half = max(tr.high - tr.slope, tr.slope - tr.low, 1e-12)
    ratio = half / (bar / max(span, 1e-9))
    need = span * (ratio / 0.5) ** 2
    more = min(max(need - span, 3 * step), 86400.0)
    ev.append(
        f"the trend is not settled: growth could be up to {human_amount(upper, spec.unit)} "
        f"over the window (relevance bar {human_amount(bar, spec.unit)})"
    )
    v = Verdict("inconclusive", round(max(0.0, 1 - tr.p), 3), per_min, spec.unit, ev,
                series=spec.name)
    _watch_more(v, more)
    return SeriesResult(v, seg, tr)


def _heap_from_goal(store: Store, target: str, seg: Segment, ev: list[str]) -> Segment:
    """The live heap's shape from the runtime's heap goal, at the heap profile's scale.

    The heap profile is sampled (one sample per 512 KiB by default): on a small heap its
    in-use total jumps by tens of percent as sampled objects come and go. The heap goal
    (memstats NextGC) is computed at each GC from the exact marked heap, so its shape is
    the live heap's without sampling noise; it is larger by the factor 1+GOGC/100 (plus
    stacks), which we do not know, so it is scaled by the ratio of the medians of the
    two series (the profile's estimate is unbiased on average).
    """
    goals = [g for g in segments(store, target, "heap_goal") if g.process_id == seg.process_id]
    if not goals or len(seg) < 3:
        return seg
    goal = drop_warmup(goals[-1])
    if len(goal) < MIN_POINTS:
        return seg
    gmed = statistics.median(goal.values)
    if gmed <= 0:
        return seg
    stack_growth = _stack_growth(store, target, goal)
    goal_growth = goal.values[-1] - goal.values[0]
    if stack_growth >= STACK_TAINT_MIN and stack_growth >= STACK_TAINT_SHARE * max(goal_growth, 0.0):
        ev.append(
            f"heap goal (NextGC) not used: goroutine stacks grew "
            f"{human_bytes(stack_growth, sign=True)} over its window and the goal includes "
            "stack roots (Go 1.18+ pacer), so it would count them as heap; the heap "
            "profile's in-use totals are judged instead"
        )
        return seg
    k = statistics.median(seg.values) / gmed
    if not 0.05 <= k <= 2.0:  # GOGC=off or a memory limit bends the goal: keep the profile
        return seg
    ev.append(
        f"live heap shape from the runtime's heap goal (NextGC, exact, once per GC; "
        f"{len(goal)} GCs), scaled x{k:.2f} to the heap profile's level"
    )
    return Segment(seg.process_id, list(goal.ts), [v * k for v in goal.values])


def _stack_growth(store: Store, target: str, goal: Segment) -> float:
    """StackInuse growth (Theil-Sen slope x span) over the heap goal's window, in bytes.

    Since Go 1.18 the pacer sets the goal to marked + (marked + stack scan + globals)
    x GOGC/100: goroutines parked with deep stacks raise NextGC by about their stack
    bytes while the live heap stays flat. Whether that term moved inside the window
    decides whether the goal's shape is the heap's. A robust slope, not first-vs-last,
    so bursty short-lived goroutines (their stacks come and go) do not trip it.
    """
    t_from, t_to = goal.ts[0], goal.ts[-1]
    pts = [p for p in store.series(target, "mem_stack_inuse")
           if t_from <= p.ts <= t_to and p.process_id == goal.process_id]
    if len(pts) < 4:
        return 0.0
    tr = trend([p.ts - t_from for p in pts], [p.value for p in pts])
    return max(tr.slope, 0.0) * (t_to - t_from)


def _watch_more(v: Verdict, seconds: float) -> None:
    v.evidence.append(f"watch about {human_duration(seconds)} longer")
    v.watch_more_s = round(seconds, 1)


_ORDER = {"heap-leak": 0, "goroutine-leak": 1, "non-heap-growth": 2, "plateau": 3,
          "inconclusive": 4, "no-leak": 5}


def analyze_target(
    store: Store,
    target: str,
    *,
    limit_bytes: int | None = None,
    findings: Sequence[Finding] | None = None,
    with_suspects: bool = True,
) -> list[Verdict]:
    """All verdicts of one target, ordered by precedence (module docstring)."""
    from leakhunter.analyze.suspects import suspects_for

    results: dict[str, SeriesResult] = {}
    for name, spec in SPECS.items():
        if name == "gc_live_heap" and "heap_live" in results:
            continue
        r = analyze_series(store, target, spec)
        if r is not None:
            results[name] = r
    if not results:
        return [Verdict("inconclusive", 0.0, evidence=["no samples for this target yet"])]
    limit, limit_src = _limit(store, target, limit_bytes)
    rss = store.series(target, "rss")
    current = rss[-1].value if rss else _last(results, ("heap_live", "gc_live_heap"))
    _explain_nonheap(store, target, results)
    for r in results.values():
        v = r.verdict
        if v.unit == "bytes" and v.kind in ("heap-leak", "non-heap-growth") and v.slope_per_min > 0:
            _forecast(v, current, limit, limit_src)
        elif v.unit == "bytes" and v.kind in ("plateau", "no-leak") and limit:
            v.evidence.append(
                f"GOMEMLIMIT≈{human_bytes(0.9 * limit)} (90% of the {limit_src}) leaves the GC "
                "headroom before the limit"
            )
    ordered = sorted(results.values(), key=_rank)
    verdicts = [r.verdict for r in ordered]
    if with_suspects:
        suspects_for(store, target, verdicts, findings=findings)
    return verdicts


def _rank(r: SeriesResult) -> tuple[float, float]:
    k = _ORDER[r.verdict.kind]
    rank = float(k)
    if r.verdict.kind == "non-heap-growth" and r.deep_stacks:
        rank = 0.5
    return (rank, -r.verdict.confidence)


def _last(results: dict[str, SeriesResult], names: Sequence[str]) -> float | None:
    for n in names:
        r = results.get(n)
        if r and r.segment and r.segment.values:
            return r.segment.values[-1]
    return None


def _limit(store: Store, target: str, limit_bytes: int | None) -> tuple[int | None, str]:
    if limit_bytes:
        return int(limit_bytes), "--limit"
    for key, src in (("limit_bytes", "--limit"), ("cgroup_memory_max", "cgroup memory.max")):
        v = store.get_meta(target, key)
        if v and v.isdigit():
            return int(v), src
    return None, ""


def _forecast(v: Verdict, current: float | None, limit: int | None, src: str) -> None:
    rate = v.slope_per_min / 60.0
    if not limit or current is None:
        v.evidence.append(
            "no memory limit known: give --limit (or --pid of a process in a cgroup with "
            "memory.max) for a time-to-OOM forecast"
        )
        return
    left = limit - current
    if left <= 0:
        v.evidence.append(f"already at or above the {src} {human_bytes(limit)}")
    else:
        eta = left / rate
        v.evidence.append(
            f"at this rate the {src} {human_bytes(limit)} is reached in ~{human_duration(eta)} "
            f"(now {human_bytes(current)})"
        )
        v.forecast_s = round(eta, 1)
    v.evidence.append(
        f"GOMEMLIMIT≈{human_bytes(0.9 * limit)} (90% of the {src}) makes the GC work harder "
        "before the limit; it delays an OOM, it does not fix a leak"
    )


def _explain_nonheap(store: Store, target: str, results: dict[str, SeriesResult]) -> None:
    """Say what the memory outside the heap is: goroutine stacks, idle heap, threads."""
    r = results.get("nonheap")
    if r is None or r.verdict.kind != "non-heap-growth" or r.segment is None:
        return
    v = r.verdict
    t_from, t_to = r.segment.ts[0], r.segment.ts[-1]
    parts: dict[str, float] = {}
    for name in ("mem_stack_inuse", "mem_heap_idle_unreleased", "threads", "goroutines"):
        pts = [p for p in store.series(target, name) if t_from <= p.ts <= t_to
               and p.process_id == r.segment.process_id]
        if len(pts) >= 4:
            tr = trend([p.ts - t_from for p in pts], [p.value for p in pts])
            parts[name] = tr.slope * 60
    total = v.slope_per_min
    if "mem_stack_inuse" in parts and total > 0:
        st = parts["mem_stack_inuse"]
        v.evidence.append(
            f"goroutine stacks (StackInuse) grow {human_bytes(st, sign=True)}/min: "
            f"{100 * st / total:.0f}% of the growth outside the heap"
        )
        g = parts.get("goroutines", 0.0)
        if g > 0:
            per = st / g
            v.evidence.append(
                f"goroutines grow {g:+.1f}/min: ≈{human_bytes(per)} of stack per added goroutine"
            )
            r.deep_stacks = per > DEEP_STACK_BYTES
        elif st > 0:
            r.deep_stacks = True
    if "mem_heap_idle_unreleased" in parts and total > 0:
        hi = parts["mem_heap_idle_unreleased"]
        if hi > 0.2 * total:
            v.evidence.append(
                f"idle heap not returned to the OS grows {human_bytes(hi, sign=True)}/min "
                "(fragmentation or scavenger lag, not live data)"
            )
    if parts.get("threads", 0.0) > 0.5:
        v.evidence.append(f"OS threads grow {parts['threads']:+.1f}/min (blocked syscalls or cgo)")


def verdict_summary(verdicts: Sequence[Verdict]) -> Verdict | None:
    """The headline verdict of a target (the first after ordering)."""
    return verdicts[0] if verdicts else None


def any_leak(all_verdicts: dict[str, list[Verdict]]) -> bool:
    return any(v.is_leak for vs in all_verdicts.values() for v in vs)
