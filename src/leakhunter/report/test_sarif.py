"""`leakhunter test --format sarif`: SARIF 2.1.0, one result per leak site.

The result's rule is `goroutine-leak` (the runtime's observation); when `scan` found a
catalog pattern at the same code, that rule's descriptor (from report.sarif, with its
fix) is included and named in the result's `properties.catalogRule`, and the message
carries the fix. The creating line is a `relatedLocation`. Paths are relative to
`%SRCROOT%` (the current directory), as in `scan`'s SARIF.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from leakhunter import __version__
from leakhunter.analyze.testleaks import TestLeak, TestReport
from leakhunter.report.sarif import SARIF_SCHEMA, _location, rule_descriptor

LEAK_RULE = "goroutine-leak"


def _leak_descriptor() -> dict[str, Any]:
    text = (
        "Goroutines still alive after the package's tests ended (after a settle period), "
        "or proven unreachable by the runtime's goroutineleak profile. Each is named by the "
        "test that started it, where it blocks and where it was created."
    )
    return {
        "id": LEAK_RULE,
        "name": "GoroutineLeak",
        "shortDescription": {"text": "goroutines a test left behind"},
        "fullDescription": {"text": text},
        "help": {"text": text},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["leak", "go", "test"]},
    }


def _result(lk: TestLeak, root: Path) -> dict[str, Any]:
    noun = "goroutine" if lk.count == 1 else "goroutines"
    msg = f"leaked {lk.count} {noun} (test {lk.test or '?'}): {lk.state or 'blocked'} in {lk.function}"
    msg += "; proven by the runtime" if lk.proven else "; still alive after the tests"
    if lk.finding is not None:
        msg += f"\n{lk.finding.rule} {lk.finding.name}. Fix: {lk.finding.fix}"
    res: dict[str, Any] = {
        "ruleId": LEAK_RULE,
        "level": "error",
        "message": {"text": msg},
        "locations": [_location(lk.file, root, lk.line)],
        "properties": {
            "package": lk.package, "test": lk.test, "count": lk.count, "proven": lk.proven,
            "state": lk.state,
        },
    }
    res["locations"][0]["logicalLocations"] = [{"name": lk.function, "kind": "function"}]
    if lk.created_file:
        rel = _location(lk.created_file, root, lk.created_line)
        rel["id"] = 0
        rel["message"] = {"text": "goroutine created here"}
        res["relatedLocations"] = [rel]
    if lk.finding is not None:
        res["properties"]["catalogRule"] = lk.finding.rule
    return res


def document(report: TestReport, *, root: Path | None = None) -> dict[str, Any]:
    base = (root or Path.cwd()).absolute()
    rules = [_leak_descriptor()]
    joined = sorted({lk.finding.rule for lk in report.leaks if lk.finding is not None})
    if joined:
        from leakhunter.source.registry import all_rules

        rules += [rule_descriptor(r) for r in all_rules() if r.id in joined]
    notes = [
        {"level": "warning", "message": {"text": f"{p.package}: leak check did not run"}}
        for p in report.unchecked
    ]
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "leakhunter", "version": __version__, "semanticVersion": __version__,
            "informationUri": "https://pypi.org/project/leakhunter/", "rules": rules,
        }},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": base.as_uri() + "/"}},
        "invocations": [{
            "executionSuccessful": not report.unchecked,
            "toolExecutionNotifications": notes,
            "properties": {"goVersion": report.go_version, "evidence": report.evidence},
        }],
        "results": [_result(lk, base) for lk in report.leaks],
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def render(report: TestReport, *, root: Path | None = None) -> str:
    return json.dumps(document(report, root=root), indent=2) + "\n"
