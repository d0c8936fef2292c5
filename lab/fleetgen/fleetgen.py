"""Generate a fleet's Prometheus history (OpenMetrics for `promtool`) with the truth beside it.

Why a generator and not a recording: the tests need every shape a fleet shows (a leak
hidden by OOM restarts, pods replaced by deploys, one canary leaking, warm-up, a
one-time step, GC sawtooth, traffic waves...) with a known answer, at any size, in
seconds. The shapes are modelled on what client_golang exports from a real Go process:

- the live heap L(t) is the model's state; the GC goal `go_memstats_next_gc_bytes` is
  L at the last GC times (1+GOGC/100); `go_memstats_heap_inuse_bytes` and
  `heap_alloc` saw-tooth between L and the goal with the GC period; RSS is the
  heap's recent peak plus stacks and the runtime's own memory; `process_start_time_seconds` changes at
  every restart; a deploy replaces pods (new `pod` and `instance` labels).
- noise is autocorrelated (AR(1) on the live heap and goroutines), as real series are.

Files are cut at promtool's 2 h block boundaries: `create-blocks-from openmetrics`
re-reads its whole input once per 2 h block, so one file per block keeps loading
linear in the data.

Usage: python lab/fleetgen/fleetgen.py OUT_DIR [--jobs N --replicas R --range 6h ...]
writes OUT_DIR/om/*.om and OUT_DIR/truth.json.
"""

from __future__ import annotations

import argparse
import json
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

BLOCK_S = 7200
MiB = float(1 << 20)

# The verdict each shape must get (per job); "leak" kinds name the series that leaks.
SHAPES: dict[str, str] = {
    "steady": "no-leak",
    "heap-leak": "heap-leak",
    "slow-heap-leak": "heap-leak",
    "goroutine-leak": "goroutine-leak",
    "oom-restarts": "heap-leak",          # a leak hidden by restarts: sawtooth + OOM kills
    "deploy-churn-leak": "heap-leak",     # pods replaced by deploys, each grows with age
    "deploy-churn-ok": "plateau",         # pods replaced, each warms up then stays flat
    "canary": "heap-leak",                # one replica of the job leaks
    "warmup": "plateau",                  # long warm-up after a deploy, then flat
    "step": "plateau",                    # one-time step (a bigger table loaded), flat after
    "gc-sawtooth": "no-leak",             # big heap, large GC sawtooth, live heap flat
    "traffic-waves": "no-leak",           # load waves move heap and goroutines up and down
    "goroutine-bursts": "no-leak",        # batch bursts of short-lived goroutines
    "fd-leak": "non-heap-growth",
    "rss-leak": "non-heap-growth",        # RSS grows outside the Go heap (cgo)
    "runtime-metrics-leak": "heap-leak",  # exports go_gc_heap_live_bytes, not memstats
    "renamed-heap-leak": "heap-leak",     # exports app_heap_inuse_bytes: needs --metric
}

CLIENT_GOLANG = ("go_goroutines", "go_memstats_heap_inuse_bytes", "go_memstats_next_gc_bytes",
                 "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes",
                 "process_open_fds", "process_start_time_seconds")
RUNTIME_METRICS = ("go_gc_heap_live_bytes", "go_sched_goroutines_goroutines",
                   "process_resident_memory_bytes", "process_open_fds",
                   "process_start_time_seconds")
RENAMED = ("app_heap_inuse_bytes", "process_start_time_seconds")
BENCH_METRICS = ("go_goroutines", "go_memstats_heap_inuse_bytes", "go_memstats_next_gc_bytes",
                 "process_resident_memory_bytes", "process_start_time_seconds")


@dataclass
class Life:
    """One process: a pod (and its instance address) from start to end."""

    pod: str
    instance: str
    start: float
    end: float
    leaks: bool = True
    speed: float = 1.0


@dataclass
class Job:
    name: str
    shape: str
    seed: int
    replicas: int
    metrics: tuple[str, ...]
    lives: list[Life] = field(default_factory=list)
    params: dict[str, float] = field(default_factory=dict)
    canary_pod: str = ""


def _h(*parts: object) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode())


