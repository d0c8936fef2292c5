"""A soak never runs far past its bound silently (issue 9).

Session 11's full suite had one `soak` of lab fileleak killed at its test's 180 s timeout
having printed nothing (tests/test_fd_sham.py). The cause, reproduced here: soak forked
the service (`ManagedProcess.start`) while its preload thread imported scipy, and the
child, between fork and exec, imported ctypes to set PR_SET_PDEATHSIG: when the fork fell
inside the preload thread's import of ctypes, the child waited forever on a module lock
whose owner did not exist in it, and soak waited forever in Popen for the exec. Here also:
a service that trickles the answer soak waits for at start (httpx's per-read timeouts never
tripped), and the bound itself: start-timeout + warm-up + duration + grace +
OVERRUN_SLACK_S, past which a watchdog stops the service, prints what was collected with
`overran: stuck in <phase>` and exits 2. The hangs inside soak's own process are made by
a finder that never returns from one import (as the fork's child never did), run through
the real CLI against a real Go service (tests/fixtures/stuckphase).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest
from golab import ROOT, build
from soaklab import free_port

from leakhunter.commands._soak_watchdog import OVERRUN_SLACK_S

STUCK = ROOT / "tests" / "fixtures" / "stuckphase"


def _children(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _run(code: str, args: list[str], timeout: float) -> tuple[int | None, str, str, float]:
    """`code` then the CLI with `args`, as a real process; (exit code or None when it had to
    be killed at `timeout`, stdout, stderr, wall seconds). What it left running is killed."""
    t0 = time.monotonic()
    p = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True, cwd=ROOT)
    try:
        out, err = p.communicate(timeout=timeout)
        rc: int | None = p.returncode
    except subprocess.TimeoutExpired:
        for c in _children(p.pid):  # a child stuck before exec leads its own session
            for kill in (os.killpg, os.kill):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(c, signal.SIGKILL)
        p.kill()
        out, err = p.communicate()
        rc = None
    return rc, out.decode(errors="replace"), err.decode(errors="replace"), time.monotonic() - t0


_SLOW = """
import importlib.machinery, sys, threading
inside, release = threading.Event(), threading.Event()
class _SlowLoader:
    def __init__(self, real):
        self.real = real
    def create_module(self, spec):
        return self.real.create_module(spec)
    def exec_module(self, module):
        inside.set()
        release.wait()
        self.real.exec_module(module)
class _Slow:
    # The loader waits, not find_spec: finders run under the global import lock, a module's
    # loading only under its own, as when a thread is in the middle of importing it.
    def find_spec(self, name, path=None, target=None):
        if name != SLOW:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        spec.loader = _SlowLoader(spec.loader)
        return spec
def stall():
    sys.meta_path.insert(0, _Slow())
