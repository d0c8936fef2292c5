"""`leakhunter gctrace FILE`: GODEBUG=gctrace=1 logs of real Go processes → verdicts.

The logs are written by the Go runtime of lab services run with GODEBUG=gctrace=1
under load; the number of GC lines parsed is checked against the runtime's own NumGC
(from /debug/vars at the end of the run), not against a hand count.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import golab
import pytest
from watchload import Load

from leakhunter.collect.gctrace import parse_lines


def _run_traced(prog: str, path: str, rate: float, seconds: float, log: Path) -> int:
    """Run a lab service with gctrace on, load it, return its final NumGC."""
    env = golab.go_env()
    env["GODEBUG"] = "gctrace=1"
    with log.open("wb") as errf:
        proc = subprocess.Popen([str(golab.build(prog)), "-addr", "127.0.0.1:0"],
                                stdout=subprocess.PIPE, stderr=errf, env=env,
                                start_new_session=True)
        try:
            assert proc.stdout is not None
            m = re.search(rb"listening on (http://\S+)", proc.stdout.readline())
            assert m, "lab service did not start"
            base = m.group(1).decode()
            with Load(base, lambda i: path, rate=rate, max_seconds=seconds + 5):
                time.sleep(seconds)
            with urllib.request.urlopen(base + "/debug/vars", timeout=10) as r:
                num_gc = int(json.load(r)["memstats"]["NumGC"])
            time.sleep(0.2)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            proc.stdout.close() if proc.stdout else None
    return num_gc


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, int]]:
    # 17 s of log: verdicts need a window of at least 15 s (analyze/verdicts min_span).
    # Both programs run at once, so the fixture costs 17 s of wall time, not 34.
    from concurrent.futures import ThreadPoolExecutor

    d = tmp_path_factory.mktemp("gctrace")
    specs = (("leak", "watchheap", "/leak?kb=32", 40), ("saw", "sawtooth", "/work?mb=8", 30))
    for _, prog, _, _ in specs:
        golab.build(prog)
    with ThreadPoolExecutor(2) as pool:
        futs = {name: (d / f"{name}.log", pool.submit(_run_traced, prog, path, rate, 17,
                                                      d / f"{name}.log"))
                for name, prog, path, rate in specs}
        return {name: (log, fut.result()) for name, (log, fut) in futs.items()}


def test_parser_reads_every_gc_the_runtime_ran(logs: dict[str, tuple[Path, int]]) -> None:
    for log, num_gc in logs.values():
        runs = parse_lines(log.read_bytes().splitlines())
        assert len(runs) == 1
        # Lines up to the scrape of /debug/vars: at least NumGC of them, numbered 1..N.
        nums = [g.num for g in runs[0]]
        assert nums[: num_gc] == list(range(1, num_gc + 1))
        assert all(g.heap_live <= g.heap_end for g in runs[0])


def test_leak_log_is_a_heap_leak(logs: dict[str, tuple[Path, int]]) -> None:
    res = golab.leakhunter("gctrace", str(logs["leak"][0]), "--format", "json", "--limit", "2GiB")
    assert res.returncode == 1, res.stderr
    v = json.loads(res.stdout)["targets"][0]["verdicts"][0]
    assert v["kind"] == "heap-leak" and v["series"] == "gc_live_heap"
    assert v["slope_per_min"] > 10 << 20


def test_sawtooth_log_is_not_a_leak(logs: dict[str, tuple[Path, int]]) -> None:
    res = golab.leakhunter("gctrace", str(logs["saw"][0]), "--format", "json")
    assert res.returncode == 0, res.stdout
    v = json.loads(res.stdout)["targets"][0]["verdicts"][0]
    assert v["kind"] in ("no-leak", "inconclusive")


def test_restart_in_a_log_splits(logs: dict[str, tuple[Path, int]], tmp_path: Path) -> None:
    """Two sawtooth runs back to back: the GC count restarts; no false leak, two processes."""
    saw = logs["saw"][0].read_bytes()
    both = tmp_path / "both.log"
    both.write_bytes(saw + b"some other log line\n" + saw)
    db = tmp_path / "g.db"
    res = golab.leakhunter("gctrace", str(both), "--db", str(db), "--format", "json")
    assert res.returncode == 0
    from leakhunter.collect.store import Store

    with Store(db, readonly=True) as st:
        assert len(st.processes(st.targets()[0])) == 2


@pytest.mark.parametrize("content", [b"", b"hello\nworld\n", b"\x00\xff" * 100])
def test_no_gc_lines_is_exit_2(tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "x.log"
    f.write_bytes(content)
    res = golab.leakhunter("gctrace", str(f))
    assert res.returncode == 2
    # The line names its input first (which file had no GC lines), then says what is wrong.
    assert res.stderr.startswith(f"leakhunter: error: {f}: no GODEBUG=gctrace=1 lines".encode())


def test_missing_and_directory_are_exit_2(tmp_path: Path) -> None:
    for arg in (str(tmp_path / "nope.log"), str(tmp_path)):
        res = golab.leakhunter("gctrace", arg)
        assert res.returncode == 2 and b"Traceback" not in res.stderr, res.stderr


def test_stdin(logs: dict[str, tuple[Path, int]]) -> None:
    res = golab.leakhunter("gctrace", "-", input=logs["leak"][0].read_bytes())
    assert res.returncode == 1 and b"HEAP-LEAK" in res.stdout
