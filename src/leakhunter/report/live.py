"""The live view of `watch`: a rich table on a terminal, plain lines otherwise.

Per target: the latest live heap, goroutines and RSS, the headline verdict with its
slope, restarts and failures, and progress through `--duration`. It renders what
the watcher and analysis already computed; on a non-terminal (CI logs) it prints one
line per target per interval to stderr so stdout stays clean for `--format json`.
With many targets, the verdicts (a trend fit per series) are refreshed only every
few intervals so the view never competes with scraping.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from leakhunter.units import human_amount, human_bytes, human_duration

if TYPE_CHECKING:
    from leakhunter.model import Verdict
    from leakhunter.watcher import Watcher

PLAIN_MAX_TARGETS = 20


class View:
    """Context manager; `update(watcher)` is the watcher's on_tick callback."""

    def __init__(self, watcher: Watcher, *, live: bool) -> None:
        self.watcher = watcher
        self.live = live
        self._live: Any = None
        self._ticks = 0
        self._verdicts: dict[str, list[Verdict]] = {}

    def __enter__(self) -> View:
        if self.live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._table(), console=Console(stderr=True), refresh_per_second=2,
                              transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(None, None, None)

    def _refresh_verdicts(self) -> None:
        # Computed by the watcher off the scraping loop (only for a few targets; with
        # many, the view shows scrape health and the verdicts come at the end).
        self._verdicts = self.watcher.live_verdicts

    def update(self, watcher: Watcher) -> None:
        self._ticks += 1
        self._refresh_verdicts()
        if self._live is not None:
            self._live.update(self._table())
        else:
            self._plain()

    def _progress(self) -> str:
        w = self.watcher
        el = w.elapsed()
        if w.duration:
            return f"[{human_duration(el)}/{human_duration(w.duration)}]"
        return f"[{human_duration(el)}]"

    def _plain(self) -> None:
        w = self.watcher
        status = w.status()
        prog = self._progress()
        if len(status) > PLAIN_MAX_TARGETS:
            ok = sum(1 for s in status if s.ok)
            leaks = sum(1 for vs in self._verdicts.values() if vs and vs[0].is_leak)
            print(f"{prog} {ok}/{len(status)} targets answering, {leaks} leaking",
                  file=sys.stderr, flush=True)
            return
        for s in status:
            vs = self._verdicts.get(s.target) or []
            print(plain_line(prog, s.target, s.heap_live, s.goroutines, s.rss, vs,
                             s.last_error if not s.ok else ""), file=sys.stderr, flush=True)

    def _table(self) -> Any:
        from rich.table import Table

        # Fits 80 columns: no vertical rules, the target shortened (host:port, middle
        # elided), never the verdict; the limit (time to reach it, or CROSSED) is a
        # second line under the verdict.
        rows = []
        for s in self.watcher.status()[:50]:
            vs = self._verdicts.get(s.target) or []
            style = "red" if vs and vs[0].is_leak else ("green" if vs and vs[0].kind == "no-leak"
                                                        else "")
            lim = limit_cell(vs)
            if lim.startswith("CROSSED"):
                style = "bold red"
            target = short_target(s.target, 16)
            if s.failures:
                target += f"\n{s.failures} failed"
            if s.restarts:
                target += f"\n{s.restarts} restart(s)"
            verdict = _headline(vs[0]) if vs else "-"
            if lim.startswith("CROSSED"):
                verdict += f"\n!! LIMIT {lim}"
            elif lim != "-":
                verdict += f"\nlimit {lim}"
            rows.append((target, _b(s.heap_live), _n(s.goroutines), _b(s.rss), verdict, style))
        vw = max((len(line) for r in rows for line in r[4].splitlines()), default=7)
        t = Table(title=f"leakhunter watch {self._progress()}", expand=False, padding=(0, 1),
                  box=None, show_edge=False)
        t.add_column("target", no_wrap=True, overflow="ellipsis")
        for col in ("heap", "gor.", "rss"):
            t.add_column(col, no_wrap=True, justify="right")
        t.add_column("verdict / limit", no_wrap=True, min_width=vw)
        for *cells, style in rows:
            t.add_row(*cells, style=style)
        return t


def short_target(url: str, width: int) -> str:
    """`http://very-long-host.example:6060/x` → `very-lo…ple:6060`: the scheme goes, the
    port stays (it tells local targets apart), the middle of the host is elided."""
    u = url.split("://", 1)[-1].rstrip("/")
    if len(u) <= width:
        return u
    host = u.partition("/")[0]
    if len(host) <= width:
        return host
    keep = width - 1
    head = keep // 2
    return host[:head] + "…" + host[len(host) - (keep - head):]


def limit_cell(vs: list[Verdict]) -> str:
    """`CROSSED 64 MiB`, `64 MiB in ~5m (3m-9m)` (with the 95% interval), `64 MiB in ~5m?`
    (RSS's trend, no leak verdict), or `-`."""
    with_limit = [v for v in vs if v.limit_bytes]
    if not with_limit:
        return "-"
    lim = human_bytes(with_limit[0].limit_bytes or 0)
    if any(v.limit_crossed for v in with_limit):
        return f"CROSSED {lim}"
    fc = [v for v in with_limit if v.forecast_s is not None]
    if fc:
        v = min(fc, key=lambda v: v.forecast_s or 0.0)
        cell = f"{lim} in ~{human_duration(v.forecast_s or 0.0)}" + ("" if v.is_leak else "?")
        if v.forecast_low_s is not None:
            # The interval travels with the time everywhere the time is shown (issue 9).
            hi = human_duration(v.forecast_high_s) if v.forecast_high_s is not None else "never"
            cell += f" ({human_duration(v.forecast_low_s)}-{hi})"
        return cell
    return lim


def plain_line(prog: str, target: str, heap: float | None, goroutines: float | None,
               rss: float | None, vs: list[Verdict], error: str = "") -> str:
    """One line per target per interval for CI logs; the verdict is never cut."""
    head = _headline(vs[0]) if vs else "-"
    lim = limit_cell(vs)
    line = (f"{prog} {short_target(target, 21)} heap {_b(heap)} gor {_n(goroutines)} "
            f"rss {_b(rss)} {head}")
    if lim.startswith("CROSSED"):
        line += f" !! LIMIT {lim}"
    elif lim != "-":
        line += f" limit {lim}"
    return line + (f" ({error})" if error else "")


def _headline(v: Verdict) -> str:
    if v.kind in ("no-leak", "inconclusive"):
        return v.kind
    return f"{v.kind} {human_amount(v.slope_per_min, v.unit, sign=True)}/min ({v.confidence:.0%})"


def _b(x: float | None) -> str:
    return "-" if x is None else human_bytes(x)


def _n(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def make_view(watcher: Watcher, *, live: bool) -> View:
    return View(watcher, live=live)
