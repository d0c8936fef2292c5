"""Hostile profiles: leakhunter `top` beside `go tool pprof -top` on the same files.

The inputs are the profile-shaped regression cases of issue 11 (tests/regressions/:
catastrophic drop_frames, out-of-range label keys, 5,000-digit numbers, a
100,000-digit line, zero and huge sampling rates). For each, both tools run with a
60 s cap; the table gives the outcome (ok, or the first words of the error), the wall
time, and the ratio leakhunter/pprof. Real Go profiles of the same kinds are included
as the control (both tools must read them).

    python bench/hostile/bench_bounds.py [--md]
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

import golab  # noqa: E402

CAP = 60.0


def cases() -> list[Path]:
    reg = ROOT / "tests" / "regressions"
    out = [p for d in ("pprof", "pprof_fast", "read", "heap_text") for p in sorted((reg / d).glob("*"))]
    corpus = ROOT / "bench" / "fuzz" / "corpus"
    out += [corpus / "pprof" / "heap.pb.gz", corpus / "heap_text" / "heap-debug1.txt"]
    return out


def run(argv: list[str], path: Path) -> tuple[str, float]:
    t0 = time.monotonic()
    try:
        r = subprocess.run(argv, capture_output=True, timeout=CAP)
    except subprocess.TimeoutExpired:
        return f"no answer in {CAP:.0f}s", CAP
    took = time.monotonic() - t0
    if r.returncode == 0:
        return "ok", took
    err = r.stderr.decode("utf-8", "replace").strip().splitlines()
    first = err[0] if err else f"exit {r.returncode}"
    first = first.replace(f"{path}: ", "")
    if "Traceback" in r.stderr.decode("utf-8", "replace"):
        first = "TRACEBACK " + err[-1]
    return first.removeprefix("leakhunter: error: ")[:60], took


def main() -> None:
    go = golab.go_exe()
    md = "--md" in sys.argv
    rows = []
    for p in cases():
        lh, t_lh = run([sys.executable, "-m", "leakhunter", "top", str(p)], p)
        pp, t_pp = run([go, "tool", "pprof", "-top", str(p)], p)
        rows.append((f"{p.parent.name}/{p.name}", lh, t_lh, pp, t_pp))
    if md:
        print("| input | leakhunter top | s | go tool pprof -top | s | ratio |")
        print("|---|---|---:|---|---:|---:|")
    for name, lh, t_lh, pp, t_pp in rows:
        ratio = t_lh / t_pp if t_pp else float("nan")
        if md:
            print(f"| {name} | {lh} | {t_lh:.2f} | {pp} | {t_pp:.2f} | {ratio:.2f} |")
        else:
            print(f"{name:55} {lh[:40]:40} {t_lh:6.2f}s  {pp[:40]:40} {t_pp:6.2f}s  {ratio:5.2f}")


if __name__ == "__main__":
    main()
