"""Fleet verdicts as the DESIGN.md JSON contract (`targets` with `labels`).

One target per job, ranked (leaks first, soonest to the limit first), each with its
job-level verdicts and, under `replicas`, one target per replica in the same shape::

    {"targets": [{"target": "job=api", "labels": {"job": "api"}, "rank": 1,
      "verdicts": [...], "lives": 12, "restarts": 3, "canary": [], "promql": {...},
      "forecast_s": null, "errors": [],
      "replicas": [{"target": "api-7c9-x1", "labels": {"job", "instance", "pod"},
                    "verdicts": [...]}]}],
     "range": {"start", "end", "step"}, "errors": [...], "stats": {...}}

Verdict entries are `verdicts_json.verdict_dict`, shared with `watch`/`soak`; the keys
beyond the contract (`rank`, `lives`, `replicas`, ...) are additions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from leakhunter.analyze.fleet import JobResult
from leakhunter.report.verdicts_json import verdict_dict


def job_dict(r: JobResult, rank: int, group_by: str = "job") -> dict[str, Any]:
    return {
        "target": f"{group_by}={r.job}",
        "labels": dict(r.labels),
        "rank": rank,
        "verdicts": [verdict_dict(v) for v in r.verdicts],
        "lives": r.lives,
        "restarts": r.restarts,
        "replica_count": r.pods,
        "canary": list(r.canary),
        "promql": dict(r.promql),
        "forecast_s": r.forecast_s,
        "limit_bytes": r.limit_bytes,
        "errors": list(r.errors),
        "replicas": [{"target": rr.replica, "labels": dict(rr.labels), "lives": rr.lives,
                      "verdicts": [verdict_dict(v) for v in rr.verdicts]}
                     for rr in r.replicas],
    }


def fleet_doc(results: Sequence[JobResult], *, meta: Mapping[str, Any] | None = None,
              group_by: str = "job") -> dict[str, Any]:
    doc: dict[str, Any] = {"targets": [job_dict(r, i + 1, group_by) for i, r in enumerate(results)]}
    if meta:
        doc.update(meta)
    return doc


def render(results: Sequence[JobResult], *, meta: Mapping[str, Any] | None = None,
           group_by: str = "job") -> str:
    return json.dumps(fleet_doc(results, meta=meta, group_by=group_by), indent=2) + "\n"
