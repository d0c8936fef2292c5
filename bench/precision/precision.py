#!/usr/bin/env python3
"""Precision study for `leakhunter scan` on Go code nobody here wrote.

Scans the Go standard library ($(go env GOROOT)/src) and large open-source modules
fetched with `go mod download -json MODULE@VERSION` into a private GOMODCACHE, then
draws a fixed-seed sample of findings per rule for hand triage.

    python bench/precision/precision.py scan      # fetch, scan, write findings-*.json + sample.csv
    python bench/precision/precision.py show N    # print the code around sampled finding N
    python bench/precision/precision.py mark N TP|FP "reason"   # record a hand verdict
    python bench/precision/precision.py table     # per-rule true-positive rate from triage.csv

triage.csv is filled BY HAND (verdict TP/FP and a one-line reason, from reading the
code of each sampled finding); `scan` keeps verdicts already given for findings
that are still sampled (matched by fingerprint).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULES = ["github.com/prometheus/prometheus@v0.316.0", "github.com/ethereum/go-ethereum@v1.17.10"]
SEED = 20261123
PER_RULE = 6
FIELDS = ["n", "rule", "severity", "corpus", "file", "line", "function", "message", "verdict", "reason", "fingerprint"]


def go_exe() -> str:
    sys.path.insert(0, str(HERE.parent.parent / "tests"))
    try:
        from golab import go_exe as g

        return str(g())
    except Exception:
        return "go"


def corpora(work: Path) -> dict[str, Path]:
    goroot = subprocess.run([go_exe(), "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
    out = {"std": Path(goroot) / "src"}
    env = {**os.environ, "GOMODCACHE": str(work / "modcache"), "GOFLAGS": "-modcacherw"}
    for mod in MODULES:
        res = subprocess.run([go_exe(), "mod", "download", "-json", mod], capture_output=True, text=True, env=env,
                             timeout=900, cwd=work)
        info = json.loads(res.stdout)
        if "Dir" not in info:
            raise SystemExit(f"go mod download {mod}: {info.get('Error', res.stderr)}")
        out[mod.split("/")[-1].split("@")[0]] = Path(info["Dir"])
    return out


def cmd_scan(args: argparse.Namespace) -> None:
    from leakhunter.source.scanner import scan_paths

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    per_rule: dict[str, list[dict[str, object]]] = defaultdict(list)
    summary = []
    for name, root in corpora(work).items():
        t0 = time.perf_counter()
        res = scan_paths([str(root)], jobs=args.jobs)
        dt = time.perf_counter() - t0
        counts = Counter(f.rule for f in res.findings)
        summary.append((name, res.files_scanned, len(res.findings), round(dt, 1), dict(sorted(counts.items()))))
        rows = []
        for f in res.findings:
            row = {"rule": f.rule, "severity": f.severity, "corpus": name,
                   "file": str(Path(f.file).relative_to(root)), "line": f.line, "column": f.column,
                   "function": f.function, "message": f.message, "fingerprint": f.fingerprint,
                   "root": str(root)}
            rows.append(row)
            per_rule[f.rule].append(row)
        (work / f"findings-{name}.json").write_text(json.dumps(rows, indent=1))
        print(f"{name}: {res.files_scanned} files, {len(res.findings)} findings, {dt:.1f}s {dict(counts)}", flush=True)
    triage = HERE / "triage.csv"
    old = _verdicts()
    rng = random.Random(SEED)
    sample = []
    for rule in sorted(per_rule):
        rows = sorted(per_rule[rule], key=lambda r: (str(r["corpus"]), str(r["file"]), int(str(r["line"]))))
        sample.extend(rng.sample(rows, min(args.per_rule, len(rows))))
    with triage.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        for i, r in enumerate(sample, 1):
            prev = old.get(str(r["fingerprint"]), {})
            w.writerow({"n": i, **{k: r[k] for k in FIELDS if k in r},
                        "verdict": prev.get("verdict", ""), "reason": prev.get("reason", "")})
    (work / "sample.json").write_text(json.dumps(sample, indent=1))
    (work / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"sampled {len(sample)} findings into {triage}")


HISTORY = HERE / "verdicts.csv"
"""Every hand verdict ever recorded, by fingerprint: a re-drawn sample reuses them (the
same finding on the same code gets the same verdict) and only new findings need reading."""


def _verdicts() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for path in (HISTORY, HERE / "triage.csv"):
        if path.exists():
            with path.open() as fh:
                out.update({r["fingerprint"]: r for r in csv.DictReader(fh) if r.get("verdict")})
    return out


def _remember(rows: list[dict[str, str]]) -> None:
    merged = _verdicts()
    merged.update({r["fingerprint"]: r for r in rows if r.get("verdict")})
    with HISTORY.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(sorted(merged.values(), key=lambda r: (r["rule"], r["corpus"], r["file"], int(r["line"]))))


def cmd_show(args: argparse.Namespace) -> None:
    sample = json.loads((Path(args.work) / "sample.json").read_text())
    for n in args.n:
        r = sample[n - 1]
        path = Path(r["root"]) / r["file"]
        lines = path.read_text(errors="replace").splitlines()
        lo, hi = max(0, r["line"] - args.before), min(len(lines), r["line"] + args.after)
        print(f"== #{n} {r['rule']} {r['corpus']}/{r['file']}:{r['line']} ({r['function']})\n   {r['message']}")
        for i in range(lo, hi):
            mark = ">>" if i + 1 == r["line"] else "  "
            print(f"{mark}{i + 1:5d} {lines[i]}")


def cmd_mark(args: argparse.Namespace) -> None:
    """Record a hand verdict: `mark N TP|FP "one-line reason"`."""
    path = HERE / "triage.csv"
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        if r["n"] == str(args.n):
            r["verdict"], r["reason"] = args.verdict, args.reason
            break
    else:
        raise SystemExit(f"no sampled finding #{args.n}")
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    _remember(rows)


def cmd_table(args: argparse.Namespace) -> None:
    """Per-rule table: findings in the corpora, sampled, TP, rate, shipped severity, default on/off."""
    from leakhunter.source.registry import get_rule

    with (HERE / "triage.csv").open() as fh:
        rows = [r for r in csv.DictReader(fh) if r["verdict"] in ("TP", "FP")]
    found: Counter[str] = Counter()
    for path in Path(args.work).glob("findings-*.json"):
        found.update(str(r["rule"]) for r in json.loads(path.read_text()))
    by: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        by[r["rule"]][r["verdict"]] += 1
    total = Counter(r["verdict"] for r in rows)
    print("| rule | findings in corpora | sampled | TP | FP | TP rate | severity | default |")
    print("|---|---|---|---|---|---|---|---|")
    for rule in sorted(set(by) | set(found)):
        c = by[rule]
        n = c["TP"] + c["FP"]
        cls = get_rule(rule)
        rate = f"{100 * c['TP'] / n:.0f}%" if n else "-"
        low = " **<75%**" if n and c["TP"] / n < 0.75 else ""
        on = "on" if getattr(cls, "enabled_by_default", True) else "off"
        print(f"| {rule} {cls.name} | {found[rule]} | {n} | {c['TP']} | {c['FP']} | {rate}{low} | {cls.severity} | {on} |")
    n = total["TP"] + total["FP"]
    if n:
        print(f"| **all** | {sum(found.values())} | {n} | {total['TP']} | {total['FP']} | "
              f"**{100 * total['TP'] / n:.0f}%** | | |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", default="/tmp/lh-precision", help="scratch dir (module cache, findings)")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("scan")
    s.add_argument("--per-rule", type=int, default=PER_RULE)
    s.add_argument("--jobs", type=int, default=None)
    sh = sub.add_parser("show")
    sh.add_argument("n", type=int, nargs="+")
    sh.add_argument("--before", type=int, default=25)
    sh.add_argument("--after", type=int, default=25)
    sub.add_parser("table")  # uses --work for the findings counts
    m = sub.add_parser("mark")
    m.add_argument("n", type=int)
    m.add_argument("verdict", choices=("TP", "FP"))
    m.add_argument("reason")
    args = p.parse_args()
    {"scan": cmd_scan, "show": cmd_show, "table": cmd_table, "mark": cmd_mark}[args.cmd](args)


if __name__ == "__main__":
    main()
