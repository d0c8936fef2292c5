"""`leakhunter soak` when it cannot run, and how it stops what it started.

Exit 2 with one clear line (and the command's last stderr lines) when the command dies
or the endpoint never answers; loopback only for --load; and whatever soak started —
the service and anything the service started — is gone when soak ends, normally, on
SIGINT/SIGTERM, and (the service itself, via PR_SET_PDEATHSIG) even on SIGKILL.
Real processes throughout: a lab service and /bin/sh.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from golab import ROOT, leakhunter
from soaklab import build_service, free_port, manifest

M = manifest()


def _svc_exe() -> Path:
    return build_service(M.get("sleeper"))


def _procs_with(marker: str) -> list[int]:
    """Pids of live (non-zombie) processes whose command line contains marker, soak's own
    process (whose --cmd argument contains it too) excepted."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmd and state != "Z" and "-m leakhunter" not in cmd:
            out.append(int(d.name))
    return out


def _gone(marker: str, timeout: float = 10) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not _procs_with(marker):
            return True
        time.sleep(0.1)
    return False


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _cleanup(marker: str) -> None:
    for pid in _procs_with(marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _err(res: subprocess.CompletedProcess[bytes]) -> str:
    return res.stderr.decode(errors="replace")


def test_cmd_that_dies_immediately_exits_2_with_its_stderr() -> None:
    port = free_port()
    res = leakhunter("soak", "--cmd", "sh -c 'echo boom-7731 cannot open config >&2; exit 3'",
                     "--pprof", f"http://127.0.0.1:{port}", "--load",
                     f"http://127.0.0.1:{port}/leak", "--duration", "5s", timeout=60)
    err = _err(res)
    assert res.returncode == 2, err
    assert "leakhunter: error: the command exited with code 3" in err
    assert "boom-7731 cannot open config" in err
    assert "Traceback" not in err


def test_go_service_that_cannot_listen_exits_2_with_the_go_error() -> None:
    exe = _svc_exe()
    with socket_taken() as port:
        res = leakhunter("soak", "--cmd", f"{exe} -addr 127.0.0.1:{port}",
                         "--pprof", f"http://127.0.0.1:{port + 1}", "--load",
                         f"http://127.0.0.1:{port}/leak", "--duration", "5s", timeout=60)
    err = _err(res)
    assert res.returncode == 2, err
    assert "exited with code 1" in err
    assert "address already in use" in err  # the Go runtime's own log.Fatal line


class socket_taken:
    """A loopback port that is bound and listening, so a service cannot take it."""

    def __enter__(self) -> int:
        import socket

        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(1)
        port: int = self.s.getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        self.s.close()


def test_pprof_that_never_answers_exits_2() -> None:
    import socket

    # Bound, never listening: connections are refused for as long as the test runs, and no
    # other process can take the port meanwhile (a released "free" port was taken by a
    # service of a concurrent job once, which answered with a connect timeout instead).
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        t0 = time.monotonic()
        res = leakhunter("soak", "--pprof", f"http://127.0.0.1:{port}", "--load",
                         f"http://127.0.0.1:{port}/", "--start-timeout", "1.5s", "--duration", "5s",
                         timeout=60)
    err = _err(res)
    assert res.returncode == 2, err
    assert f"127.0.0.1:{port}/debug/pprof/ did not answer within 1.5s" in err
    assert "connection refused" in err
    assert time.monotonic() - t0 < 30
    assert err.count("\n") <= 2, err



def test_a_target_that_refused_then_hung_is_said_to_have_refused() -> None:
    """The CI machine, loaded, read a port that refused every connection as "last: ConnectTimeout":
    the final attempt had only what was left of the start timeout. Here the port refuses for 1 s,
    then accepts and never answers until the deadline: the message names the refusal and says the
    final, shortened attempt timed out. The refusal lasts 3 s: under a full suite beside four scans
    (session 28) leakhunter's own start-up took over the 1 s this test first gave it, so its first
    attempt met the listening port and never saw a refusal."""
    import socket
    import threading

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        opener = threading.Timer(3.0, lambda: held.listen(8))
        opener.start()
        try:
            res = leakhunter("soak", "--pprof", f"http://127.0.0.1:{port}", "--load",
                             f"http://127.0.0.1:{port}/", "--start-timeout", "5s", "--duration", "5s",
                             timeout=60)
        finally:
            opener.cancel()
    err = _err(res)
    assert res.returncode == 2, err
    assert "did not answer within 5s" in err and "connection refused" in err, err
    assert "timed out" in err, err

def test_cmd_that_runs_but_never_answers_is_stopped() -> None:
    marker = f"{random.randint(10**6, 10**7)}.5"
    port = free_port()
    res = leakhunter("soak", "--cmd", f"sleep {marker}", "--pprof", f"http://127.0.0.1:{port}",
                     "--load", f"http://127.0.0.1:{port}/", "--start-timeout", "1.5s",
                     "--grace", "1s", timeout=60)
    try:
        assert res.returncode == 2, _err(res)
        assert "did not answer within 1.5s" in _err(res)
        assert _gone(marker), "the command outlived soak"
    finally:
        _cleanup(marker)


def test_command_not_found_exits_2() -> None:
    res = leakhunter("soak", "--cmd", "/nonexistent/service-xyz -addr 127.0.0.1:1",
                     "--pprof", "http://127.0.0.1:1", "--load", "http://127.0.0.1:1/",
                     timeout=60)
    assert res.returncode == 2
    assert "leakhunter: error: --cmd: /nonexistent/service-xyz: command not found" in _err(res)


@pytest.mark.parametrize("url", ["http://192.0.2.1:8080/leak", "http://[2001:db8::1]:80/x",
                                 "http://10.0.0.1/"])
def test_non_loopback_load_is_refused_before_anything_starts(url: str) -> None:
    marker = f"{random.randint(10**6, 10**7)}.25"
    res = leakhunter("soak", "--cmd", f"sleep {marker}", "--pprof", "http://127.0.0.1:1",
                     "--load", url, timeout=60)
    try:
        err = _err(res)
        assert res.returncode == 2, err
        assert "non-loopback" in err and "--allow-remote" in err
        assert not _procs_with(marker), "soak started the command despite the refusal"
    finally:
        _cleanup(marker)


@pytest.mark.parametrize("args, msg", [
    (["--rate", "0"], "argument --rate: must be greater than zero"),
    (["--concurrency", "0"], "argument --concurrency: must be greater than zero"),
    (["--source", "/nonexistent/src"], "--source /nonexistent/src: not a directory"),
    (["--load", "ftp://127.0.0.1/x"], "need an http:// or https:// URL"),
    (["--report", "/nonexistent/r.html"], "--report /nonexistent/r.html: its directory does not exist"),
    (["--cmd", "sleep 'unterminated"], "--cmd: cannot split the command line"),
    (["--requests", "0"], "argument --requests: must be greater than zero"),
])
def test_bad_arguments_exit_2_with_one_line(args: list[str], msg: str) -> None:
    res = leakhunter("soak", "--pprof", "http://127.0.0.1:1", "--load", "http://127.0.0.1:1/",
                     *args, timeout=60)
    err = _err(res)
    assert res.returncode == 2, err
    assert msg in err and err.strip().count("\n") == 0, err


def test_load_that_never_succeeds_exits_2() -> None:
    exe = _svc_exe()
    port = free_port()
    res = leakhunter("soak", "--cmd", f"{exe} -addr 127.0.0.1:{port}", "--pprof",
                     f"http://127.0.0.1:{port}", "--load", f"http://127.0.0.1:{port}/no-such-page",
                     "--warmup", "0.5s", "--duration", "3s", "--interval", "0.5s", timeout=120)
    err = _err(res)
    assert res.returncode == 2, err
    assert "no load request succeeded" in err and "HTTP 404" in err


def test_service_dying_during_the_soak_exits_2_with_its_stderr() -> None:
    exe = _svc_exe()
    port = free_port()
    cmd = (f"sh -c '(sleep 3; echo dying-4411 out of memory >&2; kill $$) & "
           f"exec {exe} -addr 127.0.0.1:{port}'")
    res = leakhunter("soak", "--cmd", cmd, "--pprof", f"http://127.0.0.1:{port}", "--load",
                     f"http://127.0.0.1:{port}/leak", "--warmup", "0.5s", "--duration", "30s",
                     "--interval", "0.5s", timeout=120)
    err = _err(res)
    assert res.returncode == 2, err
    assert "the command killed by SIGTERM" in err
    assert "dying-4411 out of memory" in err


def _start_soak(marker: str, port: int) -> subprocess.Popen[bytes]:
    """A soak whose command is a shell that starts a grandchild and execs the service."""
    exe = _svc_exe()
    cmd = f"sh -c 'sleep {marker} & exec {exe} -addr 127.0.0.1:{port}'"
    return subprocess.Popen(
        [sys.executable, "-m", "leakhunter", "soak", "--cmd", cmd, "--pprof",
         f"http://127.0.0.1:{port}", "--load", f"http://127.0.0.1:{port}/fixed",
         "--warmup", "1s", "--duration", "60s", "--interval", "0.5s", "--grace", "2s"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )


def _wait_answering(port: int, proc: subprocess.Popen[bytes]) -> None:
    end = time.monotonic() + 60
    while time.monotonic() < end and proc.poll() is None:
        if _answers(f"http://127.0.0.1:{port}/debug/pprof/"):
            time.sleep(1.0)  # into the soak: load running
            return
        time.sleep(0.1)
    raise AssertionError("the service never answered")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_soak_leaves_no_process_behind(sig: int) -> None:
    marker = f"{random.randint(10**6, 10**7)}.75"
    port = free_port()
    proc = _start_soak(marker, port)
    try:
        _wait_answering(port, proc)
        assert len(_procs_with(marker)) == 1  # the grandchild is there
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err.decode()
        assert "interrupted" in err.decode()
        assert _gone(marker), "the service's child outlived soak"
        assert _gone(f"-addr 127.0.0.1:{port}"), "the service outlived soak"
        assert not _answers(f"http://127.0.0.1:{port}/debug/pprof/")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _cleanup(marker)
        _cleanup(f"-addr 127.0.0.1:{port}")


def test_soak_killed_with_sigkill_takes_its_service_along() -> None:
    """No cleanup code runs on SIGKILL; PR_SET_PDEATHSIG still ends the direct child."""
    marker = f"{random.randint(10**6, 10**7)}.125"
    port = free_port()
    proc = _start_soak(marker, port)
    try:
        _wait_answering(port, proc)
        proc.kill()
        proc.communicate(timeout=30)
        assert _gone(f"-addr 127.0.0.1:{port}"), "the service outlived a SIGKILLed soak"
    finally:
        _cleanup(marker)  # the grandchild is not covered by PDEATHSIG
        _cleanup(f"-addr 127.0.0.1:{port}")


def test_normal_end_stops_the_whole_process_group() -> None:
    marker = f"{random.randint(10**6, 10**7)}.375"
    port = free_port()
    exe = _svc_exe()
    cmd = f"sh -c 'sleep {marker} & exec {exe} -addr 127.0.0.1:{port}'"
    res = leakhunter("soak", "--cmd", cmd, "--pprof", f"http://127.0.0.1:{port}", "--load",
                     f"http://127.0.0.1:{port}/fixed", "--warmup", "0.5s", "--duration", "4s",
                     "--interval", "0.5s", timeout=120)
    try:
        assert res.returncode in (0, 1), _err(res)
        assert _gone(marker) and _gone(f"-addr 127.0.0.1:{port}")
    finally:
        _cleanup(marker)
        _cleanup(f"-addr 127.0.0.1:{port}")


def test_soak_whose_stderr_reader_left_still_gives_its_verdict() -> None:
    """`soak ... 2>&1 | tee log` whose tee died: the progress lines are lost, the soak is
    not (it crashed with a traceback on the first progress line before)."""
    port = free_port()
    r, w = os.pipe()
    os.close(r)  # the stderr reader is gone before the first progress line
    try:
        res = subprocess.run(
            [sys.executable, "-m", "leakhunter", "soak", "--cmd", f"{_svc_exe()} -addr 127.0.0.1:{port}",
             "--pprof", f"http://127.0.0.1:{port}", "--load", f"http://127.0.0.1:{port}/fixed",
             "--warmup", "0.5s", "--duration", "3s", "--interval", "0.5s", "--format", "json"],
            stdout=subprocess.PIPE, stderr=w, timeout=120)
    finally:
        os.close(w)
        _cleanup(f"-addr 127.0.0.1:{port}")
    assert res.returncode in (0, 1), res.stdout[-2000:]
    doc = json.loads(res.stdout)
    assert doc["targets"][0]["verdicts"], doc
