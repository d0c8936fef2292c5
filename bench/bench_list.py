#!/usr/bin/env python3
"""Benchmark `leakhunter list` against `go tool pprof -list` on the same profiles, in one run.

The profiles are bench_top's (captured from real lab processes: a small heap profile of
chanleak after a map leak, a large one of manystacks with one allocation stack per
number). Each tool lists the same regex on the same file, text to a pipe, interleaved,
several times; the listings must be identical (after collapsing runs of spaces), and the
wall time and peak RSS of each are reported with the ratio leakhunter / pprof. pprof is
run as the binary `go tool -n pprof` names (no `go` launcher: the stricter comparison).

Usage: python bench/bench_list.py [--stacks 100000] [--reps 3] [--out bench/RESULTS-list.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_top import ROOT, capture, timed
from golab import go_env, go_exe

CASES = (
    ("small", r"main\."),
    ("small", r"net/http\.\(\*conn\)\.serve$"),
    ("large", r"main\."),
    ("large", r"^main\.walk$"),
)


def norm(out: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", ln).strip() for ln in out.decode("utf-8", "replace").splitlines()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stacks", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS-list.md")
    args = ap.parse_args()

    pprof_bin = subprocess.run(
        [go_exe(), "tool", "-n", "pprof"], capture_output=True, text=True, env=go_env(), check=True
    ).stdout.strip()
    work = Path(tempfile.mkdtemp(prefix="lh-bench-list-"))
    print(f"capturing profiles in {work} ...", flush=True)
    profiles = capture(work, args.stacks)

    rows = []
    for name, regex in CASES:
        path = profiles[name]
        lh_cmd = [sys.executable, "-m", "leakhunter", "list", "--sample-index", "inuse_space",
                  str(path), regex]
        pp_cmd = [pprof_bin, "-list", regex, "-sample_index=inuse_space", str(path)]
        reps = args.reps if name == "large" else args.reps * 2
        lh_t, pp_t, lh_m, pp_m = [], [], [], []
        for _ in range(reps):
            w, m, lh_out = timed(lh_cmd)
            lh_t.append(w)
            lh_m.append(m)
            w, m, pp_out = timed(pp_cmd)
            pp_t.append(w)
            pp_m.append(m)
        same = "yes" if norm(lh_out) == norm(pp_out) else "NO"
        lh_med, pp_med = statistics.median(lh_t), statistics.median(pp_t)
        routines = sum(1 for ln in norm(pp_out) if ln.startswith("ROUTINE"))
        row = (name, regex, path.stat().st_size, routines, lh_med, pp_med, lh_med / pp_med,
               max(lh_m) / 1024, max(pp_m) / 1024, same, reps)
        rows.append(row)
        print(f"{name:5s} {regex:32s} leakhunter {lh_med:6.2f}s  pprof {pp_med:6.2f}s  "
              f"ratio {lh_med / pp_med:4.2f}  rss {row[7]:.0f}/{row[8]:.0f} MiB  same={same}",
              flush=True)

    load = os.getloadavg()
    text = [
        "# `leakhunter list` vs `go tool pprof -list`",
        "",
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} (shared machine: ratios matter, "
        f"absolute times do not), Python {platform.python_version()}, "
        f"{subprocess.run([go_exe(), 'version'], capture_output=True, text=True).stdout.strip()}.",
        "",
        "Same profile, same regex, `-sample_index=inuse_space`, text to a pipe; median wall "
        "time of interleaved runs; peak RSS is the max over runs. \"same\": the two listings "
        "are identical line for line (runs of spaces collapsed).",
        f"Large profile: lab/cmd/manystacks `-stacks {args.stacks}` (MemProfileRate=1).",
        "",
        "| profile | regex | size (gz) | routines | leakhunter | pprof | ratio | RSS leakhunter "
        "| RSS pprof | same | runs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        text.append(
            f"| {r[0]} | `{r[1]}` | {r[2] / 1024:.0f} KiB | {r[3]} | {r[4]:.2f} s | {r[5]:.2f} s | "
            f"**{r[6]:.2f}** | {r[7]:.0f} MiB | {r[8]:.0f} MiB | {r[9]} | {r[10]} |"
        )
    text += [
        "",
        "On the small profile leakhunter's time is the Python interpreter's start and imports; "
        "pprof is one compiled binary, so that ratio measures start-up, not work.",
        "",
    ]
    args.out.write_text("\n".join(text))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
