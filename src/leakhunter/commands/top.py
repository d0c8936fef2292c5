"""`leakhunter top PROFILE`: flat and cum per function/line/file, like `go tool pprof -top`."""

from __future__ import annotations

import argparse
import sys

from leakhunter.commands._common import (
    add_format,
    add_max_bytes,
    check_output_path,
    nonneg_int,
    positive_duration,
    use_color,
)

NAME = "top"
HELP = "where memory (or time, or goroutines) sits in a pprof profile, like go tool pprof -top"
DESCRIPTION = (
    "Flat and cumulative values per function, line or file of a pprof profile (a file, "
    "'-' for stdin, or an http(s) URL of a /debug/pprof endpoint). Totals and rows equal "
    "`go tool pprof -top` with the same -sample_index, granularity, -focus/-ignore, "
    "-nodefraction (default 0.005, as pprof) and -nodecount (-n)."
)
ORDER = 20


def _fraction(text: str) -> float:
    try:
        f = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= f <= 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {text!r}")
    return f


def add_table_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by `top` and `diff` (pprof's names in the help)."""
    parser.add_argument(
        "--sample-index", metavar="NAME|N", default=None,
        help="sample type to show, by name (inuse_space, alloc_objects...) or index "
             "(default: the profile's default, else the last)",
    )
    parser.add_argument(
        "--by", choices=("function", "line", "file"), default="function",
        help="granularity of rows (pprof -functions / -lines / -files; default: function)",
    )
    parser.add_argument(
        "-n", "--nodecount", type=nonneg_int, default=0, metavar="N",
        help="show at most N rows (pprof -nodecount; default: all)",
    )
    parser.add_argument(
        "--node-fraction", type=_fraction, default=0.005, metavar="F",
        help="hide rows whose |cum| is below F of the total, as pprof does "
             "(-nodefraction; default 0.005; 0 shows every row)",
    )
    parser.add_argument(
        "--cum", action="store_true",
        help="sort rows by cumulative value (pprof -cum; default: by flat)",
    )
    parser.add_argument("--focus", metavar="RE", help="only samples with a frame matching RE")
    parser.add_argument("--ignore", metavar="RE", help="drop samples with a frame matching RE")
    add_format(parser)
    add_max_bytes(parser)
    parser.add_argument(
        "--timeout", type=positive_duration, default=30.0, metavar="DUR",
        help="give up on a URL after this long (default: 30s; a bare number is seconds)",
    )
    parser.add_argument(
        "--follow-redirects", action="store_true",
        help="follow a URL's redirect to another host (default: refuse it)",
    )
    parser.add_argument(
        "--flame", metavar="OUT.html",
        help="also write an interactive flame graph (icicle) of the same data: one offline "
             "HTML file, click to zoom, hover for values, search by name",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile", metavar="PROFILE", help="pprof profile: path, '-' or URL")
    add_table_options(parser)


def load(spec: str, args: argparse.Namespace) -> object:
    """Read and decode one profile argument (bytes from collect/, model from profiles/).

    Any error names the input (with `diff A B` the user must know which one is bad)."""
    from leakhunter.collect.inputs import read_input
    from leakhunter.commands._common import input_name, unpack_limit
    from leakhunter.errors import InputError
    from leakhunter.profiles import read_profile
    from leakhunter.profiles.decompress import is_gzip

    try:
        data = read_input(spec, max_bytes=args.max_bytes, timeout=args.timeout,
                          follow_redirects=getattr(args, "follow_redirects", False))
        limit = unpack_limit(args) if is_gzip(data) else args.max_bytes
        return read_profile(data, max_bytes=limit)
    except InputError as exc:
        raise exc.naming(input_name(spec)) from None


def write_flame(prof: object, args: argparse.Namespace, *, title: str, diff: bool = False) -> None:
    """`--flame OUT.html`: the flame graph of the profile `top`/`diff` just read."""
    from pathlib import Path

    from leakhunter.analyze.flame import flame_tree
    from leakhunter.errors import OutputError
    from leakhunter.model import Profile
    from leakhunter.report.flame import write_flame_page

    assert isinstance(prof, Profile)
    tree = flame_tree(prof, sample_index=args.sample_index, focus=args.focus, ignore=args.ignore)
    try:
        write_flame_page(Path(args.flame), tree, title=title, diff=diff)
    except OSError as exc:
        raise OutputError(f"--flame {args.flame}: cannot write: {exc.strerror or exc}") from None


def emit(table: object, args: argparse.Namespace) -> None:
    from leakhunter.analyze.aggregate import Table
    from leakhunter.report.top_text import render_json, render_text

    assert isinstance(table, Table)
    if args.format == "json":
        sys.stdout.write(render_json(table))
    else:
        sys.stdout.write(render_text(table, color=use_color()))


def run(args: argparse.Namespace) -> int:
    from leakhunter.analyze.aggregate import aggregate
    from leakhunter.model import Profile

    check_output_path(args.flame, "--flame")
    prof = load(args.profile, args)
    assert isinstance(prof, Profile)
    table = aggregate(
        prof, sample_index=args.sample_index, by=args.by, focus=args.focus,
        ignore=args.ignore, node_fraction=args.node_fraction, node_count=args.nodecount,
        cum_sort=args.cum,
    )
    if args.flame:
        write_flame(prof, args, title=f"leakhunter top {args.profile}")
    emit(table, args)
    return 0
