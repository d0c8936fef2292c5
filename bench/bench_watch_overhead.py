"""Does `leakhunter watch` slow the service it watches? p99 latency with and without.

A real Go lab service (lab/cmd/watchheap, /fixed: a handler that allocates and
answers, no leak) gets a steady open-loop load from an asyncio generator at a fixed
rate (requests are sent on schedule whether or not earlier ones returned, and
latency is measured from the scheduled time, so a stall is not hidden by
coordinated omission). Phases alternate without / with a `leakhunter watch` at the
default 10 s interval, in one run, so drift on a noisy machine hits both sides.
Goal: < 2% increase in p99. The service's own CPU time per phase (from /proc) is
printed too: a steadier measure of what being watched costs it than a p99 on a
2-core machine shared with the load generator.

`--force-gc EVERY` adds a third phase per round: `watch --force-gc EVERY`, which asks for
`heap?gc=1` (one full GC in the service) at most once per EVERY. Its cost is the issue's
"cost documented and measured": the service's CPU and p99 with it against plain watch and
no watch, and the forced scrape's own latency (one full GC of the live heap) against a
plain heap scrape, measured beside the load (`--live-mb` grows the service's live heap
first, so the cost is read on a heap of a known size; its records are byte slices, which
the GC does not scan: a pointer-rich heap of the same size costs more to mark).

    python bench/bench_watch_overhead.py [--rate 200] [--phase 30] [--pairs 3] [--force-gc 10s]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import golab


async def load(base: str, rate: float, seconds: float, conns: int = 32) -> list[float]:
    """Open-loop load over a fixed pool of keep-alive connections (leakhunter's http11)."""
    from urllib.parse import urlsplit

    from leakhunter.collect.http11 import Connection

    u = urlsplit(base)
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(conns):
        pool.put_nowait(Connection(u.hostname or "127.0.0.1", u.port or 80))
    lat: list[float] = []
    errors = 0
    n = int(rate * seconds)
    t0 = time.perf_counter()

    async def one(i: int) -> None:
        nonlocal errors
        due = t0 + i / rate
        d = due - time.perf_counter()
        if d > 0:
            await asyncio.sleep(d)
        c = await pool.get()
        try:
            status, _ = await asyncio.wait_for(c.get("/fixed?kb=16", 1 << 20), 10)
            if status != 200:
                errors += 1
            lat.append(time.perf_counter() - due)
        except (OSError, TimeoutError):
            errors += 1
            await c.close()
        finally:
            pool.put_nowait(c)

    await asyncio.gather(*(one(i) for i in range(n)))
    while not pool.empty():
        await pool.get_nowait().close()
    if errors:
        print(f"  ({errors} failed requests)")
    return lat


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (the service's own CPU cost)."""
    import os

    rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


async def _grow(base: str, mb: int) -> None:
    from urllib.parse import urlsplit

    from leakhunter.collect.http11 import Connection

    u = urlsplit(base)
    c = Connection(u.hostname or "127.0.0.1", u.port or 80)
    try:
        for _ in range(mb):
            await c.get("/leak?kb=1024", 1 << 20)
    finally:
        await c.close()


def _scrape_costs(base: str, n: int = 10) -> None:
    """Latency of a plain heap scrape and of a forced-GC one (a full GC of the live heap),
    and the service's live heap, read from the forced profile's MemStats trailer."""
    import re
    import urllib.request

    def get(path: str) -> tuple[float, bytes]:
        t = time.perf_counter()
        with urllib.request.urlopen(base + path, timeout=30) as r:
            body = r.read()
        return time.perf_counter() - t, body

    plain = [get("/debug/pprof/heap")[0] for _ in range(n)]
    forced = [get("/debug/pprof/heap?gc=1")[0] for _ in range(n)]
    _, text = get("/debug/pprof/heap?gc=1&debug=1")
    m = re.search(rb"# HeapAlloc = (\d+)", text)
    live = int(m.group(1)) / (1 << 20) if m else float("nan")
    print(f"live heap {live:.1f} MiB: heap scrape median {1e3 * statistics.median(plain):.1f} ms, "
          f"forced-GC scrape (heap?gc=1) median {1e3 * statistics.median(forced):.1f} ms "
          f"(max {1e3 * max(forced):.1f} ms), {n} each", flush=True)


def p(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> None:
    import signal

    # A SIGTERM (a `timeout` wrapper) must still run the `finally` that kills the fleet.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--phase", type=float, default=30)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--force-gc", default=None, metavar="EVERY",
                    help="also measure watch --force-gc EVERY (a third phase per round)")
    ap.add_argument("--live-mb", type=int, default=0,
                    help="grow the service's live heap by this many MiB first")
    a = ap.parse_args()
    modes = ["without", "with"] + (["force-gc"] if a.force_gc else [])
    res: dict[str, list[list[float]]] = {m: [] for m in modes}
    cpu: dict[str, list[float]] = {m: [] for m in modes}
    with golab.run_lab("watchheap") as svc, tempfile.TemporaryDirectory() as d:
        assert svc.proc is not None
        if a.live_mb:
            # /leak?kb=N keeps N KiB per call (a []byte) in a global map: the live heap is
            # grown before the phases start and stays put during them.
            asyncio.run(_grow(svc.base_url, a.live_mb))
        asyncio.run(load(svc.base_url, a.rate, 3))  # warm up connections and the service
        if a.force_gc:
            _scrape_costs(svc.base_url)
        for i in range(a.pairs * len(modes)):
            mode = modes[i % len(modes)]
            watch = None
            if mode != "without":
                extra = ["--force-gc", a.force_gc] if mode == "force-gc" else []
                watch = subprocess.Popen(
                    [sys.executable, "-m", "leakhunter", "watch", svc.base_url, "--pid",
                     str(svc.proc.pid), "--duration", f"{a.phase + 30}s",
                     "--db", str(Path(d) / f"o{i}.db"), *extra],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(3)  # past start-up imports: measure steady watching
            c0 = cpu_seconds(svc.proc.pid)
            lat = asyncio.run(load(svc.base_url, a.rate, a.phase))
            cpu[mode].append((cpu_seconds(svc.proc.pid) - c0) / a.phase)
            if watch is not None:
                watch.terminate()
                watch.wait(timeout=30)
            res[mode].append(lat)
            print(f"phase {i + 1} {mode:7s} n={len(lat)} p50={1e3 * p(lat, .5):.2f}ms "
                  f"p99={1e3 * p(lat, .99):.2f}ms service_cpu={100 * cpu[mode][-1]:.1f}%",
                  flush=True)
    p99 = {m: statistics.median(p(x, .99) for x in v) for m, v in res.items()}
    allp99 = {m: p([y for x in v for y in x], .99) for m, v in res.items()}
    cwo = statistics.mean(cpu["without"])
    for m in modes[1:]:
        label = "with" if m == "with" else f"with --force-gc {a.force_gc}"
        cw = statistics.mean(cpu[m])
        print(f"[{label}] p99 without={1e3 * p99['without']:.2f}ms with={1e3 * p99[m]:.2f}ms "
              f"(median of {a.pairs} phases each) ratio={p99[m] / p99['without']:.3f}; "
              f"service CPU without={100 * cwo:.2f}% with={100 * cw:.2f}% of a core "
              f"ratio={cw / cwo:.3f}; pooled p99 ratio={allp99[m] / allp99['without']:.3f}")


if __name__ == "__main__":
    main()
