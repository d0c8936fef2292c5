"""`fleet --report OUT.html`: one offline HTML file, jobs ranked, lives plotted by age.

Built from the pieces of the watch report (`report/html.py`): plotly.js embedded from
the installed package, figures as JSON that cannot close their `<script>` block
(`html_safe.safe_json`), untrusted labels autoescaped by Jinja2. Each job shows its verdicts
with evidence and PromQL, its replicas, its suspects, and a plot of its process lives
against their age — the view that makes a leak hidden by restarts or deploys obvious
(every life climbs the same slope) and a canary stand out.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from leakhunter.analyze.fleet import JobResult
from leakhunter.model import Suspect
from leakhunter.units import human_amount

_TITLES = {"heap_live": ("live heap by process age", "MiB"),
           "goroutines": ("goroutines by process age", "count"),
           "nonheap": ("RSS outside the heap by process age", "MiB"),
           "fds": ("open fds by process age", "count")}


def _figure(r: JobResult, series: str) -> dict[str, Any] | None:
    lives = r.plots.get(series)
    if not lives:
        return None
    title, unit = _TITLES.get(series, (series, ""))
    scale = 1 / (1 << 20) if unit == "MiB" else 1.0
    data = [{"type": "scatter", "mode": "lines", "name": rep,
             "line": {"width": 3 if rep in r.canary else 1.5},
             "x": x, "y": [round(v * scale, 3) for v in y]} for rep, x, y in lives]
    return {"data": data, "layout": {
        "title": {"text": f"{r.job}: {title}"}, "xaxis": {"title": {"text": "process age (h)"}},
        "yaxis": {"title": {"text": unit}}, "margin": {"t": 40, "r": 20, "b": 40, "l": 60},
        "showlegend": len(data) <= 8}}


def _suspect_row(s: Suspect) -> dict[str, str]:
    f = s.finding
    return {"growth": human_amount(s.growth, s.unit, sign=True), "function": s.function,
            "where": f"{s.file}:{s.line}" if s.file else "", "detail": s.detail,
            "finding": "" if f is None else f"{f.rule} {f.file}:{f.line} {f.message}"}


def _job_context(r: JobResult, rank: int) -> dict[str, Any]:
    from leakhunter.report.html_safe import safe_json

    figs: list[Any] = []
    for v in r.verdicts:
        fig = _figure(r, v.series)
        if fig is not None and (v.kind != "no-leak" or not figs):
            figs.append(safe_json(fig))
    return {
        "rank": rank, "job": r.job, "labels": r.labels,
        "headline": r.verdicts[0].kind if r.verdicts else "inconclusive",
        "pods": r.pods, "lives": r.lives, "restarts": r.restarts, "canary": r.canary,
        "errors": r.errors, "figs": figs,
        "verdicts": [{"kind": v.kind, "series": v.series, "confidence": v.confidence,
                      "slope": (human_amount(v.slope_per_min, v.unit, sign=True) + "/min")
                      if v.unit else "",
                      "evidence": v.evidence, "promql": r.promql.get(
                          {"heap_live": "heap"}.get(v.series, v.series), ""),
                      "suspects": [_suspect_row(s) for s in v.suspects]} for v in r.verdicts],
        "replicas": [{"replica": rr.replica, "kind": rr.verdicts[0].kind if rr.verdicts else "",
                      "series": rr.verdicts[0].series if rr.verdicts else "",
                      "slope": (human_amount(rr.verdicts[0].slope_per_min, rr.verdicts[0].unit,
                                             sign=True) + "/min")
                      if rr.verdicts and rr.verdicts[0].unit else "",
                      "lives": rr.lives, "labels": rr.labels} for rr in r.replicas],
    }


def render_fleet_report(results: Sequence[JobResult], *, meta: Mapping[str, Any] | None = None) -> str:
    import jinja2
    from plotly.offline import get_plotlyjs

    from leakhunter.report.html_safe import script_safe

    env = jinja2.Environment(loader=jinja2.PackageLoader("leakhunter.report", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    tpl = env.get_template("fleet.html.j2")
    m = dict(meta or {})
    rng = m.get("range") or {}

    def iso(t: Any) -> str:
        return (_dt.datetime.fromtimestamp(float(t), tz=_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
                if isinstance(t, int | float) else "")

    return tpl.render(
        plotlyjs=script_safe(get_plotlyjs()),
        generated=_dt.datetime.now(tz=_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        start=iso(rng.get("start")), end=iso(rng.get("end")),
        selector=rng.get("selector", ""), errors=m.get("errors", []),
        leaking=sum(r.is_leak for r in results),
        jobs=[_job_context(r, i + 1) for i, r in enumerate(results)],
    )


def write_fleet_report(results: Sequence[JobResult], out_path: Path, *,
                       meta: Mapping[str, Any] | None = None) -> None:
    from leakhunter.errors import UsageError

    html = render_fleet_report(results, meta=meta)
    from leakhunter.atomic import write_atomic

    try:
        write_atomic(Path(out_path), html)
    except OSError as exc:
        raise UsageError(f"--report {out_path}: {exc.strerror or exc}") from None
