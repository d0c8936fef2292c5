"""`leakhunter watch` on real Go services under load: each gets the right verdict.

Leaks (goroutines blocked on a send, a global map, deep parked stacks) must be called
leaks with the right suspect; controls (GC sawtooth, a bounded cache) must not. The
services are lab programs on 127.0.0.1, watched by the real CLI at a 0.5 s interval
for 16 s with a bounded load running; expected source lines are read from the Go
files, not typed in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import golab
import pytest
from watchload import Load, by_series, watch_json, watch_with_load

from leakhunter.collect.store import Store

LEAKS = {"heap-leak", "goroutine-leak", "non-heap-growth"}


def _line_of(prog: str, needle: str) -> int:
    src = (golab.LAB / "cmd" / prog / "main.go").read_text().splitlines()
    hits = [i + 1 for i, line in enumerate(src) if needle in line]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def test_goroutine_leak_is_called_with_the_blocking_line(tmp_path: Path) -> None:
    with golab.run_lab("chanleak") as svc, \
            Load(svc.base_url, lambda i: "/leak/send?n=20", rate=20, max_seconds=30):
        assert svc.proc is not None
        rc, doc, err = watch_json(svc.base_url, tmp_path / "w.db", "--source",
                                  str(golab.LAB / "cmd" / "chanleak"), pid=svc.proc.pid)
    assert rc == 1, err
    verdicts = doc["targets"][0]["verdicts"]
    # The DESIGN.md contract keys, for every verdict and suspect.
    assert doc["targets"][0]["target"] == svc.base_url
    for v in verdicts:
        assert {"kind", "confidence", "slope_per_min", "unit", "evidence", "suspects"} <= set(v)
        for s in v["suspects"]:
            assert {"function", "file", "line", "growth", "finding"} <= set(s)
        # One suspect per line of code, however many states its goroutines were seen in.
        sites = [(s["function"], s["file"], s["line"]) for s in v["suspects"]]
        assert len(sites) == len(set(sites)), sites
    g = by_series(doc)["goroutines"]
    assert g["kind"] == "goroutine-leak" and g["confidence"] >= 0.95
    assert g["slope_per_min"] > 100
    # The goroutines are leaked on `ch <- compute()`: the runtime's goroutineleak
    # profile (Go 1.27) or the growing group must name that line.
    line = _line_of("chanleak", "ch <- compute()")
    top = g["suspects"][0]
    assert top["function"].endswith("leakSend.func1") and top["line"] == line
    assert top["file"].endswith("cmd/chanleak/main.go")
    # --source: the scanner's findings in leakSend include a timer rule (LH303), which
    # must not be credited with goroutines blocked on a send; a send rule may be.
    for s in g["suspects"]:
        assert s["finding"] is None or s["finding"]["rule"].startswith(("LH1", "LH2")), s
    assert verdicts[0]["kind"] in LEAKS


def test_heap_leak_through_a_global_map(tmp_path: Path) -> None:
    with golab.run_lab("watchheap") as svc:
        assert svc.proc is not None
        load = Load(svc.base_url, lambda i: "/leak?kb=16", rate=60, max_seconds=30)
        # A growing heap makes GCs rare (the goal doubles): the live heap is read after a
        # GC leakhunter asks for, once a second (issue 9; without it watch waits for GCs).
        rc, doc, err = watch_with_load(svc.base_url, tmp_path / "w.db", load, "--limit", "1GiB",
                                       "--source", str(golab.LAB / "cmd" / "watchheap"),
                                       "--force-gc", "1s", pid=svc.proc.pid, duration="20s")
    assert rc == 1, err
    h = by_series(doc)["heap_live"]
    assert h["kind"] == "heap-leak", h
    assert h["slope_per_min"] > 5 << 20
    assert doc["targets"][0]["verdicts"][0]["series"] == "heap_live"
    top = h["suspects"][0]
    assert top["function"] == "main.record"
    assert top["line"] == _line_of("watchheap", "b := make([]byte, kb<<10)")
    assert any("1.0 GiB is reached in" in e for e in h["evidence"]), h["evidence"]
    assert h["forecast_s"] and h["forecast_s"] > 0
    assert by_series(doc)["goroutines"]["kind"] in ("no-leak", "inconclusive")
    # --source: the scanner's own LH501 finding explains the growing site.
    scan = golab.leakhunter("scan", str(golab.LAB / "cmd" / "watchheap"), "--format", "json",
                            "--enable", "LH501", "--show-info")
    lh501 = [f for f in json.loads(scan.stdout)["findings"] if f["rule"] == "LH501"]
    assert len(lh501) == 1
    assert top["finding"] and top["finding"]["rule"] == "LH501"
    assert top["finding"]["line"] == lh501[0]["line"]
    assert any(e.startswith(f"LH501 at main.go:{lh501[0]['line']} explains +")
               for e in h["evidence"]), h["evidence"]


def test_deep_parked_stacks_are_non_heap_growth(tmp_path: Path) -> None:
    with golab.run_lab("stackgrowth") as svc, \
            Load(svc.base_url, lambda i: "/deep?depth=200", rate=20, max_seconds=40):
        assert svc.proc is not None
        # Growth outside the heap must persist 15 s before it is called (RSS first-touch
        # and warm-up settle): watched for 24 s.
        rc, doc, err = watch_json(svc.base_url, tmp_path / "w.db", pid=svc.proc.pid,
                                  duration="24s")
    assert rc == 1, err
    verdicts = doc["targets"][0]["verdicts"]
    # Precedence: deep stacks (> 32 KiB per added goroutine) put non-heap-growth first.
    assert verdicts[0]["kind"] == "non-heap-growth" and verdicts[0]["series"] == "nonheap"
    assert any("StackInuse" in e for e in verdicts[0]["evidence"])
    assert by_series(doc)["heap_live"]["kind"] != "heap-leak"
    assert any(s["function"] == "main.descend" for s in verdicts[0]["suspects"])


# sawtooth holds 8 MiB per request in flight: the live heap after a GC jumps by 8 MiB
# steps with the requests caught in flight, and its heap goal sits at the pacer's
# minimum (not used); 22 s of such noise settles no trend either way, so "inconclusive"
# is an honest answer there (issue 9 changed this from a flat goal read as "no-leak").
# What a control must never be is a leak (asserted for both, and measured over 261 runs
# in bench/RESULTS-detection.md).
@pytest.mark.parametrize(
    ("prog", "path", "rate", "args", "expected", "extra"),
    [
        # The watch sees the load begin (watch_with_load), so the live heap may step from idle to
        # the working level of requests in flight in the window's first seconds and stay there:
        # `plateau` ("levelled off - a warm-up") describes that honestly (CI, 1 run in ~30
        # suites, session 25's last run); it is held below to a rise the load explains.
        ("sawtooth", "/work?mb=8", 30, (), {"no-leak", "inconclusive", "plateau"}, ()),
        # 64 entries of 64 KiB (4 MiB, four relevance bars) fill in 1.3 s at 50 req/s and in 6 s at
        # the ~11 req/s a starved load generator delivered once beside the suite (session 30: with
        # 250 entries of 16 KiB the fill then took the whole 22 s window, and a cache still filling
        # at its end reads, honestly, as growth: "heap-leak"); the flat tread after the fill is then
        # long enough to be called a plateau, or under the suite's own load an honest "inconclusive".
        # This live test holds what a control must never be (a leak) and that a filled cache is not
        # called clean; the plateau claim itself is held by the deterministic series tests
        # (test_trend.test_plateau_after_fill_but_not_for_linear_growth).
        ("boundedcache", "/get?key={i}&size=65536", 50, ("-max", "64"), {"plateau", "inconclusive"}, ()),
    ],
)
def test_controls_are_not_leaks(tmp_path: Path, prog: str, path: str, rate: float,
                                args: tuple[str, ...], expected: set[str],
                                extra: tuple[str, ...]) -> None:
    with golab.run_lab(prog, *args) as svc:
        assert svc.proc is not None
        load = Load(svc.base_url, lambda i: path.replace("{i}", str(i)), rate=rate,
                    max_seconds=30)
        rc, doc, err = watch_with_load(svc.base_url, tmp_path / "w.db", load, *extra,
                                       pid=svc.proc.pid, duration="22s")
    kinds = {v["series"]: v["kind"] for v in doc["targets"][0]["verdicts"]}
    assert rc == 0, (kinds, err)
    assert not LEAKS & set(kinds.values()), kinds
    heap = by_series(doc)["heap_live"]
    if heap["kind"] == "no-leak" and prog == "boundedcache":
        # The fill lands in the window's first seconds, the part every verdict drops as warm-up
        # (10%): when the load generator runs ahead, the judged window starts full and flat, and
        # `no-leak` is the honest answer (1 run in 2 suites of session 16). A filled cache is
        # not called clean when the judged window still shows the fill.
        assert _judged_rise(heap) < 1 << 20, heap
    else:
        assert heap["kind"] in expected, heap
    if heap["kind"] == "plateau" and prog == "sawtooth":
        # Requests in flight hold a 64 KiB chunk each: a warm-up of a few MiB at most, never
        # growth that keeps on (the late slope) or a level the load cannot explain.
        assert _judged_rise(heap) < 3 << 20 and heap["slope_per_min"] <= 256 << 10, heap
    assert kinds["goroutines"] == "no-leak"


_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


def _judged_rise(verdict: dict[str, object]) -> float:
    """Last third's median minus the first third's, from the verdict's own evidence line."""
    import re

    for line in verdict["evidence"]:  # type: ignore[attr-defined]
        m = re.search(r"([\d.]+) (B|KiB|MiB|GiB) → ([\d.]+) (B|KiB|MiB|GiB) \(medians of the first and last thirds\)",
                      str(line))
        if m:
            return float(m.group(3)) * _UNITS[m.group(4)] - float(m.group(1)) * _UNITS[m.group(2)]
    raise AssertionError(f"no levels in the evidence: {verdict}")


