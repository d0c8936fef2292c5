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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from leakhunter.analyze.suspects import target_suspects
from leakhunter.collect.store import Store
from leakhunter.model import Finding, Suspect, Verdict
from leakhunter.report.html_safe import safe_json, script_safe
from leakhunter.units import eta_span, human_amount, human_bytes, human_duration

_MEM_SERIES = (("heap_live", "live heap (post-GC)"), ("rss", "RSS"),
               ("nonheap", "RSS outside the heap"), ("mem_stack_inuse", "stacks"),
               ("gc_live_heap", "live heap (gctrace)"))
_COUNT_SERIES = (("goroutines", "goroutines"), ("goroutines_leaked", "leaked goroutines"),
                 ("fds", "open fds"))


def _iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, tz=_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _figure(store: Store, target: str, series: Sequence[tuple[str, str]], title: str,
            yunit: str, restarts: list[float]) -> dict[str, Any]:
    traces = [(label, [(p.ts, p.value) for p in store.series(target, name)]) for name, label in series]
    return _plot(traces, title, yunit, restarts)


def _per_request_figure(store: Store, target: str, restarts: list[float]) -> dict[str, Any] | None:
    """The allocation per request of soak's load, or of the requests `watch --requests-metric` counted
    (the `alloc_per_request` verdict's series); None for a store without a request count."""
    from leakhunter.analyze.series import per_request

    pts = [(t, v) for seg in per_request(store, target) for t, v in zip(seg.ts, seg.values, strict=True)]
    if not pts:
        return None
    return _plot([("allocated per request", pts)], "allocation per request", "KiB", restarts)


def _plot(traces: Sequence[tuple[str, Sequence[tuple[float, float]]]], title: str, yunit: str,
          restarts: list[float]) -> dict[str, Any]:
    data = []
    scale = {"MiB": 1 / (1 << 20), "KiB": 1 / (1 << 10)}.get(yunit, 1.0)
    for label, pts in traces:
        if not pts:
            continue
        data.append({
            "type": "scatter", "mode": "lines+markers", "name": label,
            "x": [_iso(t) for t, _ in pts], "y": [round(v * scale, 4) for _, v in pts],
            "marker": {"size": 3},
        })
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": _iso(t), "x1": _iso(t),
               "y0": 0, "y1": 1, "line": {"color": "#b00020", "dash": "dot"}} for t in restarts]
    # Inside the plot area, beside its line: above it would meet the legend row.
    notes = [{"x": _iso(t), "y": 0.98, "xref": "x", "yref": "paper", "text": "restart",
              "showarrow": False, "yanchor": "top", "xanchor": "left",
              "font": {"color": "#b00020"}} for t in restarts]
    return {"data": data, "layout": {
        # Title left, legend on its own row under the title and above the plot, so the
        # legend can never sit on the x axis's tick and date labels (it did at the bottom).
        "title": {"text": title, "x": 0, "xanchor": "left", "y": 0.98, "yanchor": "top"},
        "yaxis": {"title": {"text": yunit}, "rangemode": "tozero", "automargin": True},
        "xaxis": {"type": "date", "automargin": True},
        "shapes": shapes, "annotations": notes,
        "margin": {"t": 70, "r": 20, "b": 50, "l": 60},
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
    }}


MAX_SUSPECTS = 5
CONTEXT_LINES = 4


def _suspect_row(s: Suspect) -> dict[str, str]:
    f = s.finding
    return {
        "growth": human_amount(s.growth, s.unit, sign=True),
        "function": s.function, "where": f"{s.file}:{s.line}" if s.file else "",
        "detail": s.detail,
        "finding": "" if f is None else f"{f.rule} {f.file}:{f.line} {f.message}",
    }


def _read_lines(file: str, source_dir: str | None) -> list[str] | None:
    """The file's lines, from `--source DIR` (relative paths, or an absolute path's tail
    under DIR) or from the path the profile recorded; None when nothing is readable.

    Only Go source (`*.go`) is read: file names come from the target's profiles, and a
    report is made to be shared, so a crafted name (`/home/me/.ssh/id_rsa`) must not put
    a local file's lines into it."""
    if not file.endswith(".go"):
        return None
    cands: list[Path] = []
    if source_dir:
        sd = Path(source_dir)
        p = Path(file)
        cands.append(sd / file if not p.is_absolute() else p)
        parts = p.parts
        cands += [sd.joinpath(*parts[i:]) for i in range(1, len(parts))]
    cands.append(Path(file))
    for c in cands:
        try:
            if c.is_file() and c.stat().st_size <= 8 << 20:
                return c.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
    return None


