"""Verdicts as text for a terminal or a CI log (shared by `watch` and `soak`).

The headline verdict of each target first, then the others; each with its evidence
and its top suspects. Renders only: every number was decided in `analyze/`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from leakhunter.model import Verdict
from leakhunter.units import eta_span, human_amount, human_bytes, human_duration

MAX_SUSPECTS = 5


def verdict_lines(v: Verdict, *, indent: str = "  ") -> list[str]:
    slope = human_amount(v.slope_per_min, v.unit, sign=True) + "/min" if v.unit else ""
    head = f"{v.kind.upper()}  [{v.series or '-'}]  confidence {v.confidence:.0%}"
    if slope and v.kind not in ("no-leak",):
        head += f"  {slope}"
    out = [indent + head]
    out += [f"{indent}  - {e}" for e in v.evidence]
    for s in v.suspects[:MAX_SUSPECTS]:
        where = f"{s.file}:{s.line}" if s.file else "?"
        det = f" ({s.detail})" if s.detail else ""
        line = f"{indent}  * {human_amount(s.growth, s.unit, sign=True)}{det}  {s.function}  {where}"
        if s.finding is not None:
            line += f"  <- {s.finding.rule} {s.finding.message}"
        out.append(line)
        if s.path:
            out.append(f"{indent}      via " + " <- ".join(fr.function for fr in s.path[:4]))
        if s.created_by is not None:
            by = s.created_by
            out.append(f"{indent}      started by {by.function}  {by.file}:{by.line}")
    return out


def limit_line(vs: Sequence[Verdict]) -> str | None:
    """One line about the memory limit: loud once crossed, else the time to reach it."""
    with_limit = [v for v in vs if v.limit_bytes]
    if not with_limit:
        return None
    v0 = with_limit[0]
    limit = f"{v0.limit_source} {human_bytes(v0.limit_bytes or 0)}"
    if any(v.limit_crossed for v in with_limit):
        now = human_bytes(v0.current_bytes) if v0.current_bytes is not None else "?"
        return f"!! LIMIT CROSSED: {now} is at or above the {limit}"
    fc = [v for v in with_limit if v.forecast_s is not None]
    if not fc:
        return f"limit: {limit}; {no_forecast(with_limit)}"
    v = min(fc, key=lambda v: v.forecast_s or 0.0)
    span = eta_span(v.forecast_low_s, v.forecast_high_s)
    when = "" if v.is_leak else " if the growth holds (RSS's trend; no leak verdict yet)"
    return (f"limit: {limit} reached in ~{human_duration(v.forecast_s or 0.0)}{span}{when} "
            f"[{v.series}]")


def no_forecast(vs: Sequence[Verdict]) -> str:
    """Why there is no time to the limit: nothing grows, or the growth is not settled."""
    if any(v.kind == "inconclusive" for v in vs):
        return "no forecast yet: the growth toward it is not settled"
    return "not growing toward it"


def render(verdicts: Mapping[str, Sequence[Verdict]]) -> str:
    lines: list[str] = []
    for target, vs in verdicts.items():
        head = vs[0].kind if vs else "inconclusive"
        lines.append(f"{target}: {head}")
        lim = limit_line(vs)
        if lim:
            lines.append("  " + lim)
        for v in vs:
            lines += verdict_lines(v)
        lines.append("")
    return "\n".join(lines)
