#!/usr/bin/env python3
"""Benchmark `leakhunter scan` against go vet and staticcheck on the Go standard library.

In one run, on the same tree ($(go env GOROOT)/src):
- leakhunter scan, every rule on (all cores), over the std module (cmd/ excluded, as
  `go vet ./...` run in GOROOT/src sees only std) and over all of src/;
- go vet -lostcancel -httpresponse -waitgroup ./...   (fresh GOCACHE, then warm);
- staticcheck -checks SA1015,SA2000,SA5005,SA9001 ./... (fresh caches, then warm).
Prints wall seconds, the ratio to leakhunter, MB/s of Go source and peak RSS (the
largest process of each command's tree, from wait4's rusage).

    python bench/bench_scan.py [--out bench/RESULTS-scan.md] [--skip-staticcheck]

CPU-heavy (the fresh go vet compiles all of std): run it once, not in a loop.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

STATICCHECK = Path("/root/go/bin/staticcheck")


@dataclass
class Run:
    name: str
    wall: float
    rss_mb: float
    code: int
    mb: float

    @property
    def mbps(self) -> float:
        return self.mb / self.wall if self.wall else 0.0


def timed(name: str, cmd: list[str], *, cwd: Path, env: dict[str, str], mb: float) -> Run:
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    r = Run(name, wall, ru.ru_maxrss / 1024, p.returncode, mb)
    print(f"  {name:<44} {wall:8.1f} s  {r.rss_mb:7.0f} MB peak  exit {r.code}", flush=True)
    return r


def go_bytes(src: Path, exclude: list[str]) -> float:
    from leakhunter.source.walker import collect_files

    files = collect_files([str(src)], exclude=exclude).files
    return sum(f.size for f in files) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="also write the results as Markdown here")
    ap.add_argument("--skip-staticcheck", action="store_true")
    ap.add_argument("--go", default="/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else "go",
                    help="the go command whose GOROOT is scanned (staticcheck must understand that Go)")
    args = ap.parse_args()

    from leakhunter.source.registry import all_rules

    goroot = Path(subprocess.run([args.go, "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip())
    gover = subprocess.run([args.go, "version"], capture_output=True, text=True).stdout.strip()
    src = goroot / "src"
    std_mb = go_bytes(src, ["cmd"])
    all_mb = go_bytes(src, [])
    cores = len(os.sched_getaffinity(0))
    print(f"{gover}; {src}: std {std_mb:.1f} MB of Go, all of src {all_mb:.1f} MB; {cores} cores", flush=True)

    ids = ",".join(r.id for r in all_rules())
    base_env = {k: v for k, v in os.environ.items() if k not in ("GOFLAGS", "GOROOT")}
    # go vet and staticcheck's `go list` must run the same toolchain as the tree scanned.
    base_env["PATH"] = f"{Path(args.go).parent}{os.pathsep}{base_env.get('PATH', '')}"
    tmp = Path(tempfile.mkdtemp(prefix="lh-bench-"))
    runs: list[Run] = []
    try:
        lh = [sys.executable, "-m", "leakhunter", "scan", str(src), "--enable", ids, "--format", "json",
              "-o", str(tmp / "lh.json")]
        runs.append(timed("leakhunter scan (std: src minus cmd/)", [*lh, "--exclude", "cmd"], cwd=src,
                          env=base_env, mb=std_mb))
        doc = json.loads((tmp / "lh.json").read_text())
        std_findings, std_files = len(doc["findings"]), doc["files_scanned"]
        runs.append(timed("leakhunter scan (all of src/)", lh, cwd=src, env=base_env, mb=all_mb))
        doc = json.loads((tmp / "lh.json").read_text())
        all_findings, all_files = len(doc["findings"]), doc["files_scanned"]

        vet_env = {**base_env, "GOCACHE": str(tmp / "gocache-vet")}
        vet = [args.go, "vet", "-lostcancel", "-httpresponse", "-waitgroup", "./..."]
        runs.append(timed("go vet (fresh GOCACHE)", vet, cwd=src, env=vet_env, mb=std_mb))
        runs.append(timed("go vet (warm GOCACHE)", vet, cwd=src, env=vet_env, mb=std_mb))
        if not args.skip_staticcheck and STATICCHECK.exists():
            sc_env = {**base_env, "GOCACHE": str(tmp / "gocache-sc"), "XDG_CACHE_HOME": str(tmp / "xdg-sc")}
            sc = [str(STATICCHECK), "-checks", "SA1015,SA2000,SA5005,SA9001", "./..."]
            runs.append(timed("staticcheck (fresh caches)", sc, cwd=src, env=sc_env, mb=std_mb))
            runs.append(timed("staticcheck (warm caches)", sc, cwd=src, env=sc_env, mb=std_mb))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lh_std = runs[0]
    lines = [
        f"Machine: {cores} cores; {gover}; tree: `{src}` (std module: {std_mb:.1f} MB of Go in the files "
        f"go vet sees; all of src/ incl. cmd/: {all_mb:.1f} MB).",
        f"leakhunter: every rule on ({len(ids.split(','))} rules); std: {std_files} files scanned, "
        f"{std_findings} findings; all of src/: {all_files} files, {all_findings} findings.",
        "",
        "| command | wall s | vs leakhunter (std) | MB/s of Go source | peak RSS MB |",
        "|---|---|---|---|---|",
    ]
    for r in runs:
        ratio = r.wall / lh_std.wall if lh_std.wall else 0.0
        lines.append(f"| {r.name} | {r.wall:.1f} | {ratio:.2f}x | {r.mbps:.1f} | {r.rss_mb:.0f} |")
    text = "\n".join(lines)
    print("\n" + text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
