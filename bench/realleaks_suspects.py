#!/usr/bin/env python3
"""Where the suspects of a real leak's verdict point, with and without `--source` (issue 9).

A verdict that says "leak" is half the answer; the other half is the line to fix. The real
leaks of bench_realservices.py (a service's leaky release, whose fix is known) keep their
stores; this judges each store again at its end, once without source findings and once with
`scan`'s findings for the module's source (what `soak`/`watch --source DIR` would show), and
says for each leak verdict whether the fix's line (a file suffix and a line, within the join's
slack, or named by a suspect's finding as its leaking exit) and the fix's function are among its
suspects, and at which rank. A goroutine suspect's `created_by` (the `go` statement its goroutines
were started at, which the output shows with it) counts as one of its places.

    PYTHONPATH=<tree>/src python bench/realleaks_suspects.py --root /tmp/rs/opa \\
        --source $GOMODCACHE/github.com/open-policy-agent/opa@v1.18.0 \\
        --fix v1/ast/annotations.go:999 --fix-function MergedLabels [--only leaky] [--json-out F]

Every `*/store.db` under --root whose directory name contains --only (default: all) is judged.
The peer has no equivalent: a heap profile's top (`go tool pprof -top`) lists allocation
sites, the set the "without" column is drawn from.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any


def _rank(suspects: list[Any], fixes: list[tuple[str, int]], slack: int) -> int | None:
    """1-based rank of the first suspect at one of the fix's lines (its own place, or its finding's)."""
    for i, s in enumerate(suspects, 1):
        places = [(s.file, s.line)]
        if s.finding is not None:
            places.append((s.finding.file, s.finding.line))
        if getattr(s, "created_by", None) is not None:  # the `go` statement the suspect names
            places.append((s.created_by.file, s.created_by.line))
        if any(f and f.endswith(ff) and abs(ln - fl) <= slack for f, ln in places for ff, fl in fixes):
            return i
        # a finding made where the value is made names the leaking exit in its message ("on the return
        # at line 315"): that exit is the line the fix changed
        f = s.finding
        if f is not None and any(f.file.endswith(ff) and re.search(rf"\bline {fl}\b", f.message) for ff, fl in fixes):
            return i
    return None


def _func_rank(suspects: list[Any], name: str) -> int | None:
    for i, s in enumerate(suspects, 1):
        by = getattr(s, "created_by", None)
        if name and (name in s.function or (s.finding is not None and name in s.finding.function)
                     or (by is not None and name in by.function)):
            return i
    return None


def judge(db: Path, findings: list[Any], fixes: list[tuple[str, int]], fix_fn: str) -> list[dict[str, Any]]:
    from leakhunter.analyze.join import LINE_SLACK
    from leakhunter.analyze.verdicts import analyze_target
    from leakhunter.collect.store import Store

    out: list[dict[str, Any]] = []
    store = Store(str(db), readonly=True)
    try:
        for target in store.targets():
            plain = {v.series: v for v in analyze_target(store, target)}
            joined = analyze_target(store, target, findings=findings)
            for v in joined:
                if not v.is_leak:
                    continue
                p = plain.get(v.series)
                ps = p.suspects if p is not None else []
                out.append({
                    "store": str(db.parent.name), "series": v.series, "kind": v.kind,
                    "suspects_with_source": len(v.suspects), "suspects_without": len(ps),
                    "fix_line_rank_with_source": _rank(v.suspects, fixes, LINE_SLACK),
                    "fix_line_rank_without": _rank(ps, fixes, LINE_SLACK),
                    "fix_function_rank_with_source": _func_rank(v.suspects, fix_fn),
                    "fix_function_rank_without": _func_rank(ps, fix_fn),
                    "top_with_source": _where(v.suspects[0]) if v.suspects else "",
                    "top_without": _where(ps[0]) if ps else "",
                })
    finally:
        store.close()
    return out


def _where(s: Any) -> str:
    f = s.finding
    tag = f" <- {f.rule} {Path(f.file).name}:{f.line}" if f is not None else ""
    return f"{s.function.rsplit('/', 1)[-1]} {Path(s.file).name}:{s.line}{tag}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True, type=Path, help="directory of the runs (each */store.db)")
    ap.add_argument("--source", required=True, help="the leaky release's module source (what --source gets)")
    ap.add_argument("--fix", required=True, action="append",
                    help="FILE:LINE the fix changed (a path suffix; repeatable: any of them counts)")
    ap.add_argument("--fix-function", default="", help="the function the fix changed (a substring)")
    ap.add_argument("--only", default="", help="judge only run directories whose name contains this")
    ap.add_argument("--json-out", type=Path)
    a = ap.parse_args()
    import leakhunter
    from leakhunter.analyze.join import scan_findings

    fixes = [(f.rpartition(":")[0], int(f.rpartition(":")[2])) for f in a.fix]
    t0 = time.monotonic()
    findings = scan_findings(a.source)
    print(f"leakhunter {Path(leakhunter.__file__).parent}; scan of {a.source}: {len(findings)} findings "
          f"in {time.monotonic() - t0:.1f}s", file=sys.stderr)
    rows: list[dict[str, Any]] = []
    for db in sorted(a.root.glob("*/store.db")):
        if a.only in db.parent.name:
            rows += judge(db, findings, fixes, a.fix_function)
    print("| run | series | verdict | fix line: rank with --source / without | fix function: with / without "
          "| top suspect with --source | top without |")
    print("|---|---|---|---|---|---|---|")
    def rk(r: dict[str, Any], k: str) -> str:
        return "—" if r[k] is None else f"#{r[k]}"

    for r in rows:
        print(f"| {r['store']} | {r['series']} | {r['kind']} | {rk(r, 'fix_line_rank_with_source')} of "
              f"{r['suspects_with_source']} / {rk(r, 'fix_line_rank_without')} of {r['suspects_without']} | "
              f"{rk(r, 'fix_function_rank_with_source')} / {rk(r, 'fix_function_rank_without')} | "
              f"`{r['top_with_source']}` | `{r['top_without']}` |")
    leaks = [r for r in rows if r["kind"] == "heap-leak" or r["kind"] == "goroutine-leak"]
    hit = sum(r["fix_line_rank_with_source"] is not None for r in leaks)
    was = sum(r["fix_line_rank_without"] is not None for r in leaks)
    print(f"\nfix line among the suspects: {hit} of {len(leaks)} leak verdicts with --source, {was} without")
    if a.json_out:
        a.json_out.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
