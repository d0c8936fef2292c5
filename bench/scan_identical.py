#!/usr/bin/env python3
"""Check that a speed change left every finding alone: the findings JSON of two trees must be byte-identical.

Runs `leakhunter scan --no-cache --show-info --allow-unanalysed --format json` from two copies
of the package (a git revision, and the work tree or another revision) on the same Go trees
(default: net/http/... and std of $(go env GOROOT)), drops the keys that measure the run
(duration_s, worker_peak_rss_mb, cached_files) and compares the rest byte for byte:
findings, skipped files, unanalysed code, counts.

    python bench/scan_identical.py --before d017264            # that commit vs the work tree
    python bench/scan_identical.py --before A --after B --only net/http
    python bench/scan_identical.py --before A --root /path/to/module   # any Go tree instead
    python bench/scan_identical.py --before A --files src/leakhunter/source/gosyntax.py ...
        # A against A with only these files taken from the work tree (--after): isolates one
        # change from others' concurrent edits of the same tree

Exit 0 when every tree matches, 1 otherwise (the first differing findings are printed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VOLATILE = ("duration_s", "worker_peak_rss_mb", "cached_files")


def snapshot(rev: str | None, dest: Path) -> Path:
    """A copy of src/leakhunter at `rev` (None: the work tree as it is now), importable from `dest`."""
    dest.mkdir(parents=True)
    if rev is None:
        import shutil

        shutil.copytree(REPO / "src" / "leakhunter", dest / "leakhunter",
                        ignore=shutil.ignore_patterns("__pycache__"))
    else:
        archive = subprocess.run(["git", "archive", rev, "src/leakhunter"], cwd=REPO, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "--strip-components=1", "-C", str(dest)], input=archive, check=True)
    return dest


def scan(tree: Path, target: str, cwd: Path, out: Path) -> str:
    cmd = [sys.executable, "-m", "leakhunter", "scan", "--no-cache", "--show-info", "--allow-unanalysed",
           "--format", "json", "-o", str(out), "--exclude", "cmd", target]
    p = subprocess.run(cmd, cwd=cwd, env={**__import__("os").environ, "PYTHONPATH": str(tree)},
                       capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise SystemExit(f"scan of {target} from {tree} failed ({p.returncode}): {p.stderr.strip()[-400:]}")
    doc = json.loads(out.read_text())
    for k in VOLATILE:
        doc.pop(k, None)
    return json.dumps(doc, indent=1, sort_keys=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="git revision of the reference")
    ap.add_argument("--after", help="git revision to compare (default: the work tree)")
    ap.add_argument("--files", nargs="+", metavar="PATH",
                    help="compare --before with --before plus these files of --after (repo-relative paths)")
    ap.add_argument("--only", choices=("net/http", "std"), help="one Go tree only")
    ap.add_argument("--root", action="append", default=[], metavar="DIR",
                    help="scan this Go tree instead of GOROOT's (repeatable; GOMODCACHE from the environment)")
    ap.add_argument("--go", default="/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else "go")
    args = ap.parse_args()
    goroot = Path(subprocess.run([args.go, "env", "GOROOT"], capture_output=True, text=True,
                                 check=True).stdout.strip())
    targets = {"net/http": "net/http", "std": "."}
    if args.only:
        targets = {args.only: targets[args.only]}
    roots = {name: goroot / "src" for name in targets}
    if args.root:
        targets = {r: "." for r in args.root}
        roots = {r: Path(r) for r in args.root}
    ok = True
    with tempfile.TemporaryDirectory(prefix="lh-identical-") as tmp:
        t = Path(tmp)
        before = snapshot(args.before, t / "before")
        if args.files:
            import shutil

            after = snapshot(args.before, t / "after")
            source = snapshot(args.after, t / "source")
            for f in args.files:
                rel = Path(f).relative_to("src")
                shutil.copyfile(source / rel, after / rel)
        else:
            after = snapshot(args.after, t / "after")
        for name, target in targets.items():
            a = scan(before, target, roots[name], t / "a.json")
            b = scan(after, target, roots[name], t / "b.json")
            n = len(json.loads(a)["findings"])
            if a == b:
                print(f"{name}: identical ({n} findings, {len(a)} bytes of JSON)")
                continue
            ok = False
            fa, fb = json.loads(a)["findings"], json.loads(b)["findings"]
            print(f"{name}: DIFFERENT ({len(fa)} vs {len(fb)} findings)")
            for x in [f for f in fa if f not in fb][:5]:
                print(f"  only before: {x['file']}:{x['line']} {x['rule']} {x['message'][:80]}")
            for x in [f for f in fb if f not in fa][:5]:
                print(f"  only after:  {x['file']}:{x['line']} {x['rule']} {x['message'][:80]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
