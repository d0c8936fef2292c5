"""Detection power of `soak`/`watch` on the leak lab: how soon each leak is called, at
which rates, and that the controls are never called leaks.

For each leaking lab service (lab/services.json) at several leak rates (heap: 64 B,
1 KiB, 16 KiB per request; goroutines: one per request, one per 100 requests), under a
steady 50 requests/s: the seconds of load until the first verdict of the right kind
(the Watcher's on_tick, i.e. `--until-verdict`/`--fail-fast` semantics), and whether the
suspect is joined to the service's catalog rule. For each control: N short runs, and how
many produced any leak verdict (goal: zero).

Peer, in the same run on the same scrapes: the "two snapshots and a threshold" rule an
engineer or a dashboard alert applies (leak when the latest value exceeds the first by
20% and by the same absolute floors leakhunter uses: 1 MiB of heap, 20 goroutines). Its
time to detect and its false alarms on the controls are printed next to leakhunter's.

    python bench/bench_detection.py [--parallel 3] [--control-runs 20] [--only NAME ...]
    python bench/bench_detection.py --markdown bench/RESULTS-detection.md

Bounded: every run has a cap (--cap seconds), every process is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

from soaklab import LabService, build_service, free_port, manifest, toolchain_for  # noqa: E402

from leakhunter.collect.loadgen import LoadGenerator  # noqa: E402
from leakhunter.collect.process import ManagedProcess, wait_http  # noqa: E402
from leakhunter.collect.store import Store  # noqa: E402
from leakhunter.watcher import Watcher  # noqa: E402

RATE = 50.0
# (label, query, requests/s): the issue-9 goals are 1 KiB/req at 50/s within 30 s,
# 4 KiB/req at 100/s within 20 s, one goroutine per request (50/s) within 4 s.
HEAP_RATES = [("1 KiB/req @50/s", "bytes=1024", 50.0), ("4 KiB/req @100/s", "bytes=4096", 100.0)]
GR_RATES = [("1 per req @50/s", "every=1", 50.0)]
FULL_HEAP_RATES = [("64 B/req @50/s", "bytes=64", 50.0), *HEAP_RATES,
                   ("16 KiB/req @50/s", "bytes=16384", 50.0)]
FULL_GR_RATES = [*GR_RATES, ("1 per 100 req @50/s", "every=100", 50.0)]
NAIVE_REL, NAIVE_FLOOR = 0.20, {"heap_live": 1 << 20, "goroutines": 20.0, "fds": 16.0}
LOADS: list[tuple[float, float, float]] = []
"""Machine load averages sampled while the bench runs (1-minute figures)."""
SERIES_OF = {"heap-leak": "heap_live", "goroutine-leak": "goroutines", "non-heap-growth": "fds"}


@dataclass
class Run:
    name: str
    rate_label: str
    want: str  # verdict kind, or "" for a control
    first_s: float | None = None
    naive_s: float | None = None
    joined: bool | None = None
    leak_kinds: list[str] = field(default_factory=list)
    naive_alarm: bool = False
    first_leak_s: float | None = None  # any leak verdict at a tick (what --fail-fast stops on)
    final: str = ""
    final_leaks: list[str] = field(default_factory=list)  # leak verdicts at the end (exit code)
    error: str = ""
    requests: int = 0
    load_s: float = 0.0  # seconds the load ran (for the delivered rate)
    load_errors: int = 0
    scrapes: int = 0  # scrapes that answered (a run whose scrapes fail says so)
    suspects: list[str] = field(default_factory=list)  # top suspects of the wanted verdict


def _naive(store: Store, target: str, series: str) -> bool:
    # The peer gets the best heap series leakhunter has (exact, after a forced GC).
    if series == "heap_live" and store.series(target, "heap_marked"):
        series = "heap_marked"
    pts = store.series(target, series)
    if len(pts) < 2:
        return False
    a, b = pts[0].value, pts[-1].value
    return b - a >= max(NAIVE_REL * abs(a), NAIVE_FLOOR.get(series, 0.0))


async def one_run(svc: LabService, exe: Path, query: str, label: str, cap: float,
                  tmp: Path, warmup: float = 0.0, rate: float = RATE,
                  interval: float = 0.5, force_gc: bool = True) -> Run:
    run = Run(svc.name, label, svc.kind if not svc.control else "")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if svc.control:
        url = base + svc.load
    else:
        q = "&".join(x for x in (svc.query, query) if x)
        url = f"{base}/leak?{q}" if q else f"{base}/leak"
    proc = ManagedProcess([str(exe), "-addr", f"127.0.0.1:{port}", *svc.args], grace=2.0)
    store = Store(str(tmp / f"{svc.name}-{port}.db"))
    proc.start()
    try:
        await wait_http(base + "/debug/pprof/", timeout=30, process=proc)
        # Exactly soak's watcher (commands/soak.py) at this interval: a forced GC per
        # scrape, the same fetch timeout.
        load = LoadGenerator([url], rate=rate, concurrency=16, duration=cap + 60)
        watcher = Watcher([base], store, interval=interval, pid=proc.pid,
                          source_dir=None if svc.control else str(svc.source_dir),
                          warn=lambda _: None, force_gc_every=interval if force_gc else None,
                          timeout=min(5.0, max(2.0, interval)),
                          load_done=lambda: float(load.stats.done))
        stop, load_stop = asyncio.Event(), asyncio.Event()
        load_task = asyncio.create_task(load.run(stop=load_stop))
        await asyncio.sleep(warmup)  # as `soak --warmup`: load first, observe after
        t0 = time.monotonic()

        def on_tick(w: Watcher) -> None:
            # A leak row counts seconds of load (the goal's clock), warm-up included; a
            # control counts seconds observed.
            now = time.monotonic() - t0 + (warmup if run.want else 0.0)
            LOADS.append(os.getloadavg())
            vs = w.verdicts(suspects=False)[base]
            kinds = [v.kind for v in vs if v.is_leak]
            for k in kinds:
                if k not in run.leak_kinds:
                    run.leak_kinds.append(k)
            if kinds and run.first_leak_s is None:
                run.first_leak_s = now
            if run.naive_s is None:
                series = [SERIES_OF[run.want]] if run.want else list(NAIVE_FLOOR)
                if any(_naive(store, base, s) for s in series):
                    run.naive_s = now
                    run.naive_alarm = True
            if run.want and run.want in kinds and run.first_s is None:
                run.first_s = now
            if run.want and run.first_s is not None and run.naive_s is not None:
                stop.set()

        await watcher.run(duration=cap, on_tick=on_tick, stop=stop)
        run.load_s = time.monotonic() - t0
        load_stop.set()
        st = await load_task
        run.requests = st.done
        run.load_errors = st.errors
        run.scrapes = watcher.status()[0].scrapes
        vs = watcher.verdicts()[base]
        run.final = vs[0].kind if vs else "-"
        run.final_leaks = [v.kind for v in vs if v.is_leak]
        if run.want:
            run.joined = any(s.finding is not None and s.finding.rule == svc.rule
                             for v in vs if v.kind == run.want for s in v.suspects)
            run.suspects = [f"{s.function}:{s.line}" + (f" {s.finding.rule}" if s.finding else "")
                            for v in vs if v.kind == run.want for s in v.suspects[:3]]
    except Exception as exc:  # a bench row says what went wrong instead of dying
        run.error = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        proc.stop()
        proc.close()
        store.close()
    return run


async def main_async(args: argparse.Namespace) -> list[Run]:
    import scipy.stats  # noqa: F401  (import once, before any clock starts)

    m = manifest()
    jobs: list[tuple[LabService, Path, str, str, float, float, float]] = []
    for svc in m.services:
        if args.only and svc.name not in args.only:
            continue
        if toolchain_for(svc) is None:
            print(f"skip {svc.name}: needs Go <= {svc.max_go}", file=sys.stderr)
            continue
        if args.no_leaks:
            continue
        exe = build_service(svc)
        if svc.knob == "bytes":
            rates = FULL_HEAP_RATES if args.full else HEAP_RATES
        else:
            rates = FULL_GR_RATES if args.full else GR_RATES
        for label, q, rate in rates:
            jobs.append((svc, exe, q, label, args.cap, args.leak_warmup, rate))
    controls = [(c, c) for c in m.controls]
    # The leak services' own fixed code (/fixed: the same traffic, the leak repaired) as
    # controls too: the fds the GC closes must stay at zero where the code closes its
    # files, the pool must not be called where it is reset, and so on.
    for name in args.fixed_controls:
        svc = m.get(name)
        if toolchain_for(svc) is None:
            continue
        q = "bytes=4096" if svc.knob == "bytes" else "every=1"
        controls.append((svc, dataclasses.replace(svc, name=f"{name}-fixed", control=True,
                                                  load=f"/fixed?{q}")))
    for build_as, c in controls:
        if args.only and c.name not in args.only:
            continue
        if args.no_controls:
            continue
        exe = build_service(build_as)
        for i in range(args.control_runs):
            jobs.append((c, exe, "", f"run {i + 1}", args.control_cap, args.control_warmup, RATE))
    sem = asyncio.Semaphore(args.parallel)
    tmp = Path(tempfile.mkdtemp(prefix="lh-bench-detect-"))

    async def guarded(job: tuple[LabService, Path, str, str, float, float, float]) -> Run:
        async with sem:
            svc, exe, q, label, cap, warm, rate = job
            r = await one_run(svc, exe, q, label, cap, tmp, warm, rate, args.interval,
                              not args.no_force_gc)
            tag = r.error or (f"first {r.want} at {r.first_s}" if r.want
                              else f"leaks={r.leak_kinds} at {r.first_leak_s} final={r.final_leaks}")
            print(f"  {r.name:13} {r.rate_label:14} {tag}  naive={r.naive_s} "
                  f"req={r.requests} errors={r.load_errors} scrapes={r.scrapes} "
                  f"suspects={r.suspects}", file=sys.stderr, flush=True)
            return r

    return list(await asyncio.gather(*(guarded(j) for j in jobs)))


def _s(x: float | None, cap: float) -> str:
    return f"{x:.1f} s" if x is not None else f"> {cap:.0f} s"


def render(runs: list[Run], args: argparse.Namespace) -> str:
    m = manifest()
    rule = {s.name: s.rule for s in m.services}
    lines = [
        "# Detection power (bench/bench_detection.py)",
        "",
        f"Steady load (the rate in the row) on one lab service at a time ({args.parallel} "
        f"services in parallel per bench process on the shared 2-core machine), scraped every "
        f"{args.interval:g} s with a forced GC per scrape (soak's defaults), observed after "
        f"{getattr(args, 'leak_warmup', 0.0):g} s of load as warm-up. Seconds of load (warm-up included) until the "
        "first verdict of the right kind (on_tick, as `soak --fail-fast` / `watch "
        "--until-verdict`); *joined*: the leak verdict's suspects include the service's "
        "catalog rule from `scan` at the leaking line. Peer: the two-snapshot threshold "
        f"rule (latest > first by {NAIVE_REL:.0%} and by 1 MiB / 20 goroutines / 16 fds), "
        "on the same scrapes.",
        "",
        "| service | rule | leak rate | delivered req/s | want | leakhunter | joined | two-snapshot rule | final verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        if not r.want:
            continue
        cap = args.cap + getattr(args, "leak_warmup", 0.0)
        lines.append(
            f"| {r.name} | {rule.get(r.name, '')} | {r.rate_label} | "
            f"{r.requests / r.load_s if r.load_s else 0:.0f} | {r.want} | "
            f"{r.error or _s(r.first_s, cap)} | {'yes' if r.joined else 'no'} | "
            f"{_s(r.naive_s, cap)} | {r.final} |")
    lines += ["", f"Controls (must never be called leaks): {args.control_warmup:.0f} s of load as "
              f"warm-up (soak's default), then {args.control_cap:.0f} s observed per run. *final*: a leak verdict at the end of the run (what decides `soak`'s exit "
              "code); *any tick*: a leak verdict at any scrape during the run (what `--fail-fast`"
              " / `--until-verdict` would have stopped on).", "",
              "| control | runs | leakhunter final | leakhunter any tick | two-snapshot false alarms | errors |",
              "|---|---|---|---|---|---|"]
    names = list(dict.fromkeys(r.name for r in runs if not r.want))
    for name in names:
        rs = [r for r in runs if r.name == name and not r.want]
        if not rs:
            continue
        final = sum(1 for r in rs if r.final_leaks)
        fp = sum(1 for r in rs if r.leak_kinds)
        naive = sum(1 for r in rs if r.naive_alarm)
        err = sum(1 for r in rs if r.error)
        kinds = sorted({k for r in rs for k in r.leak_kinds})
        when = sorted(f"{r.first_leak_s:.0f}s" for r in rs if r.first_leak_s is not None)
        detail = f" ({', '.join(kinds)}; at {', '.join(when)})" if kinds else ""
        lines.append(f"| {name} | {len(rs)} | {final} | {fp}{detail} | {naive} | {err} |")
    def goal(label: str, want: str, limit: float) -> str:
        rs = [r for r in runs if r.want == want and r.rate_label == label]
        if not rs:
            return f"{label}: not run"
        hit = [r for r in rs if r.first_s is not None and r.first_s <= limit]
        times = [r.first_s for r in rs if r.first_s is not None]
        naive = [r.naive_s for r in rs if r.naive_s is not None]
        rng = f"{min(times):.1f}-{max(times):.1f} s" if times else "never"
        nrng = f"{min(naive):.1f}-{max(naive):.1f} s" if naive else "never"
        return (f"{label} ({want}) within {limit:.0f} s: {len(hit)}/{len(rs)} services "
                f"(leakhunter {rng}; two-snapshot rule {nrng})")

    ctl = [r for r in runs if not r.want]
    lines += ["", "Goals (issue 9):", "",
              "- " + goal("1 KiB/req @50/s", "heap-leak", 30),
              "- " + goal("4 KiB/req @100/s", "heap-leak", 20),
              "- " + goal("1 per req @50/s", "goroutine-leak", 4),
              f"- controls: {len(ctl)} runs, {sum(1 for r in ctl if r.final_leaks)} leak "
              f"verdicts at the end, {sum(1 for r in ctl if r.leak_kinds)} at any tick; "
              f"{sum(1 for r in ctl if r.error)} runs failed to run; the two-snapshot rule: "
              f"{sum(1 for r in ctl if r.naive_alarm)} false alarms"]
    return "\n".join(lines) + "\n"


def gc_cost(names: list[str], reps: int = 15) -> str:
    """What `--force-gc` / soak's GC per scrape costs the target: the latency of
    /debug/pprof/heap?gc=1 against /debug/pprof/heap on the same process (the GC runs in
    the handler, so the difference is the GC's wall time), and the GC's CPU share
    (memstats GCCPUFraction) after the forced GCs, per lab service and its live heap."""
    import json
    import statistics
    import urllib.request

    m = manifest()
    lines = ["| service | live heap | heap profile | heap?gc=1 | forced GC costs |",
             "|---|---|---|---|---|"]
    for name in names:
        svc = m.get(name)
        exe = build_service(svc)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = ManagedProcess([str(exe), "-addr", f"127.0.0.1:{port}", *svc.args], grace=2.0)
        proc.start()
        try:
            asyncio.run(wait_http(base + "/debug/pprof/", timeout=30, process=proc))
            for i in range(400):  # some state: a loaded cache, a leaked map
                path = svc.load.replace("{seq}", str(i)) if svc.control else "/leak?bytes=16384"
                urllib.request.urlopen(base + path, timeout=10).read()

            def lat(path: str, base: str = base) -> float:
                out = []
                for _ in range(reps):
                    t = time.perf_counter()
                    urllib.request.urlopen(base + path, timeout=30).read()
                    out.append(time.perf_counter() - t)
                return statistics.median(out)

            plain = lat("/debug/pprof/heap")
            forced = lat("/debug/pprof/heap?gc=1")
            ms = json.loads(urllib.request.urlopen(base + "/debug/vars").read())["memstats"]
            lines.append(f"| {name} | {ms['HeapAlloc'] / (1 << 20):.1f} MiB | {plain * 1e3:.1f} ms"
                         f" | {forced * 1e3:.1f} ms | +{(forced - plain) * 1e3:.1f} ms per scrape |")
        finally:
            proc.stop()
            proc.close()
    return "\n".join(lines) + "\n"


def main() -> None:
    import json

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parallel", type=int, default=3)
    ap.add_argument("--cap", type=float, default=45.0, help="seconds each leak run is observed at most (after --leak-warmup)")
    ap.add_argument("--interval", type=float, default=0.5,
                    help="scrape interval, each scrape with a forced GC as soak does (default 0.5)")
    ap.add_argument("--control-runs", type=int, default=20)
    ap.add_argument("--control-cap", type=float, default=20.0,
                    help="seconds each control run is observed")
    ap.add_argument("--leak-warmup", type=float, default=0.0,
                    help="seconds of load before a leak run is observed (default 0; soak's default is 10); "
                    "its times still count from the start of the load")
    ap.add_argument("--control-warmup", type=float, default=10.0,
                    help="seconds of load before a control run is observed (soak's default)")
    ap.add_argument("--only", nargs="*", default=[])
    ap.add_argument("--full", action="store_true", help="also the slow rates (64 B, 1 per 100)")
    ap.add_argument("--no-leaks", action="store_true", help="controls only")
    ap.add_argument("--fixed-controls", nargs="*",
                    default=["fileleak", "bodyleak", "unboundedmap", "poolmisuse"],
                    help="leak services whose /fixed endpoint is run as a control too")
    ap.add_argument("--no-controls", action="store_true", help="leak services only")
    ap.add_argument("--no-force-gc", action="store_true",
                    help="watch's default: no forced GC, the verdict waits for the target's GCs")
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run: 2 runs per control, caps 25 s / 12 s")
    ap.add_argument("--json-out", help="also save the runs as JSON (to --merge shards later)")
    ap.add_argument("--merge", nargs="*", help="render saved JSON shards instead of running")
    ap.add_argument("--markdown", help="write the table to this file")
    ap.add_argument("--gc-cost", nargs="*", help="measure the forced GC's cost on these services")
    args = ap.parse_args()
    if args.gc_cost is not None:
        print(gc_cost(args.gc_cost or ["unboundedmap", "sawtooth", "warmcache", "bigheap"]))
        return
    if args.quick:
        args.control_runs, args.cap, args.control_cap = 2, 25.0, 12.0
    os.environ.setdefault("GOFLAGS", "-mod=mod")
    t = time.monotonic()
    if args.merge:
        runs = [Run(**d) for f in args.merge for d in json.loads(Path(f).read_text())]
    else:
        runs = asyncio.run(main_async(args))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps([dataclasses.asdict(r) for r in runs]))
    text = render(runs, args)
    if not args.merge:
        text += f"\n(measured in {time.monotonic() - t:.0f} s of wall time"
        if LOADS:
            ones = sorted(x[0] for x in LOADS)
            text += (f"; machine load average (1 min) during the runs: median "
                     f"{ones[len(ones) // 2]:.1f}, max {ones[-1]:.1f}")
        text += ")\n"
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)


if __name__ == "__main__":
    main()