def _pod_name(job: str, rs: int, k: int) -> str:
    return f"{job}-{_h(job, rs) % 0xFFFFF:05x}-{_h(job, rs, k) % 26**5:05d}"


def _instance(job: str, rs: int, k: int) -> str:
    v = _h("ip", job, rs, k)
    return f"10.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}:8080"


def plan_job(name: str, shape: str, seed: int, replicas: int, t0: float, t1: float,
             metrics: tuple[str, ...], *, overrides: dict[str, float] | None = None,
             addresses: list[str] | None = None) -> Job:
    """Lives and parameters of one job (deterministic in `seed`).

    `overrides` replace the drawn parameters (scaled by a per-job factor in [0.8, 1.2]
    for `deploy_every` and `wave_period`), e.g. daily deploys and daily traffic for a
    week-long bench; `addresses` are the replicas' instance labels (real services)."""
    rng = np.random.default_rng(seed)
    rng_span = t1 - t0
    job = Job(name, shape, seed, replicas, metrics)
    p = job.params
    p["live0"] = float(np.exp(rng.uniform(math.log(60 * MiB), math.log(600 * MiB))))
    p["g0"] = float(rng.uniform(40, 1500))
    p["fd0"] = float(rng.uniform(20, 200))
    p["other0"] = float(rng.uniform(25, 80)) * MiB
    p["gc_period"] = float(rng.uniform(40, 240))
    p["noise"] = float(rng.uniform(0.01, 0.04))
    p["gnoise"] = float(rng.uniform(0.02, 0.06))
    # Relative growth per hour of the leaking quantity (chosen per shape below).
    p["rate"] = 0.0
    if shape == "heap-leak":
        p["rate"] = float(rng.uniform(0.15, 0.6)) * 3600 / max(rng_span, 3600)
    elif shape == "slow-heap-leak":
        p["rate"] = float(rng.uniform(0.5, 1.0)) * 3600 / max(rng_span, 3600)
    elif shape in ("goroutine-leak",):
        p["rate"] = float(rng.uniform(0.3, 1.2)) * 3600 / max(rng_span, 3600)
    elif shape in ("fd-leak", "rss-leak", "runtime-metrics-leak"):
        p["rate"] = float(rng.uniform(0.3, 1.0)) * 3600 / max(rng_span, 3600)
    elif shape == "oom-restarts":
        p["time_to_oom"] = float(rng.uniform(50, 140)) * 60
        p["limit_factor"] = float(rng.uniform(2.0, 3.0))
    elif shape in ("deploy-churn-leak", "deploy-churn-ok"):
        p["deploy_every"] = float(rng.uniform(80, 160)) * 60
        p["rate"] = float(rng.uniform(0.4, 1.0)) if shape == "deploy-churn-leak" else 0.0
        p["warm_s"] = float(rng.uniform(10, 30)) * 60
        p["warm_frac"] = float(rng.uniform(0.3, 0.6))
    elif shape == "canary":
        p["rate"] = float(rng.uniform(0.5, 1.5)) * 3600 / max(rng_span, 3600)
    elif shape == "warmup":
        p["warm_s"] = float(rng.uniform(0.15, 0.3)) * rng_span
        p["warm_frac"] = float(rng.uniform(0.6, 1.5))
    elif shape == "step":
        p["step_at"] = t0 + float(rng.uniform(0.3, 0.6)) * rng_span
        p["step_frac"] = float(rng.uniform(0.3, 0.7))
    elif shape == "gc-sawtooth":
        p["live0"] = float(rng.uniform(2, 6)) * 1024 * MiB
        p["gc_period"] = float(rng.uniform(120, 420))
    elif shape == "traffic-waves":
        p["wave_period"] = float(rng.uniform(0.2, 0.35)) * rng_span
        p["wave_amp"] = float(rng.uniform(0.3, 0.5))
        p["g0"] = float(rng.uniform(800, 3000))
    elif shape == "goroutine-bursts":
        p["burst_every"] = float(rng.uniform(15, 40)) * 60
        p["burst_len"] = float(rng.uniform(4, 10)) * 60
        p["burst_size"] = float(rng.uniform(3000, 8000))

    for key, val in (overrides or {}).items():
        if key in p or key in ("deploy_every", "wave_period"):
            jitter = float(rng.uniform(0.8, 1.2)) if key in ("deploy_every", "wave_period") else 1.0
            p[key] = val * jitter
    if shape == "renamed-heap-leak":
        p["rate"] = float(rng.uniform(0.3, 0.8)) * 3600 / max(rng_span, 3600)
    # Lives: one per replica, replaced at deploys and on OOM kills.
    if shape in ("deploy-churn-leak", "deploy-churn-ok"):
        every = p["deploy_every"]
        d0 = t0 - float(rng.uniform(0.2, 0.9)) * every
        rs = 0
        t = d0
        while t < t1:
            nxt = t + every * float(rng.uniform(0.8, 1.2))
            for k in range(replicas):
                stagger = 30.0 * k
                job.lives.append(Life(_pod_name(name, rs, k), _instance(name, rs, k),
                                      t + stagger, min(nxt + stagger, t1)))
            t, rs = nxt, rs + 1
    else:
        # One long-running deploy that started before the window (warm-up: inside it).
        for k in range(replicas):
            start = t0 + 60.0 * k if shape == "warmup" else t0 - float(rng.uniform(0.5, 3)) * 3600
            pod, inst = _pod_name(name, 0, k), _instance(name, 0, k)
            if addresses:
                inst = addresses[k % len(addresses)]
            if shape == "oom-restarts":
                t = start
                while t < t1:
                    # Traffic varies the leak's speed; the kill comes at the same limit.
                    speed = float(rng.uniform(0.85, 1.15))
                    life = p["time_to_oom"] / speed
                    job.lives.append(Life(pod, inst, t, min(t + life, t1), speed=speed))
                    t = t + life + 20.0
            else:
                job.lives.append(Life(pod, inst, start, t1))
        if shape == "canary":
            # The canary: one more replica of the new version, started early in the window.
            job.canary_pod = _pod_name(name, 1, 0)
            for life in job.lives:
                life.leaks = False
            job.lives.append(Life(job.canary_pod, _instance(name, 1, 0),
                                  t0 + 0.05 * rng_span, t1))
    return job


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    """Stationary AR(1) noise with marginal standard deviation `sd`."""
    from scipy.signal import lfilter

    e = rng.normal(0, sd * math.sqrt(1 - phi * phi), n)
    e[0] = rng.normal(0, sd)
    out: np.ndarray = lfilter([1.0], [1.0, -phi], e)
    return out


