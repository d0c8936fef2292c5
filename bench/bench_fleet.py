"""Benchmark `leakhunter fleet` at fleet scale, and against the usual PromQL alerts.

    python bench/bench_fleet.py [--workdir DIR] [--keep] [--small]

1. Generates a week of history (`lab/fleetgen`) for ~2,000 pods x 5 metrics at the
   source resolution (60 s scrapes, Prometheus' default interval), with the truth
   beside it; loads it into a real Prometheus with promtool (cached in --workdir).
   The fleet's make-up was fixed before any run (FLEET below): mostly healthy jobs,
   every shape of `fleetgen`, seed 11 (the tests use other seeds).
2. Times `leakhunter fleet --range 7d` over all of it (wall, peak RSS of the process).
3. Evaluates the alerts teams use, on the same data in the same Prometheus:
   `deriv(go_memstats_heap_inuse_bytes[10m]) > 1e7` and `deriv(go_goroutines[5m]) > 10`
   at a 1-minute rule interval; a job "alarms" when any of its series fires at least
   once (and, stricter, for 10 consecutive minutes: `for: 10m`).
4. Prints the table: false alarms and misses per method, per shape.
5. Splitting the work: the same run as 2 processes over disjoint halves of the jobs.

Prints Markdown; the latest results are in bench/RESULTS-fleet.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lab" / "fleetgen"))

import fleetgen  # noqa: E402
import promlab  # noqa: E402

END = 1764633600.0  # fixed: 2025-12-02 00:00 UTC, so the data is the same every run
DAY = 86400.0
# Jobs per shape (static jobs have 20 replicas; canary: 19 + the canary; churn jobs 4
# replicas, redeployed about every 30 h) -- about 2,000 pods in all.
FLEET = {
    "steady": 14, "heap-leak": 8, "slow-heap-leak": 8, "goroutine-leak": 8,
    "oom-restarts": 6, "canary": 6, "warmup": 6, "step": 6, "gc-sawtooth": 8,
    "traffic-waves": 6, "goroutine-bursts": 6, "rss-leak": 4, "runtime-metrics-leak": 2,
    "deploy-churn-leak": 6, "deploy-churn-ok": 6,
}
REPLICAS = {"*": 20, "canary": 19, "deploy-churn-leak": 4, "deploy-churn-ok": 4}
LEAKS = {"heap-leak", "goroutine-leak", "non-heap-growth"}


def build(work: Path, *, small: bool, seed: int = 11) -> dict[str, object]:
    tsdb = work / "tsdb"
    truth_path = work / "truth.json"
    if (work / "READY").exists():
        truth: dict[str, object] = json.loads(truth_path.read_text())
        return truth
    work.mkdir(parents=True, exist_ok=True)
    shapes = [s for s, n in FLEET.items() for _ in range(n)]
    reps = dict(REPLICAS)
    span = (1 if small else 7) * DAY
    if small:
        reps = {k: max(2, v // 5) for k, v in reps.items()}
    fleet = fleetgen.plan_fleet(
        shapes, replicas=reps, t0=END - span, t1=END, interval=60.0, seed=seed,
        metrics=fleetgen.BENCH_METRICS,
        overrides={"deploy_every": 30 * 3600.0, "wave_period": DAY})
    t = time.monotonic()
    files = fleetgen.write_openmetrics(fleet, work / "om")
    truth = fleetgen.write_truth(fleet, truth_path)
    t_gen = time.monotonic() - t
    t = time.monotonic()
    promlab.create_blocks(files, tsdb, workers=2, delete=True)
    t_load = time.monotonic() - t
    pods = sum(len({lf.pod for lf in j.lives}) for j in fleet.jobs)
    series = sum(len({lf.pod for lf in j.lives}) * len(j.metrics) for j in fleet.jobs)
    samples = sum(len(fleetgen._grid(lf, fleet)) * len(j.metrics) for j in fleet.jobs
                  for lf in j.lives)
    info = {"pods": pods, "series": series, "samples": samples, "gen_s": round(t_gen, 1),
            "promtool_s": round(t_load, 1), "jobs": len(fleet.jobs)}
    (work / "READY").write_text(json.dumps(info))
    return truth


def run_fleet(url: str, extra: list[str], out: Path
              ) -> tuple[float, float, float, float, dict[str, object]]:
    """Wall seconds, peak RSS (MiB), CPU seconds of one `leakhunter fleet` process and of
    Prometheus while it ran, and the JSON. CPU is reported beside wall time because
    this machine is shared: wall time depends on the load, CPU time much less."""
    cmd = [sys.executable, "-m", "leakhunter", "fleet", "--prometheus", url, "--range", "7d",
           "--end", str(END), "--format", "json", "--no-profiles", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    prom0 = promlab.cpu_seconds(promlab.last_pid)
    t = time.monotonic()
    with out.open("w") as fh:
        p = subprocess.run(cmd, stdout=fh, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t
    prom_cpu = promlab.cpu_seconds(promlab.last_pid) - prom0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = after.ru_maxrss / 1024
    if p.returncode not in (0, 1):
        raise RuntimeError(f"fleet failed ({p.returncode}): {p.stderr[-500:]}")
    doc: dict[str, object] = json.loads(out.read_text())
    return wall, peak, cpu, prom_cpu, doc


def alert_jobs(url: str, expr: str, start: float, end: float) -> dict[str, tuple[int, int]]:
    """Per job: (minutes the alert expression fired, longest run of consecutive minutes).

    Evaluated like a rule every minute: a range query of `max by (job) (EXPR)` at a 60 s
    step, a day at a time (under the points cap and the samples limit); only firing
    jobs come back. A run of >= 10 minutes is what `for: 10m` would have paged on."""
    import urllib.parse
    import urllib.request

    fired: dict[str, list[float]] = {}
    day = start
    while day < end:
        nxt = min(day + DAY, end)
        body = urllib.parse.urlencode({"query": f"max by (job) ({expr})", "start": str(day + 60),
                                       "end": str(nxt), "step": "60"}).encode()
        with urllib.request.urlopen(url + "/api/v1/query_range", data=body, timeout=1800) as r:
            doc = json.loads(r.read())
        for row in doc["data"]["result"]:
            j = row["metric"].get("job", "?")
            fired.setdefault(j, []).extend(float(v[0]) for v in row["values"])
        day = nxt
    out: dict[str, tuple[int, int]] = {}
    for j, ts in fired.items():
        ts.sort()
        best = run = 1
        for a, b in itertools.pairwise(ts):
            run = run + 1 if b - a <= 61 else 1
            best = max(best, run)
        out[j] = (len(ts), best)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/leakhunter-fleet-bench"))
    ap.add_argument("--small", action="store_true", help="1 day, 1/5 of the replicas (smoke run)")
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--runs", type=int, default=1, help="timed runs of leakhunter fleet")
    ap.add_argument("--seed", type=int, default=11, help="fleet seed (11: the reported set)")
    a = ap.parse_args()
    if promlab.available():
        sys.exit(promlab.available())
    work = a.workdir / (("small" if a.small else "full") + ("" if a.seed == 11 else f"-{a.seed}"))
    truth = build(work, small=a.small, seed=a.seed)
    info = json.loads((work / "READY").read_text())
    jobs: dict[str, dict[str, object]] = truth["jobs"]  # type: ignore[assignment]
    span = (1 if a.small else 7) * DAY
    print(f"fleet: {info['jobs']} jobs, {info['pods']} pods, {info['series']} series, "
          f"{info['samples'] / 1e6:.1f} M samples over {span / DAY:.0f} d at 60 s "
          f"(generated in {info['gen_s']} s, promtool {info['promtool_s']} s)\n")
    with promlab.prometheus(work / "tsdb", timeout=600,
                            extra=["--query.max-samples=50000000"]) as url:
        out = work / "fleet.json"
        rng = [] if not a.small else ["--range", "1d"]
        runs = []
        for _ in range(max(1, a.runs)):
            wall, peak, cpu, prom_cpu, doc = run_fleet(url, rng, out)
            runs.append((wall, peak, cpu, prom_cpu, os.getloadavg()[0]))
        # Work split: two processes on disjoint halves of the jobs, side by side.
        names = sorted(jobs)
        half = set(names[: len(names) // 2])
        sel_a = '{job=~"' + "|".join(sorted(half)) + '"}'
        sel_b = '{job=~"' + "|".join(n for n in names if n not in half) + '"}'
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        prom0 = promlab.cpu_seconds(promlab.last_pid)
        t = time.monotonic()
        procs = [subprocess.Popen(
            [sys.executable, "-m", "leakhunter", "fleet", "--prometheus", url, "--range",
             f"{int(span)}s", "--end", str(END), "--format", "json", "--no-profiles",
             "--selector", sel], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for sel in (sel_a, sel_b)]
        for p in procs:
            p.wait()
        split_wall = time.monotonic() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        split_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        split_prom = promlab.cpu_seconds(promlab.last_pid) - prom0
        peer: dict[str, dict[str, int]] = {}
        if not a.skip_peer:
            t = time.monotonic()
            for name, expr in (("heap", "deriv(go_memstats_heap_inuse_bytes[10m]) > 1e7"),
                               ("goroutines", "deriv(go_goroutines[5m]) > 10")):
                got = alert_jobs(url, expr, END - span, END)
                peer[name] = {j: n for j, (n, _) in got.items()}
                peer[name + "_for10m"] = {j: n for j, (n, run) in got.items() if run >= 10}
            peer_s = time.monotonic() - t
    ours = {t["labels"]["job"]: t for t in doc["targets"]}  # type: ignore[index]
    st = doc["stats"]  # type: ignore[index]
    print("| run | wall | CPU leakhunter | CPU Prometheus | peak RSS | requests | points fetched | load avg |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for i, (w, pk, cpu, pcpu, la) in enumerate(runs):
        print(f"| leakhunter fleet, run {i + 1} | {w:.1f} s | {cpu:.1f} s | {pcpu:.1f} s | "
              f"{pk:.0f} MiB | {st['requests']} | {st['points']:,} | {la:.1f} |")
    print(f"| 2 processes, half the jobs each (side by side) | {split_wall:.1f} s | "
          f"{split_cpu:.1f} s | {split_prom:.1f} s | | | | |")
    if peer:
        print(f"| PromQL alerts (both expressions, with and without for: 10m) | {peer_s:.1f} s "
              "| | | | | | |")
    print()
    rows = []
    for job, tr in sorted(jobs.items()):
        want_leak = tr["kind"] in LEAKS
        t = ours.get(job)
        got = t["verdicts"][0]["kind"] if t else "missing"
        ours_leak = got in LEAKS
        p_any = bool(peer.get("heap", {}).get(job) or peer.get("goroutines", {}).get(job))
        p_hold = bool(peer.get("heap_for10m", {}).get(job)
                      or peer.get("goroutines_for10m", {}).get(job))
        rows.append((job, tr["shape"], tr["kind"], got, want_leak, ours_leak, p_any, p_hold))
    def tally(idx: int) -> tuple[int, int, int, int]:
        fa = sum(1 for r in rows if r[idx] and not r[4])
        miss = sum(1 for r in rows if r[4] and not r[idx])
        return fa, miss, sum(1 for r in rows if not r[4]), sum(1 for r in rows if r[4])
    print("| method | false alarms (non-leaking jobs) | misses (leaking jobs) |")
    print("|---|---:|---:|")
    for label, idx in (("leakhunter fleet", 5), ("PromQL alerts, fire once", 6),
                       ("PromQL alerts, for: 10m", 7)):
        if idx > 5 and not peer:
            continue
        fa, miss, neg, pos = tally(idx)
        print(f"| {label} | {fa} / {neg} | {miss} / {pos} |")
    print()
    print("| shape | truth | jobs | leakhunter verdicts | alerts fire (once / 10m) |")
    print("|---|---|---:|---|---|")
    shapes: dict[str, list[tuple[object, ...]]] = {}
    for r in rows:
        shapes.setdefault(str(r[1]), []).append(r)
    for shape, rs in shapes.items():
        kinds: dict[str, int] = {}
        for r in rs:
            kinds[str(r[3])] = kinds.get(str(r[3]), 0) + 1
        got = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        fire = f"{sum(bool(r[6]) for r in rs)} / {sum(bool(r[7]) for r in rs)}" if peer else "-"
        print(f"| {shape} | {rs[0][2]} | {len(rs)} | {got} | {fire} |")
    wrong = [r for r in rows if r[2] != r[3]]
    if wrong:
        print("\nverdicts other than the truth:")
        for r in wrong:
            print(f"- {r[0]}: {r[3]} (truth {r[2]})")
    print(f"\n(stats of the last run: {json.dumps(st)}; load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
