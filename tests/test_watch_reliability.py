"""`watch` when targets misbehave: refuse, hang, answer garbage, restart, or watch dies.

The healthy target is a real Go lab service; the misbehaving ones are what a real
network produces: a closed port, a TCP server that accepts and never answers, and an
HTTP server answering 200 with bytes that are not profiles.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import golab
import pytest
from watchload import Load, free_port, wait_for_samples

from leakhunter.collect.store import Store


@pytest.fixture
def hanging() -> Iterator[str]:
    """Accepts connections, reads nothing, answers nothing."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def loop() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
                held.append(c)
            except OSError:
                continue

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    stop.set()
    t.join(timeout=2)
    for c in held:
        c.close()
    srv.close()


class _Garbage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = os.urandom(2048)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def garbage() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _scrape_times(db: Path, target: str) -> list[float]:
    with Store(db, readonly=True) as st:
        return [p.ts for p in st.series(target, "goroutines")]


def test_bad_targets_do_not_disturb_a_good_one(tmp_path: Path, hanging: str, garbage: str) -> None:
    refused = f"http://127.0.0.1:{free_port()}"
    db = tmp_path / "w.db"
    with golab.run_lab("chanleak") as svc:
        t0 = time.monotonic()
        res = golab.leakhunter("watch", svc.base_url, refused, hanging, garbage,
                               "--interval", "0.5s", "--duration", "6s", "--timeout", "1s",
                               "--db", str(db), "--format", "json", timeout=60)
        took = time.monotonic() - t0
    err = res.stderr.decode()
    warnings = [ln for ln in err.splitlines() if ln.startswith("leakhunter: warning:")]
    # One warning line per failing target, however many intervals it failed.
    for bad in (refused, hanging, garbage):
        assert sum(bad in w for w in warnings) == 1, warnings
    assert "refused" in next(w for w in warnings if refused in w)
    assert "timed out" in next(w for w in warnings if hanging in w)
    assert not any(svc.base_url in w for w in warnings)
    assert res.returncode == 0, err
    assert took < 30
    # The good target was scraped on schedule: ~12 scrapes in 6 s at 0.5 s.
    times = _scrape_times(db, svc.base_url)
    assert len(times) >= 10, times
    assert max(b - a for a, b in itertools.pairwise(times)) < 1.2
    with Store(db, readonly=True) as st:
        for bad in (refused, hanging, garbage):
            assert len(st.gaps(bad)) >= 3
            assert not st.series(bad, "goroutines")


def test_all_targets_unreachable_exits_2(tmp_path: Path) -> None:
    res = golab.leakhunter("watch", f"http://127.0.0.1:{free_port()}", "--interval", "0.3s",
                           "--duration", "1.5s", "--db", str(tmp_path / "w.db"), timeout=60)
    assert res.returncode == 2
    err = res.stderr.decode()
    assert "leakhunter: error: no target answered" in err and "Traceback" not in err


def test_until_verdict_gives_up_on_a_target_that_never_answers(tmp_path: Path) -> None:
    """--until-verdict has no deadline: it retried a refused target forever."""
    t0 = time.monotonic()
    res = golab.leakhunter("watch", f"http://127.0.0.1:{free_port()}", "--interval", "0.3s",
                           "--until-verdict", "--give-up", "2s", "--db", str(tmp_path / "w.db"),
                           timeout=60)
    took = time.monotonic() - t0
    err = res.stderr.decode()
    assert res.returncode == 2, err
    assert "no target answered for 2s (--give-up)" in err and "refused" in err, err
    assert "Traceback" not in err and took < 30, (took, err)


