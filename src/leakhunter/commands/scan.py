"""`leakhunter scan`: find the catalog's leak patterns in Go source, with the fix for each."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from leakhunter.commands._common import positive_int, positive_size, use_color
from leakhunter.errors import InputError, UsageError

NAME = "scan"
ORDER = 10
HELP = "find leak patterns (LH101-LH505) in Go source"
DESCRIPTION = (
    "Scan Go source for the leak patterns of the leak catalog (`leakhunter rules` lists them). "
    "PATH may be a file, a directory (walked recursively), `./...` or `dir/...`; default `.`. "
    "vendor/, testdata/, hidden and _-prefixed directories and generated files are skipped. "
    "By default only warning and error findings are shown (info findings are costs, not leaks: "
    "--show-info or --min-severity info shows them), and findings in test code are hidden "
    "(--tests shows them): *_test.go files and test support (files importing testing, testify, "
    "ginkgo or gomega, and directories such as test/, testutil/, e2e/, mocks/), and functions the "
    "package's production code never reaches (only tests, or nothing): on held-out code "
    "28% of the former were true and every true one of the latter was harmless; `leakhunter test` "
    "proves test goroutine leaks at run time. Findings in command-line programs' own code are hidden "
    "too (--commands shows them): on held-out code none of 13 was true. "
    "The summary counts what was hidden. "
    "Results are cached per file content, package, rules and leakhunter version in "
    "$LEAKHUNTER_CACHE_DIR (default $XDG_CACHE_HOME/leakhunter or ~/.cache/leakhunter); --no-cache "
    "scans everything afresh. "
    "Exit status: 0 no finding at or above --fail-on and all code analysed; 1 findings at or above "
    "--fail-on; 2 usage error, nothing readable, or some Go code not analysed (a file that cannot be "
    "read or a function the parser cannot read; listed on stderr and under `unanalysed` in JSON; "
    "--allow-unanalysed accepts that and exits 0/1 on the findings alone)."
)
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


def _id_list(text: str) -> list[str]:
    return [t for t in text.replace(",", " ").split() if t]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    p.add_argument(
        "--format", choices=("text", "json", "sarif", "github"), default="text",
        help="output format (default: text)",
    )
    p.add_argument(
        "--fail-on", choices=("info", "warning", "error"), default="warning",
        help="exit 1 only for findings at or above this severity (default: warning; "
        "--fail-on info also shows info findings)",
    )
    p.add_argument(
        "--min-severity", choices=("info", "warning", "error"), default=None,
        help="show only findings at or above this severity, in every format (default: warning: "
        "info findings are costs, not leaks, and are counted in the summary but not shown); "
        "hidden findings never fail the run",
    )
    p.add_argument("--show-info", action="store_true", help="show info findings too (= --min-severity info)")
    p.add_argument(
        "--allow-unanalysed", action="store_true",
        help="exit 0/1 on the findings alone even when some Go code could not be analysed "
        "(default: exit 2 then, so CI never passes on code nobody read; it is reported either way)",
    )
    p.add_argument("--no-cache", action="store_true",
                   help="neither read nor write the result cache (scan every file afresh)")
    p.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                   help="skip files/directories matching GLOB (repeatable)")
    p.add_argument("--exclude-tests", action="store_true", help="do not read *_test.go files at all")
    p.add_argument(
        "--tests", action="store_true",
        help="show findings in test code too: *_test.go files and test support (files importing "
        "testing/testify/ginkgo/gomega, directories such as test/, testutil/, e2e/, mocks/) and "
        "functions production code never reaches (only tests, or nothing); default: "
        "hidden and counted in the summary; hidden findings never fail the run",
    )
    p.add_argument(
        "--commands", action="store_true",
        help="show findings in the own code of command-line tools (a `package main` and the packages "
        "under its directory, in a program that declares a CLI (cobra, urfave/cli, kingpin, ffcli, "
        "kong, flag sets) or sits under tools/, hack/, gen/, and whose own code starts no listener, "
        "server, handler or controller manager): it runs a command and exits; default: hidden and counted",
    )
    p.add_argument("--enable", action="append", default=[], type=_id_list, metavar="IDS",
                   help="also run these rules (comma-separated ids or names)")
    p.add_argument("--disable", action="append", default=[], type=_id_list, metavar="IDS",
                   help="do not run these rules")
    p.add_argument("--baseline", type=Path, metavar="FILE",
                   help="report only findings not recorded in FILE")
    p.add_argument("--write-baseline", type=Path, metavar="FILE",
                   help="record the current findings in FILE and exit 0")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="use this config instead of the nearest .leakhunter.toml")
    p.add_argument("--max-file-size", type=positive_size, default=None, metavar="SIZE",
                   help="skip non-generated files larger than this (default: 10MiB)")
    p.add_argument("--jobs", "-j", type=positive_int, default=None, metavar="N",
                   help="worker processes (default: all cores)")
    p.add_argument("--output", "-o", type=Path, metavar="FILE", help="write the report to FILE")


def run(args: argparse.Namespace) -> int:
    # Only what this run needs: a re-scan served from the cache is mostly start-up time.
    from leakhunter.report import scan_text
    from leakhunter.source.config import config_for, resolve_rule_id, selected_rules
    from leakhunter.source.scanner import display_root, not_built, scan_paths

    paths: list[str] = list(args.paths) or ["."]
    cfg = config_for(display_root(paths), args.config)
    cfg.cli_exclude = list(args.exclude)
    cfg.exclude_tests = cfg.exclude_tests or args.exclude_tests
    if args.max_file_size is not None:
        if args.max_file_size <= 0:
            raise UsageError("--max-file-size must be positive")
        cfg.max_file_size = args.max_file_size
    enable = {resolve_rule_id(t) for group in args.enable for t in group}
    disable = {resolve_rule_id(t) for group in args.disable for t in group}
    rule_ids = selected_rules(cfg, enable, disable)
    if not rule_ids:
        raise UsageError("no rules selected (check --disable and .leakhunter.toml)")
    known = None
    if args.baseline:
        from leakhunter.source.baseline import read_baseline

        known = read_baseline(args.baseline)

    store = None
    if not args.no_cache:
        from leakhunter.source.cache import ResultCache

        store = ResultCache()
    try:
        result = scan_paths(paths, config=cfg, rules=rule_ids, jobs=args.jobs, cache=store)
    finally:
        if store is not None:
            store.close()
    if store is not None and store.note:
        print(f"leakhunter: note: {store.note}", file=sys.stderr)

    if result.files_scanned == 0:
        unreadable = [s for s in result.skipped if not not_built(s[1])]
        if unreadable:
            for path, reason in unreadable[:20]:
                print(f"leakhunter: skipped {path}: {reason}", file=sys.stderr)
            raise InputError(f"none of the {len(unreadable)} Go files could be read")
        if not result.skipped:
            raise InputError(f"no Go files in {', '.join(paths)}")

    findings = result.findings
    hidden = 0
    if known is not None:
        from leakhunter.source.baseline import new_findings

        kept = new_findings(findings, known)
        hidden = len(findings) - len(kept)
        findings = kept

    if args.write_baseline:
        from leakhunter.source.baseline import write_baseline

        n = write_baseline(args.write_baseline, result.findings)
        print(f"leakhunter: wrote {n} finding{'s' if n != 1 else ''} to {args.write_baseline}", file=sys.stderr)
        return 0

    # Noise policy: what is shown is what a reviewer must act on; info is a cost, not a leak.
    # Exit 1 only ever follows findings that are shown: `--fail-on info` alone shows info
    # findings; an explicit --min-severity wins (what it hides cannot fail the run).
    min_sev = args.min_severity or ("info" if args.show_info else "warning")
    if args.min_severity is None and SEVERITY_RANK[args.fail_on] < SEVERITY_RANK[min_sev]:
        min_sev = args.fail_on
    floor = SEVERITY_RANK[min_sev]
    shown = [f for f in findings if SEVERITY_RANK.get(f.severity, 1) >= floor]
    below = len(findings) - len(shown)
    in_tests = in_commands = 0
    hidden_code: set[str] = set()
    if not (args.tests or cfg.show_tests):
        kept = [f for f in shown if not result.in_test_code(f)]
        in_tests = len(shown) - len(kept)
        shown = kept
        hidden_code |= result.test_code
    if not (args.commands or cfg.show_commands):
        kept = [f for f in shown if not result.in_command_code(f.file)]
        in_commands = len(shown) - len(kept)
        shown = kept
        hidden_code |= {u.file for u in result.unanalysed if result.in_command_code(u.file)}
    findings = shown
    if hidden_code and result.unanalysed:
        # Code whose findings are hidden cannot hide a leak from this run either: an 11 MiB
        # _test.go over the size limit made the default scan exit 2 (go-eth2-client, held-out 15).
        result = dataclasses.replace(
            result, unanalysed=[u for u in result.unanalysed if u.file not in hidden_code])

    out_stream = sys.stdout
    if args.format == "text":
        color = args.output is None and use_color(sys.stdout)
        text = scan_text.render(findings, color=color)
    elif args.format == "json":
        from leakhunter.report import scan_json

        text = scan_json.render(result, findings, baseline_hidden=hidden, hidden_severity=below,
                                min_severity=min_sev, hidden_tests=in_tests, hidden_commands=in_commands)
    elif args.format == "sarif":
        from leakhunter.report import sarif
        from leakhunter.source.registry import all_rules

        chosen = set(rule_ids)
        text = sarif.render(result, findings, [r for r in all_rules() if r.id in chosen], hidden_severity=below,
                            hidden_tests=in_tests, hidden_commands=in_commands)
    else:
        from leakhunter.report import github

        text = github.render(result, findings)
    if args.output is not None:
        from leakhunter.atomic import write_atomic
        from leakhunter.errors import OutputError

        try:
            # Whole or not at all: a SARIF file cut short by a full disk is read by CI as valid.
            write_atomic(args.output, text)
        except OSError as exc:
            raise OutputError(f"-o {args.output}: cannot write: {exc.strerror or exc}") from None
    else:
        out_stream.write(text)
        out_stream.flush()
    # Run notes (unreadable files, rule failures, the summary) go to stderr in every format.
    for line in scan_text.notes(result, findings, baseline_hidden=hidden, hidden_severity=below,
                                min_severity=min_sev, hidden_tests=in_tests, hidden_commands=in_commands):
        print(line, file=sys.stderr)

    threshold = SEVERITY_RANK[args.fail_on]
    failing = any(SEVERITY_RANK.get(f.severity, 1) >= threshold for f in findings)
    if failing:
        return 1
    if result.unanalysed and not args.allow_unanalysed:
        n = len(result.unanalysed)
        print(f"leakhunter: error: {n} place{'s' if n != 1 else ''} of Go code not analysed (listed above); "
              "exit 2 (--allow-unanalysed accepts this)", file=sys.stderr)
        return 2
    return 0
