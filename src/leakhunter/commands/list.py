"""`leakhunter list PROFILE REGEX`: annotated source, like `go tool pprof -list REGEX`."""

from __future__ import annotations

import argparse
import sys

from leakhunter.commands._common import add_format, add_max_bytes, nonempty_text, positive_duration

NAME = "list"
HELP = "source lines of the functions matching REGEX with flat and cum, like go tool pprof -list"
DESCRIPTION = (
    "For every function whose name REGEX matches (searched, not anchored, as pprof does): "
    "the total flat and cum of the function, then its source lines from the function's "
    "first line (when the profile records it; else five before the first sampled line) to "
    "five after the last sampled line, each with its own flat and cum. Numbers "
    "equal `go tool pprof -list REGEX` (with --base: `-base BASE`). Source files are read "
    "from the paths in the profile, or found under --source-path (default: the current "
    "directory) the way pprof's -source_path finds them. JSON: the first matching routine "
    "as {function, file, lines:[{line, flat, cum, text}]}, every match in 'routines'."
)
ORDER = 22


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("profile", metavar="PROFILE", help="pprof profile: path, '-' or URL")
    p.add_argument("regex", metavar="REGEX", type=nonempty_text,
                   help="regular expression searched in function names (main\\.leak, Handler)")
    p.add_argument("--base", metavar="BASE",
                   help="subtract this earlier profile first (pprof -base): list what grew")
    p.add_argument("--source-path", metavar="DIR",
                   help="where to look for source files (pprof -source_path; "
                        "several joined with ':'; default: the current directory)")
    p.add_argument("--sample-index", metavar="NAME|N", default=None,
                   help="sample type to show (default: the profile's default, else the last)")
    add_format(p)
    add_max_bytes(p)
    p.add_argument("--timeout", type=positive_duration, default=30.0, metavar="DUR",
                   help="give up on a URL after this long (default: 30s)")


def run(args: argparse.Namespace) -> int:
    from leakhunter.analyze.listing import listing
    from leakhunter.commands._common import use_color
    from leakhunter.commands.top import load
    from leakhunter.errors import UsageError
    from leakhunter.model import Profile
    from leakhunter.report.listing_text import render_json, render_text

    if args.base == "-" and args.profile == "-":
        raise UsageError("only one of PROFILE and --base can be '-' (stdin)")
    prof = load(args.profile, args)
    assert isinstance(prof, Profile)
    if args.base:
        from leakhunter.analyze.diff import merge_negated

        base = load(args.base, args)
        assert isinstance(base, Profile)
        prof = merge_negated(base, prof)
    lst = listing(prof, args.regex, sample_index=args.sample_index, source_path=args.source_path)
    if args.format == "json":
        sys.stdout.write(render_json(lst))
    else:
        sys.stdout.write(render_text(lst, color=use_color()))
    return 0
