"""Bounded load for the watch tests: hit lab endpoints at a fixed rate from a thread.

Every loop is bounded in count and time (COMMON.md), and the load stops when the
test's `with` block ends, whether the test passed or not.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import golab


class Load:
    """Call `path_for(i)` on `base` `rate` times a second, at most `max_requests` times."""

    def __init__(self, base: str, path_for: Callable[[int], str], *, rate: float,
                 max_requests: int = 10_000, max_seconds: float = 120.0) -> None:
        self.base, self.path_for, self.rate = base, path_for, rate
        self.max_requests, self.max_seconds = max_requests, max_seconds
        self.sent = 0
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        t0 = time.monotonic()
        for i in range(self.max_requests):
            if self._stop.is_set() or time.monotonic() - t0 > self.max_seconds:
                return
            due = t0 + i / self.rate
            delay = due - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return
            try:
                with urllib.request.urlopen(self.base + self.path_for(i), timeout=10) as r:
                    r.read()
                self.sent += 1
            except OSError:
                self.errors += 1

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def watch_json(url: str, db: Path, *extra: str, duration: str = "16s",
               interval: str = "0.5s", pid: int | None = None,
               timeout: float = 120) -> tuple[int, dict[str, Any], str]:
    """Run `leakhunter watch --format json` as a user would; (exit code, JSON, stderr)."""
    args = ["watch", url, "--interval", interval, "--duration", duration, "--db", str(db),
            "--format", "json", *extra]
    if pid is not None:
        args += ["--pid", str(pid)]
    res = golab.leakhunter(*args, timeout=timeout)
    out = res.stdout.decode()
    doc: dict[str, Any] = json.loads(out) if out.strip() else {}
    return res.returncode, doc, res.stderr.decode()


def by_series(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{series: verdict} of the first target of a watch JSON document."""
    return {v["series"]: v for v in doc["targets"][0]["verdicts"]}


def wait_for_samples(db: Path, n: int, timeout: float = 30) -> None:
    """Wait until the watcher has committed `n` scrapes of goroutine counts into `db`."""
    import sqlite3

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as c:
                    got = c.execute(
                        "SELECT count(*) FROM samples WHERE series='goroutines'").fetchone()[0]
                if got >= n:
                    return
            except sqlite3.Error:
                pass
        time.sleep(0.1)
    raise TimeoutError(f"watch wrote no samples to {db} within {timeout}s")


def watch_with_load(url: str, db: Path, load: Load, *extra: str, duration: str = "20s",
                    interval: str = "0.5s", pid: int | None = None, lead_samples: int = 3,
                    timeout: float = 120) -> tuple[int, dict[str, Any], str]:
    """Start `watch` first and the load once it has scraped, so the watch sees it begin."""
    import subprocess
    import sys

    args = [sys.executable, "-m", "leakhunter", "watch", url, "--interval", interval,
            "--duration", duration, "--db", str(db), "--format", "json", *extra]
    if pid is not None:
        args += ["--pid", str(pid)]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            wait_for_samples(db, lead_samples)
        except TimeoutError:
            proc.kill()
            raise
        with load:
            out, err = proc.communicate(timeout=timeout)
    doc: dict[str, Any] = json.loads(out) if out.strip() else {}
    return proc.returncode, doc, err.decode()
