"""Verdicts for a job, not a series: a population of process lives judged together.

A series in Prometheus is one pod's metric; a job is many pods over time, replaced by
deploys, restarted by OOM kills. Judging each series alone misses what matters:

- **A leak hidden by restarts** is a sawtooth: every process grows until it is killed.
  No single series trends (it keeps falling back), yet every *life* grows with its age.
- **Pods replaced by deploys** are one population: pod names and instances change,
  and the leak shows as the same age-aligned growth in every pod.
- **One canary replica** leaking while its siblings stay flat is named as such.
- **Warm-up after a deploy** (grow, then level off) is a `plateau`; a one-time step
  (a bigger table loaded once, flat before and after) is one too, never a leak.
- **GC sawtooth** never reaches the analysis: the heap series is a floor (per-window
  minimum of the GC goal or of the in-use heap, or the runtime's live-heap metric),
  and **traffic waves** rise and fall: a life that gives back most of its rise is
  not a monotone leak.

So the unit is the *life*: one process (a pod between restarts), split exactly at
`process_start_time_seconds` changes, its values against its own age. Each life is
judged with the statistics of `watch` (`trend.trend`: Theil-Sen slope with the
autocorrelation-widened interval; `trend.plateau`; the same 10% relevance bar and
floors as `verdicts.SPECS`), then the job decides by its lives:

| lives                                             | job verdict                |
|---------------------------------------------------|----------------------------|
| at least half leak (and at least two, or the only one) | the leak kind        |
| a minority of pods leak in every life they have, strongly, the rest do not | the leak kind, the canary named |
| at least half plateau or step                     | `plateau`                  |
| at least half flat (or rise-and-fall)             | `no-leak`                  |
| otherwise                                         | `inconclusive`             |

Why majority and not "any": with dozens of lives per job, one life in twenty can
look like growth by chance; a real population leak shows in most of them.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from leakhunter.analyze.trend import Trend, plateau, trend
from leakhunter.analyze.verdicts import SPECS, SeriesSpec
from leakhunter.collect.prometheus import JobHistory
from leakhunter.collect.prometheus import RangeSeries as Points
from leakhunter.model import Finding, Frame, GoroutineDump, Profile, Stack, Suspect, Verdict
from leakhunter.units import human_amount, human_bytes, human_duration

if TYPE_CHECKING:
    import numpy as np

K = TypeVar("K")
MIN_POINTS = 8
FIT_POINTS = 60
"""Bins (medians) a life is reduced to before fitting: enough for the trend's power,
few enough that 10,000 series are judged in seconds."""
WARM_MIN_AGE = 300.0
"""Points younger than this (seconds since the process started) are warm-up for the leak test."""
GIVE_BACK = 0.5
"""A life that falls back by more than this share of its range from a running high is a
wave (traffic), not a leak: a leak's floor does not come back down."""
OOM_SPREAD = 0.15
MAX_LIVES_PER_REPLICA = 6
BORN_WITHIN = 900.0
"""A life whose first point is at most this old (seconds) started inside the range."""
"""Lives that end within this relative spread of the same peak were killed at a limit."""

KINDS = ("heap", "goroutines", "nonheap", "fds")
_SPEC_OF = {"heap": "heap_live", "goroutines": "goroutines", "nonheap": "nonheap", "fds": "fds"}
_ORDER = {"heap-leak": 0, "goroutine-leak": 1, "non-heap-growth": 2, "plateau": 3,
          "inconclusive": 4, "no-leak": 5}


@dataclass(slots=True)
class Life:
    """One process's series against its age, and what its trend says."""

    replica: str
    start: float
    x: np.ndarray
    y: np.ndarray
    kind: str = "short"
    """leak, plateau, step, flat, wave, unsettled, short."""
    trend: Trend | None = None
    slope: float = 0.0
    growth: float = 0.0
    bar: float = 0.0
    level: float = 0.0
    span: float = 0.0
    note: str = ""


@dataclass(slots=True)
class ReplicaResult:
    replica: str
    labels: dict[str, str]
    verdicts: list[Verdict]
    lives: int = 1


@dataclass(slots=True)
class JobResult:
    job: str
    labels: dict[str, str]
    verdicts: list[Verdict]
    replicas: list[ReplicaResult]
    lives: int = 0
    restarts: int = 0
    pods: int = 0
    canary: list[str] = field(default_factory=list)
    promql: dict[str, str] = field(default_factory=dict)
    forecast_s: float | None = None
    limit_bytes: float | None = None
    errors: list[str] = field(default_factory=list)
    plots: dict[str, list[tuple[str, list[float], list[float]]]] = field(default_factory=dict)
    """series -> up to PLOT_LIVES lives as (replica, age in hours, value), for the report."""

    @property
    def is_leak(self) -> bool:
        return any(v.is_leak for v in self.verdicts)

    def rank_key(self) -> tuple[float, float, float]:
        """Leaks first, then the soonest to the limit, then the fastest relative growth."""
        head = self.verdicts[0] if self.verdicts else None
        order = float(_ORDER.get(head.kind, 9)) if head else 9.0
        eta = self.forecast_s if self.forecast_s is not None else math.inf
        rel = 0.0
        for v in self.verdicts:
            if v.is_leak and v.evidence:
                rel = max(rel, abs(v.slope_per_min))
        return (min(order, 3.0) if self.is_leak else order, eta, -rel)


