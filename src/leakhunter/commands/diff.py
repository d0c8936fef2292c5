"""`leakhunter diff BASE NEW`: what grew between two profiles (`go tool pprof -base`)."""

from __future__ import annotations

import argparse
import sys

from leakhunter.commands._common import check_output_path
from leakhunter.commands.top import add_table_options, emit, load, write_flame

NAME = "diff"
HELP = "NEW minus BASE per function/line/file, like go tool pprof -top -base BASE NEW"
DESCRIPTION = (
    "Subtract BASE from NEW with pprof's -base semantics (BASE negated and merged into "
    "NEW) and show flat/cum per row. -o writes the merged profile as a pprof file that "
    "`go tool pprof` opens and agrees with."
)
ORDER = 21


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", metavar="BASE", help="the earlier profile: path, '-' or URL")
    parser.add_argument("new", metavar="NEW", help="the later profile: path, '-' or URL")
    add_table_options(parser)
    parser.add_argument(
        "-o", "--output", metavar="OUT.pb.gz",
        help="also write the difference as a gzipped pprof profile",
    )
    parser.add_argument(
        "--keep-profiler", action="store_true",
        help="keep what serving the profiles cost (stacks through net/http/pprof, runtime/pprof "
             "and their compression), as go tool pprof does; left out by default",
    )


def run(args: argparse.Namespace) -> int:
    from leakhunter.analyze.diff import diff, merge_negated
    from leakhunter.errors import OutputError, UsageError
    from leakhunter.model import Profile

    if args.base == "-" and args.new == "-":
        raise UsageError("only one of BASE and NEW can be '-' (stdin)")
    check_output_path(args.flame, "--flame")
    check_output_path(args.output, "-o")
    base = load(args.base, args)
    new = load(args.new, args)
    assert isinstance(base, Profile) and isinstance(new, Profile)
    dropped = [0, 0]
    if not args.keep_profiler:
        # Two profiles fetched from a live service differ first by the cost of serving
        # them: the later one holds what the earlier fetch allocated (its encoding, its
        # gzip). That growth is the profiler's, never the service's (issue 9's audit: 100%
        # of a live heap diff was compress/flate under net/http/pprof).
        from leakhunter.analyze.suspects import without_profiler

        kept = without_profiler(base), without_profiler(new)
        dropped = [len(p.samples) - len(k.samples) for p, k in zip((base, new), kept, strict=True)]
        base, new = kept
    merged = merge_negated(base, new)
    if not args.keep_profiler and any(dropped):
        print(f"leakhunter: left out the profiler's own samples (stacks through net/http/pprof "
              f"or runtime/pprof): {dropped[0]} of BASE, {dropped[1]} of NEW; --keep-profiler "
              "keeps them, as go tool pprof does", file=sys.stderr)
    table = diff(
        base, new, sample_index=args.sample_index, by=args.by, focus=args.focus,
        ignore=args.ignore, node_fraction=args.node_fraction, node_count=args.nodecount,
        merged=merged, cum_sort=args.cum,
    )
    if args.output:
        from leakhunter.atomic import write_atomic
        from leakhunter.profiles.pprof import encode

        try:
            write_atomic(args.output, encode(merged))
        except OSError as exc:
            raise OutputError(f"-o {args.output}: cannot write: {exc.strerror or exc}") from None
    if args.flame:
        write_flame(merged, args, title=f"leakhunter diff {args.base} {args.new}", diff=True)
    emit(table, args)
    return 0
