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
HEAP_RATES = [("64 B/req", "bytes=64"), ("1 KiB/req", "bytes=1024"), ("16 KiB/req", "bytes=16384")]
GR_RATES = [("1 per req", "every=1"), ("1 per 100 req", "every=100")]
NAIVE_REL, NAIVE_FLOOR = 0.20, {"heap_live": 1 << 20, "goroutines": 20.0, "fds": 16.0}
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


def _naive(store: Store, target: str, series: str) -> bool:
    pts = store.series(target, series)
    if len(pts) < 2:
        return False
    a, b = pts[0].value, pts[-1].value
    return b - a >= max(NAIVE_REL * abs(a), NAIVE_FLOOR.get(series, 0.0))


async def one_run(svc: LabService, exe: Path, query: str, label: str, cap: float,
                  tmp: Path, warmup: float = 0.0) -> Run:
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
        watcher = Watcher([base], store, interval=1.0, pid=proc.pid,
                          source_dir=None if svc.control else str(svc.source_dir),
                          warn=lambda _: None)
        stop, load_stop = asyncio.Event(), asyncio.Event()
        load = LoadGenerator([url], rate=RATE, concurrency=16, duration=cap + 60)
        load_task = asyncio.create_task(load.run(stop=load_stop))
        await asyncio.sleep(warmup)  # as `soak --warmup`: load first, observe after
        t0 = time.monotonic()

        def on_tick(w: Watcher) -> None:
            now = time.monotonic() - t0
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
        load_stop.set()
        st = await load_task
        run.requests = st.done
        vs = watcher.verdicts()[base]
        run.final = vs[0].kind if vs else "-"
        run.final_leaks = [v.kind for v in vs if v.is_leak]
        if run.want:
            run.joined = any(s.finding is not None and s.finding.rule == svc.rule
                             for v in vs if v.kind == run.want for s in v.suspects)
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
    jobs: list[tuple[LabService, Path, str, str, float, float]] = []
    for svc in m.services:
        if args.only and svc.name not in args.only:
            continue
        if toolchain_for(svc) is None:
            print(f"skip {svc.name}: needs Go <= {svc.max_go}", file=sys.stderr)
            continue
        exe = build_service(svc)
        rates = HEAP_RATES if svc.knob == "bytes" else GR_RATES
        for label, q in rates:
            jobs.append((svc, exe, q, label, args.cap, 0.0))
    for c in m.controls:
        if args.only and c.name not in args.only:
            continue
        exe = build_service(c)
        for i in range(args.control_runs):
            jobs.append((c, exe, "", f"run {i + 1}", args.control_cap, args.control_warmup))
    sem = asyncio.Semaphore(args.parallel)
    tmp = Path(tempfile.mkdtemp(prefix="lh-bench-detect-"))

    async def guarded(job: tuple[LabService, Path, str, str, float, float]) -> Run:
        async with sem:
            svc, exe, q, label, cap, warm = job
            r = await one_run(svc, exe, q, label, cap, tmp, warm)
            tag = r.error or (f"first {r.want} at {r.first_s}" if r.want
                              else f"leaks={r.leak_kinds} at {r.first_leak_s} final={r.final_leaks}")
            print(f"  {r.name:13} {r.rate_label:14} {tag}  naive={r.naive_s}", file=sys.stderr,
                  flush=True)
            return r

    return list(await asyncio.gather(*(guarded(j) for j in jobs)))


def _s(x: float | None, cap: float) -> str:
    return f"{x:.0f} s" if x is not None else f"> {cap:.0f} s"


def render(runs: list[Run], args: argparse.Namespace) -> str:
    m = manifest()
    rule = {s.name: s.rule for s in m.services}
    lines = [
        "# Detection power (bench/bench_detection.py)",
        "",
        f"Steady load of {RATE:.0f} requests/s on one lab service at a time ({args.parallel} "
        "services in parallel on the shared 2-core machine), scraped every 1 s. Seconds of load until the "
        "first verdict of the right kind (on_tick, as `soak --fail-fast` / `watch "
        "--until-verdict`); *joined*: the leak verdict's suspects include the service's "
        "catalog rule from `scan` at the leaking line. Peer: the two-snapshot threshold "
        f"rule (latest > first by {NAIVE_REL:.0%} and by 1 MiB / 20 goroutines / 16 fds), "
        "on the same scrapes.",
        "",
        "| service | rule | leak rate | want | leakhunter | joined | two-snapshot rule | final verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        if not r.want:
            continue
        cap = args.cap
        lines.append(
            f"| {r.name} | {rule.get(r.name, '')} | {r.rate_label} | {r.want} | "
            f"{r.error or _s(r.first_s, cap)} | {'yes' if r.joined else 'no'} | "
            f"{_s(r.naive_s, cap)} | {r.final} |")
    lines += ["", f"Controls (must never be called leaks): {args.control_warmup:.0f} s of load as "
              f"warm-up (soak's default), then {args.control_cap:.0f} s observed per run. *final*: a leak verdict at the end of the run (what decides `soak`'s exit "
              "code); *any tick*: a leak verdict at any scrape during the run (what `--fail-fast`"
              " / `--until-verdict` would have stopped on).", "",
              "| control | runs | leakhunter final | leakhunter any tick | two-snapshot false alarms | errors |",
              "|---|---|---|---|---|---|"]
    for c in m.controls:
        rs = [r for r in runs if r.name == c.name and not r.want]
        if not rs:
            continue
        final = sum(1 for r in rs if r.final_leaks)
        fp = sum(1 for r in rs if r.leak_kinds)
        naive = sum(1 for r in rs if r.naive_alarm)
        err = sum(1 for r in rs if r.error)
        kinds = sorted({k for r in rs for k in r.leak_kinds})
        when = sorted(f"{r.first_leak_s:.0f}s" for r in rs if r.first_leak_s is not None)
        detail = f" ({', '.join(kinds)}; at {', '.join(when)})" if kinds else ""
        lines.append(f"| {c.name} | {len(rs)} | {final} | {fp}{detail} | {naive} | {err} |")
    goal_heap = [r for r in runs if r.want == "heap-leak" and r.rate_label == "1 KiB/req"]
    goal_gr = [r for r in runs if r.want == "goroutine-leak" and r.rate_label == "1 per req"]
    lines += ["", "Goals: 1 KiB/request heap leak at 50 req/s within 60 s: "
              + ", ".join(f"{r.name} {_s(r.first_s, args.cap)}" for r in goal_heap)
              + "; one goroutine per request within 20 s: "
              + ", ".join(f"{r.name} {_s(r.first_s, args.cap)}" for r in goal_gr) + "."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parallel", type=int, default=3)
    ap.add_argument("--cap", type=float, default=90.0, help="seconds per leak run at most (leak runs have no warm-up)")
    ap.add_argument("--control-runs", type=int, default=20)
    ap.add_argument("--control-cap", type=float, default=20.0,
                    help="seconds each control run is observed")
    ap.add_argument("--control-warmup", type=float, default=10.0,
                    help="seconds of load before a control run is observed (soak's default)")
    ap.add_argument("--only", nargs="*", default=[])
    ap.add_argument("--markdown", help="write the table to this file")
    args = ap.parse_args()
    os.environ.setdefault("GOFLAGS", "-mod=mod")
    t = time.monotonic()
    runs = asyncio.run(main_async(args))
    text = render(runs, args)
    text += f"\n(measured in {time.monotonic() - t:.0f} s of wall time)\n"
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)


if __name__ == "__main__":
    main()
