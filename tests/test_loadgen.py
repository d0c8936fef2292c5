"""The built-in load generator against a real Go service (lab/cmd/bursty), whose own
expvar counters (work_requests, work_inflight_max) say what it really received."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from golab import LabProcess
from soaklab import build_service, free_port, manifest

from leakhunter.collect.loadgen import LoadGenerator, LoadStats, check_load_url
from leakhunter.errors import UsageError


@pytest.fixture(scope="module")
def svc() -> Iterator[LabProcess]:
    exe = build_service(manifest().get("bursty"))
    with LabProcess(exe, ["-burst-every", "0"]) as p:
        yield p


def _vars(svc: LabProcess) -> dict[str, int]:
    doc = json.loads(svc.get("/debug/vars"))
    return {"requests": int(doc["work_requests"]), "inflight_max": int(doc["work_inflight_max"])}


def _run(gen: LoadGenerator, stop_after: float | None = None) -> LoadStats:
    async def main() -> LoadStats:
        stop = asyncio.Event()
        if stop_after is not None:
            asyncio.get_running_loop().call_later(stop_after, stop.set)
        return await gen.run(stop=stop)

    return asyncio.run(main())


def test_steady_rate_and_every_request_counted(svc: LabProcess) -> None:
    before = _vars(svc)["requests"]
    st = _run(LoadGenerator([svc.base_url + "/work?n=2&ms=2"], rate=40, concurrency=8,
                            duration=3.0))
    served = _vars(svc)["requests"] - before
    assert st.errors == 0, st.error_reasons
    assert st.ok == served  # the service saw exactly what the generator counted
    assert 100 <= st.ok <= 125, st.ok  # 40/s for 3 s, first request at t=0
    assert st.elapsed < 4.5


def test_request_budget_is_exact(svc: LabProcess) -> None:
    before = _vars(svc)["requests"]
    st = _run(LoadGenerator([svc.base_url + "/work?n=1&ms=1"], rate=300, concurrency=4,
                            max_requests=37))
    assert st.sent == 37 and st.ok == 37
    assert _vars(svc)["requests"] - before == 37


def test_concurrency_is_bounded_and_the_schedule_does_not_burst() -> None:
    exe = build_service(manifest().get("bursty"))
    with LabProcess(exe, ["-burst-every", "0"]) as fresh:  # its in-flight maximum is ours alone
        st = _run(LoadGenerator([fresh.base_url + "/work?n=1&ms=400"], rate=100, concurrency=3,
                                duration=2.5))
        assert _vars(fresh)["inflight_max"] == 3
    # 3 slots, ~200 ms per request: far below the asked 100/s
    assert st.rate < 30, st.rate
    assert st.late >= 1


def test_latency_percentiles_follow_the_service(svc: LabProcess) -> None:
    st = _run(LoadGenerator([svc.base_url + "/work?n=1&ms=100"], rate=60, concurrency=16,
                            duration=2.0))
    p50, p90, p99, pmax = (st.percentile(p) for p in (50, 90, 99, 100))
    assert p50 is not None and p90 is not None and p99 is not None and pmax is not None
    assert p50 <= p90 <= p99 <= pmax
    assert p90 >= 0.05  # the service sleeps uniformly up to 100 ms
    d = st.as_dict()
    assert d["latency_ms"]["p99"] == round(p99 * 1000, 3)


def test_errors_are_counted_by_reason(svc: LabProcess) -> None:
    dead = f"http://127.0.0.1:{free_port()}/"
    st = _run(LoadGenerator([svc.base_url + "/no-such-page", dead], rate=50, concurrency=4,
                            max_requests=20))
    assert st.ok == 0 and st.errors == 20
    assert st.error_reasons["HTTP 404"] == 10
    assert st.error_reasons["connection refused"] == 10


def test_timeouts_are_errors(svc: LabProcess) -> None:
    st = _run(LoadGenerator([svc.base_url + "/work?n=1&ms=3000"], rate=20, concurrency=8,
                            max_requests=8, timeout=0.2))
    assert st.ok + st.errors == 8
    assert st.error_reasons["timeout after 0.2s"] >= 4


def test_stop_ends_the_load_without_waiting_for_hung_requests(svc: LabProcess) -> None:
    t0 = time.monotonic()
    st = _run(LoadGenerator([svc.base_url + "/work?n=1&ms=8000"], rate=20, concurrency=4,
                            duration=60, timeout=30), stop_after=0.7)
    assert time.monotonic() - t0 < 5
    assert st.sent >= 1


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x", "http://localhost:1/",
                                 "http://[::1]:9/", "http://127.0.0.2/", "https://127.0.0.1/"])
def test_loopback_urls_are_accepted(url: str) -> None:
    assert check_load_url(url) == url


@pytest.mark.parametrize("url", ["http://192.0.2.1/", "http://10.1.2.3:8080/leak",
                                 "http://[2001:db8::1]/", "http://0.0.0.0.invalid/"])
def test_other_hosts_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(UsageError) as e:
        check_load_url(url)
    assert "--allow-remote" in str(e.value) or "cannot resolve" in str(e.value)
    if "invalid" not in url:
        assert check_load_url(url, allow_remote=True) == url


@pytest.mark.parametrize("kw, msg", [
    ({"rate": 0, "duration": 1}, "--rate"),
    ({"concurrency": 0, "duration": 1}, "--concurrency"),
    ({}, "budget"),
])
def test_bad_settings_are_usage_errors(kw: dict[str, float], msg: str) -> None:
    with pytest.raises(UsageError, match=msg):
        LoadGenerator(["http://127.0.0.1:1/"], **kw)  # type: ignore[arg-type]


def test_seq_placeholder_walks_a_key_space() -> None:
    """`{seq}` makes each request's URL distinct: the boundedcache lab service fills up."""
    exe = build_service(manifest().get("boundedcache"))
    with LabProcess(exe, ["-max", "1000"]) as p:
        st = _run(LoadGenerator([p.base_url + "/get?key={seq}&size=1024"], rate=200,
                                concurrency=8, max_requests=50))
        assert st.ok == 50
        # one more new key: the service answers "miss N" with its entry count
        with urllib.request.urlopen(p.base_url + "/get?key=last&size=1", timeout=10) as r:
            assert r.read().decode().split() == ["miss", "51"]


