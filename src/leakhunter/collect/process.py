"""Start, watch and stop the service under a soak (`soak --cmd`).

Why this shape:

- The command runs in its own session and process group (`start_new_session`), so
  stopping it reaches every process it started (a shell script, `go run`'s child),
  and a Ctrl-C meant for soak is not delivered to the service behind soak's back.
- Stop is SIGTERM to the group, then SIGKILL to the group after a grace period; the
  group is signalled even when its leader already exited, because a leader that dies
  first can leave children behind.
- On Linux the direct child also gets PR_SET_PDEATHSIG=SIGKILL, so even a soak killed
  with `kill -9` (no chance to clean up) does not leave the service running. The child
  sets it between fork and exec, where nothing may take a lock another thread of soak
  could have held at the fork: `prctl` is looked up here, at import, and the child only
  calls it. (It used to `import ctypes` and dlopen libc there: with soak's preload thread
  importing scipy, which imports ctypes, the forked child waited forever on a module lock
  whose owner did not exist in it, and soak waited forever in Popen for its exec, silent:
  6 of 130 forks hung when their moment was swept across a real scipy import, 0 of 130
  since; the one hung soak of session 11's full suite.)
- Every wait is bounded: `stop` by its grace and a few seconds more, `wait_http` by its
  timeout even when the service trickles its answer a byte at a time.
- Output goes to unlinked temporary files, not pipes: a chatty service can never
  block on a full pipe nobody reads, and its last stderr lines are there to quote when
  it dies ("could not run: ..." with the reason).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import IO

from leakhunter.errors import TargetError, UsageError

TAIL_LINES = 15


def _find_prctl() -> Callable[..., int] | None:
    """libc's prctl, resolved in the parent (ctypes imported, libc dlopened, the symbol looked
    up): the child between fork and exec must not import or dlopen, see the module docstring."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        fn = ctypes.CDLL(None).prctl
        fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        fn.restype = ctypes.c_int
        out: Callable[..., int] = fn
        return out
    except (OSError, AttributeError, ImportError):
        return None


_PRCTL = _find_prctl()
_PR_SET_PDEATHSIG = 1
_SIGKILL = int(signal.SIGKILL)


def _pdeathsig() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGKILL the child when soak (its parent) dies: one call of a function
    resolved before the fork, no import, no lookup."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)


