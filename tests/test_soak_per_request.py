"""`soak` reads the allocation per request of its own steady load (`alloc_per_request`).

A chain kept across requests and walked by each (Alertmanager v0.30.0's tracing client, wrapped once
more per notification) retains a few bytes per request, under the live heap's bar for minutes, while
each request allocates more than the last: tests/fixtures/wrapchain does the same on purpose. Its
leaking endpoint is a heap leak on that series, with the chain's layer as the suspect and the cut
stacks said; its fixed endpoint, and a healthy service whose heap profile (and so the cost of
rendering it for the watcher) grows with every request, are not.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import golab
import pytest
from soaklab import free_port

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _soak(name: str, path: str, duration: str, *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    exe = golab.build(name, module_dir=FIXTURES / name)
    port = free_port()
    res = subprocess.run(
        [sys.executable, "-m", "leakhunter", "soak", "--cmd", f"{exe} -addr 127.0.0.1:{port}",
         "--pprof", f"http://127.0.0.1:{port}", "--load", f"http://127.0.0.1:{port}{path}",
         "--warmup", "2s", "--duration", duration, "--interval", "0.5s", "--format", "json", *extra],
        capture_output=True, timeout=300)
    err = res.stderr.decode(errors="replace")
    doc = json.loads(res.stdout) if res.stdout.strip() else {"targets": []}
    return res.returncode, [v for t in doc["targets"] for v in t["verdicts"]], err


def test_a_chain_walked_per_request_is_a_heap_leak_on_its_allocation_per_request(tmp_path: Path) -> None:
    db = tmp_path / "soak.db"
    code, verdicts, err = _soak("wrapchain", "/leak", "40s", "--db", str(db))
    per = [v for v in verdicts if v["series"] == "alloc_per_request"]
    assert code == 1 and per and per[0]["kind"] == "heap-leak", (code, err[-2000:], verdicts)
    v = per[0]
    assert v["unit"] == "bytes/request" and v["slope_per_min"] > 0
    assert any("allocation per request" in e and "/request" in e for e in v["evidence"]), v["evidence"]
    # first the line that adds a link per request (the fix's line), then the chain's own cost
    src = FIXTURES / "wrapchain" / "cmd" / "wrapchain" / "main.go"
    leak = [i for i, t in enumerate(src.read_text().splitlines(), 1) if "// LEAK:" in t]
    top, chain = v["suspects"][0], v["suspects"][1]
    assert top["function"] == "main.(*chain).wrap" and [top["line"]] == leak, v["suspects"]
    assert "adds a link to the layer.Layer chain" in top["detail"] and "NewLayer" in top["detail"], top
    assert chain["function"].endswith("layer.(*Layer).Serve") and "stacks cut" in chain["detail"], chain
    assert not [e for e in v["evidence"] if "--expect-growth" in e], v["evidence"]  # a cost, not a fill
    # the report plots the series the verdict judged, climbing
    html = tmp_path / "r.html"
    rep = subprocess.run([sys.executable, "-m", "leakhunter", "report", "--db", str(db), "-o", str(html)],
                         capture_output=True, timeout=120)
    assert rep.returncode == 0, rep.stderr.decode(errors="replace")[-2000:]
    fig = re.search(r'<script type="application/json" id="fig-req-\d+">(.*?)</script>', html.read_text(), re.S)
    assert fig is not None
    trace = json.loads(fig.group(1))["data"][0]
    assert trace["name"] == "allocated per request" and len(trace["y"]) >= 20
    assert statistics.median(trace["y"][-10:]) > 2 * statistics.median(trace["y"][:10])
    # the live heap kept one small struct per request: not what called it
    assert not [x for x in verdicts if x["series"] == "heap_live" and x["kind"] == "heap-leak"], verdicts


@pytest.mark.parametrize(("name", "path"), [("wrapchain", "/fixed"), ("profilegrow", "/work")])
def test_steady_work_per_request_is_not_called(name: str, path: str) -> None:
    code, verdicts, err = _soak(name, path, "40s")
    assert code == 0, (code, err[-2000:], verdicts)
    assert not [v for v in verdicts if v["series"] == "alloc_per_request"], verdicts


def test_per_request_points_span_enough_requests_and_split_at_restarts(tmp_path: Path) -> None:
    """`series.per_request` on a store as the watcher writes it: a point spans at least PER_REQUEST_MIN
    requests (short intervals are merged into the next), a scrape without a new heap profile (no
    `heap_alloc_total`) is skipped, a restart starts a new segment, and a store without a load count
    (`watch`) has no such series."""
    from leakhunter.analyze.series import PER_REQUEST_MIN, per_request
    from leakhunter.collect.store import Store

    st = Store(str(tmp_path / "s.db"))
    try:
        t = "http://127.0.0.1:1"
        p1 = st.open_process(t, ts=0.0, pid=1)
        # 30 requests per scrape: two scrapes make one point; 2 KiB per request until t=10, then 4 KiB
        alloc = 0.0
        for i in range(1, 21):
            alloc += 30 * (2048 if i <= 10 else 4096)
            vals = {"load_requests": 30.0 * i}
            if i != 7:  # no new heap profile at this scrape
                vals["heap_alloc_total"] = alloc
            st.add_samples(t, p1, float(i), vals)
        p2 = st.open_process(t, ts=30.0, pid=2)
        for i in range(1, 6):
            st.add_samples(t, p2, 30.0 + i, {"load_requests": 600.0 + 60 * i, "heap_alloc_total": 60.0 * i * 1000})
        segs = per_request(st, t)
        assert [s.process_id for s in segs] == [p1, p2]
        first = segs[0]
        assert all(v in (2048.0, 4096.0) or 2048 < v < 4096 for v in first.values), first.values
        assert first.values[0] == 2048.0 and first.values[-1] == 4096.0
        # every point spans >= PER_REQUEST_MIN requests: 20 scrapes of 30 give at most 10 points
        assert len(first) <= 20 * 30 // PER_REQUEST_MIN
        assert segs[1].values == [1000.0] * len(segs[1])
        assert per_request(st, t, per="no_such_series") == []
    finally:
        st.close()


@pytest.mark.parametrize(("path", "leaks"), [("/leak", True), ("/fixed", False)])
def test_watch_reads_allocation_per_request_from_the_services_request_counter(
        tmp_path: Path, path: str, leaks: bool) -> None:
    """`watch --metrics URL --requests-metric NAME`: the service's own request counter (summed over its
    labels) stands in for soak's load count, so watch calls the same chain leak by its allocation per
    request under traffic it does not drive, and not the fixed endpoint."""
    from watchload import Load, watch_with_load

    exe = golab.build("wrapchain", module_dir=FIXTURES / "wrapchain")
    with golab.LabProcess(exe) as svc:
        base = svc.base_url
        db = tmp_path / "w.db"
        code, doc, err = watch_with_load(
            base, db, Load(base, lambda i: path, rate=50, max_seconds=60), "--metrics", base + "/metrics",
            "--requests-metric", "wrapchain_requests_total", duration="40s")
    verdicts = doc["targets"][0]["verdicts"] if doc else []
    per = [v for v in verdicts if v["series"] == "alloc_per_request"]
    if leaks:
        assert code == 1 and per and per[0]["kind"] == "heap-leak", (code, err[-2000:], verdicts)
        assert per[0]["unit"] == "bytes/request"
    else:
        assert code == 0 and not per, (code, err[-2000:], verdicts)


def test_requests_metric_needs_the_metrics_page_and_a_name() -> None:
    for extra, said in ((["--requests-metric", "x"], "give --metrics URL too"),
                        (["--metrics", "http://127.0.0.1:1/metrics", "--requests-metric", " "], "needs the name")):
        res = golab.leakhunter("watch", "http://127.0.0.1:1", "--duration", "1s", *extra, timeout=60)
        err = res.stderr.decode()
        assert res.returncode == 2 and said in err and err.count("\n") == 1 and "Traceback" not in err, err


def test_a_counter_missing_from_the_page_is_said_once_and_the_watch_goes_on(tmp_path: Path) -> None:
    """A --requests-metric name the page does not carry: one warning line, no allocation per request,
    and the rest of the watch (its samples, its verdicts) kept as without the option."""
    import sqlite3

    exe = golab.build("wrapchain", module_dir=FIXTURES / "wrapchain")
    with golab.LabProcess(exe) as svc:
        db = tmp_path / "w.db"
        res = golab.leakhunter("watch", svc.base_url, "--metrics", svc.base_url + "/metrics",
                               "--requests-metric", "no_such_requests_total", "--interval", "0.5s",
                               "--duration", "4s", "--db", str(db), "--format", "json", timeout=120)
    err = res.stderr.decode()
    assert res.returncode in (0, 1) and "Traceback" not in err, err
    assert err.count("no counter 'no_such_requests_total'") == 1, err
    with sqlite3.connect(db) as c:
        series = {r[0] for r in c.execute("SELECT DISTINCT series FROM samples")}
    assert "goroutines" in series and "load_requests" not in series, series
    assert json.loads(res.stdout)["targets"][0]["verdicts"]


def test_counter_total_sums_a_family_over_its_labels() -> None:
    from leakhunter.collect.metrics import counter_total

    page = ('# TYPE http_requests_total counter\nhttp_requests_total{code="200",path="/a}b"} 10\n'
            'http_requests_total{code="500"} 2.5 1700000000000\nhttp_requests_total_created 99\n'
            "http_requests_total NaN\nbad{ 4\n")
    assert counter_total(page, "http_requests_total") == 12.5
    assert counter_total(page, "http_requests") == 12.5  # an OpenMetrics family named without _total
    assert counter_total(page, "nope") is None


def test_a_counter_total_that_overflows_is_no_count() -> None:
    """A page whose series of one family add up past a float's range (hostile or broken exporter) gives
    no request count, not an infinite one that every allocation divides to zero."""
    from leakhunter.collect.metrics import counter_total

    page = 'r_total{a="1"} 1e308\nr_total{a="2"} 1e308\n'
    assert counter_total(page, "r_total") is None
