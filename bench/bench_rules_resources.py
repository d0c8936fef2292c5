#!/usr/bin/env python3
"""LH401 http-body-not-closed against bodyclose on the Go standard library, in one run.

Same tree ($(go env GOROOT)/src, the std module: cmd/ excluded as `go vet ./...` in
GOROOT/src sees only std), same run:
- `leakhunter scan --disable <every rule but LH401> --exclude cmd --format json`;
- `go vet -vettool=bodyclose ./...` with a fresh GOCACHE, then warm.
bodyclose is installed into a temporary GOBIN with `go install` at a pinned version
(the Go module proxy), so the script needs network once.

Prints wall seconds and the ratio, peak RSS, and the findings of each side: total,
outside tests, and which lines both report. Precision of the differences is for a
human to read (the script lists the non-test ones).

    python bench/bench_rules_resources.py [--out FILE]

A fresh `go vet` type-checks all of std: 11 minutes on two shared cores. Run once.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BODYCLOSE = "github.com/timakin/bodyclose@v0.0.0-20260723120731-857993a2939c"
_VET_LINE = re.compile(r"^(?P<file>[^:\s]+\.go):(?P<line>\d+):\d+: response body must be closed")


def timed(cmd: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB of the command's largest process, its combined output)."""
    t0 = time.perf_counter()
    with log.open("w") as fh:
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT)
        _, _status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    return wall, ru.ru_maxrss / 1024, log.read_text(errors="replace")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="also write the results as Markdown here")
    ap.add_argument("--go", default=shutil.which("go") or "go")
    args = ap.parse_args()

    from leakhunter.source.registry import all_rules

    goroot = Path(subprocess.run([args.go, "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip())
    gover = subprocess.run([args.go, "version"], capture_output=True, text=True).stdout.strip()
    src = goroot / "src"
    tmp = Path(tempfile.mkdtemp(prefix="lh-bench-bodyclose-"))
    env = {k: v for k, v in os.environ.items() if k != "GOFLAGS"}
    try:
        gobin = tmp / "bin"
        subprocess.run([args.go, "install", BODYCLOSE], env={**env, "GOBIN": str(gobin)}, check=True,
                       capture_output=True, timeout=600, cwd=tmp)
        others = ",".join(r.id for r in all_rules() if r.id != "LH401")
        lh_cmd = [sys.executable, "-m", "leakhunter", "scan", str(src), "--exclude", "cmd", "--disable", others,
                  "--format", "json", "-o", str(tmp / "lh.json")]
        lh_wall, lh_rss, _ = timed(lh_cmd, cwd=src, env=env, log=tmp / "lh.log")
        lh = {(f["file"], f["line"]) for f in json.loads((tmp / "lh.json").read_text())["findings"]}
        lh = {(str(Path(f).resolve().relative_to(src)) if Path(f).is_absolute() else f, ln) for f, ln in lh}

        vet_env = {**env, "GOCACHE": str(tmp / "gocache")}
        vet_cmd = [args.go, "vet", f"-vettool={gobin / 'bodyclose'}", "./..."]
        cold_wall, cold_rss, out = timed(vet_cmd, cwd=src, env=vet_env, log=tmp / "vet1.log")
        warm_wall, warm_rss, _ = timed(vet_cmd, cwd=src, env=vet_env, log=tmp / "vet2.log")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    bc = set()
    for line in out.splitlines():
        m = _VET_LINE.match(line.strip())
        if m:
            bc.add((str(Path(m["file"]).resolve().relative_to(src)) if Path(m["file"]).is_absolute()
                    else m["file"].removeprefix("./"), int(m["line"])))

    def nontest(s: set[tuple[str, int]]) -> list[tuple[str, int]]:
        return sorted(x for x in s if not x[0].endswith("_test.go"))

    lines = [
        f"{gover}; tree `{src}` (std, cmd/ excluded); bodyclose {BODYCLOSE.split('@')[1]}.",
        "",
        "| command | wall s | ratio to leakhunter | peak RSS MB | findings | outside tests |",
        "|---|---:|---:|---:|---:|---:|",
        f"| leakhunter scan (LH401 only) | {lh_wall:.1f} | 1.00x | {lh_rss:.0f} | {len(lh)} | {len(nontest(lh))} |",
        f"| go vet -vettool=bodyclose (fresh GOCACHE) | {cold_wall:.1f} | {cold_wall / lh_wall:.2f}x | "
        f"{cold_rss:.0f} | {len(bc)} | {len(nontest(bc))} |",
        f"| go vet -vettool=bodyclose (warm GOCACHE) | {warm_wall:.1f} | {warm_wall / lh_wall:.2f}x | {warm_rss:.0f} | "
        f"{len(bc)} | {len(nontest(bc))} |",
        "",
        f"Both report: {len(lh & bc)} lines. Only leakhunter: {len(lh - bc)}. Only bodyclose: {len(bc - lh)}.",
        "Outside tests, only bodyclose: " + (", ".join(f"{f}:{n}" for f, n in nontest(bc - lh)) or "none") + ".",
        "Outside tests, only leakhunter: " + (", ".join(f"{f}:{n}" for f, n in nontest(lh - bc)) or "none") + ".",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
