#!/usr/bin/env python3
"""Benchmark LH201 lost-cancel against its peer, go vet's `lostcancel`, on the same packages.

In one run, on a directory of the Go standard library (default `net/http`, with its
sub-packages):
- LH201 alone, in this process on one core: read, parse (tree-sitter) and check every
  `.go` file (tests included, as go vet sees them);
- `go vet -lostcancel ./...` in that directory with a fresh GOCACHE (it type-checks
  the packages and everything they import), then again warm.
Prints wall seconds, the ratio, MB/s of Go source, and whether the two agree on the
findings (file:line of each reported cancel).

    python bench/bench_lostcancel.py [--dir net/http] [--out bench/RESULTS-rules-memory.md]

The fresh go vet compiles the dependencies: run it once, not in a loop.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from golab import go_env, go_exe  # noqa: E402


def run_lh201(directory: Path) -> tuple[float, int, set[tuple[str, int]]]:
    from leakhunter.source.parse import parse
    from leakhunter.source.rule import FileContext
    from leakhunter.source.rules.lh201_lost_cancel import LostCancel

    rule = LostCancel()
    found: set[tuple[str, int]] = set()
    size = 0
    t0 = time.perf_counter()
    for dp, dns, fns in os.walk(directory):
        dns[:] = [d for d in dns if d not in ("testdata", "vendor") and not d.startswith((".", "_"))]
        for fn in fns:
            if not fn.endswith(".go"):
                continue
            p = Path(dp) / fn
            src = p.read_bytes()
            size += len(src)
            ctx = FileContext(p, str(p), src, parse(src), is_test=fn.endswith("_test.go"))
            for f in rule.check(ctx):
                found.add((str(p.relative_to(directory)), f.line))
    return time.perf_counter() - t0, size, found


def run_vet(directory: Path, gocache: str) -> tuple[float, set[tuple[str, int]]]:
    env = dict(go_env(), GOCACHE=gocache, GOFLAGS="")
    t0 = time.perf_counter()
    res = subprocess.run(
        [go_exe(), "vet", "-lostcancel", "./..."], cwd=directory, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    found = {
        (m.group(1).removeprefix("./"), int(m.group(2)))
        for m in re.finditer(r"^(\S+\.go):(\d+):\d+: the cancel function", res.stderr, re.M)
    }
    return wall, found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default="net/http", help="directory under $(go env GOROOT)/src")
    ap.add_argument("--out", type=Path, default=None, help="append a results section to this file")
    args = ap.parse_args()
    goroot = subprocess.run([go_exe(), "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
    directory = Path(goroot) / "src" / args.dir

    lh_wall, size, ours = run_lh201(directory)
    with tempfile.TemporaryDirectory(prefix="lh-gocache-") as cache:
        cold, vet = run_vet(directory, cache)
        warm, _ = run_vet(directory, cache)

    mb = size / 1e6
    lines = [
        f"## LH201 vs go vet -lostcancel on GOROOT/src/{args.dir}/... ({mb:.1f} MB of Go)",
        "",
        "| tool | wall s | MB/s | ratio to LH201 | findings |",
        "|---|---:|---:|---:|---:|",
        f"| LH201 (one core, parse included) | {lh_wall:.2f} | {mb / lh_wall:.1f} | 1.0 | {len(ours)} |",
        f"| go vet -lostcancel, fresh GOCACHE | {cold:.2f} | {mb / cold:.1f} | {cold / lh_wall:.1f}x | {len(vet)} |",
        f"| go vet -lostcancel, warm GOCACHE | {warm:.2f} | {mb / warm:.1f} | {warm / lh_wall:.1f}x | {len(vet)} |",
        "",
        f"Same findings: {'yes' if ours == vet else 'no'}"
        + ("" if ours == vet else f" (only LH201: {sorted(ours - vet)}; only vet: {sorted(vet - ours)})"),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