# -- issue 9: per-GC heap with --force-gc, limits, two writers --------------------------


def test_global_map_4k_per_request_is_called_with_force_gc_and_the_limit_is_loud(
        tmp_path: Path) -> None:
    """The issue's case: 4 KiB per request into a global map, which `watch --interval 2s`
    called "inconclusive: need 8 samples" after 70 s (a growing heap makes GCs rare). With
    --force-gc each scrape reads the live heap after a GC; a --limit below the service's
    memory makes every output say it is crossed."""
    with golab.run_lab("watchheap") as svc:
        assert svc.proc is not None
        load = Load(svc.base_url, lambda i: "/leak?kb=4", rate=100, max_seconds=40)
        rc, doc, err = watch_with_load(svc.base_url, tmp_path / "w.db", load,
                                       "--force-gc", "1s", "--limit", "4MiB",
                                       pid=svc.proc.pid, duration="24s", interval="1s")
    assert rc == 1, err
    h = by_series(doc)["heap_live"]
    assert h["kind"] == "heap-leak", h
    assert any("after a GC leakhunter asked for" in e for e in h["evidence"]), h["evidence"]
    assert h["suspects"][0]["function"] == "main.record", h["suspects"][:3]
    for v in doc["targets"][0]["verdicts"]:
        for s in v["suspects"]:
            assert not s["function"].startswith(("net/http/pprof", "runtime/pprof",
                                                 "compress/flate")), s
    assert h["limit_bytes"] == 4 << 20 and h["limit_source"] == "--limit"
    assert h["limit_crossed"] is True
    assert h["evidence"][0].startswith("LIMIT CROSSED"), h["evidence"]
    # The live view (plain lines on stderr when not a terminal) says it loudly too.
    assert "!! LIMIT CROSSED 4.0 MiB" in err, err[-1500:]
    # The same scrapes against a limit far above: a time to reach it, with the slope's 95%
    # interval, in the verdict data (JSON, report) and in the text.
    from leakhunter.analyze.verdicts import analyze_target
    from leakhunter.collect.store import Store
    from leakhunter.report import verdicts_json, verdicts_text

    with Store(tmp_path / "w.db", readonly=True) as st:
        vs = {svc.base_url: analyze_target(st, svc.base_url, limit_bytes=1 << 30,
                                           with_suspects=False)}
    fc = json.loads(verdicts_json.render(vs))
    h = by_series(fc)["heap_live"]
    assert h["forecast_s"] and h["forecast_low_s"] and h["forecast_high_s"], h
    assert h["forecast_low_s"] <= h["forecast_s"] <= h["forecast_high_s"]
    assert not h["limit_crossed"] and fc["targets"][0]["labels"] == {}
    text = verdicts_text.render(vs)
    assert "limit: --limit 1.0 GiB reached in ~" in text and "(95%: " in text, text
    # The report of the watch's store (the --limit was kept in it) says it was crossed.
    res = golab.leakhunter("report", "--db", str(tmp_path / "w.db"), "-o",
                           str(tmp_path / "r.html"))
    assert res.returncode in (0, 1), res.stderr.decode()[-1500:]
    assert "LIMIT CROSSED" in (tmp_path / "r.html").read_text()