def _excerpt(file: str, line: int, source_dir: str | None,
             cache: dict[str, list[str] | None]) -> list[dict[str, Any]]:
    """The lines around `line`, the leaking one marked; [] when the source is unreadable."""
    if not file or line <= 0:
        return []
    if file not in cache:
        cache[file] = _read_lines(file, source_dir)
    lines = cache[file]
    if not lines or line > len(lines):
        return []
    lo, hi = max(1, line - CONTEXT_LINES), min(len(lines), line + CONTEXT_LINES)
    return [{"n": i, "text": lines[i - 1].expandtabs(4), "hot": i == line}
            for i in range(lo, hi + 1)]


def _suspect_card(s: Suspect, source_dir: str | None,
                  cache: dict[str, list[str] | None]) -> dict[str, Any]:
    f = s.finding
    # Show the line the finding is about (the leaking statement) when there is one; the
    # suspect's own line (where goroutines block, where bytes were allocated) otherwise.
    at_file, at_line = (f.file, f.line) if f is not None else (s.file, s.line)
    code = _excerpt(at_file, at_line, source_dir, cache)
    if not code and f is not None:
        at_file, at_line = s.file, s.line
        code = _excerpt(s.file, s.line, source_dir, cache)
    return {
        "growth": human_amount(s.growth, s.unit, sign=True),
        "detail": s.detail, "function": s.function,
        "where": f"{s.file}:{s.line}" if s.file else "(no source position)",
        "code_where": f"{at_file}:{at_line}", "code": code,
        "via": " ← ".join(fr.function for fr in s.path[:4]),
        "started_by": "" if s.created_by is None else
        f"{s.created_by.function} {s.created_by.file}:{s.created_by.line}",
        "rule": f.rule if f else "", "rule_name": f.name if f else "",
        "message": f.message if f else "", "fix": f.fix if f else "",
        "severity": f.severity if f else "",
    }


def _forecast(v: Verdict) -> str:
    if not v.limit_bytes:
        return ""
    limit = f"{v.limit_source or 'limit'} {human_bytes(v.limit_bytes)}"
    if v.limit_crossed:
        now = human_bytes(v.current_bytes) if v.current_bytes is not None else "the memory"
        return f"LIMIT CROSSED: {now} is at or above the {limit}"
    if v.forecast_s is None:
        from leakhunter.report.verdicts_text import no_forecast

        return f"{limit}: {no_forecast([v])}"
    span = eta_span(v.forecast_low_s, v.forecast_high_s)
    when = "at this rate" if v.is_leak else "if RSS keeps growing as it did (no leak verdict yet)"
    return f"reaches the {limit} in ~{human_duration(v.forecast_s)}{span} {when}"


def _verdict_context(v: Verdict, source_dir: str | None,
                     cache: dict[str, list[str] | None]) -> dict[str, Any]:
    return {
        "kind": v.kind, "series": v.series, "confidence": v.confidence,
        "slope": (human_amount(v.slope_per_min, v.unit, sign=True) + "/min") if v.unit else "",
        "evidence": v.evidence,
        "forecast": _forecast(v),
        "watch_more": human_duration(v.watch_more_s) if v.watch_more_s else "",
        "suspects": [_suspect_card(s, source_dir, cache) for s in v.suspects[:MAX_SUSPECTS]],
        "more_suspects": max(0, len(v.suspects) - MAX_SUSPECTS),
    }


def _flames(store: Store, target: str) -> list[dict[str, Any]]:
    """Icicles of what grew in the latest process (analyze.growth chooses and diffs)."""
    from leakhunter.analyze.growth import growth_trees
    from leakhunter.report.flame import fragment

    titles = {
        "heap": "Heap growth (in-use bytes), first to last profile, {span}",
        "goroutines": "Goroutine growth, first to last dump, {span} (innermost box: the wait state)",
    }
    labels = {"heap": "heap growth flame graph", "goroutines": "goroutine growth flame graph"}
    return [{"title": titles[g.kind].format(span=human_duration(g.span_s)),
             "html": fragment(g.tree, f"flame-{_ident(target)}-{g.kind}", label=labels[g.kind])}
            for g in growth_trees(store, target)]


def _ident(target: str) -> str:
    import hashlib

    return hashlib.sha1(target.encode()).hexdigest()[:8]


