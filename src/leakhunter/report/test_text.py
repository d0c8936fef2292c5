"""`leakhunter test` as text, in `go vet` style: one line per leak, editors jump to it.

    plain/plain.go:9: leaked 2 goroutines (test TestFirstResult): chan send in
        plain.FirstResult.func1, created at plain/plain.go:8; proven by the runtime
        LH104 unread-sends: <fix>

Paths are shown relative to the current directory when under it (as `go vet` does).
The summary and per-package notes are separate (`notes`) so they can go to stderr.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from leakhunter.analyze.testleaks import TestLeak, TestReport


def display_path(path: str) -> str:
    if not path:
        return "?"
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _short_function(fn: str) -> str:
    return fn.rsplit("/", 1)[-1]


def leak_line(lk: TestLeak) -> str:
    noun = "goroutine" if lk.count == 1 else "goroutines"
    if lk.test:
        test = lk.test
    elif lk.timer:
        test = "not named: a timer's function (time.AfterFunc) started it, on no test's goroutine"
    elif lk.attributed:
        test = "no test: package init or a goroutine outside tests"
    else:
        test = "not named: its goroutine lost the test's label and no creation stacks, see --ancestry"
    head = f"{display_path(lk.file)}:{lk.line}: leaked {lk.count} {noun} (test {test}): "
    what = f"{lk.state or 'blocked'} in {_short_function(lk.function)}"
    if lk.created_file:
        what += f", created at {display_path(lk.created_file)}:{lk.created_line}"
    what += "; proven by the runtime" if lk.proven else "; still alive after the tests"
    lines = [head + what]
    f = lk.finding
    if f is not None:
        lines.append(f"    {f.rule} {f.name}: {f.fix}" if f.fix else f"    {f.rule} {f.name}")
    return "\n".join(lines)


def render(report: TestReport) -> str:
    out = [leak_line(lk) for lk in report.leaks]
    return "\n".join(out) + ("\n" if out else "")


def notes(report: TestReport) -> Iterable[str]:
    """Per-package problems and one summary line, for stderr."""
    tested = [p for p in report.packages if p.has_tests]
    for p in tested:
        if p.build_failed:
            yield f"leakhunter: {p.package}: tests could not be built"
        elif not p.checked:
            yield f"leakhunter: {p.package}: leak check did not run ({p.note or 'the test binary exited before it'})"
        if p.tests_failed:
            yield f"leakhunter: {p.package}: failing tests: {', '.join(p.tests_failed)}"
    failing = sum(1 for p in tested if not p.ok and not p.build_failed)
    n = report.leaked_goroutines
    proven = sum(lk.count for lk in report.leaks if lk.proven)
    summary = (
        f"leakhunter: {len(tested)} package{'s' if len(tested) != 1 else ''} tested"
        f" ({sum(1 for p in tested if p.checked)} checked"
        + (f", {failing} with failing tests" if failing else "")
        + f"); {n} leaked goroutine{'s' if n != 1 else ''} at {len(report.leaks)} "
        f"site{'s' if len(report.leaks) != 1 else ''}"
        + (f", {proven} proven by the runtime" if proven else "")
    )
    yield summary
    if report.rerun:
        n_re = len(report.rerun)
        yield (f"leakhunter: {n_re} package{'s' if n_re != 1 else ''} with leaks the tests' labels "
               "did not name (or that the standard library started) ran again with "
               f"GODEBUG=tracebackancestors ({report.rerun_s:.1f}s)")
    for pkg in report.not_reproduced:
        yield (f"leakhunter: {pkg}: its leaks did not come back in that rerun (timing); counts "
               "are the first run's, tests named only where a goroutine's own stack shows one "
               "(--ancestry always names them in one run)")
    if report.evidence:
        yield f"leakhunter: evidence: {report.evidence}"