def test_a_real_cgroup_limit_is_forecast_in_json_text_and_report(tmp_path: Path) -> None:
    """The service runs in a memory-limited cgroup (made under the test's own, where the
    machine allows it): `watch --pid` finds the limit itself, and the JSON, the text and
    the report give the time to reach it with its 95% interval."""
    from cgrouplab import enter, limited_cgroup

    with limited_cgroup(1 << 30) as cg:
        if cg is None:
            pytest.skip("no memory-limited cgroup can be made here (no write access to a "
                        "memory cgroup under our own); the --limit tests cover the forecast")
        with golab.run_lab("watchheap") as svc:
            assert svc.proc is not None
            enter(cg, svc.proc.pid)
            load = Load(svc.base_url, lambda i: "/leak?kb=16", rate=60, max_seconds=40)
            rc, doc, err = watch_with_load(svc.base_url, tmp_path / "c.db", load,
                                           "--force-gc", "0.5s", pid=svc.proc.pid,
                                           duration="20s")
    assert rc == 1, err[-2000:]
    h = by_series(doc)["heap_live"]
    assert h["kind"] == "heap-leak", h
    assert h["limit_source"] == "cgroup memory.max" and h["limit_bytes"] == 1 << 30, h
    assert not h["limit_crossed"]
    assert h["forecast_low_s"] <= h["forecast_s"] <= (h["forecast_high_s"] or float("inf")), h
    from leakhunter.analyze.verdicts import analyze_target
    from leakhunter.collect.store import Store
    from leakhunter.report import verdicts_text

    with Store(tmp_path / "c.db", readonly=True) as st:
        text = verdicts_text.render({svc.base_url: analyze_target(st, svc.base_url,
                                                                  with_suspects=False)})
    assert "limit: cgroup memory.max 1.0 GiB reached in ~" in text, text
    res = golab.leakhunter("report", "--db", str(tmp_path / "c.db"), "-o",
                           str(tmp_path / "c.html"))
    assert res.returncode in (0, 1), res.stderr.decode()[-1500:]
    assert "reaches the cgroup memory.max 1.0 GiB in ~" in (tmp_path / "c.html").read_text()


