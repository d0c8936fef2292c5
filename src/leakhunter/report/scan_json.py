"""`leakhunter scan --format json`: the DESIGN.md contract, for scripts.

    {"findings": [{"rule", "name", "severity", "file", "line", "column", "message", "fix",
                   "function", "end_line", "fingerprint"}],
     "files_scanned", "duration_s", "skipped": [{"file", "reason"}], "suppressed"}

The contract's keys are always present; the extra keys (`function`, `end_line`,
`fingerprint`, `suppressed`, `baseline_hidden`) only add to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leakhunter.model import Finding
    from leakhunter.source.scanner import ScanResult


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
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


def document(result: ScanResult, findings: Iterable[Finding], *, baseline_hidden: int = 0) -> dict[str, Any]:
    return {
        "findings": [finding_dict(f) for f in findings],
        "files_scanned": result.files_scanned,
        "duration_s": round(result.duration_s, 3),
        "skipped": [{"file": p, "reason": r} for p, r in result.skipped],
        "suppressed": result.suppressed,
        "baseline_hidden": baseline_hidden,
    }


def render(result: ScanResult, findings: Iterable[Finding], *, baseline_hidden: int = 0) -> str:
    return json.dumps(document(result, findings, baseline_hidden=baseline_hidden), indent=2) + "\n"