def life_series(job: Job, life: Life, ts: np.ndarray) -> dict[str, np.ndarray]:
    """All metrics of one life at the scrape times `ts` (seconds)."""
    p = job.params
    rng = np.random.default_rng(_h(job.seed, life.pod, life.start))
    n = len(ts)
    age = ts - life.start
    span = 3600.0
    shape = job.shape
    live = np.full(n, p["live0"])
    g = np.full(n, p["g0"])
    fds = np.full(n, p["fd0"])
    other = np.full(n, p["other0"])
    # Every Go service warms up a little (caches, pools): a few minutes, 20-40%.
    quick = 1 - 0.3 * np.exp(-age / 120.0)
    live = live * quick
    if shape in ("heap-leak", "slow-heap-leak", "runtime-metrics-leak", "renamed-heap-leak") or (
            shape == "canary" and life.leaks):
        live = live * (1 + p["rate"] * age / span)
    elif shape == "goroutine-leak":
        g = g * (1 + p["rate"] * age / span)
        live = live + (g - p["g0"]) * 2048
    elif shape == "fd-leak":
        # watch's relevance floor for fds is 16: leak tens per hour, not a handful a day
        fds = fds + float(np.clip(p["rate"] * p["fd0"], 8, 40)) * age / span
    elif shape == "rss-leak":
        other = other + p["live0"] * p["rate"] * age / span
    elif shape == "oom-restarts":
        live = live * (1 + (p["limit_factor"] - 1) * life.speed * age / p["time_to_oom"])
    elif shape in ("deploy-churn-leak", "deploy-churn-ok"):
        warm = 1 + p["warm_frac"] * (1 - np.exp(-age / (p["warm_s"] / 3)))
        live = live * warm * (1 + p["rate"] * age / span)
    elif shape == "warmup":
        warm = 1 + p["warm_frac"] * (1 - np.exp(-age / (p["warm_s"] / 3)))
        live = live * warm
    elif shape == "step":
        live = live * np.where(ts >= p["step_at"], 1 + p["step_frac"], 1.0)
    elif shape == "traffic-waves":
        phase = 2 * math.pi * ts / p["wave_period"]
        load = 1 + p["wave_amp"] * np.sin(phase)
        live = live * (0.75 + 0.25 * load)
        g = g * load
    elif shape == "goroutine-bursts":
        into = np.mod(ts, p["burst_every"])
        g = g + np.where(into < p["burst_len"], p["burst_size"] * np.sin(
            math.pi * np.clip(into / p["burst_len"], 0, 1)), 0.0)
    live = live * (1 + _ar1(rng, n, 0.9, p["noise"]))
    g = np.maximum(g * (1 + _ar1(rng, n, 0.8, p["gnoise"])), 5)
    fds = np.round(fds + rng.integers(-2, 3, n))
    # GC: a cycle every gc_period seconds; the goal is set from the live heap at each GC.
    period = p["gc_period"]
    phase = (age / period + rng.uniform(0, 1)) % 1.0
    gc_at = ts - phase * period
    idx = np.clip(np.searchsorted(ts, gc_at), 0, n - 1)
    goal = 2.0 * live[idx]
    inuse = live[idx] * (1.0 + phase) * 1.03 + 2 * MiB
    alloc = inuse * 0.96
    stacks = g * 8192.0
    # RSS holds the heap's recent peak: the scavenger returns idle pages after minutes.
    w = max(1, round(600.0 / max(float(np.median(np.diff(ts))) if n > 1 else 600.0, 1.0)))
    padded = np.concatenate((np.full(w - 1, inuse[0]), inuse))
    recent = np.lib.stride_tricks.sliding_window_view(padded, w).max(axis=1)
    rss = recent * 1.05 + stacks + other
    out: dict[str, np.ndarray] = {
        "go_goroutines": np.round(g),
        "go_sched_goroutines_goroutines": np.round(g),
        "go_memstats_heap_inuse_bytes": np.round(inuse),
        "go_memstats_heap_alloc_bytes": np.round(alloc),
        "go_memstats_next_gc_bytes": np.round(goal),
        "go_gc_heap_live_bytes": np.round(live[idx]),
        "process_resident_memory_bytes": np.round(rss),
        "process_open_fds": fds,
        "process_start_time_seconds": np.full(n, round(life.start, 2)),
        "app_heap_inuse_bytes": np.round(inuse),
    }
    return out