def test_two_watches_on_one_store_are_not_a_restart(tmp_path: Path) -> None:
    """A second `watch` of the same target into the same store (one with --pid, one
    without) must adopt the process row, never open a new one as if it restarted."""
    import sqlite3
    import subprocess
    import sys
    import time

    db = tmp_path / "two.db"
    with golab.run_lab("sawtooth") as svc:
        assert svc.proc is not None
        base = [sys.executable, "-m", "leakhunter", "watch", svc.base_url, "--interval", "0.3s",
                "--duration", "6s", "--db", str(db), "--format", "json"]
        procs = [subprocess.Popen([*base, "--pid", str(svc.proc.pid)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)]
        with Load(svc.base_url, lambda i: "/work?mb=8", rate=30, max_seconds=20):
            time.sleep(1.5)
            procs += [subprocess.Popen(base, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                      for _ in range(2)]
            outs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err.decode()[-1500:]
        assert b"restart detected" not in err, err.decode()[-1500:]
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT id, reason FROM processes").fetchall()
    assert len(rows) == 1, rows


def test_adoption_tolerates_an_overlapping_writer_and_names_a_real_restart(tmp_path: Path) -> None:
    """The race behind a 1-in-90 failure of the test above, made certain: the store's row was
    just written by another watcher whose scrape began before ours but read /debug/vars after,
    so its NumGC is ahead of the one we read. That is no restart. A row whose counters are
    far ahead (a real restart resets them) still splits, and says why."""
    import asyncio
    import sqlite3
    import time

    from leakhunter.collect.store import Store
    from leakhunter.watcher import Watcher

    db = tmp_path / "adopt.db"
    with golab.run_lab("sawtooth") as svc, \
            Load(svc.base_url, lambda i: "/work?mb=8", rate=30, max_seconds=30):
        def watch_once(ahead: float) -> list[str]:
            with sqlite3.connect(db) as c:  # the other writer's newer counters, moments ago
                c.execute("UPDATE processes SET num_gc = num_gc * ? + 2, last_ts = ?"
                          " WHERE id = (SELECT max(id) FROM processes)", (ahead, time.time() - 0.1))
            warnings: list[str] = []
            with Store(db) as st:
                asyncio.run(Watcher([svc.base_url], st, interval=0.3,
                                    warn=warnings.append).run(duration=1.2))
            return warnings

        with Store(db) as st:
            asyncio.run(Watcher([svc.base_url], st, interval=0.3, warn=lambda s: None).run(duration=1.5))
        assert not [w for w in watch_once(1.0) if "restart" in w]
        with sqlite3.connect(db) as c:
            assert c.execute("SELECT count(*) FROM processes").fetchone()[0] == 1
        split = watch_once(50.0)
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT reason FROM processes ORDER BY id").fetchall()
    assert [r for (r,) in rows][:1] == ["first scrape"] and len(rows) == 2, rows
    assert rows[1][0].startswith("NumGC went back"), rows
    assert any("restart detected" in w for w in split), split


class _NoVarsProxy:
    """A loopback proxy in front of a lab service that can stop serving /debug/vars.

    Under load a watcher's first /debug/vars fetch can time out; the scrape then has no
    NumGC, and (without --pid) no start time either. The proxy makes that certain."""

    def __init__(self, upstream: str) -> None:
        import http.server
        import threading
        import urllib.request

        self.hide_vars = False
        self.unavailable: dict[str, int] = {}  # path prefix -> how many more 503 answers
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if outer.hide_vars and self.path.startswith("/debug/vars"):
                    self.send_error(404)
                    return
                for prefix, n in outer.unavailable.items():
                    if n > 0 and self.path.startswith(prefix):
                        outer.unavailable[prefix] = n - 1
                        self.send_error(503)
                        return
                with urllib.request.urlopen(upstream + self.path, timeout=30) as r:
                    body = r.read()
                    self.send_response(r.status)
                    self.send_header("Content-Type", r.headers.get("Content-Type", ""))
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _second_watch_through(tmp_path: Path, interval: str, duration: str,
                          degrade: Callable[[_NoVarsProxy], None]) -> Path:
    """A --pid watch of the sawtooth service through the proxy, then `degrade(proxy)`,
    then a second watch without --pid into the same store: both must end cleanly and
    neither may call it a restart. Returns the store."""
    import subprocess
    import sys

    db = tmp_path / "second.db"
    with golab.run_lab("sawtooth") as svc:
        assert svc.proc is not None
        proxy = _NoVarsProxy(svc.base_url)
        try:
            base = [sys.executable, "-m", "leakhunter", "watch", proxy.url, "--interval", interval,
                    "--duration", duration, "--db", str(db), "--format", "json"]
            with Load(svc.base_url, lambda i: "/work?mb=8", rate=30, max_seconds=20):
                first = subprocess.run([*base, "--pid", str(svc.proc.pid)], capture_output=True,
                                       timeout=120)
                degrade(proxy)
                second = subprocess.run(base, capture_output=True, timeout=120)
        finally:
            proxy.close()
    for p in (first, second):
        assert p.returncode == 0, p.stderr.decode()[-1500:]
        assert b"restart detected" not in p.stderr, p.stderr.decode()[-1500:]
    return db


def test_a_second_watch_without_debug_vars_adopts_the_process(tmp_path: Path) -> None:
    """The second watch of a store sees neither NumGC nor a start time: the heap
    profile's alloc_space (kept with the process row) still proves the same process."""
    import sqlite3

    def hide_vars(proxy: _NoVarsProxy) -> None:
        proxy.hide_vars = True

    db = _second_watch_through(tmp_path, "0.3s", "2s", hide_vars)
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT id, reason, alloc_space FROM processes").fetchall()
    assert len(rows) == 1, rows
    assert rows[0][2] and rows[0][2] > 0, rows


def test_a_second_watch_whose_first_scrape_tells_nothing_waits_to_adopt(tmp_path: Path) -> None:
    """The second watch's first scrape gets neither the heap profile nor /debug/vars (a
    loaded target) and has no --pid: it cannot tell the process from the store's, so it
    withholds that scrape and adopts the row on the next one that can tell (run 1 of the
    10-run loop failed on this: two "first scrape" rows)."""
    import sqlite3

    def unavailable(proxy: _NoVarsProxy) -> None:
        proxy.unavailable = {"/debug/vars": 3, "/debug/pprof/heap": 3}

    db = _second_watch_through(tmp_path, "0.5s", "3s", unavailable)
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT id, reason FROM processes").fetchall()
        gaps = [r[0] for r in c.execute("SELECT reason FROM gaps")]
    assert len(rows) == 1, rows
    assert any("scrape withheld" in g for g in gaps), gaps


def test_a_restart_splits_the_series_and_never_fixes_the_leak(tmp_path: Path) -> None:
    """The leaking service is killed and started again on the same port mid-watch: the
    restart is detected and splits the series, and the new process (too young to judge)
    does not turn the verdict into "fixed": the leak of the process before stays."""
    import subprocess
    import sys
    import time

    from watchload import free_port

    addr = f"127.0.0.1:{free_port()}"
    db = tmp_path / "r.db"
    first = golab.run_lab("unboundedmap", "-addr", addr).start()
    second = None
    try:
        args = [sys.executable, "-m", "leakhunter", "watch", first.base_url, "--interval",
                "0.5s", "--force-gc", "0.5s", "--duration", "26s", "--db", str(db),
                "--format", "json"]
        with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as w, \
                Load(first.base_url, lambda i: "/leak?bytes=16384", rate=60, max_seconds=40):
            t0 = time.monotonic()
            time.sleep(20)
            first.stop()
            second = golab.run_lab("unboundedmap", "-addr", addr).start()
            out, err = w.communicate(timeout=120)
        assert time.monotonic() - t0 < 60
    finally:
        first.stop()
        if second is not None:
            second.stop()
    assert w.returncode == 1, err.decode()[-2000:]
    assert b"restart detected" in err
    h = by_series(json.loads(out))["heap_live"]
    assert h["kind"] == "heap-leak", h
    assert any("before the last restart leaked" in e for e in h["evidence"]), h["evidence"]
    assert any("restart(s) seen" in e for e in h["evidence"]), h["evidence"]


def test_force_gc_without_debug_vars_reads_the_exact_heap_from_metrics(tmp_path: Path) -> None:
    """`watch --force-gc` on one target with no /debug/vars but a Prometheus Go collector
    (prometheus itself): the watcher finds /metrics and records its HeapAlloc right after
    each forced GC as the exact live heap, as soak does."""
    with golab.run_lab("unboundedmap", "-novars", "-metrics") as svc:
        assert svc.proc is not None
        load = Load(svc.base_url, lambda i: f"/leak?bytes=4096&k={i}", rate=100, max_seconds=30)
        rc, _doc, err = watch_with_load(svc.base_url, tmp_path / "w.db", load, "--force-gc", "0.5s",
                                       duration="12s", interval="0.5s")
    assert rc in (0, 1), err
    st = Store(str(tmp_path / "w.db"))
    try:
        target = st.targets()[0]
        assert len(st.series(target, "heap_marked")) >= 10
    finally:
        st.close()


def test_without_force_gc_a_pprof_only_service_is_judged_on_its_heap_goal(tmp_path: Path) -> None:
    """`watch` with no --force-gc on a service that serves only pprof (no /debug/vars, no
    /metrics: most users' services): the text heap profile's MemStats trailer gives the heap goal
    and the GC count on every scrape, so the live heap's shape is read once per GC, unsampled.
    Before, the binary profile's 512 KiB samples were all such a target gave watch (a healthy
    syncthing read as a leak at one tick, held-out real services set 3)."""
    with golab.run_lab("unboundedmap", "-novars") as svc:
        assert svc.proc is not None
        load = Load(svc.base_url, lambda i: f"/leak?bytes=4096&k={i}", rate=100, max_seconds=40)
        rc, doc, err = watch_with_load(svc.base_url, tmp_path / "w.db", load, duration="25s",
                                       interval="0.5s")
    assert rc == 1, err[-2000:]
    st = Store(str(tmp_path / "w.db"))
    try:
        target = st.targets()[0]
        assert not st.series(target, "heap_marked")  # no GC was forced
        assert len(st.series(target, "mem_num_gc")) >= 10  # the trailer's NumGC, every scrape
        assert len(st.series(target, "heap_goal")) >= 5  # once per GC
    finally:
        st.close()
    heap = by_series(doc)["heap_live"]
    assert heap["kind"] == "heap-leak", heap
    assert any("heap goal" in e for e in heap["evidence"]), heap["evidence"]
