#!/usr/bin/env python3
"""Which valid Go files does `scan` fail to read whole? The issue's "no silently skipped function", checked
on every Go file under some trees (module caches of held-out sets, a GOROOT), not only on fixtures.

Each `.go` file (outside `testdata/`, `vendor/` kept, at most 2 MiB as the scanner's default) is parsed the way
the scanner parses it (`leakhunter.source.parse.parse`: the grammar workarounds included); the files whose tree
still holds an error are handed to `gofmt -e -l`, the toolchain's own parser. A file gofmt accepts and
leakhunter cannot read is a grammar gap: the scanner would list it as unanalysed (never silently), but its
leaks go unseen. Prints the counts and every such file.

    python bench/parse_sweep.py /tmp/lh-precision/heldout123/modcache $(go env GOROOT)/src
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

_MAX_BYTES = 2 << 20


def go_files(root: Path) -> list[Path]:
    out: list[Path] = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in ("testdata", ".git") and not (x == "cache" and Path(d) == root)]
        out.extend(Path(d) / f for f in files if f.endswith(".go"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("roots", nargs="+", type=Path)
    ap.add_argument("--gofmt", help="the judge (default: gofmt on PATH, else $(go env GOROOT)/bin/gofmt); for "
                    "code of a newer Go, that toolchain's gofmt, or its new syntax counts as invalid")
    args = ap.parse_args()
    missing = [str(r) for r in args.roots if not r.is_dir()]
    if missing:
        print(f"parse_sweep: not a directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    from leakhunter.source.parse import parse

    gofmt = args.gofmt or shutil.which("gofmt") or str(Path(subprocess.run(
        ["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()) / "bin" / "gofmt")
    start = time.perf_counter()
    files = [p for r in args.roots for p in go_files(r)]
    rejected: list[Path] = []
    parsed = 0
    for p in files:
        try:
            data = p.read_bytes()
        except OSError:
            continue
        if len(data) > _MAX_BYTES:
            continue
        parsed += 1
        if parse(data).root_node.has_error:
            rejected.append(p)
    gaps = [p for p in rejected if subprocess.run([gofmt, "-e", "-l", str(p)], capture_output=True).returncode == 0]
    print(f"{parsed} Go files parsed in {time.perf_counter() - start:.0f} s; {len(rejected)} hold a syntax error "
          f"after the workarounds; {len(gaps)} of those are valid Go to gofmt (grammar gaps)")
    for p in gaps:
        print(f"  {p}")
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main())
