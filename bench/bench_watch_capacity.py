"""How many targets one `leakhunter watch` process keeps up with at a 10 s interval.

Real Go processes (lab/cmd/watchmany, 50 ports each) serve pprof + expvar on N
loopback ports in all. (Not one process for all N: a goroutine profile is produced
under a per-process lock and walks every goroutine of that runtime, including the
watcher's connections to all N ports, so one shared runtime makes each scrape N times
dearer than a real fleet's; 50 per process keeps that artifact small.)
one `leakhunter watch` scrapes all N at --interval 10s for --duration. Kept up means
every target got a scrape in every interval (from the store: scrapes per target and
the largest gap between a target's consecutive scrapes). The watch process's CPU is
read from /proc/PID/stat. Goal: >= 500 targets.

`--pprof-only`: the fleet serves no /debug/vars (`-novars`), as most services do; watch then
reads the heap profile's text form (`heap?debug=1`) on every scrape for its MemStats trailer
(the heap goal and GC count), which costs more bytes and parsing than the binary form.

    python bench/bench_watch_capacity.py [--targets 500 1000] [--duration 60] [--pprof-only]
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import itertools

import golab

TICK = os.sysconf("SC_CLK_TCK")
PER_PROCESS = 50


def cpu_seconds(pid: int) -> float:
    rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / TICK


def run(n: int, duration: float, interval: float, pprof_only: bool = False) -> dict[str, float]:
    exe = golab.build("watchmany")
    fleets = []
    urls: list[str] = []
    try:
        for k in range(0, n, PER_PROCESS):
            f = subprocess.Popen([str(exe), "-n", str(min(PER_PROCESS, n - k)),
                                  *(["-novars"] if pprof_only else [])],
                                 stdout=subprocess.PIPE, text=True, start_new_session=True)
            fleets.append(f)
            assert f.stdout is not None
            for line in f.stdout:
                m = re.search(r"listening on (http://\S+)", line)
                if m:
                    urls.append(m.group(1))
                if line.strip() == "ready":
                    break
        assert len(urls) == n
        with tempfile.TemporaryDirectory() as d:
            db = Path(d) / "cap.db"
            t0 = time.monotonic()
            watch = subprocess.Popen(
                [sys.executable, "-m", "leakhunter", "watch", *urls, "--interval",
                 f"{interval}s", "--duration", f"{duration}s", "--db", str(db), "--format",
                 "json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            cpu = 0.0
            while watch.poll() is None:
                try:
                    cpu = cpu_seconds(watch.pid)
                except OSError:
                    break
                time.sleep(0.5)
            wall = time.monotonic() - t0
            _, err = watch.communicate()
            with sqlite3.connect(db) as c:
                rows = c.execute(
                    "SELECT target_id, ts FROM samples WHERE series='goroutines' ORDER BY target_id, ts"
                ).fetchall()
                gaps = c.execute("SELECT count(*) FROM gaps").fetchone()[0]
                size = db.stat().st_size + sum(p.stat().st_size for p in db.parent.glob("cap.db-*"))
        per: dict[int, list[float]] = {}
        for tid, ts in rows:
            per.setdefault(tid, []).append(ts)
        expected = int(duration // interval)
        counts = [len(v) for v in per.values()]
        max_gap = max((b - a for v in per.values() for a, b in itertools.pairwise(v)),
                      default=0.0)
        kept_up = sum(1 for v in per.values() if len(v) >= expected)
        return {"targets": n, "answered": len(per), "kept_up": kept_up,
                "min_scrapes": min(counts, default=0), "expected": expected,
                "max_gap_s": max_gap, "failed_scrapes": gaps,
                "cpu_pct": 100 * cpu / wall, "wall_s": wall, "db_mb": size / 1e6,
                "rc": watch.returncode, "err": err.decode()[-300:]}
    finally:
        for f in fleets:
            os.killpg(f.pid, 9)
            f.wait()


def main() -> None:
    import signal

    # A SIGTERM (a `timeout` wrapper) must still run the `finally` that kills the fleet.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, nargs="+", default=[500])
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--interval", type=float, default=10)
    ap.add_argument("--pprof-only", action="store_true", help="the fleet serves no /debug/vars")
    a = ap.parse_args()
    for n in a.targets:
        r = run(n, a.duration, a.interval, a.pprof_only)
        print(f"{'pprof-only ' if a.pprof_only else ''}targets={r['targets']} answered={r['answered']} kept_up={r['kept_up']} "
              f"(>= {r['expected']} scrapes each; min {r['min_scrapes']}) "
              f"max_gap={r['max_gap_s']:.1f}s failed_scrapes={r['failed_scrapes']} "
              f"watch_cpu={r['cpu_pct']:.1f}% of one core db={r['db_mb']:.1f}MB "
              f"ratio_vs_goal={r['kept_up'] / 500:.2f}")
        if r["rc"] not in (0, 1):
            print("watch exit", r["rc"], r["err"])


if __name__ == "__main__":
    main()
