"""What one full goroutine dump costs the target, against the profile every scrape reads.

The watcher reads `goroutine?debug=1` every scrape (grouped stacks, no `created by`) and, once a
process's goroutines grew, one `goroutine?debug=2` dump a minute (every goroutine with the `go`
statement that started it: the suspects' "started by"). debug=2 is `runtime.Stack(all)`, which
stops the target's world while it writes every stack, so its cost grows with the goroutines; this
measures it on a real Go service (lab/cmd/blockedsend, whose /leak leaves one goroutine blocked
per request) at several goroutine counts: the fetch time and size of each form, and the worst
latency a probe sees on the service's cheap /fixed endpoint (one request every 2 ms from another
connection) while each form is written, against the probe's worst with no fetch at all. The
watcher takes debug=2 past CREATORS_QUIET_MAX goroutines only when the user let it force GCs.

    python bench/bench_goroutine_dump.py [--counts 1000 10000 50000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import re
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import golab


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as r:
        return bytes(r.read())


def _count(base: str) -> int:
    m = re.search(rb"total (\d+)", _get(base + "/debug/pprof/goroutine?debug=1"))
    return int(m.group(1)) if m else 0


def _grow(base: str, target: int) -> None:
    need = target - _count(base)
    if need <= 0:
        return
    with cf.ThreadPoolExecutor(32) as ex:
        list(ex.map(lambda _: _get(base + "/leak?every=1"), range(need)))


def _probe_worst(base: str, during: float | None, fetch: str | None) -> tuple[float, float, int]:
    """(worst probe latency in ms, the fetch's own time in ms, its size) over one fetch of `fetch`,
    or over `during` seconds of probing alone."""
    stop = threading.Event()
    worst = [0.0]

    def probe() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            _get(base + "/fixed?every=1")
            worst[0] = max(worst[0], (time.perf_counter() - t) * 1000)
            time.sleep(0.002)

    th = threading.Thread(target=probe, daemon=True)
    th.start()
    time.sleep(0.05)
    took, size = 0.0, 0
    if fetch is None:
        time.sleep(during or 0.5)
    else:
        t = time.perf_counter()
        size = len(_get(base + fetch))
        took = (time.perf_counter() - t) * 1000
    time.sleep(0.02)
    stop.set()
    th.join(timeout=10)
    return worst[0], took, size


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--counts", type=int, nargs="*", default=[1000, 10000, 50000])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    rows = []
    with golab.LabProcess(golab.build("blockedsend")).start() as svc:
        base = svc.base_url
        for n in args.counts:
            _grow(base, n)
            have = _count(base)
            idle = [_probe_worst(base, 0.5, None)[0] for _ in range(args.repeat)]
            d1 = [_probe_worst(base, None, "/debug/pprof/goroutine?debug=1") for _ in range(args.repeat)]
            d2 = [_probe_worst(base, None, "/debug/pprof/goroutine?debug=2") for _ in range(args.repeat)]
            rows.append((have, statistics.median(idle),
                         statistics.median(t for _, t, _ in d1), statistics.median(w for w, _, _ in d1), d1[0][2],
                         statistics.median(t for _, t, _ in d2), statistics.median(w for w, _, _ in d2), d2[0][2]))
    print("| goroutines | probe worst, no fetch | debug=1: fetch / probe worst / size | "
          "debug=2: fetch / probe worst / size | debug=2 / debug=1 fetch |")
    print("|---:|---:|---|---|---:|")
    for have, idle, t1, w1, s1, t2, w2, s2 in rows:
        print(f"| {have:,} | {idle:.1f} ms | {t1:.0f} ms / {w1:.1f} ms / {s1 / 1024:.0f} KiB | "
              f"{t2:.0f} ms / {w2:.1f} ms / {s2 / 1024:.0f} KiB | {t2 / max(t1, 1e-3):.1f}x |")
    print(f"(medians of {args.repeat}; probe: /fixed every 2 ms on its own connection)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
