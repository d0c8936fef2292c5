"""`leakhunter scan --format json`: the DESIGN.md contract, for scripts.

    {"findings": [{"rule", "name", "severity", "file", "line", "column", "message", "fix",
                   "function", "end_line", "fingerprint", "parks_in" (LH113 only)}],
     "files_scanned", "duration_s", "skipped": [{"file", "reason"}], "suppressed",
     "baseline_hidden", "hidden_below_min_severity", "min_severity", "hidden_in_tests", "hidden_in_commands",
     "unanalysed": [{"file", "line", "end_line", "function", "reason"}], "cached_files",
     "worker_peak_rss_mb"}

The contract's keys are always present; the extra keys only add to it. `unanalysed`
lists the Go code no rule saw: a function or declaration the parser could not read
(`line` > 0), or a whole file (`line` 0, `function` ""); generated files are not in it.
`hidden_below_min_severity` counts findings left out by the noise policy (`info` by
default; `--show-info` or `--min-severity info` shows them); `hidden_in_tests` counts findings
in test code left out by the same policy: `_test.go` files and test support (`source/testcode.py`;
`--tests` shows them); `hidden_in_commands` counts findings in the own code of command-line programs
that do not serve (`program/oneshot.command_program_of`; `--commands` shows them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leakhunter.model import Finding
    from leakhunter.source.scanner import ScanResult


def finding_dict(f: Finding) -> dict[str, Any]:
    d = {
        "rule": f.rule,
        "name": f.name,
        "severity": f.severity,
        "file": f.file,
        "line": f.line,
        "column": f.column,
        "message": f.message,
        "fix": f.fix,
        "function": f.function,
        "end_line": f.end_line or f.line,
        "fingerprint": f.fingerprint,
    }
    if f.parks_in:
        d["parks_in"] = f.parks_in  # only LH113's: every other finding's JSON is as before
    return d


def document(
    result: ScanResult,
    findings: Iterable[Finding],
    *,
    baseline_hidden: int = 0,
    hidden_severity: int = 0,
    min_severity: str = "info",
    hidden_tests: int = 0,
    hidden_commands: int = 0,
) -> dict[str, Any]:
    return {
        "findings": [finding_dict(f) for f in findings],
        "files_scanned": result.files_scanned,
        "duration_s": round(result.duration_s, 3),
        "skipped": [{"file": p, "reason": r} for p, r in result.skipped],
        "suppressed": result.suppressed,
        "baseline_hidden": baseline_hidden,
        "hidden_below_min_severity": hidden_severity,
        "min_severity": min_severity,
        "hidden_in_tests": hidden_tests,
        "hidden_in_commands": hidden_commands,
        "unanalysed": [
            {"file": u.file, "line": u.line, "end_line": u.end_line or u.line, "function": u.function,
             "reason": u.reason}
            for u in result.unanalysed
        ],
        "cached_files": result.cached_files,
        "worker_peak_rss_mb": round(result.worker_peak_rss_kb / 1024, 1),
    }


def render(
    result: ScanResult,
    findings: Iterable[Finding],
    *,
    baseline_hidden: int = 0,
    hidden_severity: int = 0,
    min_severity: str = "info",
    hidden_tests: int = 0,
    hidden_commands: int = 0,
) -> str:
    doc = document(result, findings, baseline_hidden=baseline_hidden, hidden_severity=hidden_severity,
                   min_severity=min_severity, hidden_tests=hidden_tests, hidden_commands=hidden_commands)
    return json.dumps(doc, indent=2) + "\n"