def test_until_verdict_gives_up_when_the_target_goes_away_and_keeps_the_samples(
        tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    port = free_port()
    addr = f"127.0.0.1:{port}"
    proc = golab.LabProcess(golab.build("boundedcache"), ["-addr", addr, "-max", "100"]).start()
    args = [sys.executable, "-m", "leakhunter", "watch", f"http://{addr}", "--interval", "0.3s",
            "--until-verdict", "--give-up", "2s", "--timeout", "0.3s", "--db", str(db)]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as watch:
        try:
            wait_for_samples(db, 3)
            proc.stop()
            _, err = watch.communicate(timeout=60)
        finally:
            proc.stop()
            if watch.poll() is None:
                watch.kill()
    text = err.decode()
    assert watch.returncode == 2, text
    assert "no target answered for 2s" in text and f"stays in {db}" in text, text
    with Store(db, readonly=True) as st:
        assert len(st.series(f"http://{addr}", "goroutines")) >= 3


@pytest.mark.parametrize("argv", [
    ["--interval", "soon"],
    ["--duration", "-3s"],
    ["--limit", "lots"],
    ["--pid", "999999999"],
    ["ftp://x"],
    ["http://127.0.0.1:10", "--pid", "1"],
    ["--source", "/nonexistent-dir"],
])
def test_usage_errors_exit_2(tmp_path: Path, argv: list[str]) -> None:
    res = golab.leakhunter("watch", "http://127.0.0.1:9", *argv, "--duration", "1s",
                           "--db", str(tmp_path / "w.db"), timeout=60)
    assert res.returncode == 2, res.stderr
    assert b"Traceback" not in res.stderr


def test_restart_splits_the_series_and_is_no_leak(tmp_path: Path) -> None:
    """A bounded cache refilling after each restart would climb if the series were joined."""
    port = free_port()
    addr = f"127.0.0.1:{port}"
    exe = golab.build("boundedcache")
    db = tmp_path / "w.db"
    url = f"http://{addr}"
    first = golab.LabProcess(exe, ["-addr", addr, "-max", "100"]).start()
    args = [sys.executable, "-m", "leakhunter", "watch", url, "--interval", "0.4s",
            "--duration", "16s", "--timeout", "1s", "--db", str(db), "--format", "json"]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as watch:
        try:
            wait_for_samples(db, 2)
            with Load(url, lambda i: f"/get?key={i}", rate=40, max_seconds=30):
                time.sleep(6)
                first.stop()
                time.sleep(0.5)
                second = golab.LabProcess(exe, ["-addr", addr, "-max", "100"]).start()
                try:
                    out, err = watch.communicate(timeout=60)
                finally:
                    second.stop()
        finally:
            first.stop()
            if watch.poll() is None:
                watch.kill()
    errtext = err.decode()
    assert watch.returncode == 0, errtext
    assert "restart detected" in errtext
    with Store(db, readonly=True) as st:
        procs = st.processes(url)
        assert len(procs) == 2, procs
        assert procs[1].reason != "first scrape"
    import json

    kinds = {v["series"]: v["kind"] for v in json.loads(out)["targets"][0]["verdicts"]}
    assert not {"heap-leak", "goroutine-leak", "non-heap-growth"} & set(kinds.values()), kinds


def test_kill_9_keeps_every_completed_scrape(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    with golab.run_lab("chanleak") as svc:
        args = [sys.executable, "-m", "leakhunter", "watch", svc.base_url, "--interval",
                "0.2s", "--duration", "60s", "--db", str(db)]
        with subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True) as watch:
            wait_for_samples(db, 15, timeout=40)
            os.kill(watch.pid, signal.SIGKILL)
            watch.wait(timeout=10)
        seen = len(_scrape_times(db, svc.base_url))
    assert watch.returncode == -signal.SIGKILL
    with Store(db, readonly=True) as st:
        assert st.integrity_ok()
        t = svc.base_url
        gr = st.series(t, "goroutines")
        assert len(gr) >= 15 and len(gr) == seen
        # Every committed scrape is whole: each has its goroutine count and heap totals
        # (heap totals only when a GC published a new profile) and its snapshot.
        ts = [p.ts for p in gr]
        assert ts == sorted(ts)
        assert max(b - a for a, b in itertools.pairwise(ts)) < 1.0
        assert len(st.snapshots(t, "goroutine")) >= 2
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        per_ts = c.execute(
            "SELECT count(DISTINCT ts) FROM samples WHERE series='fds' OR series='goroutines'"
        ).fetchone()[0]
        assert per_ts == len(gr)


def test_binary_upgraded_in_place_is_not_a_restart(tmp_path: Path) -> None:
    """runtime/pprof reads the build id from the binary on disk: a package upgrade that
    replaces the file under a running service changes it with no restart. The counters
    keep growing, so the series stays one process."""
    from leakhunter.collect.scrape import heap_totals

    exe = tmp_path / "svc"
    lab = golab.LAB
    for out, flags in ((exe, "-X main.unused=1"), (tmp_path / "svc2", "-X main.unused=2")):
        subprocess.run([golab.go_exe(), "build", "-ldflags", flags, "-o", str(out), "./cmd/boundedcache"],
                       cwd=lab, env=golab.go_env(), check=True, capture_output=True, timeout=600)
    db = tmp_path / "w.db"
    with golab.LabProcess(exe, ["-max", "100"]).start() as svc:
        before = heap_totals(svc.get("/debug/pprof/heap")).build_id
        args = [sys.executable, "-m", "leakhunter", "watch", svc.base_url, "--interval", "0.4s",
                "--duration", "8s", "--db", str(db), "--format", "json"]
        with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as watch:
            try:
                wait_for_samples(db, 3)
                with Load(svc.base_url, lambda i: f"/get?key={i}", rate=40, max_seconds=30):
                    os.replace(tmp_path / "svc2", exe)
                    _, err = watch.communicate(timeout=60)
            finally:
                if watch.poll() is None:
                    watch.kill()
        after = heap_totals(svc.get("/debug/pprof/heap")).build_id
    assert before and after and before != after  # the upgrade did change what pprof reports
    assert "restart detected" not in err.decode(), err.decode()
    with Store(db, readonly=True) as st:
        assert len(st.processes(svc.base_url)) == 1


def test_each_tick_judges_the_scrape_due_with_it(tmp_path: Path, hanging: str) -> None:
    """Ticks and scrapes fall due together; a tick must wait for its own round's scrape,
    or every verdict (--fail-fast, --until-verdict, the live view) comes an interval late.
    A target that hangs must not hold the ticks back for longer than ROUND_WAIT."""
    import asyncio

    from leakhunter.watcher import ROUND_WAIT, Watcher

    def run(targets: list[str], db: Path) -> list[tuple[int, int, float]]:
        store = Store(str(db))
        w = Watcher(targets, store, interval=0.5, timeout=1.0, warn=lambda _: None)
        seen: list[tuple[int, int, float]] = []
        t0 = time.monotonic()

        def on_tick(w: Watcher) -> None:
            if not w.done:
                n = len(store.series(targets[0], "goroutines"))  # one point per finished scrape
                seen.append((w.rounds, n, time.monotonic() - t0))

        try:
            asyncio.run(w.run(duration=4.0, on_tick=on_tick))
        finally:
            store.close()
        return seen

    with golab.run_lab("chanleak") as svc:
        alone = run([svc.base_url], tmp_path / "a.db")
        with_hanging = run([svc.base_url, hanging], tmp_path / "b.db")
    # Scrapes are due at 0, 0.5, 1.0, ...; tick k (at k * 0.5 s) must see k + 1 of them.
    assert len(alone) >= 5, alone
    late = [(k, n) for k, n, _ in alone if n < k + 1]
    assert len(late) <= 1, alone
    # The hanging target (phase 0.25 s) never answers: ticks still come once per interval,
    # each at most ROUND_WAIT of an interval after it fell due.
    assert len(with_hanging) >= 5, with_hanging
    for k, _, at in with_hanging:
        assert at <= k * 0.5 + ROUND_WAIT * 0.5 + 0.3, with_hanging


def test_a_goroutineleak_scrape_forces_no_second_gc(tmp_path: Path) -> None:
    """The goroutineleak profile runs a GC cycle; a forced GC right before it made two cycles
    in a few ms, which move every sync.Pool to its victim cache and then free it: under
    soak, a pool in steady use was emptied every leak_every-th scrape (lab poolmisuse on
    Go 1.27 stayed at 1-5 MB and was never called). The target's own gctrace says when
    each cycle ran and why."""
    import asyncio
    import re

    from leakhunter.watcher import Watcher

    with golab.run_lab("chanleak", env={"GODEBUG": "gctrace=1"}) as svc:
        assert svc.proc is not None
        store = Store(str(tmp_path / "w.db"))
        w = Watcher([svc.base_url], store, interval=0.25, force_gc_every=0.25, leak_every=2,
                    timeout=2.0, warn=lambda _: None)
        try:
            asyncio.run(w.run(duration=3.0))
        finally:
            store.close()
        svc.proc.terminate()
        _, err = svc.proc.communicate(timeout=10)
    cycles = [(float(m.group(1)), m.group(2) or "", m.group(0).rstrip().endswith("(forced)"))
              for m in re.finditer(r"^gc \d+ @([\d.]+)s \d+%(?: \(([^)]*)\))?:.*$", err, re.M)]
    forced = [t for t, _, f in cycles if f]
    leak = [t for t, why, _ in cycles if why.startswith("checking for goroutine leaks")]
    if not leak:
        pytest.skip("this toolchain has no goroutineleak profile (Go < 1.27 without the experiment)")
    assert forced, err[-2000:]
    # Every leak-check cycle stands alone: no other cycle within 50 ms before it. Except the first
    # scrape's probe: until the target is known to serve the profile, that scrape forces its own
    # GC too (a target that answers 404 would otherwise give a stale first heap), once.
    times = sorted(t for t, _, _ in cycles)
    for t in leak[1:]:
        before = [u for u in times if t - 0.05 < u < t]
        assert not before, (t, before, cycles)


def test_forced_scrapes_start_no_gc_of_their_own(tmp_path: Path) -> None:
    """Serving a binary heap profile costs the target a fresh gzip writer (~1.3 MB); two of
    them per 0.5 s (a sham fetches the profile twice) started a GC of the target's own a few
    ms before most forced ones on a small heap, and two cycles with no request between them
    free every sync.Pool: soak emptied the pool lab poolmisuse leaks through (4 KiB/request
    grew 2.8 -> 4.7 MiB in 37 s; 5.4 -> 15.4 MiB in 21 s on the text form). With the text
    form (~50 KB a fetch) the target's cycles are the forced ones (here under 100 req/s of
    its healthy endpoint). The target's own gctrace tells forced from unforced cycles."""
    import asyncio
    import re

    from leakhunter.collect.loadgen import LoadGenerator
    from leakhunter.watcher import Watcher

    with golab.run_lab("poolmisuse", env={"GODEBUG": "gctrace=1"}) as svc:
        assert svc.proc is not None
        store = Store(str(tmp_path / "w.db"))
        w = Watcher([svc.base_url], store, interval=0.5, force_gc_every=0.5, pid=svc.proc.pid,
                    timeout=2.0, warn=lambda _: None)
        load = LoadGenerator([svc.base_url + "/fixed?bytes=4096"], rate=100, concurrency=16,
                             duration=8.0)

        async def both() -> None:
            await asyncio.gather(w.run(duration=6.0), load.run())

        try:
            asyncio.run(both())
        finally:
            store.close()
        svc.proc.terminate()
        _, err = svc.proc.communicate(timeout=10)
    lines = [m.group(0).rstrip() for m in re.finditer(r"^gc \d+ @[\d.]+s \d+%.*$", err, re.M)]
    forced = sum(x.endswith("(forced)") for x in lines)
    # Its own: neither forced nor a goroutineleak profile's cycle (Go 1.27, or 1.26 built with
    # the experiment).
    own = [x for x in lines if not x.endswith("(forced)") and "goroutine leaks" not in x]
    print(f"forced {forced}, own {len(own)}, all {len(lines)}")
    assert forced >= 8, err[-2000:]
    assert len(own) <= 1, (forced, own)


@pytest.mark.parametrize("flags,binary", [(("-novars", "-metrics"), True), (("-novars",), False)])
def test_a_large_text_heap_profile_moves_its_target_to_the_binary_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: tuple[str, ...], binary: bool
) -> None:
    """Past HEAP_TEXT_MAX the text form's size outweighs the gzip writer's fixed cost, so the
    target is read in binary from then on, its exact heap from /metrics; a target that serves
    only pprof keeps the text form, whose MemStats trailer is its only memstats."""
    import asyncio

    from leakhunter import watcher as wmod

    monkeypatch.setattr(wmod, "HEAP_TEXT_MAX", 64)
    with golab.run_lab("unboundedmap", *flags) as svc:
        store = Store(str(tmp_path / "w.db"))
        metrics = svc.base_url + "/metrics" if "-metrics" in flags else None
        w = wmod.Watcher([svc.base_url], store, interval=0.5, force_gc_every=0.5,
                         metrics_url=metrics, timeout=2.0, warn=lambda _: None)
        try:
            asyncio.run(w.run(duration=4.0))
            snaps = store.snapshots(svc.base_url, "heap")
            forms = [store.snapshot_data(s.id)[:2] == b"\x1f\x8b" for s in snaps]
            marked = store.series(svc.base_url, "heap_marked")
        finally:
            store.close()
    assert snaps and forms[-1] is binary, forms
    assert len(marked) >= 5, marked