def _open_sockets(pid: int) -> int:
    """Sockets the service holds (its listener and every accepted connection)."""
    fd = Path(f"/proc/{pid}/fd")
    return sum(1 for p in fd.iterdir() if os.readlink(p).startswith("socket:"))


def test_the_service_sees_a_fixed_set_of_connections_from_the_first_second() -> None:
    """A pool that grew whenever requests overlapped handed node-exporter 14 new
    connections two minutes into a soak (+0.8 MiB of their buffers and stacks: a ramp read
    as a leak). The pool is opened whole before the first request and used in turn."""
    exe = build_service(manifest().get("bursty"))
    with LabProcess(exe, ["-burst-every", "0"]) as fresh:
        assert fresh.proc is not None
        pid = fresh.proc.pid
        base = _open_sockets(pid)
        # mostly 1 ms requests, one in eight takes up to 150 ms: overlaps come and go; and
        # the service stalls once for 0.4 s (a GC pause, a starved CPU), so every slot fills
        urls = [fresh.base_url + "/work?n=1&ms=1"] * 7 + [fresh.base_url + "/work?n=1&ms=150"]
        counts: list[int] = []

        async def main() -> LoadStats:
            gen = LoadGenerator(urls, rate=60, concurrency=6, duration=3.6)
            task = asyncio.create_task(gen.run())
            for i in range(6):
                await asyncio.sleep(0.45)
                counts.append(_open_sockets(pid) - base)
                if i == 2:
                    os.kill(pid, signal.SIGSTOP)
                    await asyncio.sleep(0.4)
                    os.kill(pid, signal.SIGCONT)
            return await task

        st = asyncio.run(main())
    assert st.errors == 0, st.error_reasons
    assert counts == [6] * 6, counts
