"""Every bad input to `top` / `diff` is one clear line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import gzip
import os
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from golab import leakhunter, run_lab


def assert_one_line_error(res: object, *fragments: str) -> str:
    rc = res.returncode  # type: ignore[attr-defined]
    err = res.stderr.decode()  # type: ignore[attr-defined]
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("leakhunter: error: ")
    for frag in fragments:
        assert frag in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A real heap profile (gzipped, as served), a 404 answer, and a goroutine text dump."""
    d = tmp_path_factory.mktemp("bad")
    out = {}
    with run_lab("chanleak") as svc:
        svc.get("/leak/map?n=500&size=4096")
        svc.get("/leak/send?n=3")
        (d / "heap.pb.gz").write_bytes(svc.get("/debug/pprof/heap"))
        (d / "goroutine.txt").write_bytes(svc.get("/debug/pprof/goroutine?debug=2"))
        res = leakhunter("top", svc.base_url + "/debug/pprof/no-such-profile")
        (d / "404.stderr").write_bytes(res.stderr)
        (d / "404.rc").write_text(str(res.returncode))
    out["heap"] = d / "heap.pb.gz"
    out["goroutine"] = d / "goroutine.txt"
    out["dir"] = d
    return out


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.pb.gz"
    p.write_bytes(b"")
    assert_one_line_error(leakhunter("top", str(p)), "empty")


def test_truncated_gzip(real: dict[str, Path], tmp_path: Path) -> None:
    data = real["heap"].read_bytes()
    p = tmp_path / "t.pb.gz"
    p.write_bytes(data[: len(data) // 2])
    assert_one_line_error(leakhunter("top", str(p)), "truncated")


def test_truncated_pprof(real: dict[str, Path], tmp_path: Path) -> None:
    raw = gzip.decompress(real["heap"].read_bytes())
    p = tmp_path / "t.pb"
    p.write_bytes(raw[: len(raw) * 2 // 3])
    assert_one_line_error(leakhunter("top", str(p)), "pprof")


def test_random_bytes(tmp_path: Path) -> None:
    p = tmp_path / "r.bin"
    p.write_bytes(os.urandom(10000))
    assert_one_line_error(leakhunter("top", str(p)))


def test_random_bytes_gzipped(tmp_path: Path) -> None:
    p = tmp_path / "r.gz"
    p.write_bytes(gzip.compress(os.urandom(10000)))
    assert_one_line_error(leakhunter("top", str(p)))


def _bomb(total: int) -> bytes:
    """A gzip stream of `total` zero bytes, built from one repeated full-flush block (no trailer)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = c.compress(b"\0" * (1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(b"\0" * (1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    return first + block * (total // (1 << 20) - 1)


def test_gzip_bomb_default_limit(tmp_path: Path) -> None:
    """2 GiB of zeros in ~2 MB: refused at the default 256 MiB (decompressed) without allocating it."""
    p = tmp_path / "bomb.pb.gz"
    p.write_bytes(_bomb(2 << 30))
    assert p.stat().st_size < 8 << 20
    t0 = time.monotonic()
    line = assert_one_line_error(leakhunter("top", str(p)), "max-bytes")
    assert "256MiB" in line and str(p) in line
    assert time.monotonic() - t0 < 60


def test_gzip_bomb_small_max_bytes(real: dict[str, Path], tmp_path: Path) -> None:
    p = tmp_path / "bomb.pb.gz"
    p.write_bytes(_bomb(64 << 20))
    assert_one_line_error(leakhunter("top", "--max-bytes", "16MiB", str(p)), "max-bytes")
    # A real profile passes under a limit it fits in, and fails under one it does not.
    assert leakhunter("top", "--max-bytes", "1MiB", str(real["heap"])).returncode == 0
    assert_one_line_error(leakhunter("top", "--max-bytes", "100", str(real["heap"])), "max-bytes")


def test_stdin_is_bounded_too(real: dict[str, Path]) -> None:
    """The cap is set from the input itself, one byte under and exactly at its size, so
    the outcome never depends on how big the sampled heap profile happened to be (a
    fixed 1,000-byte cap failed whenever the lab's profile came out smaller)."""
    data = gzip.decompress(real["heap"].read_bytes())
    assert len(data) > 100, "the lab served a real, non-trivial profile"
    under = leakhunter("top", "--max-bytes", str(len(data) - 1), "-", input=data)
    assert_one_line_error(under, "max-bytes")
    exact = leakhunter("top", "--max-bytes", str(len(data)), "-", input=data)
    assert exact.returncode == 0, exact.stderr


def test_goroutine_text_dump_is_wrong_kind_for_top(real: dict[str, Path]) -> None:
    line = assert_one_line_error(leakhunter("top", str(real["goroutine"])))
    assert "goroutine" in line


def test_missing_file_and_directory(real: dict[str, Path]) -> None:
    assert_one_line_error(leakhunter("top", str(real["dir"] / "nope.pb.gz")), "no such file")
    assert_one_line_error(leakhunter("top", str(real["dir"])), "directory")
    assert_one_line_error(leakhunter("diff", str(real["heap"]), str(real["dir"] / "nope")), "no such file")


def test_bad_options(real: dict[str, Path]) -> None:
    assert_one_line_error(leakhunter("top", "--sample-index", "nope", str(real["heap"])), "nope")
    assert_one_line_error(leakhunter("top", "--sample-index", "9", str(real["heap"])), "9")
    assert_one_line_error(leakhunter("top", "--focus", "(", str(real["heap"])), "focus")
    res = leakhunter("diff", "-", "-")
    assert_one_line_error(res, "stdin")


def test_url_that_refuses() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    line = assert_one_line_error(leakhunter("top", f"http://127.0.0.1:{port}/debug/pprof/heap"))
    assert "refused" in line or "connect" in line


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.getsockname()[1]}/debug/pprof/heap"
    finally:
        stop.set()
        t.join(5)
        for c in conns:
            c.close()
        srv.close()


def test_url_that_hangs(silent_server: str) -> None:
    t0 = time.monotonic()
    line = assert_one_line_error(leakhunter("top", "--timeout", "1", silent_server), "timed out")
    assert time.monotonic() - t0 < 20
    assert silent_server in line


def test_http_404_from_a_real_process(real: dict[str, Path]) -> None:
    assert (real["dir"] / "404.rc").read_text() == "2"
    err = (real["dir"] / "404.stderr").read_text()
    assert err.startswith("leakhunter: error:") and "404" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
