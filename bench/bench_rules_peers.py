#!/usr/bin/env python3
"""Recall of LH401/LH402 on the peer linters' own annotated test data, beside the peers, in one run.

The peers' testdata is fetched through the Go module proxy (`go mod download`, pinned
versions) and read from GOMODCACHE: nothing of it is copied into this repository.

- bodyclose (passes/bodyclose/testdata/src, GOPATH layout): each `// want "response body
  must be closed..."` line is an expected finding. Out of scope for LH401 by design:
  the "closed and consumed" annotations in functions that do close the body (LH401
  does not judge whether a closed body was read to the end), which bodyclose's own
  file lists partly as its known false positives.
- sqlclosecheck (testdata/{sqlx,pgx}_examples, with expected_results.txt): each
  "Rows/Stmt/NamedStmt was not closed" line is expected. Out of scope: "Close should
  use defer" (style), and functions that run `for rows.Next()` to its end (database/sql
  closes rows when Next returns false: not a leak).

Both peers are installed with `go install` into a temporary GOBIN and run on the same
files (`go vet -vettool=...`; bodyclose in GOPATH mode as its analysistest does).
Prints, per corpus: expected in scope, found by leakhunter, found by the peer, and
the findings of either tool on lines nobody annotated.

    python bench/bench_rules_peers.py [--out FILE]
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

BODYCLOSE = ("github.com/timakin/bodyclose", "v0.0.0-20260723120731-857993a2939c")
SQLCLOSECHECK = ("github.com/ryanrolds/sqlclosecheck", "v0.6.0")
_WANT = re.compile(r"//\s*want\s+\"([^\"]*)\"")
_VET = re.compile(r"^(?:\./)?(?P<file>[^:\s]+\.go):(?P<line>\d+):\d+: (?P<msg>.*)$", re.M)


def go_env(go: str, *names: str) -> list[str]:
    return subprocess.run([go, "env", *names], capture_output=True, text=True, check=True).stdout.split("\n")


def download(go: str, tmp: Path, mod: tuple[str, str]) -> Path:
    work = tmp / "dl"
    work.mkdir(exist_ok=True)
    if not (work / "go.mod").exists():
        subprocess.run([go, "mod", "init", "dl"], cwd=work, capture_output=True, check=True)
    out = subprocess.run([go, "mod", "download", "-json", f"{mod[0]}@{mod[1]}"], cwd=work,
                         capture_output=True, text=True, check=True).stdout
    return Path(json.loads(out)["Dir"])


def install(go: str, gobin: Path, mod: tuple[str, str], env: dict[str, str]) -> Path:
    subprocess.run([go, "install", f"{mod[0]}@{mod[1]}"], env={**env, "GOBIN": str(gobin)}, check=True,
                   capture_output=True)
    return gobin / mod[0].rpartition("/")[2]


def enclosing_func_text(lines: list[str], line: int) -> str:
    """The text of the top-level func holding 1-based `line` (from its `func` line to the next one)."""
    start = line - 1
    while start > 0 and not lines[start].startswith("func "):
        start -= 1
    end = line
    while end < len(lines) and not lines[end].startswith("func "):
        end += 1
    return "\n".join(lines[start:end])


def leakhunter(paths: list[Path], rules: str, cwd: Path) -> tuple[set[tuple[str, int]], float]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "leakhunter", "scan", "--format", "json", "-j1", "--fail-on", "error",
         *[str(p) for p in paths]],
        cwd=cwd, capture_output=True, text=True,
    ).stdout
    wall = time.perf_counter() - t0
    data = json.loads(out)
    found = set()
    for f in data["findings"] if isinstance(data, dict) else data:
        if f["rule"] in rules.split(","):
            found.add((str(Path(f["file"]).resolve()), int(f["line"])))
    return found, wall


def bodyclose_corpus(go: str, tmp: Path, env: dict[str, str], gobin: Path) -> dict[str, object]:
    src_dir = download(go, tmp, BODYCLOSE) / "passes" / "bodyclose" / "testdata" / "src"
    gopath = tmp / "bcpath"
    shutil.copytree(src_dir, gopath / "src")
    for p in gopath.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    expected: set[tuple[str, int]] = set()
    out_of_scope: set[tuple[str, int]] = set()
    annotated: set[tuple[str, int]] = set()
    for f in sorted((gopath / "src").rglob("*.go")):
        lines = f.read_text().splitlines()
        for no, text in enumerate(lines, 1):
            m = _WANT.search(text)
            if not m:
                continue
            key = (str(f.resolve()), no)
            annotated.add(key)
            fn = enclosing_func_text(lines, no)
            if "consumed" in m.group(1) and ".Body.Close()" in fn:
                out_of_scope.add(key)  # closed but maybe not read to the end: not LH401's question
            else:
                expected.add(key)
    pkgs = sorted(p.name for p in (gopath / "src").iterdir() if p.is_dir())
    lh, lh_wall = leakhunter([gopath / "src" / p for p in pkgs], "LH401", gopath)
    tool = install(go, gobin, BODYCLOSE, env)
    t0 = time.perf_counter()
    res = subprocess.run([go, "vet", f"-vettool={tool}", *pkgs], cwd=gopath / "src",
                         env={**env, "GOPATH": str(gopath), "GO111MODULE": "off"}, capture_output=True, text=True)
    peer_wall = time.perf_counter() - t0
    peer = {(str((gopath / "src" / m["file"]).resolve()) if not m["file"].startswith("/") else m["file"],
             int(m["line"])) for m in _VET.finditer(res.stderr) if "response body must be closed" in m["msg"]}
    return summarize("bodyclose testdata (LH401)", expected, out_of_scope, annotated, lh, peer, lh_wall,
                     peer_wall, res.stderr if not peer else "")


def sqlclosecheck_corpus(go: str, tmp: Path, env: dict[str, str], gobin: Path) -> dict[str, object]:
    mod_dir = download(go, tmp, SQLCLOSECHECK)
    work = tmp / "sqc"
    shutil.copytree(mod_dir, work)
    for p in work.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    subprocess.run([go, "mod", "download"], cwd=work, env=env, capture_output=True, check=True)
    expected: set[tuple[str, int]] = set()
    out_of_scope: set[tuple[str, int]] = set()
    for res_file in sorted((work / "testdata").glob("*/expected_results.txt")):
        for m in _VET.finditer(res_file.read_text()):
            path = (work / m["file"]).resolve()
            key = (str(path), int(m["line"]))
            fn = enclosing_func_text(path.read_text().splitlines(), key[1])
            if "was not closed" not in m["msg"] or "for rows.Next()" in fn:
                out_of_scope.add(key)
            else:
                expected.add(key)
    annotated = expected | out_of_scope
    dirs = [work / "testdata" / "sqlx_examples", work / "testdata" / "pgx_examples"]
    lh, lh_wall = leakhunter(dirs, "LH402,LH403", work)
    tool = install(go, gobin, SQLCLOSECHECK, env)
    t0 = time.perf_counter()
    res = subprocess.run([go, "vet", f"-vettool={tool}", "./testdata/sqlx_examples", "./testdata/pgx_examples"],
                         cwd=work, env=env, capture_output=True, text=True)
    peer_wall = time.perf_counter() - t0
    peer = {(str((work / m["file"]).resolve()), int(m["line"])) for m in _VET.finditer(res.stderr)
            if "was not closed" in m["msg"]}
    return summarize("sqlclosecheck testdata (LH402)", expected, out_of_scope, annotated, lh, peer, lh_wall,
                     peer_wall, res.stderr if not peer else "")


def summarize(name: str, expected: set[tuple[str, int]], out_of_scope: set[tuple[str, int]],
              annotated: set[tuple[str, int]], lh: set[tuple[str, int]], peer: set[tuple[str, int]],
              lh_wall: float, peer_wall: float, peer_log: str) -> dict[str, object]:
    def short(keys: set[tuple[str, int]]) -> list[str]:
        return sorted(f"{Path(f).parent.name}/{Path(f).name}:{n}" for f, n in keys)

    return {
        "corpus": name,
        "expected": len(expected),
        "out_of_scope": len(out_of_scope),
        "leakhunter_found": len(lh & expected),
        "peer_found": len(peer & expected),
        "leakhunter_missed": short(expected - lh),
        "peer_missed": short(expected - peer),
        "leakhunter_unannotated": short(lh - annotated),
        "peer_unannotated": short(peer - annotated),
        "leakhunter_wall_s": round(lh_wall, 2),
        "peer_wall_s": round(peer_wall, 2),
        "peer_log": peer_log[-400:],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="also write the results as Markdown here")
    ap.add_argument("--go", default=shutil.which("go") or "go")
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "GOFLAGS"}
    tmp = Path(tempfile.mkdtemp(prefix="lh-bench-peers-"))
    try:
        gobin = tmp / "bin"
        rows = [bodyclose_corpus(args.go, tmp, env, gobin), sqlclosecheck_corpus(args.go, tmp, env, gobin)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    md = ["| corpus | expected (in scope) | out of scope | leakhunter found | peer found | "
          "leakhunter on unannotated lines | peer on unannotated lines |", "|---|---:|---:|---:|---:|---|---|"]
    for r in rows:
        md.append(
            f"| {r['corpus']} | {r['expected']} | {r['out_of_scope']} | {r['leakhunter_found']} | {r['peer_found']} "
            f"| {', '.join(r['leakhunter_unannotated']) or '—'} "  # type: ignore[arg-type]
            f"| {', '.join(r['peer_unannotated']) or '—'} |"  # type: ignore[arg-type]
        )
    text = "\n".join(md)
    print(text)
    for r in rows:
        print(f"\n{r['corpus']}: leakhunter missed {r['leakhunter_missed']}; peer missed {r['peer_missed']}; "
              f"wall leakhunter {r['leakhunter_wall_s']} s, peer {r['peer_wall_s']} s")
        if r["peer_log"]:
            print("peer output:", r["peer_log"])
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
