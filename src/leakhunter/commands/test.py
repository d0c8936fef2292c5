"""`leakhunter test`: `go test` with a goroutine-leak check after every package, tree untouched."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from leakhunter.commands._common import nonempty_text, nonneg_duration
from leakhunter.errors import InputError, UsageError

NAME = "test"
ORDER = 35
HELP = "run go test and report the goroutines each test leaves behind"
DESCRIPTION = (
    "Run `go test` on PACKAGES (default ./...) with a goroutine-leak check injected through "
    "`go test -overlay` (the tree is never written). After each package's tests, goroutines "
    "still alive after --settle are leaks (minus the testing package's own, --ignore and "
    "[test] ignore in .leakhunter.toml); where the toolchain has the goroutineleak profile "
    "(Go 1.27, or Go 1.26 with GOEXPERIMENT=goroutineleakprofile, set automatically) the "
    "runtime's proof marks them `proven`. Each leak names its test, the line where it "
    "blocks, the line that created it and, joined with `scan`, the catalog rule and fix; "
    "the test comes from a pprof label each test's goroutines carry (inherited by every "
    "goroutine they start), else from GODEBUG=tracebackancestors stacks, taken in a "
    "second run of only the packages whose leaks the labels did not name (--ancestry). "
    "Arguments after `--` go to `go test` (`-- -run TestX -v`). go test's output goes to "
    "stderr. Exit status: 0 no leak, 1 leaks, 2 tests could not be built or run."
)
DEFAULT_SETTLE_S = 0.5


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.usage = (
        "leakhunter test [PACKAGES ...] [--source DIR] [--settle DURATION] [--ignore FUNC] "
        "[--format {text,json,github,sarif}] [--no-scan] [--ancestry {rerun,always,off}] "
        "[--fail-on-test-failure] [-- GO_TEST_ARGS ...]"
    )
    p.add_argument("packages", nargs="*", metavar="PACKAGES",
                   help="package patterns as go test takes them (default: ./...)")
    p.add_argument("--source", type=Path, default=Path("."), metavar="DIR",
                   help="the module directory to run in (default: .)")
    p.add_argument("--settle", type=nonneg_duration, default=DEFAULT_SETTLE_S, metavar="DURATION",
                   help="how long goroutines may take to end after the tests, retried with "
                   "backoff (default: 500ms, about goleak's)")
    p.add_argument("--ignore", action="append", default=[], type=nonempty_text, metavar="FUNC",
                   help="never report goroutines with FUNC (or its closures) on their stack "
                   "(repeatable; e.g. go.opencensus.io/stats/view.(*worker).start)")
    p.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text",
                   help="output format (default: text)")
    p.add_argument("--no-scan", action="store_true",
                   help="do not join leaks with `scan` findings (catalog rule and fix)")
    p.add_argument("--ancestry", choices=("rerun", "always", "off"), default="rerun",
                   help="creation stacks (GODEBUG=tracebackancestors), for leaks the tests' "
                   "labels do not name (the code under test replaced its goroutines' labels) "
                   "or whose creating line is in the standard library: in a second run of "
                   "only those packages (rerun, default), in the one run (always: for leaks "
                   "that depend on timing; every `go` statement costs a stack walk), or off")
    p.add_argument("--fail-on-test-failure", action="store_true",
                   help="exit 1 when a test failed even if nothing leaked (for a CI that runs "
                   "`leakhunter test` instead of `go test`; by default the exit code is about "
                   "leaks only, and failing tests are reported, not counted)")
    _split_go_args(p)


def _split_go_args(p: argparse.ArgumentParser) -> None:
    """Everything after the first `--` is go test's: keep it out of argparse's hands
    (argparse would merge it into PACKAGES and lose the boundary)."""
    inner = p.parse_known_args

    def parse_known_args(
        args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        argv = list(sys.argv[1:] if args is None else args)
        go_args: list[str] = []
        if "--" in argv:
            k = argv.index("--")
            argv, go_args = argv[:k], argv[k + 1 :]
        ns, extra = inner(argv, namespace)
        ns.go_args = go_args
        return ns, extra

    p.parse_known_args = parse_known_args  # type: ignore[method-assign,assignment]


def _evidence(version: str, proof: bool, settle_s: float) -> str:
    alive = f"goroutines still alive {settle_s * 1000:g}ms after the tests (liveness, as goleak)"
    if proof:
        return f"{version}: the runtime's goroutineleak profile (proof) and {alive}"
    return (
        f"{version}: {alive} only; no goroutineleak profile in this toolchain "
        "(Go 1.27+, or Go 1.26 with GOEXPERIMENT=goroutineleakprofile, give proof)"
    )


def run(args: argparse.Namespace) -> int:
    from leakhunter.collect.gotest import go_command, run_go_test, start_listing

    source: Path = args.source
    if not source.is_dir():
        raise UsageError(f"--source {source}: not a directory")
    patterns = list(args.packages) or ["./..."]
    go = go_command()
    # go list runs while the rest is imported and the configuration read (~0.1-0.3 s of
    # a run's fixed cost overlapped).
    listing = start_listing(go, source, patterns)
    from leakhunter.analyze.testleaks import (
        PackageOutcome,
        TestLeak,
        TestReport,
        attribute,
        files_to_scan,
        join_findings,
        merge_rerun,
        rerun_plan,
    )
    from leakhunter.source.config import config_for

    go_args: list[str] = list(getattr(args, "go_args", []))
    try:
        cfg = config_for(source)
    except BaseException:
        listing.kill()
        listing.communicate()
        raise
    ignore = [*args.ignore, *cfg.test_ignore]

    def plan(pr: Any) -> list[str] | None:
        return rerun_plan(attribute(pr.package, pr.dump, proof=pr.proof_written, ignore=ignore,
                                    subtests=pr.subtests))

    result = run_go_test(source, patterns, go_args, settle_s=args.settle, ignore=ignore, go=go,
                         listing=listing, ancestry=args.ancestry, needs_ancestry=plan)
    not_reproduced = [p.package for p in result.packages if p.ancestry == "not-reproduced"]

    leaks: list[TestLeak] = []
    outcomes: list[PackageOutcome] = []
    for pr in result.packages:
        proof = str((pr.meta or {}).get("proof", ""))
        note = pr.error
        if pr.injected and pr.ran and pr.meta is None and not note:
            note = "the test binary exited before the check (a panic, a timeout, or os.Exit outside TestMain)"
        outcomes.append(PackageOutcome(
            package=pr.package, ok=pr.ok and not pr.build_failed and not pr.error,
            tests_failed=list(pr.tests_failed), checked=pr.meta is not None,
            build_failed=pr.build_failed or (bool(pr.error) and pr.injected),
            has_tests=pr.injected or pr.build_failed, note=note, proof=proof,
        ))
        if pr.dump:
            pkg_leaks = attribute(pr.package, pr.dump, proof=pr.proof_written, ignore=ignore,
                                  subtests=pr.subtests)
            if pr.ancestry in ("off", "not-reproduced", "labels", "rerun-tests"):
                for lk in pkg_leaks:
                    lk.attributed = bool(lk.test)
            if pr.ancestry == "rerun-tests":
                again = attribute(pr.package, pr.rerun_dump, proof=pr.rerun_proof_written, ignore=ignore,
                                  subtests=pr.rerun_subtests)
                merged = merge_rerun(pkg_leaks, again, pr.rerun_tests)
                if merged is None:
                    not_reproduced.append(pr.package)
                else:
                    pkg_leaks = merged
            leaks.extend(pkg_leaks)

    if leaks and not args.no_scan:
        files = files_to_scan(leaks)
        if files:
            from leakhunter.source.registry import all_rules
            from leakhunter.source.scanner import scan_paths

            found = scan_paths(files, rules=[r.id for r in all_rules()], jobs=1).findings
            join_findings(leaks, found)

    report = TestReport(
        packages=outcomes, leaks=leaks, go_version=result.go_version_text,
        evidence=_evidence(result.go_version_text, result.proof_available, args.settle),
        proof_available=result.proof_available, settle_s=args.settle,
        ancestry=args.ancestry, rerun=list(result.rerun), rerun_s=result.rerun_wall_s,
        not_reproduced=sorted(not_reproduced),
    )
    _emit(report, args.format)

    built_failed = [p for p in outcomes if p.build_failed]
    if built_failed:
        names = ", ".join(p.package for p in built_failed[:3])
        more = f" and {len(built_failed) - 3} more" if len(built_failed) > 3 else ""
        raise InputError(f"tests could not be built: {names}{more} (go test's output is above)")
    if leaks:
        return 1
    unchecked = report.unchecked
    if unchecked:
        raise InputError(
            f"leak check did not run in {unchecked[0].package}"
            + (f" and {len(unchecked) - 1} more" if len(unchecked) > 1 else "")
            + f": {unchecked[0].note}"
        )
    failed = [p for p in outcomes if p.tests_failed or (p.has_tests and not p.ok)]
    if failed and args.fail_on_test_failure:
        tests = sum(len(p.tests_failed) for p in failed)
        sys.stderr.write(f"leakhunter: tests failed in {len(failed)} package(s)"
                         + (f" ({tests} test(s))" if tests else "") + "; no leak found\n")
        return 1
    return 0


def _emit(report: Any, fmt: str) -> None:
    from leakhunter.report import test_text

    if fmt == "json":
        from leakhunter.report import test_json

        text = test_json.render(report)
    elif fmt == "github":
        from leakhunter.report import test_github

        text = test_github.render(report)
    elif fmt == "sarif":
        from leakhunter.report import test_sarif

        text = test_sarif.render(report)
    else:
        text = test_text.render(report)
    sys.stdout.write(text)
    sys.stdout.flush()
    for line in test_text.notes(report):
        print(line, file=sys.stderr)
