"""Verdicts as text for a terminal or a CI log (shared by `watch` and `soak`).

The headline verdict of each target first, then the others; each with its evidence
and its top suspects. Renders only: every number was decided in `analyze/`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from leakhunter.model import Verdict
from leakhunter.units import human_amount

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
    return out


def render(verdicts: Mapping[str, Sequence[Verdict]]) -> str:
    lines: list[str] = []
    for target, vs in verdicts.items():
        head = vs[0].kind if vs else "inconclusive"
        lines.append(f"{target}: {head}")
        for v in vs:
            lines += verdict_lines(v)
        lines.append("")
    return "\n".join(lines)
