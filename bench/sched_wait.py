#!/usr/bin/env python3
"""Where a command's wall time goes: on a CPU, waiting for one, or asleep (Linux /proc).

Runs the command, polls /proc/PID/schedstat (time on a CPU, time runnable in the run
queue) and the state of every process of its tree every 50 ms, and prints both per
process. Used to find what a cold `leakhunter scan` with 17x more wall than CPU waited on
(the run queue of a loaded machine; bench/RESULTS-scan.md).

    python bench/sched_wait.py python -m leakhunter scan --no-cache net/http
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import time


def tree(pid: int) -> list[int]:
    out = [pid]
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                for c in f.read().split():
                    out += tree(int(c))
    except OSError:
        pass
    return out


def main() -> None:
    t0 = time.perf_counter()
    p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last: dict[int, tuple[int, int]] = {}
    names: dict[int, str] = {}
    states: collections.Counter[tuple[str, str]] = collections.Counter()
    while p.poll() is None:
        for k in tree(p.pid):
            try:
                with open(f"/proc/{k}/schedstat") as f:
                    run, wait, _ = map(int, f.read().split())
                with open(f"/proc/{k}/stat") as f:
                    st = f.read().rsplit(")", 1)[1].split()[0]
                with open(f"/proc/{k}/comm") as f:
                    names[k] = f.read().strip()
            except (OSError, ValueError):
                continue
            last[k] = (run, wait)
            states[(names[k], st)] += 1
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    print(f"wall {wall:.2f} s; processes seen {len(last)}")
    for k, (r, w) in sorted(last.items()):
        print(f"  pid {k} {names.get(k, '?'):16} on-cpu {r / 1e9:6.2f} s  runqueue-wait {w / 1e9:6.2f} s")
    print("samples by (process, state: R running or runnable, S asleep, D disk):", dict(states))


if __name__ == "__main__":
    main()
