#!/usr/bin/env python3
"""Benchmark `leakhunter scan` against go vet, cold and warm, on net/http/... and on std.

In one run, on the same trees of $(go env GOROOT)/src:
- cold: `leakhunter scan --no-cache` (every default rule, all cores) against
  `go vet -lostcancel -httpresponse -waitgroup` with a fresh GOCACHE, on `./net/http/...`
  and on std (`./...` in GOROOT/src; leakhunter excludes cmd/, a module of its own that
  `go vet ./...` there does not see). Goal: leakhunter >= 10x faster.
- warm: a re-scan of the unchanged tree with leakhunter's result cache (filled by a first
  cached run) against `go vet` again with its now-warm GOCACHE. Goal: at least as fast.
- optionally staticcheck (fresh, then warm caches) with --staticcheck.
Prints wall seconds and CPU seconds (user+system of the whole process tree: on a
shared, loaded machine the CPU ratio is the steadier one), the ratio go vet / leakhunter,
MB/s of Go source, the peak RSS of
the largest process of each command's tree (wait4 rusage) and, for leakhunter, the peak
RSS of one scanner worker (from its JSON `worker_peak_rss_mb`).

    python bench/bench_scan.py [--out bench/RESULTS-scan.md] [--staticcheck]

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

STATICCHECK = Path(os.environ.get("GOPATH", str(Path.home() / "go"))) / "bin" / "staticcheck"
VET = ["vet", "-lostcancel", "-httpresponse", "-waitgroup"]


@dataclass
class Run:
    name: str
    wall: float
    rss_mb: float
    code: int
    mb: float
    worker_mb: float = 0.0
    cpu: float = 0.0
    """user + system CPU seconds of the command and all its children (robust to machine load)."""

    @property
    def mbps(self) -> float:
        return self.mb / self.wall if self.wall else 0.0


def _children_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def timed(name: str, cmd: list[str], *, cwd: Path, env: dict[str, str], mb: float, json_out: Path | None = None) -> Run:
    before = _children_cpu()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    worker = 0.0
    if json_out is not None and json_out.exists():
        worker = float(json.loads(json_out.read_text()).get("worker_peak_rss_mb", 0.0))
    # wait4 reports the child's own rusage; its waited-for children are in RUSAGE_CHILDREN
    # of *this* process, which also accumulates earlier runs: take the difference.
    r = Run(name, wall, ru.ru_maxrss / 1024, p.returncode, mb, worker, cpu=_children_cpu() - before)
    print(f"  {name:<52} {wall:8.2f} s wall {r.cpu:8.2f} s CPU {r.rss_mb:7.0f} MB peak  exit {r.code}  "
          f"(load {load()})", flush=True)
    return r


def go_mb(src: Path, paths: list[str], exclude: list[str]) -> float:
    from leakhunter.source.walker import collect_files

    return sum(f.size for f in collect_files([str(src / p) for p in paths], exclude=exclude).files) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="also write the results as Markdown here")
    ap.add_argument("--staticcheck", action="store_true", help="also time staticcheck (slow cold)")
    ap.add_argument("--only", choices=("net/http/...", "std"), help="run one target only")
    ap.add_argument("--rev", help="measure leakhunter at this git revision (default: the work tree as it is)")
    ap.add_argument("--warm-runs", type=int, default=5,
                    help="warm runs of each tool, alternated; the row shows the median run (default 5)")
    ap.add_argument("--renice-others", action="store_true",
                    help="lower other sessions' scheduler autogroups to nice 19 while timing (root; "
                         "bench/autogroups.py says why a plain nice does not keep them off the CPU)")
    ap.add_argument("--go", default="/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else "go",
                    help="the go command whose GOROOT is scanned and vetted")
    args = ap.parse_args()

    goroot = Path(subprocess.run([args.go, "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip())
    gover = subprocess.run([args.go, "version"], capture_output=True, text=True).stdout.strip()
    src = goroot / "src"
    cores = len(os.sched_getaffinity(0))
    targets = [("net/http/...", ["net/http"], ["./net/http/..."]), ("std", ["."], ["./..."])]
    if args.only:
        targets = [t for t in targets if t[0] == args.only]
    sizes = {name: go_mb(src, paths, ["cmd"]) for name, paths, _ in targets}
    repo = Path(__file__).resolve().parent.parent
    commit = subprocess.run(["git", "rev-parse", "--short", args.rev or "HEAD"], capture_output=True, text=True,
                            cwd=repo).stdout.strip() or "unknown"
    dirty = "" if args.rev else subprocess.run(["git", "status", "--porcelain", "--", "src"], capture_output=True,
                                               text=True, cwd=repo).stdout.strip()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_start = load()
    print(f"{gover}; {src}; {cores} cores; " + ", ".join(f"{k}: {v:.1f} MB of Go" for k, v in sizes.items())
          + f"; leakhunter at {commit}{' + uncommitted src/ changes' if dirty else ''}; start {started}, "
          f"load {load_start}", flush=True)

    base_env = {k: v for k, v in os.environ.items() if k not in ("GOFLAGS", "GOROOT")}
    base_env["PATH"] = f"{Path(args.go).parent}{os.pathsep}{base_env.get('PATH', '')}"
    tmp = Path(tempfile.mkdtemp(prefix="lh-bench-"))
    # Run a frozen copy of leakhunter: the cache key hashes leakhunter's own source, and an
    # edit in the work tree between the filling run and the warm run would empty the cache.
    import leakhunter

    if args.rev:  # exactly a commit: other sessions may be editing the work tree
        (tmp / "snapshot").mkdir()
        archive = subprocess.run(["git", "archive", args.rev, "src/leakhunter"], cwd=repo, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "--strip-components=1", "-C", str(tmp / "snapshot")], input=archive,
                       check=True)
    else:
        shutil.copytree(Path(leakhunter.__file__).parent, tmp / "snapshot" / "leakhunter",
                        ignore=shutil.ignore_patterns("__pycache__"))
    # Byte-compile it, as `pip install` does: with PYTHONDONTWRITEBYTECODE set (as in the
    # sessions' shells) every run would otherwise compile every module it imports (~0.3 s).
    import compileall

    compileall.compile_dir(tmp / "snapshot", quiet=1)
    base_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp / "snapshot"), base_env.get("PYTHONPATH")]))
    # A stale rule table (registry.py) is not believed: the warm runs would import every rule.
    fresh = subprocess.run([sys.executable, "-c", "from leakhunter.source import registry as r; "
                            "print(r.table_is_fresh())"], env=base_env, capture_output=True, text=True).stdout.strip()
    print(f"rule metadata table fresh in the measured tree: {fresh}", flush=True)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from autogroups import OthersLowered

    others = OthersLowered()
    if args.renice_others:
        others.__enter__()
    rows: list[tuple[str, Run, Run]] = []
    extra: list[Run] = []
    findings: dict[str, int] = {}
    replay: dict[str, bool] = {}
    try:
        lh_env = {**base_env, "LEAKHUNTER_CACHE_DIR": str(tmp / "lh-cache")}
        for name, paths, vet_paths in targets:
            out = tmp / f"lh-{name.replace('/', '_')}.json"
            lh = [sys.executable, "-m", "leakhunter", "scan", "--format", "json", "-o", str(out),
                  "--exclude", "cmd", *paths]
            vet_env = {**base_env, "GOCACHE": str(tmp / f"gocache-{name.replace('/', '_')}")}
            cold = timed(f"leakhunter scan --no-cache ({name})", [*lh, "--no-cache"], cwd=src, env=lh_env,
                         mb=sizes[name], json_out=out)
            cold_findings = json.loads(out.read_text())["findings"]
            findings[name] = len(cold_findings)
            vet_cold = timed(f"go vet, fresh GOCACHE ({name})", [args.go, *VET, *vet_paths], cwd=src, env=vet_env,
                             mb=sizes[name])
            rows.append((f"cold, {name}", cold, vet_cold))
            fill = timed(f"leakhunter scan, filling the cache ({name})", lh, cwd=src, env=lh_env, mb=sizes[name],
                         json_out=out)
            extra.append(fill)
            warms: list[Run] = []
            vet_warms: list[Run] = []
            for i in range(max(1, args.warm_runs)):  # alternated, so both see the same load
                warms.append(timed(f"leakhunter scan, warm cache ({name}) #{i + 1}", lh, cwd=src, env=lh_env,
                                   mb=sizes[name], json_out=out))
                vet_warms.append(timed(f"go vet, warm GOCACHE ({name}) #{i + 1}", [args.go, *VET, *vet_paths],
                                       cwd=src, env=vet_env, mb=sizes[name]))
            same = json.loads(out.read_text())["findings"] == cold_findings
            replay[name] = same
            print(f"  warm re-scan findings identical to the cold scan's: {'yes' if same else 'NO'}", flush=True)
            warm = sorted(warms, key=lambda r: r.wall)[len(warms) // 2]
            vet_warm = sorted(vet_warms, key=lambda r: r.wall)[len(vet_warms) // 2]
            extra.append(Run(f"leakhunter warm ({name}): wall s of every run "
                             + " ".join(f"{r.wall:.2f}" for r in warms), warm.wall, warm.rss_mb, 0, 0.0,
                             cpu=warm.cpu))
            extra.append(Run(f"go vet warm ({name}): wall s of every run "
                             + " ".join(f"{r.wall:.2f}" for r in vet_warms), vet_warm.wall, vet_warm.rss_mb, 0,
                             0.0, cpu=vet_warm.cpu))
            rows.append((f"warm, {name}", warm, vet_warm))
        if args.staticcheck and STATICCHECK.exists() and "std" in sizes:
            sc_env = {**base_env, "GOCACHE": str(tmp / "gocache-sc"), "XDG_CACHE_HOME": str(tmp / "xdg-sc")}
            sc = [str(STATICCHECK), "-checks", "SA1015,SA2000,SA5005,SA9001", "./..."]
            extra.append(timed("staticcheck, fresh caches (std)", sc, cwd=src, env=sc_env, mb=sizes["std"]))
            extra.append(timed("staticcheck, warm caches (std)", sc, cwd=src, env=sc_env, mb=sizes["std"]))
    finally:
        others.__exit__()
        shutil.rmtree(tmp, ignore_errors=True)

    lines = [
        f"Machine: {cores} cores, load average at the start {load_start}, at the end {load()}; {gover}; "
        f"tree `{src}` (" + "; ".join(f"{k}: {v:.1f} MB of Go" for k, v in sizes.items()) + "); "
        f"leakhunter at commit {commit}{' plus uncommitted src/ changes' if dirty else ''}; started {started}; "
        + (others.describe() if args.renice_others else "other sessions' processes not lowered (no --renice-others)")
        + ".",
        "leakhunter: default rules, default output; findings shown: "
        + ", ".join(f"{k} {v}" for k, v in findings.items()) + "; warm re-scan findings identical to the cold "
        "scan's: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in replay.items()) + ".",
        "",
        "| run | leakhunter wall s | go vet wall s | go vet / leakhunter (wall) | leakhunter CPU s | go vet CPU s "
        "| go vet / leakhunter (CPU) | leakhunter MB/s | peak RSS MB (tree) | peak RSS MB (one worker) "
        "| go vet peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, lh_run, vet_run in rows:
        ratio = vet_run.wall / lh_run.wall if lh_run.wall else 0.0
        cratio = vet_run.cpu / lh_run.cpu if lh_run.cpu else 0.0
        lines.append(f"| {label} | {lh_run.wall:.2f} | {vet_run.wall:.2f} | **{ratio:.1f}x** | {lh_run.cpu:.2f} | "
                     f"{vet_run.cpu:.2f} | **{cratio:.1f}x** | {lh_run.mbps:.1f} | {lh_run.rss_mb:.0f} | "
                     f"{lh_run.worker_mb:.0f} | {vet_run.rss_mb:.0f} |")
    if extra:
        lines += ["", "| other run | wall s | CPU s | peak RSS MB |", "|---|---|---|---|"]
        lines += [f"| {r.name} | {r.wall:.2f} | {r.cpu:.2f} | {r.rss_mb:.0f} |" for r in extra]
    text = "\n".join(lines)
    print("\n" + text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
