"""`leakhunter report`: one self-contained, offline HTML file from a watch store.

Self-contained means no CDN and no network at view time: plotly.js is embedded from
the installed plotly package (`plotly.offline.get_plotlyjs()`), the figures are JSON
in `<script type="application/json">` blocks, and a few lines of inline script draw
them. Everything that came from a target (function names, file paths, labels, URLs)
is untrusted: the Jinja2 template autoescapes all of it, and the figure JSON has
`<`, `>` and `&` written as \\u escapes so no string can close its `<script>` block.

Contract (used by `leakhunter report` and by `soak`)::

    write_report(store, Path("report.html"), target=None)
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leakhunter.analyze.suspects import target_suspects
from leakhunter.collect.store import Store
from leakhunter.model import Finding, Suspect, Verdict
from leakhunter.units import human_amount

if TYPE_CHECKING:
    from markupsafe import Markup

_MEM_SERIES = (("heap_live", "live heap (post-GC)"), ("rss", "RSS"),
               ("nonheap", "RSS outside the heap"), ("mem_stack_inuse", "stacks"),
               ("gc_live_heap", "live heap (gctrace)"))
_COUNT_SERIES = (("goroutines", "goroutines"), ("goroutines_leaked", "leaked goroutines"),
                 ("fds", "open fds"))


def _safe_json(obj: object) -> Markup:
    """JSON that cannot end a <script> element or open markup, whatever its strings hold.

    A `<script type="application/json">` body is raw text (entities are not decoded), so
    it must not be HTML-escaped; instead `<`, `>` and `&` become JSON \\u escapes,
    which JSON.parse turns back into the same characters. Marked safe for Jinja on
    that basis."""
    from markupsafe import Markup

    text = (json.dumps(obj, separators=(",", ":"), allow_nan=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    return Markup(text)


def _script_safe(js: str) -> Markup:
    """plotly.js for an inline <script>: trusted code, but `</script` inside it would end
    the element early, so that sequence is split (a no-op inside JS strings/regexps)."""
    from markupsafe import Markup

    return Markup(js.replace("</script", "<\\/script"))


def _iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, tz=_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _figure(store: Store, target: str, series: Sequence[tuple[str, str]], title: str,
            yunit: str, restarts: list[float]) -> dict[str, Any]:
    data = []
    scale = 1 / (1 << 20) if yunit == "MiB" else 1.0
    for name, label in series:
        pts = store.series(target, name)
        if not pts:
            continue
        data.append({
            "type": "scatter", "mode": "lines+markers", "name": label,
            "x": [_iso(p.ts) for p in pts], "y": [round(p.value * scale, 4) for p in pts],
            "marker": {"size": 3},
        })
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": _iso(t), "x1": _iso(t),
               "y0": 0, "y1": 1, "line": {"color": "#b00020", "dash": "dot"}} for t in restarts]
    notes = [{"x": _iso(t), "y": 1, "xref": "x", "yref": "paper", "text": "restart",
              "showarrow": False, "yanchor": "bottom", "font": {"color": "#b00020"}}
             for t in restarts]
    return {"data": data, "layout": {
        "title": {"text": title}, "yaxis": {"title": {"text": yunit}, "rangemode": "tozero"},
        "xaxis": {"type": "date"}, "shapes": shapes, "annotations": notes,
        "margin": {"t": 40, "r": 20, "b": 40, "l": 60}, "legend": {"orientation": "h"},
    }}


def _suspect_row(s: Suspect) -> dict[str, str]:
    f = s.finding
    return {
        "growth": human_amount(s.growth, s.unit, sign=True),
        "function": s.function, "where": f"{s.file}:{s.line}" if s.file else "",
        "detail": s.detail,
        "finding": "" if f is None else f"{f.rule} {f.file}:{f.line} {f.message}",
    }


def _target_context(store: Store, target: str, verdicts: list[Verdict],
                    findings: Sequence[Finding] | None) -> dict[str, Any]:
    procs = store.processes(target)
    restarts = [p.first_ts for p in procs[1:]]
    sites, groups = target_suspects(store, target, findings=findings)
    joined = [e for v in verdicts for e in v.evidence if " explains " in e]
    return {
        "url": target,
        "headline": verdicts[0].kind if verdicts else "inconclusive",
        "samples": store.sample_count(target),
        "restarts": len(restarts),
        "gaps": len(store.gaps(target)),
        "fig_mem": _safe_json(_figure(store, target, _MEM_SERIES, "memory", "MiB", restarts)),
        "fig_gr": _safe_json(_figure(store, target, _COUNT_SERIES, "goroutines and fds",
                                     "count", restarts)),
        "verdicts": [{
            "kind": v.kind, "series": v.series, "confidence": v.confidence,
            "slope": (human_amount(v.slope_per_min, v.unit, sign=True) + "/min") if v.unit else "",
            "evidence": v.evidence,
        } for v in verdicts],
        "sites": [_suspect_row(s) for s in sites],
        "groups": [_suspect_row(s) for s in groups],
        "findings": sorted(set(joined)),
    }


def render_report(store: Store, *, target: str | None = None,
                  verdicts: dict[str, list[Verdict]] | None = None) -> str:
    """The report as a string (see `write_report`)."""
    import jinja2
    from plotly.offline import get_plotlyjs

    from leakhunter.errors import UsageError

    targets = store.targets()
    if target is not None:
        from leakhunter.watcher import normalize_target

        t = normalize_target(target)
        if t not in targets:
            raise UsageError(f"target {target!r} not in {store.path} (has: {', '.join(targets) or 'none'})")
        targets = [t]
    findings = {t: _findings(store, t) for t in targets}
    if verdicts is None:
        from leakhunter.analyze.verdicts import analyze_target

        verdicts = {t: analyze_target(store, t, findings=findings[t]) for t in targets}
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("leakhunter.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined,
    )
    tpl = env.get_template("report.html.j2")
    return tpl.render(
        plotlyjs=_script_safe(get_plotlyjs()),
        db=str(store.path),
        generated=_dt.datetime.now(tz=_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        targets=[_target_context(store, t, verdicts.get(t, []), findings[t]) for t in targets],
    )


def _findings(store: Store, target: str) -> list[Finding] | None:
    """Scan findings for the target's recorded --source DIR (None when there is none)."""
    from leakhunter.analyze.join import scan_findings

    src = store.get_meta(target, "source_dir")
    return scan_findings(src) if src and Path(src).is_dir() else None


def write_report(store: Store, out_path: Path, *, target: str | None = None,
                 verdicts: dict[str, list[Verdict]] | None = None) -> None:
    """Write the self-contained HTML report for `target` (default: every target)."""
    html = render_report(store, target=target, verdicts=verdicts)
    out_path = Path(out_path)
    tmp = out_path.with_name(out_path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out_path)
