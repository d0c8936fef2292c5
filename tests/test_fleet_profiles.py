"""Profiles for a leaking job: from its real pods' pprof endpoints, from Prometheus'
discovered targets, and from a Pyroscope-protocol server; joined to `scan` findings.

The pods are real Go services of the leak lab on 127.0.0.1 (lab/cmd/blockedsend,
LH101): the generated history names them as the job's instances, so `fleet` calls
the job a goroutine leak from Prometheus and then fetches the profiles from the very
processes, diffing the replica that grew most against the one that grew least.

Pyroscope: no server can be installed here (the Go module proxy answers 403 for
github.com/grafana/pyroscope). The stand-in below speaks its documented query API
(`POST /querier.v1.QuerierService/SelectMergeProfile`, a protobuf
SelectMergeProfileRequest in, a pprof profile out) and answers with real goroutine
profiles of a real lab process taken before and after load; it is not a recording of
a Pyroscope server.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import golab
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lab" / "fleetgen"))

import fleetgen  # noqa: E402
import promlab  # noqa: E402

pytestmark = pytest.mark.skipif(bool(promlab.available()), reason=promlab.available() or "ok")

END = float(int(time.time()) // 60 * 60)
RANGE = 3 * 3600.0
SRC = ROOT / "lab" / "cmd" / "blockedsend"


def _leak_line() -> int:
    for i, line in enumerate((SRC / "main.go").read_text().splitlines(), 1):
        if "// LEAK:" in line:
            return i
    raise AssertionError("no LEAK line")


def _load(base: str, n: int) -> None:
    for _ in range(n):
        with urllib.request.urlopen(base + "/leak?every=1", timeout=10) as r:
            r.read()


@pytest.fixture(scope="module")
def pods() -> Iterator[list[golab.LabProcess]]:
    procs = [golab.run_lab("blockedsend").start() for _ in range(3)]
    try:
        yield procs
    finally:
        for p in procs:
            p.stop()


@pytest.fixture(scope="module")
def prom(pods: list[golab.LabProcess], tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[str, list[str]]]:
    d = tmp_path_factory.mktemp("fleetpods")
    addrs = [p.base_url.removeprefix("http://") for p in pods]
    plan = fleetgen.plan_fleet(["goroutine-leak", "steady"], replicas=3, t0=END - RANGE, t1=END,
                               interval=30.0, seed=21, names=["api", "web"],
                               addresses={"api": addrs})
    promlab.create_blocks(fleetgen.write_openmetrics(plan, d / "om"), d / "tsdb", delete=True)
    with promlab.prometheus(d / "tsdb") as url:
        yield url, addrs


def fleet(*args: str) -> tuple[int, dict[str, Any], str]:
    p = subprocess.run([sys.executable, "-m", "leakhunter", "fleet", "--range", "3h",
                        "--end", str(END), "--format", "json", *args],
                       capture_output=True, text=True, timeout=300)
    return p.returncode, json.loads(p.stdout) if p.stdout.strip() else {}, p.stderr


def test_pod_profiles_name_the_leaking_line(pods: list[golab.LabProcess],
                                            prom: tuple[str, list[str]]) -> None:
    url, _ = prom
    # The replicas really leak, by different amounts: the age-aligned diff of the one
    # that grew most against the one that grew least is the leak's goroutines.
    _load(pods[0].base_url, 300)
    _load(pods[1].base_url, 60)
    rc, doc, err = fleet("--prometheus", url, "--source", str(SRC), "--profile-pods", "3")
    assert rc == 1, err
    api = next(t for t in doc["targets"] if t["labels"]["job"] == "api")
    v = api["verdicts"][0]
    assert v["kind"] == "goroutine-leak"
    assert v["suspects"], (v["evidence"], api["errors"])
    top = v["suspects"][0]
    assert top["file"].endswith("cmd/blockedsend/main.go") and top["line"] == _leak_line()
    assert top["growth"] >= 200  # ~300 minus the base replica's leaked goroutines
    assert top["finding"] and top["finding"]["rule"] == "LH101"
    assert any("LH101 at main.go" in e and "explains" in e for e in v["evidence"])
    web = next(t for t in doc["targets"] if t["labels"]["job"] == "web")
    assert web["verdicts"][0]["kind"] == "no-leak" and not web["verdicts"][0]["suspects"]


def test_unreachable_pods_are_a_note_not_a_failure(prom: tuple[str, list[str]]) -> None:
    url, _ = prom
    rc, doc, err = fleet("--prometheus", url, "--pprof-port", str(promlab.free_port()),
                         "--selector", '{job="api"}')
    assert rc == 1, err
    api = doc["targets"][0]
    assert not api["verdicts"][0]["suspects"]
    assert any(e.startswith("no profile:") for e in api["errors"])


def test_pprof_address_from_prometheus_targets(pods: list[golab.LabProcess],
                                               tmp_path: Path) -> None:
    """A target Prometheus really scrapes: its scrape URL gives the pprof base."""
    from leakhunter.analyze.fleet import JobResult, ReplicaResult
    from leakhunter.collect.prometheus import JobInfo, PromClient, PromConfig
    from leakhunter.commands.fleet import pprof_bases
    from leakhunter.model import Verdict

    addr = pods[2].base_url.removeprefix("http://")
    with promlab.prometheus(tmp_path / "tsdb", scrape=[("live", addr, {"pod": "live-0"})]) as url:
        async def targets() -> list[dict[str, Any]]:
            async with PromClient(PromConfig(url)) as c:
                for _ in range(100):
                    got = await c.targets()
                    if got:
                        return got
                    await asyncio.sleep(0.1)
                return []

        tg = asyncio.run(targets())
    assert tg and tg[0]["labels"]["job"] == "live"
    r = JobResult("live", {"job": "live"}, [Verdict("goroutine-leak", 0.99, 1.0)],
                  [ReplicaResult("live-0", {"pod": "live-0", "instance": "renamed-by-relabel"},
                                 [Verdict("goroutine-leak", 0.99, 1.0)])])
    info = JobInfo("live", {"job": "live"}, replica_label="pod")
    # The instance label is no address (relabelled): the discovered target tells it.
    tg[0]["labels"]["instance"] = "renamed-by-relabel"
    assert pprof_bases(r, info, tg, port=None, group_by="job", limit=3) == [
        ("live-0", f"http://{addr}")]


class _Pyroscope(http.server.BaseHTTPRequestHandler):
    """Speaks Pyroscope's SelectMergeProfile: returns the early or the late profile."""

    early = b""
    late = b""
    mid_ms = 0
    calls: list[dict[str, Any]]

    def log_message(self, *a: object) -> None:
        pass

    def do_POST(self) -> None:
        from leakhunter.collect.pyroscope import MERGE_PATH, parse_merge_request

        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ok = (self.path == MERGE_PATH and self.headers.get("Content-Type") == "application/proto")
        req = parse_merge_request(body) if ok else {}
        type(self).calls.append(req)
        if not ok or not req.get("profile_typeID", "").startswith("goroutines:"):
            data = b'{"code":"not_found","message":"no profiles of that type"}'
            self.send_response(404 if ok else 400)
        else:
            data = self.early if req["end"] <= self.mid_ms else self.late
            self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_pyroscope_windows_diffed(pods: list[golab.LabProcess], prom: tuple[str, list[str]]) -> None:
    url, _ = prom
    svc = pods[2]
    early = svc.get("/debug/pprof/goroutine")
    _load(svc.base_url, 150)
    late = svc.get("/debug/pprof/goroutine")
    handler = type("P", (_Pyroscope,), {"early": early, "late": late, "calls": [],
                                        "mid_ms": int((END - RANGE / 2) * 1000)})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        rc, doc, err = fleet("--prometheus", url, "--selector", '{job="api"}', "--pprof-port",
                             str(promlab.free_port()), "--pyroscope",
                             f"http://127.0.0.1:{srv.server_address[1]}", "--source", str(SRC))
    finally:
        srv.shutdown()
        srv.server_close()
    assert rc == 1, err
    v = doc["targets"][0]["verdicts"][0]
    assert v["suspects"], (v["evidence"], doc["targets"][0]["errors"])
    top = v["suspects"][0]
    assert top["line"] == _leak_line() and 140 <= top["growth"] <= 160
    assert top["finding"]["rule"] == "LH101"
    assert any("Pyroscope goroutines" in e for e in v["evidence"])
    sel = {c.get("label_selector") for c in handler.calls}
    assert sel == {'{service_name="api"}'}
    starts = sorted(c["start"] for c in handler.calls if c.get("profile_typeID", "").startswith("goroutines"))
    assert starts[0] == int((END - RANGE) * 1000)  # the first window opens the range
