#!/usr/bin/env python3
"""How `scan`'s time and memory grow with the size of one file, beside `go vet` on the same package.

A generated command-builder package is the shape that found two quadratic steps (held-out set 35:
rueidis' `internal/cmds/gen_test.go`, 50,312 lines of `s.FtSearch().Index("1").Query("1").Build()`
beside a package of thousands of builder methods, took 87 s and 650 MB alone): a nolint lookup that
split the whole file per query call, and a pass over every method of the package per method call.
This script writes such a package at growing sizes (a builder with METHODS methods, and a test file
of N lines of chained calls, 100 to a function), scans each with `leakhunter scan --tests --no-cache
-j 1` and runs `go vet` on it (the standard library already in its build cache), and prints seconds, peak RSS and the growth from the smallest size. A
linear scan grows like the line count (8x from 5k to 40k lines); a quadratic step shows as 30x+.

    python bench/bench_scan_scaling.py [--sizes 5000 10000 20000 40000] [--methods 2000] [--src OTHER/src]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_package(root: Path, lines: int, methods: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text("module example.com/cmds\n\ngo 1.22\n")
    out = ["package cmds", "", "type Builder struct{}", "", "type Cmd struct{ parts []string }", "",
           "type Completed struct{ parts []string }", "",
           "func (b Builder) Search() Cmd { return Cmd{} }", "",
           "func (c Cmd) Key(k string) Cmd { c.parts = append(c.parts, k); return c }", "",
           "func (c Cmd) Query(q string) Cmd { c.parts = append(c.parts, q); return c }", "",
           "func (c Cmd) Build() Completed { return Completed{parts: c.parts} }", ""]
    out += [f"func (c Cmd) Step{i}(v string) Cmd {{ c.parts = append(c.parts, v); return c }}\n"
            for i in range(methods)]
    (root / "gen.go").write_text("\n".join(out) + "\n")
    test = ["package cmds", "", 'import "testing"', ""]
    body = 0
    fn = 0
    while len(test) < lines:
        if body == 0:
            test.append(f"func tc{fn}(s Builder, t *testing.T) {{")
        i = (fn * 100 + body) % max(methods, 1)
        test.append(f'\ts.Search().Key("1").Step{i}("1").Query("1").Build()')
        body += 1
        if body == 100:
            test.append("}")
            test.append("")
            body = 0
            fn += 1
    if body:
        test.append("}")
    test.append("")
    test.append("func TestAll(t *testing.T) {")
    test += [f"\ttc{k}(Builder{{}}, t)" for k in range(fn + (1 if body else 0))]
    test.append("}")
    (root / "gen_test.go").write_text("\n".join(test) + "\n")


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS of the child in MiB, exit status."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if res.returncode not in (0, 1):
        sys.stderr.write(res.stdout[-2000:] + res.stderr[-2000:])
    return dt, max(peak, before) / 1024, res.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[5000, 10000, 20000, 40000])
    ap.add_argument("--methods", type=int, default=2000)
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="the leakhunter package to time (another tree's src/)")
    args = ap.parse_args()
    go = shutil.which("go") or "/usr/local/go/bin/go"
    env = dict(os.environ, PYTHONPATH=str(args.src), GOFLAGS="-mod=mod")
    rows = []
    with tempfile.TemporaryDirectory(prefix="lh-scaling-") as tmp:
        env["LEAKHUNTER_CACHE_DIR"] = str(Path(tmp) / "cache")
        env["GOCACHE"] = str(Path(tmp) / "gocache")
        warm = Path(tmp) / "warm"
        write_package(warm, 100, 10)
        subprocess.run([go, "vet", "."], cwd=warm, env=env, capture_output=True, timeout=1800)  # std into the cache
        for n in args.sizes:
            pkg = Path(tmp) / f"n{n}"
            write_package(pkg, n, args.methods)
            lh = timed([sys.executable, "-m", "leakhunter", "scan", "--tests", "--no-cache", "-j", "1", "."], pkg, env)
            vet = timed([go, "vet", "."], pkg, env)  # the standard library warm: the package's own cost
            rows.append((n, lh, vet))
            print(f"{n:>7} lines: leakhunter {lh[0]:6.1f} s {lh[1]:6.0f} MiB (exit {lh[2]}) | "
                  f"go vet {vet[0]:6.1f} s (exit {vet[2]}) | vet/leakhunter {vet[0] / lh[0]:4.1f}x", flush=True)
    n0, lh0, vet0 = rows[0]
    print(f"\ngrowth from {n0} lines (line count x{rows[-1][0] / n0:.0f}): leakhunter x{rows[-1][1][0] / lh0[0]:.1f}, "
          f"go vet x{rows[-1][2][0] / vet0[0]:.1f}")
    print("(ru_maxrss of children is the largest child so far: the MiB column only grows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
