"""`leakhunter gctrace FILE`: a verdict on the live heap from a GODEBUG=gctrace=1 log.

Thin wiring: read the log (a path or `-`), `collect.gctrace` turns the GC lines into
the `gc_live_heap` series of a store (a temporary one unless `--db`), and the same
analysis as `watch` decides. Exit 1 on a heap leak, 0 otherwise, 2 on bad input.
"""

from __future__ import annotations

import argparse

from leakhunter.commands._common import add_format, add_max_bytes, positive_size

NAME = "gctrace"
HELP = "decide heap leak or not from a GODEBUG=gctrace=1 log"
ORDER = 42


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="log with gctrace lines (- for stdin)")
    p.add_argument("--db", metavar="PATH", help="also keep the series in this store")
    p.add_argument("--target", metavar="NAME", help="target name in the store (default gctrace:FILE)")
    p.add_argument("--limit", type=positive_size, metavar="BYTES",
                   help="memory limit for the time-to-OOM forecast")
    add_format(p)
    add_max_bytes(p)


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    import tempfile
    import time
    from pathlib import Path

    from leakhunter.analyze.verdicts import analyze_target
    from leakhunter.collect.gctrace import load_into, parse_lines
    from leakhunter.collect.store import Store
    from leakhunter.errors import InputError, InputTooLargeError
    from leakhunter.report import verdicts_json, verdicts_text

    if args.file == "-":
        data = sys.stdin.buffer.read(args.max_bytes + 1)
        end_ts = time.time()
        name = "stdin"
    else:
        from leakhunter.bounds import open_regular

        path = Path(args.file)
        try:
            with open_regular(str(path)) as f:  # a FIFO or device is refused, not read
                data = f.read(args.max_bytes + 1)
                end_ts = os.fstat(f.fileno()).st_mtime
        except OSError as exc:
            raise InputError(f"{path}: {exc.strerror or exc}") from None
        name = str(path)
    if len(data) > args.max_bytes:
        raise InputTooLargeError(f"{name}: larger than --max-bytes ({args.max_bytes} bytes)")
    runs = parse_lines(data.splitlines())
    target = args.target or f"gctrace:{name}"
    tmpdir = None
    if args.db:
        db = Path(args.db)
    else:
        tmpdir = tempfile.mkdtemp(prefix="leakhunter-gctrace-")
        db = Path(tmpdir) / "gctrace.db"
    try:
        with Store(db) as store:
            try:
                load_into(store, target, runs, end_ts=end_ts)
            except InputError as exc:
                raise exc.naming(name) from None  # the line says which input has no GC lines
            verdicts = {target: analyze_target(store, target, limit_bytes=args.limit)}
    finally:
        if tmpdir:
            for leftover in Path(tmpdir).iterdir():
                leftover.unlink()
            os.rmdir(tmpdir)
    out = verdicts_json.render(verdicts) if args.format == "json" else verdicts_text.render(verdicts)
    sys.stdout.write(out)
    return 1 if any(v.is_leak for v in verdicts[target]) else 0
