"""Inputs that are not regular files, and lines built to make a parser slow (issue 11).

Only regular files, `-` (stdin) and URLs are inputs: a FIFO without a writer used to
block `top`, `goroutines`, `gctrace` and `scan --baseline` forever, and `/dev/zero` as
a baseline was read without end. Each is now one error line and exit 2, at once.
The quadratic-line cases are timed against a bound set from a line 1/10 the size, so
the test measures linearity, not the machine's speed.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import golab
import pytest

from leakhunter.collect.gctrace import parse_lines
from leakhunter.errors import InputError
from leakhunter.profiles import heap_text


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    p = tmp_path / "pipe"
    os.mkfifo(p)
    yield p


def _fails_fast(*argv: str) -> str:
    t0 = time.monotonic()
    res = golab.leakhunter(*argv, timeout=60)
    took = time.monotonic() - t0
    err = res.stderr.decode()
    assert res.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("leakhunter: error: "), err
    assert took < 20, took
    return lines[0]


@pytest.mark.parametrize("argv", [["top"], ["diff", "{self}"], ["goroutines"], ["gctrace"]])
def test_a_fifo_is_refused_not_waited_on(fifo: Path, argv: list[str]) -> None:
    args = [a.replace("{self}", str(fifo)) for a in argv]
    line = _fails_fast(*args, str(fifo))
    assert "FIFO" in line


def test_devices_are_refused(tmp_path: Path) -> None:
    assert "device" in _fails_fast("top", "/dev/zero")
    assert "device" in _fails_fast("goroutines", "/dev/zero")


def test_baseline_must_be_a_regular_file(tmp_path: Path, fifo: Path) -> None:
    src = tmp_path / "m"
    src.mkdir()
    (src / "a.go").write_text("package m\n\nfunc F() {}\n")
    assert "FIFO" in _fails_fast("scan", str(src), "--baseline", str(fifo))
    assert "device" in _fails_fast("scan", str(src), "--baseline", "/dev/zero")


def test_config_must_be_a_regular_file(tmp_path: Path) -> None:
    src = tmp_path / "m"
    src.mkdir()
    (src / "a.go").write_text("package m\n\nfunc F() {}\n")
    os.mkfifo(src / ".leakhunter.toml")
    # Found by walking up: a FIFO is not a config file, so it is not opened at all.
    t0 = time.monotonic()
    res = golab.leakhunter("scan", str(src), timeout=60)
    assert res.returncode == 0 and time.monotonic() - t0 < 20, res.stderr
    # Named explicitly: one error line.
    assert "config" in _fails_fast("scan", str(src), "--config", str(src / ".leakhunter.toml"))


def _time(fn: object, arg: bytes) -> float:
    t0 = time.perf_counter()
    with contextlib.suppress(InputError):
        fn(arg)  # type: ignore[operator]
    return time.perf_counter() - t0


def _linear(fn: object, make: object, n: int) -> None:
    """fn on an input 10x longer costs well under 100x (what a quadratic parser pays)."""
    small = min(_time(fn, make(n // 10)) for _ in range(3))  # type: ignore[operator]
    big = _time(fn, make(n))  # type: ignore[operator]
    assert big < max(30 * small, 0.5), (small, big)


def test_a_100000_digit_heap_text_line_is_linear() -> None:
    hdr = b"heap profile: 1: 1024 [2: 2048] @ heap/1048576\n"
    _linear(heap_text.parse, lambda n: hdr + b"1" * n + b"\n", 100_000)
    _linear(heap_text.parse, lambda n: hdr + b"1: 1 [1: 1] @ 0x1\n#\t0x1\t" + b"a+0x1:" * (n // 6)
            + b"\t/a.go:1\n", 100_000)


def test_a_long_gctrace_line_is_linear() -> None:
    _linear(lambda d: parse_lines([d]), lambda n: b"gc 1 @1s 1%: x " * (n // 15), 60_000)
    _linear(lambda d: parse_lines([d]), lambda n: b"gc 1 @1s 1%: " + b"9" * n, 60_000)
    # The 600 KB line of the issue (180 s before): far past any real GC line, skipped.
    t0 = time.perf_counter()
    assert parse_lines([b"gc 1 @1s 1%: x " * 40_000]) == []
    assert time.perf_counter() - t0 < 1
