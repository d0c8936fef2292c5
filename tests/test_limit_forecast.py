"""The memory limit when the heap's own trend is not settled (issue 9's acceptance audit):
watch without --force-gc sees the heap only at the service's GCs, rarer as it grows, while the
RSS the OOM killer counts climbs plainly. The time to the limit then comes from RSS, said to be
a forecast and not a verdict; a crossed limit fails the run (exit 1) whatever the verdict."""

from __future__ import annotations

from pathlib import Path

from leakhunter.analyze.verdicts import analyze_target, failed
from leakhunter.collect.store import Store
from leakhunter.report import verdicts_text

MiB = float(1 << 20)


def _store(path: Path, heap: list[float]) -> Store:
    """RSS climbing 1 MiB/s from 20 MiB for 60 s; the heap seen at a few GCs only."""
    st = Store(path)
    pid = st.open_process("t", ts=1000.0)
    for i in range(120):
        st.add_samples("t", pid, 1000.0 + i * 0.5, {"rss": 20 * MiB + i * 0.5 * MiB})
    for j, v in enumerate(heap):
        st.add_samples("t", pid, 1000.0 + j * 7.5 + 0.25, {"heap_live": v})
    st.commit()
    return st


def test_an_unsettled_heap_gets_a_forecast_from_rss(tmp_path: Path) -> None:
    # a climb then a flat recent half at sparse GCs: the heap verdict stays inconclusive
    st = _store(tmp_path / "s.db", [2 * MiB, 20 * MiB, 40 * MiB, 60 * MiB, 60 * MiB, 61 * MiB,
                                    60 * MiB, 61 * MiB])
    vs = analyze_target(st, "t", limit_bytes=512 << 20, with_suspects=False)
    heap = next(v for v in vs if v.series == "heap_live")
    assert heap.kind == "inconclusive", heap.evidence
    assert heap.forecast_s is not None and 380 < heap.forecast_s < 480, heap.forecast_s
    assert any("a forecast from RSS, not a leak verdict" in e for e in heap.evidence)
    text = verdicts_text.render({"t": vs})
    assert "reached in ~" in text and "if the growth holds" in text, text
    assert "no growth toward it" not in text
    assert not failed({"t": vs})
    # the same run against a limit it passed: exit 1 whatever the heap verdict
    crossed = analyze_target(st, "t", limit_bytes=64 << 20, with_suspects=False)
    assert failed({"t": crossed})
    assert "LIMIT CROSSED" in verdicts_text.render({"t": crossed})
    st.close()


def test_nothing_growing_is_not_forecast(tmp_path: Path) -> None:
    st = Store(tmp_path / "s.db")
    pid = st.open_process("t", ts=1000.0)
    for i in range(120):
        wobble = (i % 7) * 0.01 * MiB
        st.add_samples("t", pid, 1000.0 + i * 0.5, {"rss": 40 * MiB + wobble,
                                                    "heap_live": 20 * MiB + wobble})
    st.commit()
    vs = analyze_target(st, "t", limit_bytes=512 << 20, with_suspects=False)
    assert all(v.forecast_s is None for v in vs)
    assert "not growing toward it" in verdicts_text.render({"t": vs})
    assert not failed({"t": vs})
    st.close()
