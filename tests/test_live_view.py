"""The live view fits 80 columns: the target is shortened, never the verdict, and the
memory limit shows as a time to reach it or, once crossed, loudly."""

from __future__ import annotations

from pathlib import Path

from leakhunter.collect.store import Store
from leakhunter.model import Verdict
from leakhunter.report.live import View, plain_line, short_target
from leakhunter.watcher import Watcher


def _verdicts(crossed: bool) -> list[Verdict]:
    v = Verdict("heap-leak", 0.999, 3.4 * (1 << 20), "bytes", series="heap_live",
                limit_bytes=64 << 20, limit_source="--limit", limit_crossed=crossed,
                forecast_s=None if crossed else 1320.0,
                forecast_low_s=None if crossed else 900.0,
                forecast_high_s=None if crossed else 2400.0)
    return [v]


def test_table_fits_80_columns_and_keeps_the_verdict(tmp_path: Path) -> None:
    from rich.console import Console

    url = "http://orders-service-canary-7f9c8d.internal.example.com:6060"
    with Store(tmp_path / "v.db") as st:
        w = Watcher([url], st, interval=1.0)
        s = w.status()[0]
        s.heap_live, s.goroutines, s.rss, s.scrapes = 35.5 * (1 << 20), 12345, 69 << 20, 40
        for crossed in (False, True):
            w.live_verdicts = {url: _verdicts(crossed)}
            view = View(w, live=False)
            view._refresh_verdicts()
            con = Console(width=80, record=True, color_system=None)
            con.print(view._table())
            text = con.export_text()
            assert max(len(line) for line in text.splitlines()) <= 80, text
            assert "heap-leak +3.4 MiB/min (100%)" in text, text
            want = "!! LIMIT CROSSED 64.0 MiB" if crossed else "limit 64.0 MiB in ~22 min (15 min-40 min)"
            assert want in text, text


def test_plain_line_shortens_the_target_only() -> None:
    url = "http://orders-service-canary-7f9c8d.internal.example.com:6060"
    line = plain_line("[1m/30m]", url, 35 << 20, 12, 69 << 20, _verdicts(True))
    assert "heap-leak +3.4 MiB/min (100%)" in line and "!! LIMIT CROSSED 64.0 MiB" in line
    assert short_target(url, 21).endswith(":6060") and len(short_target(url, 21)) == 21
    assert short_target("http://127.0.0.1:6060", 21) == "127.0.0.1:6060"