def _observed(store: Store, target: str, verdicts: list[Verdict]) -> tuple[int, float]:
    """(scrapes, seconds) of the series the verdicts judged: the header's figures must be
    the body's (a count of every stored point of every series is no one's "samples")."""
    names = [v.series for v in verdicts if v.series] or ["goroutines", "heap_live"]
    best: list[Any] = []
    for name in names:
        pts = store.series(target, name)
        if len(pts) > len(best):
            best = pts
    if not best:
        return 0, 0.0
    return len(best), float(best[-1].ts - best[0].ts)


def _target_context(store: Store, target: str, verdicts: list[Verdict],
                    findings: Sequence[Finding] | None) -> dict[str, Any]:
    procs = store.processes(target)
    restarts = [p.first_ts for p in procs[1:]]
    sites, groups = target_suspects(store, target, findings=findings)
    joined = [e for v in verdicts for e in v.evidence if " explains " in e]
    source_dir = store.get_meta(target, "source_dir")
    cache: dict[str, list[str] | None] = {}
    scrapes, span = _observed(store, target, verdicts)
    vctx = [_verdict_context(v, source_dir, cache) for v in verdicts]
    leaks = [c for c, v in zip(vctx, verdicts, strict=True) if v.is_leak]
    return {
        "url": target,
        "headline": verdicts[0].kind if verdicts else "inconclusive",
        "scrapes": scrapes, "span": human_duration(span) if span else "0s",
        "restarts": len(restarts),
        "gaps": len(store.gaps(target)),
        "limit": _limit_line(verdicts),
        "fig_mem": safe_json(_figure(store, target, _MEM_SERIES, "memory", "MiB", restarts)),
        "fig_gr": safe_json(_figure(store, target, _COUNT_SERIES, "goroutines and fds",
                                     "count", restarts)),
        "fig_req": safe_json(fig) if (fig := _per_request_figure(store, target, restarts)) else "",
        "verdicts": vctx,
        "leaks": leaks,
        "flames": _flames(store, target),
        "sites": [_suspect_row(s) for s in sites],
        "groups": [_suspect_row(s) for s in groups],
        "findings": sorted(set(joined)),
    }


def _limit_line(verdicts: list[Verdict]) -> str:
    from leakhunter.report.verdicts_text import limit_line

    return limit_line(verdicts) or ""


def _store_label(store: Store, label: str | None) -> str:
    if label is not None:
        return label
    p = Path(store.path)
    import tempfile

    if p.parent.name.startswith("leakhunter-soak-") and str(p).startswith(tempfile.gettempdir()):
        return "a temporary store (soak without --db; not kept)"
    return f"store {p}"


def render_report(store: Store, *, target: str | None = None,
                  verdicts: dict[str, list[Verdict]] | None = None,
                  store_label: str | None = None, expect_growth: Sequence[Any] = ()) -> str:
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

        verdicts = {t: analyze_target(store, t, findings=findings[t], expect_growth=expect_growth)
                    for t in targets}
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("leakhunter.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined,
    )
    tpl = env.get_template("report.html.j2")
    from leakhunter.report.flame import assets

    flame_css, flame_js = assets()
    from markupsafe import Markup

    return tpl.render(
        plotlyjs=script_safe(get_plotlyjs()),
        flame_css=Markup(flame_css), flame_js=Markup(flame_js),
        store_label=_store_label(store, store_label),
        generated=_dt.datetime.now(tz=_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        targets=[_target_context(store, t, verdicts.get(t, []), findings[t]) for t in targets],
    )


def _findings(store: Store, target: str) -> list[Finding] | None:
    """Scan findings for the target's recorded --source DIR (None when there is none)."""
    from leakhunter.analyze.join import scan_findings

    src = store.get_meta(target, "source_dir")
    return scan_findings(src) if src and Path(src).is_dir() else None


def write_report(store: Store, out_path: Path, *, target: str | None = None,
                 verdicts: dict[str, list[Verdict]] | None = None,
                 store_label: str | None = None, expect_growth: Sequence[Any] = ()) -> None:
    """Write the self-contained HTML report for `target` (default: every target).

    `store_label` replaces "store PATH" in the header (a caller whose store is temporary
    says so rather than naming a file that will be gone)."""
    html = render_report(store, target=target, verdicts=verdicts, store_label=store_label,
                         expect_growth=expect_growth)
    from leakhunter.atomic import write_atomic

    write_atomic(Path(out_path), html)
