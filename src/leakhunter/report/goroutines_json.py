"""The `goroutines` JSON contract (DESIGN.md), for scripts.

Required by the contract: `total`, and per group `count`, `state`, `wait_minutes`,
`leaked`, `frames` [{function, file, line}], `created_by`. Added, never renamed:
`blocked_on` (the state, or the one inferred from the stack for forms without states),
`suspect`, `user_frame`, `stuck` (many goroutines parked long at one user-code line:
a leak the runtime did not prove; `leaked` stays the runtime's proof), `finding` (the
`scan` finding joined at the group's line with `--source`), and with `--diff` `base_total`, `base_count`, `growth`, `new`.
"""

from __future__ import annotations

import json
from typing import Any

from leakhunter.analyze.goroutines import GoroutineAnalysis, GroupView
from leakhunter.model import Frame


def _frame(fr: Frame | None) -> dict[str, Any] | None:
    if fr is None:
        return None
    return {"function": fr.function, "file": fr.file, "line": fr.line}


def _group(v: GroupView, diff: bool) -> dict[str, Any]:
    g = v.group
    out: dict[str, Any] = {
        "count": g.count,
        "state": g.state,
        "wait_minutes": g.wait_minutes,
        "leaked": g.leaked,
        "frames": [_frame(fr) for fr in g.stack],
        "created_by": _frame(g.created_by),
        "blocked_on": v.blocked_on,
        "suspect": v.suspect,
        "user_frame": _frame(v.user_frame),
        "stuck": v.stuck,
        "finding": None if v.finding is None else {
            "rule": v.finding.rule, "file": v.finding.file, "line": v.finding.line,
            "message": v.finding.message},
    }
    if diff:
        out["base_count"] = v.base_count
        out["growth"] = v.growth
        out["new"] = v.new
    return out


def to_dict(a: GoroutineAnalysis) -> dict[str, Any]:
    diff = a.base_total is not None
    out: dict[str, Any] = {"total": a.total}
    if diff:
        out["base_total"] = a.base_total
    out["kind"] = a.kind
    out["form"] = a.form
    out["groups"] = [_group(v, diff) for v in a.groups]
    out["warnings"] = a.warnings
    return out


def render(a: GoroutineAnalysis) -> str:
    return json.dumps(to_dict(a), indent=2) + "\n"
