"""Before/after of the resource rules on the precision corpora, finding by finding, with verdicts.

    python bench/resource_fp_diff.py scan SRC OUT [--set tuning --set heldout2]
    python bench/resource_fp_diff.py diff BEFORE_OUT AFTER_OUT

`scan` runs `leakhunter scan --no-cache --format json` (default rules and severities, the
goroutine rules switched off unless --all-rules: they are not what changes in resource work) with the leakhunter source tree
SRC (a `git archive` of some commit: PYTHONPATH=SRC) over every corpus of
bench/precision/precision.py's sets (`tuning` includes held-out set 1), one JSON per corpus
in OUT. `diff` prints per (set, rule) counts of both runs and every finding only one run
has, with the verdict the precision CSVs (bench/precision/*.csv) give its fingerprint.
Unlike `precision.py sample`, this writes nothing under bench/precision (its sample CSVs
are the triage's).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOROUTINE_RULES = ",".join(f"LH{n}" for n in (*range(101, 112), 503, 505))


def cmd_scan(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(HERE / "precision"))
    import precision  # type: ignore[import-not-found]

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for which in args.set or ["tuning", "heldout2"]:
        for name, (root, modcache) in precision.corpora(which, Path(args.work)).items():
            dest = out / f"{which}__{name.replace('/', '_')}.json"
            if dest.exists():
                continue
            t0 = time.time()
            off = [] if args.all_rules else ["--disable", GOROUTINE_RULES]
            res = subprocess.run(
                ["nice", "-n", "5", sys.executable, "-m", "leakhunter", "scan", "--no-cache", "--format", "json",
                 *off, "-o", str(dest), "."],
                cwd=root, capture_output=True, text=True,
                env={**os.environ, "GOMODCACHE": str(modcache), "PYTHONPATH": str(Path(args.src).absolute())},
            )
            print(which, name, f"exit {res.returncode}", f"{time.time() - t0:.0f}s", flush=True)


def _verdicts() -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for p in sorted((HERE / "precision").glob("*.csv")):
        with p.open() as fh:
            for r in csv.DictReader(fh):
                if r.get("fingerprint") and r.get("verdict") in ("TP", "FP"):
                    out.setdefault(r["fingerprint"], (r["verdict"], (r.get("reason") or "")[:110]))
    return out


def _load(d: Path) -> dict[tuple[str, str], dict[str, object]]:
    out = {}
    for f in sorted(d.glob("*.json")):
        for x in json.loads(f.read_text())["findings"]:
            out[(f.stem, str(x["fingerprint"]))] = x
    return out


def cmd_diff(args: argparse.Namespace) -> None:
    verd = _verdicts()
    before, after = _load(Path(args.before)), _load(Path(args.after))
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for i, run in enumerate((before, after)):
        for (stem, _), x in run.items():
            counts[(stem.split("__")[0], str(x["rule"]))][i] += 1
    print("| set | rule | before | after |\n|---|---|---:|---:|")
    for (s, rule), (b, a) in sorted(counts.items()):
        print(f"| {s} | {rule} | {b} | {a} |")
    tally: Counter[tuple[str, str, str]] = Counter()
    for label, one, other in (("dropped", before, after), ("added", after, before)):
        for key in sorted(set(one) - set(other)):
            x = one[key]
            v = verd.get(key[1], ("?", ""))
            tally[(label, key[0].split("__")[0], v[0])] += 1
            print(f"{label}: {key[0]} {x['rule']} {x['file']}:{x['line']} {x.get('function')} | {v[0]} {v[1]}")
    for k, n in sorted(tally.items()):
        print(*k, n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("scan", help="scan every corpus with the leakhunter tree SRC into OUT")
    s.add_argument("src")
    s.add_argument("out")
    s.add_argument("--set", action="append", choices=["tuning", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6"])
    s.add_argument("--all-rules", action="store_true",
                   help="keep the goroutine rules on (for changes to LH1xx and the program-level exclusions)")
    s.add_argument("--work", default="/tmp/lh-precision", help="precision.py's scratch dir (module caches)")
    d = sub.add_parser("diff", help="compare two scan outputs by fingerprint, with verdicts")
    d.add_argument("before")
    d.add_argument("after")
    args = ap.parse_args()
    cmd_scan(args) if args.cmd == "scan" else cmd_diff(args)


if __name__ == "__main__":
    main()
