"""`leakhunter scan --format sarif`: SARIF 2.1.0 for GitHub code scanning and other viewers.

Choices that matter to consumers:
- `ruleId` is the catalog id (`LH101`), stable across releases; the rule's `name`,
  its docstring and its fix are in `tool.driver.rules`, so a viewer can show the
  fix next to the alert (`help.text` / `help.markdown`).
- Locations are URIs relative to `%SRCROOT%` (the directory the scan ran from),
  declared in `originalUriBaseIds`, so the same log is valid on another checkout.
- `partialFingerprints["leakhunterFingerprint/v1"]` is the baseline fingerprint: it
  survives unrelated line shifts, so code scanning keeps an alert's identity.
- Files that could not be read, and functions the parser could not read, become
  `toolExecutionNotifications`, not results; the invocation's `properties` count
  the unanalysed places and the findings hidden by the noise policy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from leakhunter import __version__

if TYPE_CHECKING:
    from leakhunter.model import Finding
    from leakhunter.source.rule import Rule
    from leakhunter.source.scanner import ScanResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "leakhunterFingerprint/v1"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _first_paragraph(doc: str) -> str:
    text = (doc or "").strip()
    return " ".join(text.split("\n\n", 1)[0].split())


def rule_descriptor(rule: type[Rule]) -> dict[str, Any]:
    """A `reportingDescriptor` for one rule: names, documentation, the fix, the examples."""
    import inspect

    doc = inspect.cleandoc(rule.__doc__ or "")
    short = _first_paragraph(doc) or rule.name
    md = [f"**{rule.id} {rule.name}**", "", doc, "", f"**Fix:** {rule.fix}"]
    if rule.leaking_example:
        md += ["", "Leaking:", "```go", rule.leaking_example.strip("\n"), "```"]
    if rule.fixed_example:
        md += ["", "Fixed:", "```go", rule.fixed_example.strip("\n"), "```"]
    from leakhunter.report import trust

    props: dict[str, Any] = {"tags": ["leak", "go"], "leakhunterName": rule.name}
    got = trust.measured(rule.id)
    if got is not None:
        # measured on held-out modules (report/trust.py); code-scanning UIs sort and filter by it
        label = trust.precision_label(rule.id)
        if label is not None:
            props["precision"] = label
        props["leakhunterMeasured"] = {"true": got[0], "triaged": got[1], "sets": trust.SETS}
    return {
        "id": rule.id,
        "name": "".join(p.capitalize() for p in rule.name.split("-")) or rule.id,
        "shortDescription": {"text": short},
        "fullDescription": {"text": doc or short},
        "help": {"text": f"{doc}\n\nFix: {rule.fix}".strip(), "markdown": "\n".join(md)},
        "defaultConfiguration": {"level": _LEVEL[rule.severity], "enabled": rule.enabled_by_default},
        "properties": props,
    }


def _uri(file: str, root: Path) -> tuple[str, bool]:
    """(uri, relative?) for a display path: relative to root when inside it."""
    p = Path(file)
    absolute = p if p.is_absolute() else (Path.cwd() / p)
    try:
        rel = Path(os.path.normpath(absolute)).relative_to(root)
        return quote(rel.as_posix()), True
    except ValueError:
        return Path(os.path.normpath(absolute)).as_uri(), False


def _location(file: str, root: Path, line: int = 0, column: int = 0, end_line: int = 0) -> dict[str, Any]:
    uri, rel = _uri(file, root)
    art: dict[str, Any] = {"uri": uri}
    if rel:
        art["uriBaseId"] = "%SRCROOT%"
    phys: dict[str, Any] = {"artifactLocation": art}
    if line > 0:
        region: dict[str, Any] = {"startLine": line}
        if column > 0:
            region["startColumn"] = column
        if end_line >= line:
            region["endLine"] = end_line
        phys["region"] = region
    return {"physicalLocation": phys}


def _result(f: Finding, index: dict[str, int], root: Path) -> dict[str, Any]:
    res: dict[str, Any] = {
        "ruleId": f.rule,
        "level": _LEVEL.get(f.severity, "warning"),
        "message": {"text": f"{f.message}\nFix: {f.fix}" if f.fix else f.message},
        "locations": [_location(f.file, root, f.line, f.column, f.end_line)],
    }
    if f.rule in index:
        res["ruleIndex"] = index[f.rule]
    if f.fingerprint:
        res["partialFingerprints"] = {FINGERPRINT_KEY: f.fingerprint}
    if f.function:
        res["locations"][0]["logicalLocations"] = [{"name": f.function, "kind": "function"}]
    return res


def document(
    result: ScanResult,
    findings: Sequence[Finding],
    rules: Sequence[type[Rule]],
    *,
    root: Path | None = None,
    hidden_severity: int = 0,
    hidden_tests: int = 0,
    hidden_commands: int = 0,
) -> dict[str, Any]:
    """The SARIF log as a dict (see the module docstring for the shape)."""
    base = (root or Path.cwd()).absolute()
    descriptors = [rule_descriptor(r) for r in rules]
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    notifications = [
        {
            "level": "warning",
            "message": {"text": f"skipped: {reason}"},
            "locations": [_location(path, base)],
        }
        for path, reason in result.skipped
    ]
    notifications += [
        {"level": "error", "message": {"text": f"rule {rid} failed: {err}"}, "locations": [_location(path, base)]}
        for path, rid, err in result.rule_errors
    ]
    notifications += [
        {
            "level": "warning",
            "message": {"text": f"not analysed: {u.function or 'declaration'}: {u.reason}"},
            "locations": [_location(u.file, base, u.line, 0, u.end_line)],
        }
        for u in result.unanalysed
        if u.line > 0
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "leakhunter",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": "https://pypi.org/project/leakhunter/",
                "rules": descriptors,
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"uri": base.as_uri() + "/"}},
        "invocations": [{
            "executionSuccessful": True,
            "toolExecutionNotifications": notifications,
            "properties": {"unanalysed": len(result.unanalysed), "hiddenBelowMinSeverity": hidden_severity,
                           "hiddenInTests": hidden_tests, "hiddenInCommands": hidden_commands},
        }],
        "results": [_result(f, index, base) for f in findings],
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def render(
    result: ScanResult,
    findings: Sequence[Finding],
    rules: Sequence[type[Rule]],
    *,
    root: Path | None = None,
    hidden_severity: int = 0,
    hidden_tests: int = 0,
    hidden_commands: int = 0,
) -> str:
    doc = document(result, findings, rules, root=root, hidden_severity=hidden_severity, hidden_tests=hidden_tests,
                   hidden_commands=hidden_commands)
    return json.dumps(doc, indent=2) + "\n"