def test_the_first_forced_scrape_is_gc_fresh(tmp_path: Path) -> None:
    """The first scrape probes the goroutineleak profile; it used to skip its forced GC for it
    (that profile's own cycle stands in for it), so on a target that answers 404 (Go < 1.27) no GC
    ran and the suspects' baseline was the heap of the target's own last GC (garagemq, real
    services set 5: 84 MiB against 254 MiB live, a +166 MiB top suspect). Only a target known
    to serve the profile skips the forced GC now: the first scrape has its exact heap."""
    import asyncio

    from leakhunter.watcher import Watcher

    with golab.run_lab("chanleak") as svc:
        store = Store(str(tmp_path / "w.db"))
        w = Watcher([svc.base_url], store, interval=0.5, force_gc_every=0.5, timeout=2.0,
                    warn=lambda _: None)
        try:
            asyncio.run(w.run(duration=2.0))
            first = store.series(svc.base_url, "goroutines")[0].ts
            marked = store.series(svc.base_url, "heap_marked")
        finally:
            store.close()
    assert marked and marked[0].ts == first, (first, [p.ts for p in marked[:3]])


def test_a_forcing_watcher_keeps_the_heap_profiles_form_when_it_grows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real leaks set 4: Alertmanager's text heap profile passed HEAP_TEXT_MAX ~60 s after its start, inside
    soak's window, and the switch to the binary form stepped the exact heap up by the gzip writer's
    ~1.2 MiB (counted in the HeapAlloc read right after): 4 of 4 fixed releases that switched alarmed.
    The form is chosen on the first profile now. Here the bar drops below every profile once the first
    one is read (as Alertmanager's profile grew past it), on tests/fixtures/profilegrow under load, whose
    profile gains a stack per request: the watcher keeps reading text."""
    import asyncio

    import leakhunter.watcher as watcher
    from leakhunter.watcher import Watcher

    with golab.LabProcess(golab.build("profilegrow", module_dir=FIXTURES / "profilegrow")).start() as svc, \
            _requests(svc.base_url + "/work"):
        forms: list[bool] = []

        async def watch() -> None:
            # Until five ticks, not a fixed 3 s: a loaded CI machine takes over a second per forced
            # scrape of this growing profile (the exact-heap test below got 4 samples in 5 s there).
            stop = asyncio.Event()

            def after_a_scrape(w: Watcher) -> None:
                forms.append(w._t[svc.base_url].heap_binary)
                monkeypatch.setattr(watcher, "HEAP_TEXT_MAX", 1)  # every later profile is "too big"
                if len(forms) >= 5:
                    stop.set()

            await w.run(duration=30.0, on_tick=after_a_scrape, stop=stop)

        store = Store(str(tmp_path / "w.db"))
        w = Watcher([svc.base_url], store, interval=0.25, force_gc_every=0.25, timeout=2.0, warn=lambda _: None)
        try:
            asyncio.run(watch())
        finally:
            store.close()
    assert len(forms) >= 4 and not any(forms), forms


def test_a_forced_scrapes_exact_heap_leaves_out_what_rendering_the_profile_made(tmp_path: Path) -> None:
    """The exact heap of a forced scrape is the text profile's MemStats trailer, which the runtime reads
    right after the GC and before it renders the profile. /debug/vars, read after the profile, also
    counted the rendering's garbage: on tests/fixtures/profilegrow (a flat 0.4 MiB heap whose profile gains
    a stack per request) it read 0.4 -> 3.5 MiB over a 40 s soak, a ramp of +1.7 MiB/min on a flat heap."""
    import asyncio

    from leakhunter.watcher import Watcher

    with golab.LabProcess(golab.build("profilegrow", module_dir=FIXTURES / "profilegrow")).start() as svc, \
            _requests(svc.base_url + "/work", threads=2):
        store = Store(str(tmp_path / "w.db"))
        w = Watcher([svc.base_url], store, interval=0.25, force_gc_every=0.25, timeout=5.0, warn=lambda _: None)

        async def until_enough_scrapes() -> None:
            # A count of scrapes, not a fixed 5 s: on a loaded CI machine a forced scrape of this
            # growing profile took over a second, and 5 s gave 4 samples (CI, session 29).
            stop = asyncio.Event()

            async def count() -> None:
                while not stop.is_set():
                    if len(store.series(svc.base_url, "heap_marked")) >= 7:
                        stop.set()
                    await asyncio.sleep(0.1)

            counter = asyncio.create_task(count())
            await w.run(duration=40.0, stop=stop)
            stop.set()
            await counter

        try:
            asyncio.run(until_enough_scrapes())
            marked = [p.value for p in store.series(svc.base_url, "heap_marked")]
        finally:
            store.close()
    assert len(marked) >= 5, marked
    spread = max(marked[2:]) - min(marked[2:])
    assert spread < 0.25 * 2**20, [round(v / 2**20, 2) for v in marked]


def test_a_full_goroutine_dump_is_taken_only_once_goroutines_grow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`goroutine?debug=2` stops the target's world while it is written, so the watcher takes one only
    when goroutines grew (and then at most every CREATORS_EVERY): none while lab blockedsend is idle,
    one (not one per scrape) once each request leaves a goroutine blocked."""
    import asyncio

    import leakhunter.watcher as watcher
    from leakhunter.watcher import Watcher

    monkeypatch.setattr(watcher, "CREATORS_EVERY", 3.0)
    with golab.LabProcess(golab.build("blockedsend")).start() as svc:
        def scrape(db: str, seconds: float) -> int:
            store = Store(str(tmp_path / db))
            try:
                asyncio.run(Watcher([svc.base_url], store, interval=0.25, timeout=2.0,
                                    warn=lambda _: None).run(duration=seconds))
                return len(store.snapshots(svc.base_url, "goroutine_stacks", store.last_process(svc.base_url).id))
            finally:
                store.close()

        assert scrape("idle.db", 2.0) == 0
        with _requests(svc.base_url + "/leak?every=1"):
            n = scrape("leak.db", 2.5)
    assert n == 1, n


FIXTURES = Path(__file__).resolve().parent / "fixtures"


@contextlib.contextmanager
def _requests(url: str, threads: int = 1) -> Iterator[None]:
    """GETs of `url` back to back from `threads` threads while the block runs (real load on a real
    service: each request waits for the one before it on its thread)."""
    import urllib.request

    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            with urllib.request.urlopen(url, timeout=5) as r:
                r.read()

    running = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    for t in running:
        t.start()
    try:
        yield
    finally:
        stop.set()
        for t in running:
            t.join(timeout=10)
