"""`soak` on the cases issue 9 reported, reproduced on real lab services.

- 1 KiB per request into a global map at 50 requests/s: was "inconclusive, watch about
  1.7 h longer" after 60 s; now a heap leak well within the soak, with the user's line
  as the suspect and nothing of the profiler's own work among the suspects.
- A healthy service whose cache the traffic fills for its first 20 s: was a leak in one
  soak of four; with --fail-fast (stops at the first leak verdict of any scrape) it must
  exit 0.
- The new controls (a worker pool started lazily, a traffic wave, GOGC=off with a
  memory limit, a large heap with rare GCs): never a leak, soaked at once.

Margins: the detection goal is 30 s of load (bench/bench_detection.py measures it);
here, under CI load, the soak may observe up to 50 s.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from golab import leakhunter
from soaklab import LabService, build_service, manifest, soak_args

M = manifest()
LEAKS = {"heap-leak", "goroutine-leak", "non-heap-growth"}
PROFILER = ("net/http/pprof", "runtime/pprof", "compress/flate", "expvar")


def _verdicts(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for t in doc["targets"] for v in t["verdicts"]]


def test_one_kib_per_request_is_a_leak_at_the_users_line() -> None:
    svc = M.get("unboundedmap")
    exe = build_service(svc)
    # --fail-fast ends it at the call (about 25 s of load at 50 req/s); the long duration
    # is the margin for a loaded CI machine whose load generator falls to 20 req/s.
    args = soak_args(svc, exe, knob="1024", rate=50, duration="90s", warmup="0s",
                     interval="1s")
    # The verdict comes at about 1 MiB of growth: two samples at Go's default MemProfileRate
    # (512 KiB), so with the default whether the profile shows the site is luck (README: known
    # limits). Sampling every 4 KiB makes the suspect certain; the verdict does not use it.
    cmd = args.index("--cmd") + 1
    args[cmd] += " -memprofilerate 4096"
    res = leakhunter(*args, timeout=180)
    err = res.stderr.decode(errors="replace")
    assert res.returncode == 1, err[-2000:]
    doc = json.loads(res.stdout)
    heap = next(v for v in _verdicts(doc) if v["series"] == "heap_live")
    assert heap["kind"] == "heap-leak", heap
    top = heap["suspects"][0]
    assert top["file"].endswith("cmd/unboundedmap/main.go") and top["line"] in svc.leak_lines()
    assert top["finding"] and top["finding"]["rule"] == "LH501"
    for v in _verdicts(doc):
        for s in v["suspects"]:
            assert not s["function"].startswith(PROFILER), s
            assert not s["function"].startswith("runtime."), s


def test_a_cache_warming_for_20s_is_not_a_leak_at_any_scrape() -> None:
    svc = M.get("warmcache")
    exe = build_service(svc)
    res = leakhunter(*soak_args(svc, exe, duration="20s", warmup="10s", interval="1s",
                                rate=50, fail_fast=True), timeout=180)
    err = res.stderr.decode(errors="replace")
    assert res.returncode == 0, err[-2000:]
    doc = json.loads(res.stdout)
    assert not [v for v in _verdicts(doc) if v["kind"] in LEAKS]


def _popen(svc: LabService) -> subprocess.Popen[bytes]:
    args = soak_args(svc, build_service(svc), duration="15s", warmup="10s", interval="1s",
                     rate=50, fail_fast=True)
    return subprocess.Popen([sys.executable, "-m", "leakhunter", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("names", [("lazypool", "wave", "memlimit", "bigheap")])
def test_new_controls_are_never_leaks(names: tuple[str, ...]) -> None:
    """Soaked side by side (to keep the suite brief), each with soak's default 10 s
    warm-up and --fail-fast: a leak verdict at any scrape would end it with exit 1."""
    procs = {n: _popen(M.get(n)) for n in names}
    for n, p in procs.items():
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, f"{n}: exit {p.returncode}\n{err.decode()[-1500:]}"
        doc = json.loads(out)
        assert not [v for v in _verdicts(doc) if v["kind"] in LEAKS], n
        assert doc["soak"]["load"]["ok"] > 0, n
