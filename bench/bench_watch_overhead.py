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

    python bench/bench_watch_overhead.py [--rate 200] [--phase 30] [--pairs 3]
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
    a = ap.parse_args()
    res: dict[str, list[list[float]]] = {"without": [], "with": []}
    cpu: dict[str, list[float]] = {"without": [], "with": []}
    with golab.run_lab("watchheap") as svc, tempfile.TemporaryDirectory() as d:
        assert svc.proc is not None
        asyncio.run(load(svc.base_url, a.rate, 3))  # warm up connections and the service
        for i in range(a.pairs * 2):
            mode = "without" if i % 2 == 0 else "with"
            watch = None
            if mode == "with":
                watch = subprocess.Popen(
                    [sys.executable, "-m", "leakhunter", "watch", svc.base_url, "--pid",
                     str(svc.proc.pid), "--duration", f"{a.phase + 30}s",
                     "--db", str(Path(d) / "o.db")],
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
    print(f"p99 without={1e3 * p99['without']:.2f}ms with={1e3 * p99['with']:.2f}ms "
          f"(median of {a.pairs} phases each) ratio={p99['with'] / p99['without']:.3f}")
    cw, cwo = statistics.mean(cpu["with"]), statistics.mean(cpu["without"])
    print(f"service CPU without={100 * cwo:.2f}% with={100 * cw:.2f}% of a core "
          f"ratio={cw / cwo:.3f}")
    print(f"pooled p99 without={1e3 * allp99['without']:.2f}ms with={1e3 * allp99['with']:.2f}ms "
          f"ratio={allp99['with'] / allp99['without']:.3f}")


if __name__ == "__main__":
    main()