# --- one life ---------------------------------------------------------------------------


def _bins(x: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Medians of `k` consecutive bins of equal count (+-1): robust, keeps the shape.

    Vectorised: the first `r` bins hold m+1 points, the rest m, so two reshapes do it."""
    import numpy as np

    n = len(y)
    if n <= k:
        return x, y
    m, r = divmod(n, k)
    cut = r * (m + 1)
    xs = [np.median(x[:cut].reshape(r, m + 1), axis=1)] if r else []
    ys = [np.median(y[:cut].reshape(r, m + 1), axis=1)] if r else []
    xs.append(np.median(x[cut:].reshape(k - r, m), axis=1))
    ys.append(np.median(y[cut:].reshape(k - r, m), axis=1))
    return np.concatenate(xs), np.concatenate(ys)


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and residual sum of squares."""
    import numpy as np

    xm, ym = float(x.mean()), float(y.mean())
    sxx = float(((x - xm) ** 2).sum())
    slope = float(((x - xm) * (y - ym)).sum()) / sxx if sxx > 0 else 0.0
    resid = y - (ym + slope * (x - xm))
    return slope, float(np.dot(resid, resid))


def _step(x: np.ndarray, y: np.ndarray, bar: float) -> tuple[float, float] | None:
    """A one-time step: (size, time) when two flat levels explain y far better than a line."""
    import numpy as np

    n = len(y)
    m = max(4, n // 8)
    if n < 2 * m + 1:
        return None
    c1 = np.cumsum(y)
    c2 = np.cumsum(y * y)
    k = np.arange(m, n - m + 1)
    left = c2[k - 1] - c1[k - 1] ** 2 / k
    right = (c2[-1] - c2[k - 1]) - (c1[-1] - c1[k - 1]) ** 2 / (n - k)
    sse2 = left + right
    i = int(np.argmin(sse2))
    cut = int(k[i])
    jump = float(y[cut:].mean() - y[:cut].mean())
    if jump < bar:
        return None
    _, sse_lin = _ols(x, y)
    if not sse2[i] < 0.35 * sse_lin:
        return None
    for xs, ys in ((x[:cut], y[:cut]), (x[cut:], y[cut:])):
        s, _ = _ols(xs, ys)
        if abs(s) * float(xs[-1] - xs[0]) > 0.35 * jump:
            return None
    return jump, float(x[cut])


def _give_back(y: np.ndarray) -> float:
    """Largest fall from a running high, as a share of the series' whole range.

    Measured on a running median of 5 bins: noise makes small dips in any series, a
    traffic wave makes one as deep as its rise."""
    import numpy as np

    if len(y) >= 10:
        y = np.median(np.lib.stride_tricks.sliding_window_view(np.pad(y, 2, mode="edge"), 5),
                      axis=1)
    rng = float(y.max() - y.min())
    if rng <= 0:
        return 0.0
    return float((np.maximum.accumulate(y) - y).max()) / rng


def _knee_plateau(x: np.ndarray, y: np.ndarray, bar: float, unit: str) -> str:
    """Grew, then levelled off, wherever the knee is: '' or the sentence that says so.

    `trend.plateau` splits at a fixed two thirds; a warm-up after a deploy ends anywhere
    (minutes in for a pool, an hour in for a cache). The knee is where the series first
    reaches 90% of its rise (first bins to the late median); the rise must be relevant and
    the part after the knee, at least a third of the life, must not grow (trend.trend)
    by more than a quarter of the rise."""
    import numpy as np

    n = len(y)
    if n < 12:
        return ""
    head = float(np.median(y[:2]))
    tail = float(np.median(y[-max(3, n // 4):]))
    rise = tail - head
    if rise < bar:
        return ""
    sm = np.convolve(np.pad(y, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    k = int(np.argmax(sm >= head + 0.9 * rise))
    if k == 0 or n - k < max(6, n // 3):
        return ""
    late = trend((x[k:] - x[k]).tolist(), y[k:].tolist())
    late_span = float(x[-1] - x[k])
    early_rate = rise / max(float(x[k] - x[0]), 1e-9)
    # Flat must be established, not merely "no significant growth" (a slow leak in
    # noise is not significant over a short stretch either): the late slope's upper
    # bound keeps the growth under the bar, and the rate fell to a quarter or less.
    if max(late.high, 0.0) * late_span >= max(bar, 0.5 * rise) or late.slope > 0.25 * early_rate:
        return ""
    if k >= 12:
        early = trend((x[: k + 1] - x[0]).tolist(), y[: k + 1].tolist())
        if not early.growing:
            return ""
    else:  # a fast warm-up, a few windows: too few points for an interval; the rise
        # must stand far out of the noise after the knee instead
        mad = float(np.median(np.abs(y[k:] - np.median(y[k:])))) * 1.4826
        if rise < 6 * mad:
            return ""
    return (f"grew {human_amount(rise, unit, sign=True)} in its first "
            f"{human_duration(float(x[k]))}, then {human_amount(late.slope * 3600, unit, sign=True)}/h")


def judge_life(life: Life, spec: SeriesSpec) -> Life:
    """Classify one life (in place) with the statistics of `watch`."""
    import numpy as np

    x, y = life.x, life.y
    if len(y) < MIN_POINTS:
        return life
    xf, yf = _bins(x, y, FIT_POINTS)
    keep = x >= WARM_MIN_AGE
    xt, yt = x[keep], y[keep]
    cut = int(len(yt) * 0.1) if len(yt) >= 10 else 0
    xt, yt = xt[cut:], yt[cut:]
    full_level = abs(float(np.median(yf[: max(3, len(yf) // 3)])))
    full_bar = max(spec.rel_min * full_level, spec.floor)
    # Plateau over the whole life (the warm-up is what it looks for).
    note = _knee_plateau(xf, yf, full_bar, spec.unit)
    if note:
        life.kind, life.note = "plateau", note
        life.level, life.bar = full_level, full_bar
        return life
    if len(yt) < MIN_POINTS:
        return life
    xd, yd = _bins(xt, yt, FIT_POINTS)
    x0 = float(xd[0])
    span = float(xd[-1] - x0)
    n = len(yd)
    third = max(3, n // 3)
    level = abs(float(np.median(yd[:third])))
    bar = max(spec.rel_min * level, spec.floor)
    life.level, life.bar, life.span = level, bar, span
    # Screen: a relevant leak moves the last third's median >= ~2/3 of the bar above the
    # first third's. Far below that, no trend test can call it a leak: flat, cheaply.
    moved = float(np.median(yd[-third:])) - float(np.median(yd[:third]))
    if moved < 0.3 * bar:
        life.kind = "flat"
        life.slope, _ = _ols(xd, yd)
        life.note = (f"last third's median {human_amount(moved, spec.unit, sign=True)} from the "
                     f"first's, under the relevance bar {human_amount(bar, spec.unit)}")
        return life
    st = _step(xd, yd, bar)
    if st is not None:
        life.kind = "step"
        life.growth = st[0]
        life.note = (f"one step of {human_amount(st[0], spec.unit, sign=True)} at age "
                     f"{human_duration(st[1])}, flat before and after")
        return life
    tr = trend((xd - x0).tolist(), yd.tolist())
    if tr.growing and tr.slope * span >= bar:
        # watch's grew-then-flat test (fixed two-thirds split) before calling it a leak
        pl = plateau((xd - x0).tolist(), yd.tolist())
        if (pl is not None and pl.is_plateau and pl.early.growing
                and pl.early.slope * pl.split_ts >= bar
                and max(pl.late.high, 0.0) * (span - pl.split_ts) < bar):
            life.kind, life.trend, life.slope = "plateau", pl.early, pl.late.slope
            life.note = (f"grew {human_amount(pl.early.slope * 3600, spec.unit, sign=True)}/h "
                         f"for {human_duration(pl.split_ts)}, then "
                         f"{human_amount(pl.late.slope * 3600, spec.unit, sign=True)}/h")
            return life
    life.trend, life.slope = tr, tr.slope
    life.growth = tr.slope * span
    if tr.growing and life.growth >= bar:
        gb = _give_back(yd)
        if gb > GIVE_BACK:
            life.kind = "wave"
            life.note = f"rises and falls (gave back {100 * gb:.0f}% of its range)"
            return life
        life.kind = "leak"
        return life
    if max(tr.high, 0.0) * span < bar:
        life.kind = "flat"
        return life
    if _give_back(yd) > GIVE_BACK:
        life.kind = "wave"
        return life
    life.kind = "unsettled"
    return life


# --- lives of a job -------------------------------------------------------------------


def _replica(labels: Mapping[str, str], replica_label: str) -> str:
    return labels.get(replica_label) or labels.get("instance") or labels.get("pod") or "?"


def split_lives(points: Sequence[Points], starts: Sequence[Points], replica_label: str) -> list[Life]:
    """Cut every replica series into process lives at `process_start_time_seconds` changes."""
    import numpy as np

    start_of: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for s in starts:
        r = _replica(s.labels, replica_label)
        if r in start_of:  # several series for one replica: merge in time order
            ts = np.concatenate([start_of[r][0], s.ts])
            vs = np.concatenate([start_of[r][1], s.values])
            o = np.argsort(ts, kind="stable")
            start_of[r] = (ts[o], vs[o])
        else:
            start_of[r] = (s.ts, s.values)
    lives: list[Life] = []
    for p in points:
        if len(p.ts) == 0:
            continue
        r = _replica(p.labels, replica_label)
        ok = np.isfinite(p.values)
        ts, vs = p.ts[ok], p.values[ok]
        if len(ts) == 0:
            continue
        st = start_of.get(r)
        if st is None or len(st[0]) == 0:
            lives.append(Life(r, float(ts[0]), ts - ts[0], vs))
            continue
        idx = np.clip(np.searchsorted(st[0], ts, side="right") - 1, 0, len(st[0]) - 1)
        sv = st[1][idx]
        cuts = np.flatnonzero(np.diff(sv)) + 1
        for a, b in zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [len(ts)])),
                        strict=True):
            start = float(sv[a])
            if not math.isfinite(start) or start <= 0 or start > ts[a]:
                start = float(ts[a])
            lives.append(Life(r, start, ts[a:b] - start, vs[a:b]))
    return lives


def _latest(lives: Sequence[Life], per_replica: int) -> list[Life]:
    """At most `per_replica` most recent lives of each replica (a crash-looping job has
    hundreds; a few per replica decide as well, and judging stays fast)."""
    by: dict[str, list[Life]] = {}
    for lf in lives:
        by.setdefault(lf.replica, []).append(lf)
    out: list[Life] = []
    for ls in by.values():
        out += sorted(ls, key=lambda z: z.start)[-per_replica:]
    return out


def nonheap_points(rss: Sequence[Points], heap: Sequence[Points], heap_metric: str,
                   replica_label: str) -> list[Points]:
    """RSS minus what the Go heap may hold (its GC goal), per replica, where both exist.

    The goal is the most the heap occupies between collections; `next_gc` is that goal,
    the live heap and the in-use floor are doubled (GOGC=100, the default)."""
    import numpy as np

    factor = 1.0 if heap_metric == "go_memstats_next_gc_bytes" else 2.0
    by = {_replica(h.labels, replica_label) + "|" + h.labels.get("instance", ""): h for h in heap}
    out = []
    for r in rss:
        key = _replica(r.labels, replica_label) + "|" + r.labels.get("instance", "")
        h = by.get(key)
        if h is None:
            continue
        common, ia, ib = np.intersect1d(r.ts, h.ts, return_indices=True)
        if len(common) == 0:
            continue
        out.append(Points(r.labels, common, r.values[ia] - factor * _held(h.values[ib])))
    return out


def _held(goal: np.ndarray) -> np.ndarray:
    """The most heap the runtime has held so far (running maximum), reset at a restart.

    Go returns freed heap pages to the OS slowly, so RSS keeps the heap's high-water
    mark for a while; subtracting the current goal would read the idle pages of a
    traffic peak as growth outside the heap. A fall below half the running maximum
    is a new process (the heap starts small again)."""
    import numpy as np

    out = np.empty_like(goal)
    hi = -np.inf
    for i, g in enumerate(goal.tolist()):
        hi = g if g < 0.5 * hi else max(hi, g)
        out[i] = hi
    return out


# --- decisions ------------------------------------------------------------------------


def _human_rate(per_s: float, unit: str) -> str:
    return human_amount(per_s * 3600, unit, sign=True) + "/h"


def _life_slopes(lives: Sequence[Life]) -> list[float]:
    return sorted(lf.slope for lf in lives)


def _median_interval(lives: Sequence[Life]) -> tuple[float, float]:
    """A 95% interval for the lives' median slope.

    Six lives or more: the distribution-free one from order statistics (the binomial
    ranks around the median). Fewer: the median life's own Theil-Sen interval, widened
    for autocorrelation by `trend.trend`."""
    slopes = sorted(lf.slope for lf in lives)
    n = len(slopes)
    if n >= 6:
        k = max(0, math.floor(n / 2 - 0.98 * math.sqrt(n)))
        return slopes[k], slopes[min(n - 1, n - 1 - k)]
    mid = sorted(lives, key=lambda lf: lf.slope)[n // 2]
    if mid.trend is None:
        return mid.slope, mid.slope
    return mid.trend.low, mid.trend.high


def _outliers(bad: Sequence[Life], others: Sequence[Life]) -> bool:
    """The leaking lives stand apart from the rest of the population, not at its tail.

    With twenty replicas, a life or two passes any per-life test by chance (the tail of
    the others' slopes); a canary running different code grows far faster than every
    sibling: its slowest life must beat the siblings' median by six robust standard
    deviations (1.4826 MAD) and their fastest by a factor of two."""
    import numpy as np

    if not others:
        return False
    o = np.array([lf.slope for lf in others])
    med = float(np.median(o))
    mad = 1.4826 * float(np.median(np.abs(o - med)))
    low = min(lf.slope for lf in bad)
    return low > med + 6 * mad and low > 2 * max(float(o.max()), 0.0)


def _decide(lives: Sequence[Life], spec: SeriesSpec, *, what: str
            ) -> tuple[Verdict, list[str]]:
    """The verdict for a set of lives (a job's, or one replica's); also the canary pods."""
    judged = [lf for lf in lives if lf.kind != "short"]
    unit = spec.unit
    if not judged:
        n = max((len(lf.y) for lf in lives), default=0)
        v = Verdict("inconclusive", 0.0, 0.0, unit, [
            f"no process of {what} lived long enough in the range for the {spec.label} "
            f"(longest: {n} points, need {MIN_POINTS} after warm-up)"], series=spec.name)
        return v, []
    c = Counter(lf.kind for lf in judged)
    n = len(judged)
    replicas = sorted({lf.replica for lf in judged})
    leaks = [lf for lf in judged if lf.kind == "leak"]
    half = math.ceil(n / 2)
    restarts = n - len({(lf.replica) for lf in judged})
    tally = ", ".join(f"{k} {c[k]}" for k in ("leak", "plateau", "step", "flat", "wave",
                                               "unsettled") if c[k])
    head = (f"{n} process lives of {len(replicas)} replica(s) judged by age"
            + (f" ({restarts} restarts)" if restarts > 0 else "") + f": {tally}")
    if leaks and (len(leaks) >= max(2, half) or (n == 1)):
        slopes = _life_slopes(leaks)
        med = statistics.median(slopes)
        confs = [1 - lf.trend.p for lf in leaks if lf.trend is not None]
        conf = round(min(0.999, max(0.95, statistics.median(confs) if confs else 0.95)), 3)
        lo, hi = _median_interval(leaks)
        ev = [head, f"{len(leaks)} of {n} lives grow with age: median "
              f"{_human_rate(med, unit)}, 95% interval [{_human_rate(lo, unit)}, "
              f"{_human_rate(hi, unit)}] (lives from {_human_rate(slopes[0], unit)} to "
              f"{_human_rate(slopes[-1], unit)}); every life's 95% interval, widened for "
              "autocorrelation, lies above zero and its growth is over the relevance bar"]
        biggest = max(leaks, key=lambda lf: lf.growth / max(lf.level, 1e-9))
        ev.append(f"largest: {biggest.replica} grew {human_amount(biggest.growth, unit, sign=True)}"
                  f" over {human_duration(biggest.span)} "
                  f"({100 * biggest.growth / max(biggest.level, 1e-9):.0f}% of its level)")
        return Verdict(spec.leak_kind, conf, med * 60, unit, ev, series=spec.name), []
    if leaks:
        bad = sorted({lf.replica for lf in leaks})
        strong = all(lf.growth >= 2 * lf.bar and lf.trend is not None and lf.trend.low > 0
                     for lf in leaks)
        consistent = all(lf.kind == "leak" for lf in judged if lf.replica in bad)
        others = [lf for lf in judged if lf.replica not in bad]
        others_ok = bool(others) and sum(lf.kind in ("flat", "plateau", "step", "wave")
                                         for lf in others) >= math.ceil(len(others) / 2)
        if (len(bad) <= max(1, len(replicas) // 3) and strong and consistent and others_ok
                and _outliers(leaks, others)):
            med = statistics.median(_life_slopes(leaks))
            ev = [head, f"canary: only {', '.join(bad)} of {len(replicas)} replicas grows "
                  f"({_human_rate(med, unit)}); the others do not — a leak in what runs "
                  "there (a new version?), not in the whole job"]
            v = Verdict(spec.leak_kind, 0.95, med * 60, unit, ev, series=spec.name)
            return v, bad
    # A warm-up shows only in lives that started inside the range: judge the plateau
    # among those (a pod that was already warm when the range began is simply flat).
    born = [lf for lf in judged if len(lf.x) and float(lf.x[0]) <= BORN_WITHIN]
    born_pl = sum(lf.kind in ("plateau", "step") for lf in born)
    if c["plateau"] + c["step"] >= half or (born and born_pl >= math.ceil(len(born) / 2)
                                             and c["plateau"] + c["step"] >= 1):
        notes = [lf.note for lf in judged if lf.kind in ("plateau", "step") and lf.note][:2]
        steps = c["step"]
        ev = [head, f"{c['plateau'] + c['step']} of {n} lives grew, then levelled off"
              + (f" ({steps} in one step)" if steps else "") + ": warm-up, a bounded cache "
              "or a one-time load, not a leak"] + [f"e.g. {s}" for s in notes]
        conf = round((c["plateau"] + c["step"]) / n, 3)
        return Verdict("plateau", conf, 0.0, unit, ev, series=spec.name), []
    settled_no = c["flat"] + c["wave"] + c["plateau"] + c["step"]
    if settled_no >= half:
        ev = [head]
        if c["wave"]:
            ev.append(f"{c['wave']} lives rise and fall (traffic waves): a leak's floor does "
                      "not come back down")
        if leaks:
            ev.append(f"{len(leaks)} of {n} lives grew: too few for a job-wide leak, and not "
                      "one replica consistently (as chance allows with this many lives)")
        med = statistics.median(_life_slopes(judged))
        return Verdict("no-leak", round(settled_no / n, 3), med * 60, unit, ev,
                       series=spec.name), []
    ev = [head, f"the {spec.label} is not settled in most lives: watch a longer range"]
    med = statistics.median(_life_slopes(judged))
    return Verdict("inconclusive", round(c["unsettled"] / n, 3), med * 60, unit, ev,
                   series=spec.name), []


def _oom_limit(lives: Sequence[Life], rss: Sequence[Life]) -> float | None:
    """The level processes were killed at, when restarts end lives at one common peak."""
    ended = {}
    by_replica: dict[str, list[Life]] = {}
    for lf in rss:
        by_replica.setdefault(lf.replica, []).append(lf)
    for _r, ls in by_replica.items():
        for lf in sorted(ls, key=lambda z: z.start)[:-1]:  # lives that ended (a later one began)
            if len(lf.y):
                ended[(lf.replica, lf.start)] = float(lf.y.max())
    del lives
    peaks = sorted(ended.values())
    if len(peaks) < 2:
        return None
    med = statistics.median(peaks)
    spread = (peaks[int(0.9 * (len(peaks) - 1))] - peaks[int(0.1 * (len(peaks) - 1))]) / med
    return med if spread <= OOM_SPREAD else None


def judge_job(h: JobHistory, *, limit_bytes: float | None = None) -> JobResult:
    """Verdicts for the job and each of its replicas (see the module docstring)."""
    all_lives: dict[str, list[Life]] = {}
    total_lives: dict[str, int] = {}
    series = dict(h.series)
    if h.peaks and h.series.get("heap"):
        series["nonheap"] = nonheap_points(h.peaks, h.series["heap"], h.metric.get("heap", ""),
                                           h.replica_label)
    for kind in KINDS:
        pts = series.get(kind)
        if not pts:
            continue
        spec = SPECS[_SPEC_OF[kind]]
        lives = split_lives(pts, h.starts, h.replica_label)
        total_lives[kind] = len(lives)
        lives = _latest(lives, MAX_LIVES_PER_REPLICA)
        for lf in lives:
            judge_life(lf, spec)
        all_lives[kind] = lives
    res = JobResult(h.job, dict(h.labels), [], [], promql=dict(h.promql), errors=list(h.errors))
    if not all_lives:
        res.verdicts = [Verdict("inconclusive", 0.0, evidence=[
            "no series to judge" + (": " + "; ".join(h.errors) if h.errors else "")])]
        if not h.errors:
            res.errors.append("no heap, goroutine, RSS or fd series (renamed metrics? "
                              "give --metric KIND=NAME)")
        return res
    first = next(iter(all_lives))
    any_lives = all_lives[first]
    res.lives = total_lives[first]
    res.pods = len({lf.replica for lf in any_lives})
    res.restarts = res.lives - res.pods
    rss_lives = split_lives(h.peaks, h.starts, h.replica_label) if h.peaks else []
    oom = _oom_limit(any_lives, rss_lives) if res.restarts else None
    limit = limit_bytes or oom
    res.limit_bytes = limit
    job_v: dict[str, Verdict] = {}
    canary: list[str] = []
    for kind, lives in all_lives.items():
        spec = SPECS[_SPEC_OF[kind]]
        v, bad = _decide(lives, spec, what=f"job {h.job}")
        if h.metric.get(kind):
            v.evidence.append(f"series: {h.metric[kind]}")
        if h.promql.get(kind):
            v.evidence.append(f"PromQL: {h.promql[kind]}")
        job_v[kind] = v
        canary += [b for b in bad if b not in canary]
        q = h.promql.get(kind, "")
        if bad and "}[" in q:
            # Pod names are DNS labels ([a-z0-9.-]); several go in one regex matcher.
            who = (f'{h.replica_label}="{bad[0]}"' if len(bad) == 1
                   else f'{h.replica_label}=~"{"|".join(bad)}"')
            v.evidence.append("PromQL (canary): " + q.replace("}[", f",{who}}}[", 1))
    _explain_nonheap(job_v, all_lives)
    if res.lives > len(any_lives):
        for v in job_v.values():
            v.evidence.insert(1, f"judged the latest {MAX_LIVES_PER_REPLICA} lives of each "
                                 f"replica ({len(any_lives)} of {res.lives} in the range)")
    if oom is not None and job_v.get("heap") and job_v["heap"].is_leak:
        job_v["heap"].evidence.insert(2, (
            f"restarts hide it: {res.restarts} restarts, each process killed near "
            f"{human_bytes(oom)} RSS (the memory limit): a sawtooth of growth and OOM kills"))
    _forecast_job(res, job_v, rss_lives, limit, "--limit" if limit_bytes else "OOM peaks")
    res.verdicts = sorted(job_v.values(), key=lambda v: (_ORDER[v.kind], -v.confidence))
    res.canary = canary
    for kind, lives in all_lives.items():
        res.plots[_SPEC_OF[kind]] = _plot(lives, canary)
    # Replicas: each replica's own lives, same rules.
    reps = sorted({lf.replica for ls in all_lives.values() for lf in ls})
    label_of = _replica_labels(h)
    for r in reps:
        vs = []
        n_lives = 0
        for kind, lives in all_lives.items():
            mine = [lf for lf in lives if lf.replica == r]
            if not mine:
                continue
            n_lives = max(n_lives, len(mine))
            v, _ = _decide(mine, SPECS[_SPEC_OF[kind]], what=r)
            vs.append(v)
        vs.sort(key=lambda v: (_ORDER[v.kind], -v.confidence))
        res.replicas.append(ReplicaResult(r, label_of.get(r, {h.replica_label: r}), vs, n_lives))
    res.replicas.sort(key=lambda rr: (_ORDER[rr.verdicts[0].kind] if rr.verdicts else 9, rr.replica))
    return res


PLOT_LIVES = 16


def _plot(lives: Sequence[Life], first: Sequence[str]) -> list[tuple[str, list[float], list[float]]]:
    """A few lives, age-aligned, binned: the leaking and canary ones first."""
    pick = sorted(lives, key=lambda lf: (lf.replica not in first, lf.kind != "leak", -len(lf.y)))
    out = []
    for lf in pick[:PLOT_LIVES]:
        if len(lf.y) == 0:
            continue
        x, y = _bins(lf.x, lf.y, 120)
        out.append((lf.replica, [round(float(v) / 3600, 4) for v in x],
                    [float(v) for v in y]))
    return out


def _replica_labels(h: JobHistory) -> dict[str, dict[str, str]]:
    keep = ("job", "namespace", "instance", "pod", h.replica_label)
    out: dict[str, dict[str, str]] = {}
    for pts in [*h.series.values(), h.starts]:
        for p in pts:
            r = _replica(p.labels, h.replica_label)
            out.setdefault(r, {k: p.labels[k] for k in keep if k in p.labels})
    return out


def _explain_nonheap(job_v: dict[str, Verdict], lives: Mapping[str, Sequence[Life]]) -> None:
    """RSS growth that the heap explains is not a second leak."""
    heap, nh = job_v.get("heap"), job_v.get("nonheap")
    if heap is None or nh is None or not heap.is_leak or nh.kind != "non-heap-growth":
        return
    if nh.slope_per_min <= max(heap.slope_per_min, 0.0):
        nh.kind = "no-leak"
        nh.evidence.insert(0, (
            "RSS outside the heap grows less than the heap's own growth: it follows the heap "
            "(page-level overhead), not a separate leak"))
    del lives


def _forecast_job(res: JobResult, job_v: Mapping[str, Verdict], rss: Sequence[Life],
                  limit: float | None, src: str) -> None:
    v = next((job_v[k] for k in ("heap", "nonheap") if k in job_v and job_v[k].is_leak), None)
    if v is None or v.slope_per_min <= 0:
        return
    if not limit:
        v.evidence.append("no memory limit known: give --limit for a time-to-limit forecast")
        return
    latest: dict[str, Life] = {}
    for lf in rss:
        if lf.replica not in latest or lf.start > latest[lf.replica].start:
            latest[lf.replica] = lf
    nows = [float(lf.y[-1]) for lf in latest.values() if len(lf.y)]
    if not nows:
        return
    now = max(nows)
    eta = max(0.0, (limit - now) / (v.slope_per_min / 60.0))
    res.forecast_s = round(eta, 1)
    v.forecast_s = res.forecast_s
    v.evidence.append(f"at this rate the limit {human_bytes(limit)} ({src}) is reached in "
                      f"~{human_duration(eta)} (highest replica now {human_bytes(now)})")


def rank(results: Sequence[JobResult]) -> list[JobResult]:
    return sorted(results, key=lambda r: r.rank_key())


# --- suspects from profiles -------------------------------------------------------------


@dataclass(slots=True)
class PodProfiles:
    """Profiles fetched from one replica's pprof endpoint (None where it failed)."""

    replica: str
    base_url: str
    heap: Profile | None = None
    goroutines: GoroutineDump | None = None
    error: str = ""


@dataclass(slots=True)
class WindowProfiles:
    """Merged profiles of the range's first and last windows (Pyroscope), per type."""

    heap: tuple[Profile, Profile] | None = None
    goroutines: tuple[Profile, Profile] | None = None
    windows: str = ""


def _heap_suspects(new_p: Profile, old_p: Profile | None, what: str) -> list[Suspect]:
    """The sites that grew from `old_p` to `new_p`, told as `watch` tells them: the user's line with the
    path to it, and, when the stacks are a recursion the profile cut off, that (`suspects.heap_detail`)."""
    from leakhunter.analyze.suspects import heap_by_site, heap_detail

    callers: dict[Frame, Stack] = {}
    paths: dict[Frame, Stack] = {}
    cut: dict[Frame, tuple[int, str, int]] = {}
    new = heap_by_site(new_p, callers, paths, cut)
    old = heap_by_site(old_p) if old_p is not None else None
    return [Suspect(fr.function, fr.file, fr.line, g, "bytes", detail=heap_detail(fr, new, cut, what),
                    callers=callers.get(fr, ()), path=paths.get(fr, ()))
            for fr, g in _grown(new, old)]


def _grown(new: Counter[K], old: Counter[K] | None) -> list[tuple[K, float]]:
    diff: Counter[K] = Counter(new)
    if old is not None:
        diff.subtract(old)
    grown = sorted(((k, float(g)) for k, g in diff.items() if g > 0), key=lambda t: -t[1])
    if not grown:
        return []
    top = grown[0][1]
    return [(k, g) for k, g in grown if g >= 0.05 * top][:10]


def _goroutine_sites_pb(p: Profile) -> Counter[tuple[str, Frame]]:
    """Goroutine count per (state, innermost user frame) from a goroutine pprof profile."""
    from leakhunter.analyze.suspects import _site

    out: Counter[tuple[str, Frame]] = Counter()
    idx = len(p.sample_types) - 1
    for s in p.samples:
        fr = _site(s.stack)
        if fr is not None:
            out[("", fr)] += s.values[idx]
    return out


def _heap_total(p: Profile | None) -> float:
    if p is None:
        return 0.0
    from leakhunter.errors import LeakhunterError

    try:
        i = p.sample_index("inuse_space")
    except LeakhunterError:  # not a heap profile: it cannot rank
        return 0.0
    return float(sum(s.values[i] for s in p.samples))


def profile_suspects(pods: Sequence[PodProfiles], windows: WindowProfiles | None
                     ) -> tuple[list[Suspect], list[Suspect], list[str]]:
    """(heap sites, goroutine sites, notes): what grows, from replicas or from time windows.

    Replicas: the replica that grew most minus the one that grew least (or, for one
    replica, its largest sites): in a job whose pods leak with age, the older pod holds
    the leak's objects and the younger one does not; for a canary, the canary minus a
    sibling is exactly the new code's growth. Windows (Pyroscope): the merged profile
    of the range's last window minus its first (the merge is a sum over the window's
    profiles, so equal windows compare like for like)."""
    from leakhunter.analyze.suspects import goroutines_by_site, merge_sites

    heap: list[Suspect] = []
    gr: list[Suspect] = []
    notes: list[str] = []
    # The replica holding the most now is the one that leaked most (whatever the
    # history said about the others): it goes first, the one holding least is the base.
    with_heap = sorted((p for p in pods if p.heap is not None),
                       key=lambda p: -_heap_total(p.heap))
    if with_heap:
        top, base = with_heap[0], (with_heap[-1] if len(with_heap) > 1 else None)
        assert top.heap is not None
        heap = _heap_suspects(top.heap, base.heap if base is not None else None, "inuse_space")
        notes.append(f"heap profile of {top.replica}" + (f" minus {base.replica}" if base else ""))
    with_gr = sorted((p for p in pods if p.goroutines is not None),
                     key=lambda p: -(p.goroutines.total if p.goroutines else 0))
    if with_gr:
        top, base = with_gr[0], (with_gr[-1] if len(with_gr) > 1 else None)
        gcallers: dict[tuple[str, Frame], Stack] = {}
        assert top.goroutines is not None
        gnew = goroutines_by_site(top.goroutines, gcallers)
        gold = (goroutines_by_site(base.goroutines)
                if base is not None and base.goroutines is not None else None)
        gr = merge_sites([Suspect(fr.function, fr.file, fr.line, g, "goroutines", detail=state,
                                  callers=gcallers.get((state, fr), ()))
                          for (state, fr), g in _grown(gnew, gold)])
        notes.append(f"goroutines of {top.replica}" + (f" minus {base.replica}" if base else ""))
    if windows is not None:
        if windows.heap is not None and not heap:
            a, b = windows.heap
            heap = _heap_suspects(b, a, "inuse_space (Pyroscope)")
            notes.append(f"Pyroscope heap: last window minus first ({windows.windows})")
        if windows.goroutines is not None and not gr:
            a, b = windows.goroutines
            gr = merge_sites([Suspect(fr.function, fr.file, fr.line, g, "goroutines",
                                      detail="goroutines (Pyroscope)")
                              for (_s, fr), g in _grown(_goroutine_sites_pb(b),
                                                        _goroutine_sites_pb(a))])
            notes.append(f"Pyroscope goroutines: last window minus first ({windows.windows})")
    return heap, gr, notes


def attach_suspects(r: JobResult, pods: Sequence[PodProfiles], windows: WindowProfiles | None,
                    findings: Sequence[Finding] | None) -> None:
    """Give the job's leak verdicts their suspects (joined to `findings`), as `watch` does."""
    from leakhunter.analyze.join import explain, join

    heap, gr, notes = profile_suspects(pods, windows)
    if findings:
        join(heap, findings)
        join(gr, findings)
    failed = [f"{p.replica}: {p.error}" for p in pods if p.error]
    for v in r.verdicts:
        if not v.is_leak and v.kind != "plateau":
            continue
        sus = heap if v.series == "heap_live" else gr if v.series in ("goroutines", "nonheap") else []
        if not sus:
            continue
        v.suspects = list(sus)
        v.evidence.append("suspects from " + "; ".join(notes))
        if findings:
            v.evidence.extend(explain(v.suspects))
    if failed and not (heap or gr):
        r.errors.append("no profile: " + "; ".join(failed[:3]))
