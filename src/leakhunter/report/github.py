"""`leakhunter scan --format github`: GitHub Actions workflow commands.

Each finding becomes `::error file=F,line=L,col=C,endLine=E,title=LH101 blocked-send::message`,
which Actions turns into an annotation on the pull request's diff without any
upload step. Severities map to `error` / `warning` / `notice`. Values are escaped
as the runner expects (`%`, CR, LF everywhere; also `:` and `,` in properties), so
a message can never break out of its command.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leakhunter.model import Finding
    from leakhunter.source.scanner import ScanResult

_CMD = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding) -> str:
    props = [
        f"file={escape_property(f.file)}",
        f"line={f.line}",
        f"col={f.column}",
    ]
    if f.end_line and f.end_line >= f.line:
        props.append(f"endLine={f.end_line}")
    props.append(f"title={escape_property(f'{f.rule} {f.name}')}")
    msg = f"{f.message}\nfix: {f.fix}" if f.fix else f.message
    return f"::{_CMD.get(f.severity, 'warning')} {','.join(props)}::{escape_data(msg)}"


def render(result: ScanResult, findings: Iterable[Finding]) -> str:
    from leakhunter.source.scanner import not_built

    lines = [annotation(f) for f in findings]
    lines += [
        f"::warning file={escape_property(path)},title=leakhunter skipped file::{escape_data(reason)}"
        for path, reason in result.skipped
        if not not_built(reason)
    ]
    lines += [
        f"::warning file={escape_property(u.file)},line={u.line},title=leakhunter could not analyse "
        f"{escape_property(u.function or 'a declaration')}::{escape_data(u.reason)}"
        for u in result.unanalysed
        if u.line > 0
    ]
    return "\n".join(lines) + ("\n" if lines else "")