def truth_of(job: Job) -> dict[str, Any]:
    leaking = sorted({lf.pod for lf in job.lives if lf.leaks}) if SHAPES[job.shape] in (
        "heap-leak", "goroutine-leak", "non-heap-growth") else []
    return {"shape": job.shape, "kind": SHAPES[job.shape], "canary": job.canary_pod or None,
            "leaking_pods": leaking if job.shape == "canary" else [],
            "pods": sorted({lf.pod for lf in job.lives}),
            "restarts": sum(1 for a, b in zip(job.lives, job.lives[1:], strict=False)
                            if a.pod == b.pod),
            "params": job.params}


@dataclass
class Fleet:
    jobs: list[Job]
    t0: float
    t1: float
    interval: float
    namespace: str = "fleet"


def plan_fleet(shapes: list[str], *, replicas: int | dict[str, int], t0: float, t1: float,
               interval: float, seed: int = 1,
               runtime_metrics_jobs: tuple[str, ...] = ("runtime-metrics-leak",),
               metrics: tuple[str, ...] = CLIENT_GOLANG, namespace: str = "fleet",
               overrides: dict[str, float] | None = None,
               addresses: dict[str, list[str]] | None = None,
               names: list[str] | None = None) -> Fleet:
    """Jobs named `{shape}-{i:03d}` (or `names`); `replicas` per job or per shape."""
    jobs = []
    for i, shape in enumerate(shapes):
        name = names[i] if names else f"{shape}-{i:03d}"
        ms = RUNTIME_METRICS if shape in runtime_metrics_jobs else metrics
        if shape == "renamed-heap-leak":
            ms = RENAMED
        elif shape in runtime_metrics_jobs:
            ms = tuple(m for m in RUNTIME_METRICS if m in metrics or m.startswith("go_")
                       or metrics == CLIENT_GOLANG)
        reps = replicas if isinstance(replicas, int) else replicas.get(shape, replicas.get("*", 3))
        jobs.append(plan_job(name, shape, seed * 1000003 + i, reps, t0, t1, ms,
                             overrides=overrides, addresses=(addresses or {}).get(name)))
    return Fleet(jobs, t0, t1, interval, namespace)


