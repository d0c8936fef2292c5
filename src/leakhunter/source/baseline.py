"""Baselines: accept today's findings, fail only on new ones.

A team adopting leakhunter on an old codebase cannot fix every finding at once; a
baseline records the existing ones so CI fails only on what a change introduces.
That only works if a finding keeps its identity while unrelated code moves, so the
fingerprint ignores line numbers. It hashes:

- the rule id,
- the file's path within its module (`module/path/file.go`, independent of where
  the scan was started; the display path when there is no go.mod),
- the enclosing function's name (`T.Method`, `F.func1`),
- the flagged line's text with all whitespace removed (reformatting is not a change),
- the occurrence index of that (rule, file, function, text) tuple, in source order,
  so two identical lines in one function are two findings.

Editing the flagged line itself, renaming its function or moving it to another
function makes it new: that is a change worth a second look.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from leakhunter.errors import InputError, UsageError
from leakhunter.model import Finding

BASELINE_VERSION = 1
MAX_BASELINE_BYTES = 1 << 30
_WS = re.compile(rb"\s+")


def fingerprints(findings: list[Finding], source: bytes, file_key: str) -> list[str]:
    """Fingerprints for one file's findings (same order as given)."""
    lines = source.split(b"\n")
    order = sorted(range(len(findings)), key=lambda i: (findings[i].line, findings[i].column, findings[i].rule))
    seen: dict[tuple[str, str, bytes], int] = {}
    out = [""] * len(findings)
    for i in order:
        f = findings[i]
        text = _WS.sub(b"", lines[f.line - 1]) if 0 < f.line <= len(lines) else b""
        key = (f.rule, f.function, text)
        n = seen.get(key, 0)
        seen[key] = n + 1
        h = hashlib.sha256()
        for part in (f.rule.encode(), file_key.encode(), f.function.encode(), text, str(n).encode()):
            h.update(part)
            h.update(b"\0")
        out[i] = h.hexdigest()[:32]
    return out


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    """Write the fingerprints of `findings` (with readable context) to `path`; returns the count."""
    items = [
        {"fingerprint": f.fingerprint, "rule": f.rule, "file": f.file, "line": f.line, "function": f.function, "message": f.message}
        for f in findings
    ]
    items.sort(key=lambda x: (str(x["file"]), int(str(x["line"])), str(x["rule"])))
    doc = {"tool": "leakhunter", "version": BASELINE_VERSION, "findings": items}
    try:
        path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write baseline: {exc.strerror}") from None
    return len(items)


def read_baseline(path: Path) -> set[str]:
    """The fingerprints recorded in a baseline file; any damage is one InputError line."""
    from leakhunter.bounds import read_regular

    # A regular file under a bound, like a profile: a FIFO would block, /dev/zero never end.
    try:
        raw = read_regular(str(path), MAX_BASELINE_BYTES, "baseline")
    except InputError as exc:
        reason = str(exc).removeprefix("baseline: ")
        raise InputError(f"{path}: cannot read baseline: {reason}") from None
    return parse_baseline(raw, path)


def parse_baseline(raw: bytes, path: Path) -> set[str]:
    """The fingerprints in the bytes of a baseline file (`path` names it in errors)."""
    from leakhunter.bounds import loads_json
    from leakhunter.errors import CorruptInputError

    try:
        doc: Any = loads_json(raw, "baseline")
    except CorruptInputError as exc:
        why = str(exc).removeprefix("baseline: ").removeprefix("not valid JSON: ")
        raise InputError(f"{path}: not a leakhunter baseline (invalid JSON: {why})") from None
    if not isinstance(doc, dict) or doc.get("tool") != "leakhunter" or not isinstance(doc.get("findings"), list):
        raise InputError(f"{path}: not a leakhunter baseline (write one with --write-baseline)")
    if doc.get("version") != BASELINE_VERSION:
        raise InputError(f"{path}: baseline version {repr(doc.get('version'))[:40]} not supported (expected {BASELINE_VERSION})")
    out: set[str] = set()
    for item in doc["findings"]:
        if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str):
            raise InputError(f"{path}: not a leakhunter baseline (finding without fingerprint)")
        out.add(item["fingerprint"])
    return out


def new_findings(findings: list[Finding], known: set[str]) -> list[Finding]:
    """The findings whose fingerprint is not in the baseline."""
    return [f for f in findings if f.fingerprint not in known]
