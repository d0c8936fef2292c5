"""`watch --metrics URL`: RSS, fds and process identity from a real Prometheus page.

lab/cmd/watchmetrics exposes process_* and go_* metrics computed from its own /proc
and runtime, and leaks file descriptors on request; the expected numbers are read
from the same process's /proc after the run.
"""

from __future__ import annotations

import os
import time
import urllib.request
from pathlib import Path

import golab
from watchload import Load, by_series, watch_with_load

from leakhunter.collect.metrics import parse_metrics
from leakhunter.collect.store import Store


def test_parse_a_real_metrics_page() -> None:
    with golab.run_lab("watchmetrics") as svc:
        assert svc.proc is not None
        text = svc.get("/metrics").decode()
        fds_now = len(os.listdir(f"/proc/{svc.proc.pid}/fd"))
    m = parse_metrics(text + "garbage line\nprocess_open_fds NaN\n")
    assert {"process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds",
            "go_goroutines", "go_threads", "go_memstats_heap_inuse_bytes"} <= set(m)
    assert abs(m["process_open_fds"] - fds_now) <= 2
    assert m["process_resident_memory_bytes"] > 1 << 20


def test_fd_leak_seen_through_metrics(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    with golab.run_lab("watchmetrics") as svc:
        assert svc.proc is not None
        load = Load(svc.base_url, lambda i: "/leak/fd?n=5", rate=10, max_seconds=30)
        rc, doc, err = watch_with_load(svc.base_url, db, load, "--metrics",
                                       svc.base_url + "/metrics", duration="12s")
        fds_end, t_end = len(os.listdir(f"/proc/{svc.proc.pid}/fd")), time.time()
        with urllib.request.urlopen(svc.base_url + "/healthz", timeout=5):
            pass
    assert rc == 1, err
    fds = by_series(doc)["fds"]
    assert fds["kind"] == "non-heap-growth", fds
    assert fds["slope_per_min"] > 100
    with Store(db, readonly=True) as st:
        t = st.targets()[0]
        last_point = st.series(t, "fds")[-1]
        last = last_point.value
        assert st.series(t, "rss")
        assert st.processes(t)[0].start_time is not None
    # The load runs until the watch process exits (after its final analysis), so /proc
    # at the end is ahead of the last scrape by what the load opened since (5 fds a request,
    # 10 requests/s: on a loaded machine the final analysis takes seconds); it can be behind
    # only by the sockets open while that scrape was answered (the scrape's own connection
    # and keep-alive load connections since closed), as in the /metrics check above.
    since = max(0.0, t_end - last_point.ts)
    assert -3 <= fds_end - last <= 5 * 10 * (since + 1) + 0.1 * fds_end, (fds_end, last, since)
