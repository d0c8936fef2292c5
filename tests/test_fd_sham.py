"""The files-closed-by-the-GC test compares GC pairs with sham pairs (issue 9).

A healthy Debian node-exporter, which opens and closes hundreds of /proc and /sys files
a second itself, was called "files the code opened and never closed" by `soak` in 2 of
2 runs of 180 s (bench/RESULTS-realservices.md, case 5): soak's load and scrapes run on
commensurate clocks, so the fd count before each forced GC fell inside a request and
the count after it between two. The watcher now takes the same two counts without a GC
on a coin-chosen half of the forced scrapes, and the verdict asks whether GC pairs lose
files more often than those shams. Here: the statistics on simulated pairs (a biased
load must stay within the false-alarm budget; a leak must still be called), the store
path, and the lab's fdchurn control (node-exporter's pattern) under the real `soak`,
which the old one-sample sign test called a leak.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from golab import leakhunter
from soaklab import build_service, manifest, soak_args

from leakhunter.analyze.series import Segment
from leakhunter.analyze.verdicts import SPECS, _gc_closed_result, analyze_target
from leakhunter.collect.store import Store

M = manifest()
LEAKS = {"heap-leak", "goroutine-leak", "non-heap-growth"}


def _kind(d: list[float], sham: list[bool] | None, every: float = 0.5) -> str:
    """The verdict on per-pair differences `d`; `sham[i]` marks pair i a sham (None: a
    store without shams, judged by the sign test)."""
    ts = [i * every for i in range(len(d))]
    if sham is None:
        return _gc_closed_result(SPECS["fds_gc_closed"], Segment(1, ts, list(d))).verdict.kind
    gc = Segment(1, [t for t, s in zip(ts, sham, strict=True) if not s],
                 [v for v, s in zip(d, sham, strict=True) if not s])
    sh = Segment(1, [t for t, s in zip(ts, sham, strict=True) if s],
                 [v for v, s in zip(d, sham, strict=True) if s])
    return _gc_closed_result(SPECS["fds_gc_closed"], gc, sh).verdict.kind


def _churn(rng: np.random.Generator, n: int) -> np.ndarray:
    """node-exporter's pairs, measured: the first count inside a request one time in six
    (a file or two open), the second almost never."""
    up = rng.random(n) < 0.17
    return np.where(up, rng.integers(1, 3, n), 0) - (rng.random(n) < 0.01)


def test_short_lived_files_caught_before_the_gc_are_no_leak_at_any_look() -> None:
    """The bias of case 5 (one pair in six loses a file or two, GC or not), looked at
    every 4 pairs up to 360 (a 180 s soak): the one-sample sign test calls nearly every
    run, GC against sham stays within the budget."""
    rng = np.random.default_rng(5)
    runs, n_max = 300, 360
    old = new = 0
    for _ in range(runs):
        d = [float(x) for x in _churn(rng, n_max)]
        sham = list(rng.random(n_max) < 0.5)
        looks = range(12, n_max + 1, 4)
        if any(_kind([v for v, s in zip(d[:n], sham[:n], strict=True) if not s], None)
               == "non-heap-growth" for n in looks):
            old += 1
        if any(_kind(d[:n], sham[:n]) == "non-heap-growth" for n in looks):
            new += 1
    assert old >= 0.9 * runs, old
    assert new <= 3, new  # budget 0.002: ~0.6 expected in 300 runs


def test_files_left_to_the_gc_are_still_called_beside_short_lived_ones() -> None:
    """fileleak's shape (~25 files left per 0.5 s, closed by the next GC) with the churn on
    top: called within about 22 pairs (11 s at soak's interval; the sign test on GC pairs
    alone: 16). A rare leak on a quiet service (a file every 4th GC) and a file per GC on
    top of the churn: called within a 180 s soak."""
    rng = np.random.default_rng(7)

    def first(make: Callable[[np.ndarray, int], np.ndarray], n_max: int, step: int = 1) -> int:
        sham = rng.random(n_max) < 0.5
        d = [float(x) for x in make(sham, n_max)]
        s = list(sham)
        return next((n for n in range(6, n_max + 1, step)
                     if _kind(d[:n], s[:n]) == "non-heap-growth"), 10**6)

    strong = sorted(first(lambda sh, n: rng.poisson(25, n) * ~sh - (rng.random(n) < 0.5) * sh
                          + _churn(rng, n), 60) for _ in range(30))
    assert strong[15] <= 22 and strong[-2] <= 28, strong
    quiet = [first(lambda sh, n: (rng.random(n) < 0.25) * ~sh, 360, 4) for _ in range(20)]
    assert sum(f <= 360 for f in quiet) >= 18, quiet
    churned = [first(lambda sh, n: 1 * ~sh + _churn(rng, n), 120, 4) for _ in range(20)]
    assert max(churned) <= 80, churned


def test_the_store_path_judges_gc_pairs_against_the_shams(tmp_path: Path) -> None:
    """Both series in a store: the verdict is the two-sample one and says so; the same GC
    pairs without their shams (an older watcher's store) keep the sign test."""
    rng = np.random.default_rng(3)
    n = 600
    d = _churn(rng, n)
    sham = rng.random(n) < 0.5
    for with_shams in (True, False):
        st = Store(str(tmp_path / f"s{with_shams}.db"))
        url = "http://127.0.0.1:1"
        pid = st.open_process(url, ts=1000.0)
        for i in range(n):
            name = "fds_sham_closed" if sham[i] else "fds_gc_closed"
            if sham[i] and not with_shams:
                continue
            st.add_samples(url, pid, 1000.0 + 0.5 * i, {name: float(d[i]), "fds": 12.0})
        st.commit()
        v = next(v for v in analyze_target(st, url, with_suspects=False)
                 if v.series == "fds_gc_closed")
        st.close()
        if with_shams:
            # (600 pairs: the estimate's noise, +-2 SE about 30 files, is above the 16-file bar)
            assert v.kind == "no-leak", v
            assert "Fisher exact" in v.evidence[0], v.evidence
            assert any("as often without a GC" in e for e in v.evidence), v.evidence
        else:
            assert v.kind == "non-heap-growth" and "sign test" in v.evidence[0], v


def _soak_fdchurn(db: Path) -> subprocess.Popen[bytes]:
    svc = M.get("fdchurn")
    args = soak_args(svc, build_service(svc), duration="40s", warmup="10s", interval="0.5s",
                     rate=50, fail_fast=True, extra=("--db", str(db)))
    return subprocess.Popen([sys.executable, "-m", "leakhunter", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_service_opening_many_short_lived_files_is_no_leak_under_soak(tmp_path: Path) -> None:
    """lab fdchurn (node-exporter's pattern: files read in 4 goroutines for 8 ms per
    request, each closed by the request) soaked with soak's defaults and --fail-fast: no
    leak verdict at any scrape. On cea555b (the sign test on GC pairs alone) the fd pairs
    of such soaks lost files at 24 and 47 of 60 forced GCs and gained at 1, and soak exited 1
    in 3 of 3 runs of this test (bench/RESULTS-detection.md, session 8). Every forced scrape still has its exact heap,
    sham or not."""
    db = tmp_path / "c.db"
    p = _soak_fdchurn(db)
    out, err = p.communicate(timeout=240)
    assert p.returncode == 0, err.decode()[-2000:]
    doc = json.loads(out)
    vs = [v for t in doc["targets"] for v in t["verdicts"]]
    assert not [v for v in vs if v["kind"] in LEAKS], vs
    st = Store(str(db))
    try:
        url = st.targets()[0]
        gc, sham = st.series(url, "fds_gc_closed"), st.series(url, "fds_sham_closed")
        assert len(gc) >= 15 and len(sham) >= 15, (len(gc), len(sham))
        # Shams were drawn at random and kept the heap cadence: one exact heap per forced scrape.
        assert len(st.series(url, "heap_marked")) >= len(gc) + len(sham) - 2
        # The bias is real here: the shams lose files too (else this control tests nothing).
        assert sum(1 for q in sham if q.value > 0) >= 3, [q.value for q in sham]
    finally:
        st.close()


def test_files_left_open_are_called_and_the_sham_pairs_stay_flat() -> None:
    """fileleak under the same soak as the control (1 file per request at 50 req/s): the
    GC pairs lose ~25 files, the shams none, and soak calls it. (tests/test_soak_issue9.py
    checks the suspect and the text with a 0 s warm-up.)"""
    from soaklab import toolchain_for

    svc = M.get("fileleak")
    if toolchain_for(svc) is None:
        import pytest

        pytest.skip(f"fileleak needs a Go toolchain <= {svc.max_go} (lab/README.md)")
    res = leakhunter(*soak_args(svc, build_service(svc), knob="1", rate=50, duration="30s",
                                warmup="10s"), timeout=180)
    assert res.returncode == 1, res.stderr.decode(errors="replace")[-2000:]
    doc = json.loads(res.stdout)
    v = next(v for t in doc["targets"] for v in t["verdicts"] if v["series"] == "fds_gc_closed")
    assert v["kind"] == "non-heap-growth", v
    assert "Fisher exact" in v["evidence"][0], v["evidence"]


def test_the_suspects_count_what_every_forced_gc_closed(tmp_path: Path) -> None:
    """The LH404 suspect's growth is the verdict's estimate: a file left per scrape interval is
    closed by the GC that follows every forced scrape, sham or not, but only the GC pairs count
    it (about half), and node-exporter-like churn adds to both; summing the GC pairs (what the
    suspects did) said 258 of the 400 here."""
    from leakhunter.analyze.suspects import _fd_growth

    rng = np.random.default_rng(11)
    n = 400
    churn = _churn(rng, n)
    sham = rng.random(n) < 0.5
    st = Store(str(tmp_path / "s.db"))
    url = "http://127.0.0.1:1"
    pid = st.open_process(url, ts=1000.0)
    for i in range(n):
        name = "fds_sham_closed" if sham[i] else "fds_gc_closed"
        st.add_samples(url, pid, 1000.0 + 0.5 * i, {name: float(churn[i] + (0 if sham[i] else 1)), "fds": 12.0})
    st.commit()
    got = _fd_growth(st, url, "fds_gc_closed")
    st.close()
    assert abs(got - n) <= 0.15 * n, got  # one file per forced GC, n of them
