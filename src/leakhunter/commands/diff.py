"""`leakhunter diff BASE NEW`: what grew between two profiles (`go tool pprof -base`)."""

from __future__ import annotations

import argparse

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


def run(args: argparse.Namespace) -> int:
    from leakhunter.analyze.diff import diff, merge_negated
    from leakhunter.errors import InputError, UsageError
    from leakhunter.model import Profile

    if args.base == "-" and args.new == "-":
        raise UsageError("only one of BASE and NEW can be '-' (stdin)")
    check_output_path(args.flame, "--flame")
    check_output_path(args.output, "-o")
    base = load(args.base, args)
    new = load(args.new, args)
    assert isinstance(base, Profile) and isinstance(new, Profile)
    merged = merge_negated(base, new)
    table = diff(
        base, new, sample_index=args.sample_index, by=args.by, focus=args.focus,
        ignore=args.ignore, node_fraction=args.node_fraction, node_count=args.nodecount,
        merged=merged, cum_sort=args.cum,
    )
    if args.output:
        from leakhunter.profiles.pprof import encode

        try:
            with open(args.output, "wb") as f:
                f.write(encode(merged))
        except OSError as exc:
            raise InputError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
    if args.flame:
        write_flame(merged, args, title=f"leakhunter diff {args.base} {args.new}", diff=True)
    emit(table, args)
    return 0