"""


def _stuck_import(module: str) -> str:
    """Python that makes any import of `module` wait forever, then runs the CLI."""
    return (f"SLOW = {module!r}\n" + _SLOW
            + "stall()\nfrom leakhunter.cli import main\nsys.exit(main(sys.argv[1:]))\n")


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/work", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _soak(port: int, *flags: str, duration: str = "5s", extra: tuple[str, ...] = ()) -> list[str]:
    exe = build(".", module_dir=STUCK)
    base = f"http://127.0.0.1:{port}"
    return ["soak", "--cmd", f"{exe} -addr 127.0.0.1:{port} {' '.join(flags)}", "--pprof", base,
            "--load", base + "/work", "--rate", "20", "--duration", duration, "--warmup", "0s",
            "--start-timeout", "5s", "--grace", "1s", "--format", "json", *extra]


def test_the_service_starts_while_another_thread_is_importing_ctypes() -> None:
    """The fork of --cmd while a thread is inside `import ctypes` (numpy's import does it, in
    soak's preload thread): the service starts and answers. On 84c4902 the child waited on
    ctypes' module lock before exec and start() never returned (3 of 30 forks hung when the
    fork was swept across a real scipy import, tests aside)."""
    exe = build(".", module_dir=STUCK)
    port = free_port()
    code = "SLOW = 'ctypes'\n" + _SLOW + textwrap.dedent(f"""
        import time
        from leakhunter.collect.process import ManagedProcess
        sys.modules.pop("ctypes", None)  # imported afresh below, as numpy does in a thread
        stall()
        t = threading.Thread(target=lambda: __import__("ctypes"), daemon=True)
        t.start()
        inside.wait()  # the thread holds ctypes' import lock now
        p = ManagedProcess([{str(exe)!r}, "-addr", "127.0.0.1:{port}"], grace=1.0)
        t0 = time.monotonic()
        p.start()
        print(f"started {{time.monotonic() - t0:.2f}}", flush=True)
        release.set()
        t.join()
        import asyncio
        from leakhunter.collect.process import wait_http
        asyncio.run(wait_http("http://127.0.0.1:{port}/debug/pprof/", timeout=20, process=p))
        print("answered", flush=True)
        p.stop()
        p.close()
    """)
    rc, out, err, _ = _run(code, [], timeout=60)
    assert rc == 0, (rc, out, err[-2000:])
    assert "answered" in out, out
    assert float(out.split()[1]) < 10, out


def test_a_service_trickling_the_start_answer_is_given_up_at_start_timeout() -> None:
    """/debug/pprof/ answers a byte a second forever: httpx's read timeout never trips, and
    on 84c4902 soak waited on it forever. Now: exit 2 at about --start-timeout, one line."""
    port = free_port()
    rc, _, err, took = _run(_stuck_import("never-imported"), _soak(port, "-trickle-index"),
                              timeout=90)
    assert rc == 2, (rc, err[-2000:])
    assert "did not answer within 5s" in err, err[-2000:]
    assert took < 30, took
    assert not _answers(f"http://127.0.0.1:{port}")


def test_a_soak_stuck_loading_the_analysis_ends_at_its_bound_and_says_where() -> None:
    """The preload thread's scipy import never ends (the same thread whose ctypes import the
    fork once caught): soak says it overran, stuck loading the analysis, stops the service and
    exits 2 at its bound (5 + 0 + 5 + 1 + the slack), where it used to wait forever with the
    service running."""
    port = free_port()
    bound = 5 + 0 + 5 + 1 + OVERRUN_SLACK_S
    rc, out, err, took = _run(_stuck_import("scipy.stats"), _soak(port), timeout=bound + 60)
    assert rc == 2, (rc, took, err[-2000:])
    assert bound - 1 <= took <= bound + 20, took
    assert "overran its bound" in err and "stuck in loading the analysis" in err, err[-2000:]
    assert err.count("\n") <= 2, err  # one line (and no traceback)
    doc = json.loads(out)
    assert doc["soak"]["overran"].startswith("stuck in loading the analysis"), doc["soak"]
    assert doc["targets"] == [] and doc["soak"]["observed_s"] == 0, doc
    assert not _answers(f"http://127.0.0.1:{port}")


def test_a_soak_stuck_after_observing_prints_what_it_collected() -> None:
    """Observation done, the service stopped, and the decision's scan of --source never
    returns: at the bound soak prints the verdicts from the store (no suspects), the whole
    observed_s and `overran`, and exits 2."""
    port = free_port()
    bound = 5 + 0 + 8 + 1 + OVERRUN_SLACK_S
    args = _soak(port, duration="8s", extra=("--source", str(STUCK)))
    rc, out, err, took = _run(_stuck_import("leakhunter.source.scanner"), args, timeout=bound + 60)
    assert rc == 2, (rc, took, err[-2000:])
    assert bound - 1 <= took <= bound + 20, took
    assert "stuck in deciding" in err, err[-2000:]
    doc = json.loads(out)
    soak = doc["soak"]
    assert soak["overran"].startswith("stuck in deciding"), soak
    assert soak["observed_s"] >= 7, soak
    assert soak["load"]["ok"] >= 100, soak["load"]
    series = {v["series"] for t in doc["targets"] for v in t["verdicts"]}
    assert {"heap_live", "goroutines"} <= series, series
    assert not _answers(f"http://127.0.0.1:{port}")


@pytest.mark.parametrize("text", [False, True])
def test_a_hostile_service_does_not_make_soak_overrun(text: bool) -> None:
    """Every heap profile hangs until its scrape times out and SIGTERM is ignored: the soak
    still ends on its own well inside its bound (the scrapes are bounded, the stop escalates
    to SIGKILL after --grace), with a result, not an overrun."""
    port = free_port()
    args = _soak(port, "-hang-heap", "-ignore-term", duration="6s")
    if text:
        args[args.index("--format") + 1] = "text"
    rc, out, err, took = _run(_stuck_import("never-imported"), args, timeout=120)
    assert rc in (0, 1), (rc, err[-2000:])
    assert took < 6 + 40, took
    assert "overran" not in err and "OVERRAN" not in out, (out, err)
    assert not _answers(f"http://127.0.0.1:{port}")
