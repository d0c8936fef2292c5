"""Render a goroutine analysis for people: the groups that matter first, user code first.

Each group is one header line — count, state, longest wait, markers, and the innermost
user-code frame as `file:line function` (what to open) — then its stack, standard
library and runtime frames dimmed, then `created by`. Colour only when asked (the
command asks only on a terminal). Nothing is computed here: `analyze.goroutines` did it.
"""

from __future__ import annotations

from leakhunter.analyze.goroutines import GoroutineAnalysis, GroupView
from leakhunter.model import Frame

MAX_FRAMES = 12

_RESET = "\x1b[0m"
_DIM = "\x1b[2m"
_BOLD = "\x1b[1m"
_RED = "\x1b[1;31m"
_YELLOW = "\x1b[33m"
_GREEN = "\x1b[32m"


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.color and text else text


def minutes(m: int) -> str:
    """Wait time as the runtime counts it (whole minutes), readable: `7m`, `3h05m`, `2d04h`."""
    if m <= 0:
        return "-"
    if m < 60:
        return f"{m}m"
    if m < 24 * 60:
        return f"{m // 60}h{m % 60:02d}m"
    return f"{m // (24 * 60)}d{(m // 60) % 24:02d}h"


def _where(fr: Frame, goroot: str) -> str:
    file = fr.file
    if goroot and file.startswith(goroot + "/src/"):
        file = file[len(goroot) + 5 :]
    return f"{file}:{fr.line}" if file else "?"


def render(a: GoroutineAnalysis, *, color: bool = False) -> str:
    st = _Style(color)
    out: list[str] = [_summary(a, st), ""]
    if not a.groups:
        if a.base_total is not None:
            out.append("  (no group grew)")
        elif a.total == 0:
            leak = a.kind == "goroutineleak"
            out.append("  (no leaked goroutines)" if leak else "  (no goroutines in this dump)")
        else:
            out.append("  (no group matches)")
        return "\n".join(out) + "\n"
    diff = a.base_total is not None
    cw = max(len(_count(v, diff)) for v in a.groups)
    sw = min(28, max(len(_state(v)) for v in a.groups))
    for v in a.groups:
        out.extend(_group(v, a.goroot, st, cw, sw, diff))
        out.append("")
    return "\n".join(out)


def _summary(a: GoroutineAnalysis, st: _Style) -> str:
    n = len(a.groups)
    suspects = a.suspects
    parts: list[str]
    if a.base_total is not None:
        delta = a.total - a.base_total
        parts = [
            st(_BOLD, f"goroutines: {a.base_total} -> {a.total} ({delta:+d})"),
            f"{n} group{'s' * (n != 1)} grew by {a.shown}",
        ]
    else:
        parts = [
            st(_BOLD, f"goroutines: {a.total}"),
            f"{n} group{'s' * (n != 1)}" + (f" ({a.shown} shown)" if a.shown != a.total else ""),
        ]
    if suspects:
        parts.append(st(_YELLOW, f"{len(suspects)} suspect group{'s' * (len(suspects) != 1)}"))
    if a.leaked:
        parts.append(st(_RED, f"{a.leaked} leaked (runtime-proven)"))
    if a.stuck:
        parts.append(st(_RED, f"{a.stuck} stuck (many parked long at one line)"))
    if a.form:
        parts.append(f"[{a.form}]")
    return " · ".join(parts)


def _count(v: GroupView, diff: bool) -> str:
    if diff:
        return f"+{v.growth}" + (" new" if v.new else f" ({v.base_count}->{v.group.count})")
    return str(v.group.count)


def _state(v: GroupView) -> str:
    g = v.group
    if g.state:
        return g.state
    return f"~{v.blocked_on}" if v.blocked_on else "?"


def _runs(stack: tuple[Frame, ...], std: tuple[bool, ...]) -> list[tuple[Frame, bool, int]]:
    """Consecutive identical frames (recursion) as one line with a repeat count."""
    out: list[tuple[Frame, bool, int]] = []
    for fr, s in zip(stack, std, strict=True):
        if out and out[-1][0] == fr:
            out[-1] = (fr, s, out[-1][2] + 1)
        else:
            out.append((fr, s, 1))
    return out


def _group(v: GroupView, goroot: str, st: _Style, cw: int, sw: int, diff: bool) -> list[str]:
    g = v.group
    marks = []
    if g.leaked:
        marks.append(st(_RED, "LEAKED"))
    if v.stuck and not g.leaked:
        marks.append(st(_RED, "STUCK"))
    elif v.suspect and not g.leaked:
        marks.append(st(_YELLOW, "suspect"))
    if g.locked:
        marks.append("locked")
    lead = v.user_frame or (g.stack[0] if g.stack else None)
    where = f"{_where(lead, goroot)} {lead.function}" if lead else "(stack unavailable)"
    head = (
        f"{st(_BOLD, _count(v, diff).rjust(cw))}  {_state(v).ljust(sw)}  "
        f"{minutes(g.wait_minutes).rjust(6)}  "
        + (" ".join(marks) + "  " if marks else "")
        + st(_GREEN if v.user_frame else "", where)
    )
    lines = [head]
    indent = " " * (cw + 2)
    if v.finding is not None:
        f = v.finding
        lines.append(f"{indent}<- {f.rule} at {f.file.rsplit('/', 1)[-1]}:{f.line}: {f.message}")
    runs = _runs(g.stack, v.std)
    for fr, std, n in runs[:MAX_FRAMES]:
        text = f"{indent}{_where(fr, goroot)}  {fr.function}" + (f"  (x{n})" if n > 1 else "")
        lines.append(st(_DIM, text) if std else text)
    if len(runs) > MAX_FRAMES:
        rest = sum(n for _, _, n in runs[MAX_FRAMES:])
        lines.append(st(_DIM, f"{indent}... {rest} more frames"))
    if g.elided:
        lines.append(st(_DIM, f"{indent}(the runtime elided frames in this stack)"))
    if g.created_by:
        cb = g.created_by
        lines.append(st(_DIM, f"{indent}created by {cb.function} at {_where(cb, goroot)}"))
    return lines
