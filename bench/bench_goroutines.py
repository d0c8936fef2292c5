"""Benchmark: `leakhunter goroutines` vs panicparse on debug=2 dumps of a real Go process.

For each size N (default 10k, 100k, 1M) the lab program `goroutinelab` spawns N
goroutines over a realistic mix of blocking stacks (channel send at two call depths,
select, receive in a worker loop, a mutex, sleep), each holding its own request
pointer so the arguments printed differ per goroutine as in a real service. Its full
`runtime.Stack(all)` dump (the debug=2 form, without net/http/pprof's 64 MB cap) is
saved to a temp file, the lab is stopped, and both tools run on the same file in the
same run, alternating, several times: median wall time and peak RSS of each process
(from wait4's rusage), and the ratio leakhunter / panicparse.

panicparse is run two ways: `-parse=false` (no reading of Go sources to guess
argument types: the same job as ours, and panicparse's fastest mode; the ratio goal is
against this one) and with its defaults. Output of both goes to /dev/null; colour off.

    python bench/bench_goroutines.py [--sizes 10000,100000,1000000] [--repeat 3]
           [--panicparse PATH] [--no-write]

Writes bench/RESULTS-goroutines.md unless --no-write.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from golab import run_lab  # noqa: E402


@dataclass
class Run:
    wall: float
    rss_kb: int
    code: int


def measure(cmd: list[str]) -> Run:
    """Run `cmd` with stdout to /dev/null; wall time and peak RSS of that one process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else b""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {err[-500:]!r}")
    return Run(wall, usage.ru_maxrss, proc.returncode)


def make_dump(n: int, path: Path) -> int:
    """Spawn n goroutines in a fresh lab process and save its debug=2 dump; return NumGoroutine."""
    with run_lab("goroutinelab") as svc:
        svc.get(f"/spawn?n={n}", timeout=900)
        with urllib.request.urlopen(svc.base_url + "/stacks", timeout=900) as resp, path.open("wb") as f:
            shutil.copyfileobj(resp, f, 1 << 22)
            return int(resp.headers["X-Num-Goroutine"])


def fmt_mb(kb: float) -> str:
    return f"{kb / 1024:.0f} MB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument(
        "--repeat", default="5,3,1",
        help="runs per tool, one number or one per size (default 5,3,1: a 1M run of "
        "panicparse takes minutes)",
    )
    ap.add_argument("--panicparse", default=shutil.which("panicparse") or "/root/go/bin/panicparse")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    lh = [sys.executable, "-m", "leakhunter", "goroutines"]
    pp = [args.panicparse, "-no-color"]
    rows: list[dict[str, object]] = []
    tmpdir = Path(tempfile.mkdtemp(prefix="lh-bench-gr-"))
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
        reps = [int(r) for r in args.repeat.split(",")]
        reps += [reps[-1]] * (len(sizes) - len(reps))
        for n, repeat in zip(sizes, reps, strict=False):
            dump = tmpdir / f"dump-{n}.txt"
            t = time.perf_counter()
            num = make_dump(n, dump)
            size = dump.stat().st_size
            print(f"\n== {n} goroutines: dump {size / 1e6:.0f} MB, NumGoroutine {num} "
                  f"(made in {time.perf_counter() - t:.0f}s)", flush=True)
            # Sanity, same run: our total is the runtime's goroutine count.
            out = subprocess.run([*lh, str(dump), "--format", "json"], capture_output=True, check=False)
            total = json.loads(out.stdout)["total"]
            groups = len(json.loads(out.stdout)["groups"])
            assert total == num, (total, num)

            tools = {
                "python start-up": [sys.executable, "-c", "pass"],
                "leakhunter": [*lh, str(dump)],
                "panicparse -parse=false": [*pp, "-parse=false", str(dump)],
                "panicparse (defaults)": [*pp, str(dump)],
            }
            runs: dict[str, list[Run]] = {k: [] for k in tools}
            for _ in range(repeat):
                for name, cmd in tools.items():
                    r = measure(cmd)
                    runs[name].append(r)
                    print(f"  {name:<26} {r.wall:7.2f}s  {fmt_mb(r.rss_kb):>8}", flush=True)
            med = {k: statistics.median(r.wall for r in v) for k, v in runs.items()}
            rss = {k: max(r.rss_kb for r in v) for k, v in runs.items()}
            row = {
                "n": n, "num": num, "mb": size / 1e6, "groups": groups,
                "lh_s": med["leakhunter"], "lh_rss": rss["leakhunter"],
                "ppf_s": med["panicparse -parse=false"], "ppf_rss": rss["panicparse -parse=false"],
                "ppd_s": med["panicparse (defaults)"], "ppd_rss": rss["panicparse (defaults)"],
                "py_s": med["python start-up"],
                # Each rotation runs the tools back to back, so a pair shares the machine's
                # load of that moment: the median of per-pair ratios is the steadier figure.
                "paired": statistics.median(
                    a.wall / b.wall
                    for a, b in zip(runs["leakhunter"], runs["panicparse -parse=false"], strict=True)
                ),
                "repeat": repeat,
            }
            rows.append(row)
            print(f"  ratio time vs -parse=false: {row['lh_s'] / row['ppf_s']:.3f} "  # type: ignore[operator]
                  f"(paired {row['paired']:.3f})  "
                  f"vs defaults: {row['lh_s'] / row['ppd_s']:.3f}  "  # type: ignore[operator]
                  f"peak RSS ratio: {row['lh_rss'] / row['ppf_rss']:.3f}", flush=True)  # type: ignore[operator]
            dump.unlink()
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)

    if not args.no_write:
        write_results(rows)
    return 0


