"""`leakhunter goroutines DUMP`: group a goroutine dump, flag leak suspects, diff two dumps.

Thin wiring: read (collect/profiles), analyze, render. A plain file holding a debug=2
text dump is streamed to the parser in chunks instead of being read whole, so a dump of
a million goroutines costs a few chunks of memory, not its size.

Exit status: 0, or 1 when a shown group holds goroutines the runtime itself marked
leaked (the goroutineleak profile, `(leaked)` in debug=2): that is a proven leak, not a
heuristic. Unreadable input: 2 with one error line.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from leakhunter.commands._common import (
    add_format,
    add_max_bytes,
    nonneg_duration,
    nonneg_int,
    positive_duration,
    use_color,
)
from leakhunter.errors import UsageError
from leakhunter.model import GoroutineDump

NAME = "goroutines"
ORDER = 30
HELP = "group a goroutine dump by state and stack; flag leak suspects; diff two dumps"
DESCRIPTION = (
    "Read a goroutine dump (binary pprof, ?debug=1 or ?debug=2 text, or a crash log) "
    "from a file, '-' (stdin) or a /debug/pprof/goroutine[leak] URL; group goroutines "
    "by state and stack (arguments ignored), largest first; mark groups blocked on "
    "channels, select, sync waits or sleep in user code as leak suspects, and groups "
    "the runtime proved leaked. A group of at least --min-count goroutines (default 100) "
    "parked at least --min-wait (default 5m) at one user-code line is stuck: a leak even "
    "when the runtime cannot prove it. Exit 1 if a shown group is runtime-proven leaked "
    "or stuck."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dump", metavar="DUMP", help="goroutine dump: path, - (stdin) or http(s) URL")
    p.add_argument(
        "--diff", metavar="BASE",
        help="an earlier dump of the same process: show which groups grew, by how much",
    )
    p.add_argument(
        "--min-count", type=nonneg_int, default=None, metavar="N",
        help="hide groups smaller than N goroutines (with --diff: that grew by less than N), "
             "and call a group stuck only from N goroutines at one line (default: show "
             "every group; stuck from 100)",
    )
    p.add_argument(
        "--min-wait", type=nonneg_duration, default=None, metavar="DUR",
        help="how long goroutines must be parked (the dump's wait time, debug=2) for a "
             "large group to be called stuck (default 5m; rounded down to minutes)",
    )
    p.add_argument("--source", metavar="DIR",
                   help="Go source of the program: join groups to `scan` findings at their line")
    p.add_argument(
        "--state", metavar="RE",
        help="keep groups whose state matches RE (for debug=1/binary, the inferred state)",
    )
    p.add_argument("--timeout", type=positive_duration, default=30.0, metavar="DUR",
                   help="URL timeout (default 30s)")
    p.add_argument("--follow-redirects", action="store_true",
                   help="follow a URL's redirect to another host (default: refuse it)")
    add_format(p)
    add_max_bytes(p)


def load(
    spec: str, *, max_bytes: int, timeout: float, follow_redirects: bool = False,
    max_unpacked: int | None = None,
) -> GoroutineDump:
    """Read one dump. A debug=2 text dump from a file or stdin, gzipped or not, is
    streamed to the parser in chunks instead of being read whole; anything else goes
    through read_input.

    `max_bytes` bounds what is read (and a streamed dump, decompressed), `max_unpacked`
    (default: `max_bytes`) what a gzipped input held whole may decompress to. Any error
    names the input."""
    from leakhunter.collect.inputs import is_url, open_local, read_input
    from leakhunter.commands._common import input_name
    from leakhunter.errors import InputError
    from leakhunter.profiles import goroutine_text, read_goroutines
    from leakhunter.profiles.decompress import GunzipReader, is_gzip

    unpacked = max_bytes if max_unpacked is None else max_unpacked
    try:
        if spec == "-" or (not is_url(spec) and os.path.isfile(spec)):
            with open_local(spec, max_bytes=max_bytes) as src:
                head = src.read(1 << 20)
                if is_gzip(head):
                    gz = GunzipReader(src, max_bytes, head)
                    text = gz.read(1 << 20)
                    if goroutine_text.sniff(text) == "debug=2":
                        return goroutine_text.parse_file(gz, text)
                    gz.limit = unpacked  # held whole from here: the in-memory bound
                    return read_goroutines(text + gz.read(), max_bytes=unpacked)
                if goroutine_text.sniff(head) == "debug=2":
                    return goroutine_text.parse_file(src, head)
                data = head + src.read()
        else:
            data = read_input(spec, max_bytes=max_bytes, timeout=timeout,
                              follow_redirects=follow_redirects)
        return read_goroutines(data, max_bytes=unpacked if is_gzip(data) else max_bytes)
    except InputError as exc:
        raise exc.naming(input_name(spec)) from None


def run(args: argparse.Namespace) -> int:
    from leakhunter.analyze import goroutines as analysis

    if args.min_count is not None and args.min_count < 1:
        raise UsageError("--min-count must be at least 1")
    if args.source and not os.path.isdir(args.source):
        raise UsageError(f"--source {args.source}: not a directory")
    min_count = args.min_count or 1
    stuck_count = args.min_count or analysis.STUCK_COUNT
    stuck_minutes = (int(args.min_wait // 60) if args.min_wait is not None
                     else analysis.STUCK_MINUTES)
    state = None
    if args.state:
        try:
            state = re.compile(args.state)
        except re.error as exc:
            raise UsageError(f"--state: not a valid regular expression: {exc}") from None
    if args.diff and args.dump == "-" and args.diff == "-":
        raise UsageError("only one of DUMP and --diff can be '-' (stdin)")

    from leakhunter.commands._common import unpack_limit

    unpacked = unpack_limit(args)
    dump = load(args.dump, max_bytes=args.max_bytes, timeout=args.timeout,
                follow_redirects=args.follow_redirects, max_unpacked=unpacked)
    if args.diff:
        base = load(args.diff, max_bytes=args.max_bytes, timeout=args.timeout,
                    follow_redirects=args.follow_redirects, max_unpacked=unpacked)
        result = analysis.diff(base, dump, min_count=min_count, state=state,
                               stuck_count=stuck_count, stuck_minutes=stuck_minutes)
    else:
        result = analysis.analyze(dump, min_count=min_count, state=state,
                                  stuck_count=stuck_count, stuck_minutes=stuck_minutes)
    if args.source:
        from leakhunter.analyze.join import scan_findings

        analysis.attach_findings(result, scan_findings(args.source))

    for w in result.warnings:
        print(f"leakhunter: warning: {w}", file=sys.stderr)
    if args.format == "json":
        from leakhunter.report import goroutines_json

        sys.stdout.write(goroutines_json.render(result))
    else:
        from leakhunter.report import goroutines_text

        sys.stdout.write(goroutines_text.render(result, color=use_color(sys.stdout)))
    sys.stdout.flush()
    return 1 if result.leaked or result.stuck else 0
