"""`leakhunter scan --format text`: one `file:line:col: ID name: message` line per finding.

The first line has go vet's shape, so editors and CI log parsers that already jump
to go vet locations jump to these too; the indented `fix:` line under it tells the
reader what to change. Colour is used only on a terminal (and never with NO_COLOR).
Notes about the run (skipped files, a summary) go to stderr, so stdout stays
machine-parsable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leakhunter.model import Finding
    from leakhunter.source.scanner import ScanResult

_SEV_COLOR = {"error": "\x1b[31m", "warning": "\x1b[33m", "info": "\x1b[36m"}
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_RESET = "\x1b[0m"


def format_finding(f: Finding, *, color: bool = False) -> str:
    """Two lines: the go-vet-shaped location line and the indented fix."""
    loc = f"{f.file}:{f.line}:{f.column}:"
    head = f"{f.rule} {f.name}:"
    fix = f"    fix: {f.fix}" if f.fix else ""
    if color:
        c = _SEV_COLOR.get(f.severity, "")
        loc = f"{_BOLD}{loc}{_RESET}"
        head = f"{c}{head}{_RESET}"
        fix = f"{_DIM}{fix}{_RESET}" if fix else ""
    line = f"{loc} {head} {f.message}"
    return f"{line}\n{fix}" if fix else line


def render(findings: Iterable[Finding], *, color: bool = False) -> str:
    """All findings, one block each; empty string when there are none."""
    blocks = [format_finding(f, color=color) for f in findings]
    return "\n".join(blocks) + ("\n" if blocks else "")


MAX_UNANALYSED_LINES = 50


def notes(
    result: ScanResult,
    shown: Sequence[Finding],
    *,
    baseline_hidden: int = 0,
    hidden_severity: int = 0,
    min_severity: str = "info",
    hidden_tests: int = 0,
    hidden_commands: int = 0,
) -> list[str]:
    """stderr lines: unreadable files and unanalysed functions with their reason, a summary.

    `shown` is the findings printed. The summary counts what the
    noise policy hid (`info` by default) and how much code was not analysed, so a
    reader of a clean run knows what it did not cover.
    """
    out: list[str] = []
    generated = 0
    for path, reason in result.skipped:
        if reason.startswith("generated file"):
            generated += 1
            continue
        out.append(f"leakhunter: skipped {path}: {reason}")
    partial = [u for u in result.unanalysed if u.line > 0]
    for u in partial[:MAX_UNANALYSED_LINES]:
        what = u.function or "declaration"
        out.append(f"leakhunter: not analysed: {u.file}:{u.line}: {what}: {u.reason}")
    if len(partial) > MAX_UNANALYSED_LINES:
        out.append(f"leakhunter: not analysed: ... and {len(partial) - MAX_UNANALYSED_LINES} more (see --format json)")
    for path, rule, err in result.rule_errors:
        out.append(f"leakhunter: warning: rule {rule} failed on {path}: {err}")
    by_sev = Counter(f.severity for f in shown)
    parts = [f"{by_sev[s]} {s}" for s in ("error", "warning", "info") if by_sev[s]]
    summary = f"leakhunter: {len(shown)} finding{'s' if len(shown) != 1 else ''}"
    if parts:
        summary += f" ({', '.join(parts)})"
    summary += f" in {result.files_scanned} file{'s' if result.files_scanned != 1 else ''}"
    extra = []
    if generated:
        extra.append(f"{generated} generated skipped")
    other = len(result.skipped) - generated
    if other:
        extra.append(f"{other} skipped or partly scanned (see above)")
    if result.suppressed:
        extra.append(f"{result.suppressed} suppressed")
    if baseline_hidden:
        extra.append(f"{baseline_hidden} in baseline")
    if hidden_severity:
        below = "info" if min_severity == "warning" else f"below {min_severity}"
        extra.append(f"{hidden_severity} {below} hidden (--show-info shows them)")
    if hidden_tests:
        extra.append(f"{hidden_tests} in test code hidden (--tests shows them)")
    if hidden_commands:
        extra.append(f"{hidden_commands} in command-line code hidden (--commands shows them)")
    if result.unanalysed:
        files = len({u.file for u in result.unanalysed})
        whole = sum(1 for u in result.unanalysed if u.line == 0)
        funcs = len(result.unanalysed) - whole
        bits = []
        if funcs:
            bits.append(f"{funcs} function{'s' if funcs != 1 else ''} or declaration{'s' if funcs != 1 else ''}")
        if whole:
            bits.append(f"{whole} whole file{'s' if whole != 1 else ''}")
        extra.append(f"NOT ANALYSED: {' and '.join(bits)} in {files} file{'s' if files != 1 else ''}")
    if result.cached_files:
        extra.append(f"{result.cached_files} from cache")
    if extra:
        summary += f"; {', '.join(extra)}"
    summary += f"; {result.duration_s:.2f}s"
    out.append(summary)
    return out
