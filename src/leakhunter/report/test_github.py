"""`leakhunter test --format github`: one workflow-command annotation per leak.

Escaping is report.github's (a message can never break out of its command).
"""

from __future__ import annotations

from leakhunter.analyze.testleaks import TestLeak, TestReport
from leakhunter.report.github import escape_data, escape_property
from leakhunter.report.test_text import display_path


def annotation(lk: TestLeak) -> str:
    noun = "goroutine" if lk.count == 1 else "goroutines"
    title = f"goroutine leak ({lk.test})" if lk.test else "goroutine leak"
    msg = f"leaked {lk.count} {noun}: {lk.state or 'blocked'} in {lk.function}"
    if lk.created_file:
        msg += f", created at {display_path(lk.created_file)}:{lk.created_line}"
    msg += " (proven by the runtime)" if lk.proven else " (still alive after the tests)"
    if lk.finding is not None:
        msg += f"\n{lk.finding.rule} {lk.finding.name}: {lk.finding.fix}"
    props = f"file={escape_property(display_path(lk.file))},line={lk.line},title={escape_property(title)}"
    return f"::error {props}::{escape_data(msg)}"


def render(report: TestReport) -> str:
    lines = [annotation(lk) for lk in report.leaks]
    lines += [
        f"::warning title=leakhunter test::{escape_data(p.package + ': leak check did not run')}"
        for p in report.unchecked
    ]
    return "\n".join(lines) + ("\n" if lines else "")
