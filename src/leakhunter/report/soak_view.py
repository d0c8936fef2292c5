"""The live progress view of `soak` and its final summary (load, suspects, fixes).

Live: a rich table on a terminal, one plain line per interval otherwise (CI logs),
always on stderr so stdout stays clean for `--format json`. The summary adds to the
shared verdict text what a soak user needs to act: how much load really ran (a soak
that sent nothing proves nothing), and for each suspect joined to a `scan` finding the
leaking line itself and the fix. Renders only: numbers come from the load generator,
the watcher and `analyze/`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leakhunter.units import human_bytes, human_duration

if TYPE_CHECKING:
    from leakhunter.collect.loadgen import LoadStats
    from leakhunter.model import Finding, Verdict
    from leakhunter.watcher import Watcher


def load_line(st: LoadStats) -> str:
    p99 = st.percentile(99)
    lat = f"p50 {_ms(st.percentile(50))} p99 {_ms(p99)}" if p99 is not None else "no answers yet"
    err = f", {st.errors} errors" if st.errors else ""
    if st.errors and st.first_error():
        err += f" ({st.first_error()})"
    return f"{st.done} requests ({st.rate:.1f}/s){err}, {lat}"


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x * 1000:.1f}ms"


class SoakView:
    """Context manager; `tick(phase, elapsed, total)` redraws; `watcher_tick` is on_tick."""

    def __init__(self, stats: LoadStats, *, live: bool, total: float,
                 verdicts: Callable[[], Mapping[str, Sequence[Verdict]]] | None = None) -> None:
        self.stats = stats
        self.live = live
        self.total = total
        self.watcher: Watcher | None = None
        self.phase = "starting"
        self.elapsed = 0.0
        self._verdicts = verdicts
        self._head = "-"
        self._live: Any = None

    def __enter__(self) -> SoakView:
        if self.live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._table(), console=Console(stderr=True),
                              refresh_per_second=2, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(None, None, None)

    def tick(self, phase: str, elapsed: float) -> None:
        self.phase, self.elapsed = phase, elapsed
        if self.watcher is not None and self._verdicts is not None:
            vs = [v for vv in self._verdicts().values() for v in vv]
            self._head = headline(vs)
            from leakhunter.report.live import limit_cell

            lim = limit_cell(vs)
            if lim.startswith("CROSSED"):
                self._head += f"; !! LIMIT {lim}"
            elif lim != "-":
                self._head += f"; limit {lim}"
        if self._live is not None:
            self._live.update(self._table())
        else:
            print(self._plain(), file=sys.stderr, flush=True)

    def _numbers(self) -> tuple[str, str]:
        if self.watcher is None:
            return "-", "-"
        st = self.watcher.status()[0]
        heap = "-" if st.heap_live is None else human_bytes(st.heap_live)
        gr = "-" if st.goroutines is None else f"{st.goroutines:,.0f}"
        return heap, gr

    def _plain(self) -> str:
        heap, gr = self._numbers()
        return (f"soak [{human_duration(self.elapsed)}/{human_duration(self.total)}] {self.phase}: "
                f"{load_line(self.stats)}; heap {heap}, goroutines {gr}; {self._head}")

    def _table(self) -> Any:
        from rich.table import Table

        heap, gr = self._numbers()
        t = Table(title=f"leakhunter soak [{human_duration(self.elapsed)}/"
                        f"{human_duration(self.total)}] {self.phase}", show_header=False)
        t.add_column("what")
        t.add_column("value")
        t.add_row("load", load_line(self.stats))
        t.add_row("live heap", heap)
        t.add_row("goroutines", gr)
        t.add_row("verdict", self._head)
        return t


def headline(vs: Sequence[Verdict]) -> str:
    """The most important verdict so far, in a few words."""
    if not vs:
        return "collecting"
    from leakhunter.units import human_amount

    order = {"heap-leak": 0, "goroutine-leak": 1, "non-heap-growth": 2, "plateau": 3,
             "inconclusive": 4, "no-leak": 5}
    v = min(vs, key=lambda x: order.get(x.kind, 9))
    if v.kind in ("no-leak", "inconclusive"):
        return v.kind
    return f"{v.kind} {human_amount(v.slope_per_min, v.unit, sign=True)}/min [{v.series}]"


def fixes(verdicts: Mapping[str, Sequence[Verdict]], source_dir: str | None) -> list[str]:
    """For each leak suspect explained by a finding: the leaking line and the fix, once each."""
    out: list[str] = []
    seen: set[tuple[str, int]] = set()
    for vs in verdicts.values():
        for v in vs:
            if not v.is_leak:
                continue
            for s in v.suspects:
                f = s.finding
                if f is None or (f.file, f.line) in seen:
                    continue
                seen.add((f.file, f.line))
                out += finding_block(f, source_dir)
    return out


def finding_block(f: Finding, source_dir: str | None) -> list[str]:
    lines = [f"{f.file}:{f.line}: {f.rule} {f.name}: {f.message}"]
    code = source_line(f.file, f.line, source_dir)
    if code:
        lines.append(f"    {f.line} | {code}")
    if f.fix:
        lines.append(f"  fix: {f.fix}")
    return lines


def source_line(file: str, line: int, source_dir: str | None) -> str:
    """The text of `file:line` (relative to `source_dir` or absolute), '' when unreadable."""
    for cand in ([Path(source_dir) / file] if source_dir else []) + [Path(file)]:
        try:
            with cand.open(encoding="utf-8", errors="replace") as fh:
                for i, text in enumerate(fh, 1):
                    if i == line:
                        return text.strip()
        except OSError:
            continue
    return ""


def summary_lines(stats: LoadStats, duration: float, warmup: float,
                  asked: float | None = None) -> list[str]:
    """`asked` is the --duration when the soak stopped before it (--fail-fast)."""
    seen = f"observed {human_duration(duration)}"
    if asked is not None:
        seen += f" of {human_duration(asked)}: stopped at the first leak verdict (--fail-fast)"
    return [f"load: {load_line(stats)} over {human_duration(stats.elapsed)} "
            f"(warm-up {human_duration(warmup)}, {seen})"]