def _grid(life: Life, fleet: Fleet) -> np.ndarray:
    a = max(life.start, fleet.t0)
    first = math.ceil(a / fleet.interval) * fleet.interval
    return np.arange(first, min(life.end, fleet.t1) + 1e-6, fleet.interval)


def write_openmetrics(fleet: Fleet, out_dir: Path) -> list[Path]:
    """One OpenMetrics file per promtool 2 h block; returns the paths.

    Lives are generated once each (all metrics together) and their lines go to one
    part file per (block, metric); each block's parts are then joined in metric order,
    since OpenMetrics wants a metric family's samples together."""
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics = sorted({m for j in fleet.jobs for m in j.metrics})
    first_block = int(fleet.t0 // BLOCK_S)
    last_block = int(fleet.t1 // BLOCK_S)
    blocks = range(first_block, last_block + 1)
    parts = {(b, m): (out_dir / f"part-{b}-{m}").open("w") for b in blocks for m in metrics}
    try:
        for job in fleet.jobs:
            for life in job.lives:
                ts = _grid(life, fleet)
                if len(ts) == 0:
                    continue
                values = life_series(job, life, ts)
                blk = (ts // BLOCK_S).astype(np.int64)
                cuts = np.flatnonzero(np.diff(blk)) + 1
                bounds = list(zip(np.concatenate(([0], cuts)).tolist(),
                                  np.concatenate((cuts, [len(ts)])).tolist(), strict=True))
                tl = [f"{t:.3f}" for t in ts.tolist()]
                for metric in job.metrics:
                    prefix = (f'{metric}{{namespace="{fleet.namespace}",job="{job.name}",'
                              f'instance="{life.instance}",pod="{life.pod}"}} ')
                    vl = values[metric].tolist()
                    for a, b in bounds:
                        parts[(int(blk[a]), metric)].write("".join(
                            [f"{prefix}{v:.17g} {t}\n" for v, t in zip(vl[a:b], tl[a:b],
                                                                       strict=True)]))
    finally:
        for fh in parts.values():
            fh.close()
    out = []
    for b in blocks:
        path = out_dir / f"block-{b}.om"
        with path.open("wb") as fh:
            for m in metrics:
                part = out_dir / f"part-{b}-{m}"
                fh.write(f"# TYPE {m} gauge\n".encode())
                with part.open("rb") as src:
                    while chunk := src.read(1 << 24):
                        fh.write(chunk)
                part.unlink()
            fh.write(b"# EOF\n")
        out.append(path)
    return out


def write_truth(fleet: Fleet, path: Path) -> dict[str, Any]:
    doc = {"t0": fleet.t0, "t1": fleet.t1, "interval": fleet.interval,
           "namespace": fleet.namespace,
           "jobs": {j.name: truth_of(j) for j in fleet.jobs}}
    path.write_text(json.dumps(doc, indent=1))
    return doc


def _dur(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--replicas", type=int, default=3)
    ap.add_argument("--range", dest="rng", default="6h")
    ap.add_argument("--end", type=float, default=None)
    ap.add_argument("--interval", default="30s")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    import time
    t1 = a.end if a.end is not None else float(int(time.time()) // 60 * 60)
    fleet = plan_fleet(a.shapes.split(","), replicas=a.replicas, t0=t1 - _dur(a.rng), t1=t1,
                       interval=_dur(a.interval), seed=a.seed)
    write_openmetrics(fleet, a.out / "om")
    write_truth(fleet, a.out / "truth.json")


if __name__ == "__main__":
    main()
