"""Fleet verdicts as text: jobs ranked, each with its verdicts, replicas and PromQL.

Renders only; every number was decided in `analyze/fleet.py`. Replicas are listed
compactly (one line each) except the ones that leak, whose evidence is shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from leakhunter.analyze.fleet import JobResult
from leakhunter.report.verdicts_text import verdict_lines
from leakhunter.units import human_amount, human_duration

MAX_REPLICAS = 8


def job_lines(r: JobResult, rank: int) -> list[str]:
    head = r.verdicts[0].kind if r.verdicts else "inconclusive"
    facts = [f"{r.pods} replicas", f"{r.lives} lives"]
    if r.restarts:
        facts.append(f"{r.restarts} restarts")
    if r.forecast_s is not None:
        facts.append(f"limit in ~{human_duration(r.forecast_s)}")
    if r.canary:
        facts.append("canary: " + ", ".join(r.canary))
    out = [f"#{rank} {r.job}: {head.upper()}  ({', '.join(facts)})"]
    for v in r.verdicts:
        if v.kind == "no-leak" and r.is_leak:
            out.append(f"  no-leak  [{v.series}]")
            continue
        out += verdict_lines(v, indent="  ")
    for e in r.errors:
        out.append(f"  ! partial failure: {e}")
    shown = 0
    for rr in r.replicas:
        if not rr.verdicts:
            continue
        hv = rr.verdicts[0]
        if shown >= MAX_REPLICAS and not hv.is_leak:
            continue
        slope = (human_amount(hv.slope_per_min, hv.unit, sign=True) + "/min") if hv.unit else ""
        out.append(f"    replica {rr.replica}: {hv.kind} [{hv.series}] {slope}"
                   + (f" ({rr.lives} lives)" if rr.lives > 1 else ""))
        shown += 1
    hidden = len(r.replicas) - shown
    if hidden > 0:
        out.append(f"    ... {hidden} more replicas")
    return out


def render(results: Sequence[JobResult], *, footer: Sequence[str] = ()) -> str:
    lines: list[str] = []
    for i, r in enumerate(results):
        lines += job_lines(r, i + 1)
        lines.append("")
    lines += list(footer)
    return "\n".join(lines) + "\n"