def write_results(rows: list[dict[str, object]]) -> None:
    pp_version = subprocess.run(
        ["go", "version", "-m", shutil.which("panicparse") or "/root/go/bin/panicparse"],
        capture_output=True, text=True, check=False,
    ).stdout
    ver = next((ln.split()[2] for ln in pp_version.splitlines() if ln.strip().startswith("mod")), "v2")
    lines = [
        "# leakhunter goroutines vs panicparse",
        "",
        f"`python bench/bench_goroutines.py` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} CPUs (shared with other work: absolute times are noisy, ratios are "
        f"from the same run). panicparse {ver}. Median of the runs in the `runs` column.",
        "",
        "Dumps: debug=2 (`runtime.Stack(all)`) of a real lab process (`lab/cmd/goroutinelab`, "
        "`/spawn?n=N`): N goroutines over 7 distinct blocking stacks, arguments differing per goroutine.",
        "",
        "| goroutines | dump | groups | runs | leakhunter | panicparse -parse=false | ratio | paired ratio "
        "| panicparse defaults | ratio | peak RSS leakhunter | peak RSS panicparse -parse=false "
        "| RSS ratio | python start-up |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lh_s, ppf_s, ppd_s = float(r["lh_s"]), float(r["ppf_s"]), float(r["ppd_s"])  # type: ignore[arg-type]
        lh_rss, ppf_rss = int(r["lh_rss"]), int(r["ppf_rss"])  # type: ignore[call-overload]
        lines.append(
            f"| {r['n']:,} | {float(r['mb']):.0f} MB | {r['groups']} | {r['repeat']} "  # type: ignore[arg-type]
            f"| {lh_s:.2f} s | {ppf_s:.2f} s | "
            f"**{lh_s / ppf_s:.3f}** | {float(r['paired']):.3f} | {ppd_s:.2f} s | {lh_s / ppd_s:.3f} | {fmt_mb(lh_rss)} | "
            f"{fmt_mb(ppf_rss)} | **{lh_rss / ppf_rss:.3f}** | {float(r['py_s']):.2f} s |"  # type: ignore[arg-type]
        )
    lines += [
        "",
        "`ratio` is median time / median time; `paired ratio` the median of the ratios of runs",
        "made back to back (same moment, same load of the shared machine).",
        "",
        "Goal: time ratio ≤ 0.5 and RSS ratio ≤ 1.0. leakhunter's time includes Python start-up;",
        "the `python start-up` column is `python -c pass` measured in the same rotation: on a",
        "loaded machine start-up (interpreter + imports) is a large, fixed part of the 10k",
        "figure, which is why 10k is the size where the ratio is worst.",
        "How: the dump file is streamed in 8 MB chunks; per chunk one regex substitution erases",
        "argument lists, goroutine ids are sliced out per block with C-level finds, blocks are",
        "counted with a `Counter`; only distinct blocks are parsed into frames.",
        "",
    ]
    (ROOT / "bench" / "RESULTS-goroutines.md").write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
