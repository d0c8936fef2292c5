"""`leakhunter report`: the watch store as one self-contained offline HTML file.

Thin wiring: open the store read-only → `report.html.write_report` (which runs the
same analysis as `watch`). Exit 0, or 2 when the store is missing or unreadable.
"""

from __future__ import annotations

import argparse

NAME = "report"
HELP = "write an offline HTML report (plots, verdicts, suspects) from a watch store"
ORDER = 41


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default="leakhunter.db", metavar="PATH",
                   help="store written by `leakhunter watch` (default ./leakhunter.db)")
    p.add_argument("--target", metavar="URL", help="only this target (default: all)")
    p.add_argument("-o", "--output", default="report.html", metavar="FILE",
                   help="HTML file to write (default report.html)")
    from leakhunter.commands._common import add_expect_growth

    add_expect_growth(p)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from leakhunter.analyze.expected import compile_expected
    from leakhunter.collect.store import Store
    from leakhunter.commands._common import check_output_path
    from leakhunter.errors import OutputError, UsageError
    from leakhunter.report.html import write_report

    out = Path(args.output)
    check_output_path(args.output, "-o")  # before the analysis, not after it
    with Store(args.db, readonly=True) as store:
        if not store.targets():
            raise UsageError(f"{args.db}: no targets recorded yet")
        try:
            write_report(store, out, target=args.target, expect_growth=compile_expected(args.expect_growth))
        except OSError as exc:
            raise OutputError(f"-o {out}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {out}", file=sys.stderr)
    return 0
