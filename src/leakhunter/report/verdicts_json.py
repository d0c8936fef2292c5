"""Verdicts as the DESIGN.md JSON contract (shared by `watch` and `soak`).

Shape::

    {"targets": [{"target": URL, "verdicts": [{"kind", "confidence", "slope_per_min",
      "unit", "evidence": [...], "suspects": [{"function", "file", "line", "growth",
      "finding"}]}]}]}

`finding` is null or {"rule", "file", "line", "message"}. Extra keys (`series`,
`watch_more_s`, `forecast_s` with its 95% interval `forecast_low_s`/`forecast_high_s`,
`limit_bytes`, `limit_source`, `limit_crossed`, `current_bytes`, a suspect's `unit`,
`detail` and `path` (the library frames between the allocation and the user's line),
`created_by` (a goroutine group's `go` statement: {function, file, line} or null),
a target's `labels`) are additions, never renames: scripts may rely on the contract keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from leakhunter.model import Suspect, Verdict


def suspect_dict(s: Suspect) -> dict[str, Any]:
    f = s.finding
    return {
        "function": s.function,
        "file": s.file,
        "line": s.line,
        "growth": s.growth,
        "unit": s.unit,
        "detail": s.detail,
        "path": [f"{fr.function} {fr.file}:{fr.line}" if fr.file else fr.function
                 for fr in s.path],
        "finding": None if f is None else {
            "rule": f.rule, "file": f.file, "line": f.line, "message": f.message,
        },
        "created_by": None if s.created_by is None else {
            "function": s.created_by.function, "file": s.created_by.file, "line": s.created_by.line,
        },
    }


def verdict_dict(v: Verdict) -> dict[str, Any]:
    return {
        "kind": v.kind,
        "confidence": v.confidence,
        "slope_per_min": v.slope_per_min,
        "unit": v.unit,
        "series": v.series,
        "evidence": list(v.evidence),
        "suspects": [suspect_dict(s) for s in v.suspects],
        "watch_more_s": v.watch_more_s,
        "forecast_s": v.forecast_s,
        "forecast_low_s": v.forecast_low_s,
        "forecast_high_s": v.forecast_high_s,
        "limit_bytes": v.limit_bytes,
        "limit_source": v.limit_source or None,
        "limit_crossed": v.limit_crossed,
        "current_bytes": v.current_bytes,
    }


def verdicts_doc(verdicts: Mapping[str, Sequence[Verdict]]) -> dict[str, Any]:
    return {
        "targets": [
            {"target": t, "labels": {}, "verdicts": [verdict_dict(v) for v in vs]}
            for t, vs in verdicts.items()
        ]
    }


def render(verdicts: Mapping[str, Sequence[Verdict]]) -> str:
    return json.dumps(verdicts_doc(verdicts), indent=2) + "\n"