class ManagedProcess:
    """One command started for a soak, in its own process group."""

    def __init__(self, cmd: str | list[str], *, env: dict[str, str] | None = None,
                 cwd: str | None = None, grace: float = 5.0) -> None:
        try:
            self.argv = shlex.split(cmd) if isinstance(cmd, str) else list(cmd)
        except ValueError as exc:
            raise UsageError(f"--cmd: cannot split the command line ({exc})") from None
        if not self.argv:
            raise UsageError("--cmd is empty")
        self.env = env
        self.cwd = cwd
        self.grace = grace
        self.proc: subprocess.Popen[bytes] | None = None
        self.pgid: int | None = None
        self._out: IO[bytes] | None = None
        self._err: IO[bytes] | None = None
        self.started_at = 0.0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def name(self) -> str:
        return os.path.basename(self.argv[0])

    def start(self) -> None:
        # Kept open for the life of the command (read by stderr_tail), closed in close().
        self._out = tempfile.TemporaryFile()  # noqa: SIM115
        self._err = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err,
                env=self.env, cwd=self.cwd, start_new_session=True,
                preexec_fn=_pdeathsig if _PRCTL is not None else None,
            )
        except FileNotFoundError:
            raise TargetError(f"--cmd: {self.argv[0]}: command not found") from None
        except PermissionError:
            raise TargetError(f"--cmd: {self.argv[0]}: permission denied") from None
        except OSError as exc:
            raise TargetError(f"--cmd: {self.argv[0]}: {exc.strerror or exc}") from None
        self.pgid = self.proc.pid  # start_new_session: the child leads its own group
        self.started_at = time.monotonic()

    def returncode(self) -> int | None:
        """The exit status once the command has exited, else None."""
        return self.proc.poll() if self.proc else None

    def exit_description(self) -> str:
        rc = self.returncode()
        if rc is None:
            return "still running"
        if rc < 0:
            try:
                return f"killed by {signal.Signals(-rc).name}"
            except ValueError:
                return f"killed by signal {-rc}"
        return f"exited with code {rc}"

    def stderr_tail(self, n: int = TAIL_LINES) -> list[str]:
        return _tail(self._err, n)

    def stdout_tail(self, n: int = TAIL_LINES) -> list[str]:
        return _tail(self._out, n)

    def group_alive(self) -> bool:
        """True while any process of the command's group still exists (zombies excepted)."""
        if self.pgid is None:
            return False
        if self.proc is not None:
            self.proc.poll()  # reap the leader so it does not count as alive
        try:
            os.killpg(self.pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def stop(self, grace: float | None = None) -> None:
        """SIGTERM the group, SIGKILL it after `grace` seconds, reap the leader."""
        if self.proc is None or self.pgid is None:
            return
        grace = self.grace if grace is None else grace
        _killpg(self.pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and self.group_alive():
            time.sleep(0.05)
        if self.group_alive():
            _killpg(self.pgid, signal.SIGKILL)
            end = time.monotonic() + 5
            while time.monotonic() < end and self.group_alive():
                time.sleep(0.02)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)

    def close(self) -> None:
        for f in (self._out, self._err):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()

    async def wait_ready(self, url: str, *, timeout: float) -> None:
        """Wait until `url` answers HTTP 200; TargetError if the command dies first or time runs out."""
        await wait_http(url, timeout=timeout, process=self)


async def wait_http(url: str, *, timeout: float, process: ManagedProcess | None = None) -> None:
    """Poll `url` until it answers 200. Raises TargetError (exit 2) with the reason."""
    import httpx

    deadline = time.monotonic() + timeout
    last = "no answer"
    definite = ""  # the last answer that was not a timeout (refused, an HTTP status)
    delay = 0.05
    async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
        while True:
            if process is not None and process.returncode() is not None:
                raise TargetError(
                    f"the command {process.exit_description()} before {url} answered"
                )
            # httpx's timeouts are per read: a service trickling its answer a byte a second
            # never trips them, and soak waited forever. The whole attempt is bounded.
            per = min(2.0, max(0.1, deadline - time.monotonic()))
            timed_out = False
            try:
                resp = await asyncio.wait_for(client.get(url, timeout=per), per + 0.5)
                if resp.status_code == 200:
                    return
                last = f"HTTP {resp.status_code}"
            except httpx.TimeoutException as exc:
                last, timed_out = describe_http_error(exc), True
            except httpx.HTTPError as exc:
                last = describe_http_error(exc)
            except TimeoutError:
                last, timed_out = f"no whole answer within {per + 0.5:.1f}s", True
            if not timed_out:
                definite = last
            if time.monotonic() >= deadline:
                if timed_out and definite and per < 2.0:
                    # the final attempt only had what was left of the deadline (on a loaded machine
                    # a refused port read "ConnectTimeout"): the answer the target gave is the news
                    last = f"{definite}; the final attempt, cut to {per:.1f}s by the deadline, timed out"
                raise TargetError(f"{url} did not answer within {timeout:g}s (last: {last})")
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 1.5, 0.5)


def describe_http_error(exc: BaseException) -> str:
    """A short reason for a failed request; httpx says "All connection attempts failed"
    where the cause (in the exception chain) is a plain "connection refused"."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return "connection refused"
        seen = seen.__cause__ or seen.__context__
    msg = str(exc).strip()
    return f"{type(exc).__name__}: {msg[:120]}" if msg else type(exc).__name__


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _tail(f: IO[bytes] | None, n: int) -> list[str]:
    if f is None or f.closed:
        return []
    try:
        # pread/fstat leave the file offset alone: the child shares it and keeps writing.
        fd = f.fileno()
        size = os.fstat(fd).st_size
        start = max(0, size - 64 * 1024)
        data = os.pread(fd, size - start, start)
    except OSError:
        return []
    lines = data.decode("utf-8", "replace").splitlines()
    return [ln.rstrip() for ln in lines if ln.strip()][-n:]
