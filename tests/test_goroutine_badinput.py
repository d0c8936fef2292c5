"""`leakhunter goroutines` on input it cannot use: one error line, exit 2, no traceback.

The wrong-kind profiles are real ones from a real process (a CPU profile from
/debug/pprof/profile, a heap profile); the truncated dumps are real dumps cut short.
A truncated dump is not an error: every complete goroutine is kept (data already
collected is never thrown away) and one warning line says what was dropped.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from golab import leakhunter, run_lab


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    d = tmp_path_factory.mktemp("grbad")
    with run_lab("goroutinelab") as svc:
        svc.get("/block?kind=chansend&n=20")
        svc.get("/block?kind=select&n=10")
        (d / "cpu.pb.gz").write_bytes(svc.get("/debug/pprof/profile?seconds=1"))
        (d / "heap.pb.gz").write_bytes(svc.get("/debug/pprof/heap"))
        (d / "heap1.txt").write_bytes(svc.get("/debug/pprof/heap?debug=1"))
        (d / "d2.txt").write_bytes(svc.get("/debug/pprof/goroutine?debug=2"))
        (d / "d1.txt").write_bytes(svc.get("/debug/pprof/goroutine?debug=1"))
        yield d


def fails(*args: str, input: bytes | None = None) -> str:
    res = leakhunter("goroutines", *args, input=input)
    err = res.stderr.decode()
    assert res.returncode == 2, (res.returncode, err, res.stdout[:300])
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("leakhunter: error: "), err
    assert res.stdout == b""
    return lines[0]


def test_cpu_profile(real: Path) -> None:
    msg = fails(str(real / "cpu.pb.gz"))
    assert "CPU profile" in msg and "not a goroutine profile" in msg


def test_heap_profile(real: Path) -> None:
    msg = fails(str(real / "heap.pb.gz"))
    assert "heap profile" in msg and "not a goroutine profile" in msg


def test_heap_text_profile(real: Path) -> None:
    msg = fails(str(real / "heap1.txt"))
    assert "heap profile" in msg


def test_empty(tmp_path: Path) -> None:
    p = tmp_path / "empty"
    p.write_bytes(b"")
    assert "empty" in fails(str(p))
    assert "empty" in fails("-", input=b"")
    p.write_bytes(b"\n\n  \n")
    assert "empty" in fails(str(p))


def test_random_bytes(tmp_path: Path) -> None:
    p = tmp_path / "random.bin"
    p.write_bytes(random.Random(7).randbytes(4096))
    fails(str(p))


def test_text_that_is_not_a_dump(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("goroutines are cheap\nbut this is a README, not a dump\n")
    fails(str(p))


def test_header_without_goroutine(tmp_path: Path) -> None:
    p = tmp_path / "cut.txt"
    p.write_text("goroutine 1 [running]:\nmain.main(")
    assert "no complete goroutine" in fails(str(p))


def test_missing_file_and_bad_regex(real: Path) -> None:
    assert "no such file" in fails(str(real / "nope.txt"))
    assert "--state" in fails(str(real / "d2.txt"), "--state", "(")
    assert "--min-count" in fails(str(real / "d2.txt"), "--min-count", "0")


def test_max_bytes(real: Path) -> None:
    msg = fails(str(real / "d2.txt"), "--max-bytes", "1000")
    assert "max-bytes" in msg


def _complete_before(data: bytes, cut: int) -> int:
    """Goroutines whose block ends (blank line) before `cut`: the ones that must survive."""
    return len(re.findall(rb"^goroutine \d+ \[.*?\n\n", data[:cut], re.M | re.S))


@pytest.mark.parametrize("frac", [0.35, 0.6, 0.9])
def test_truncated_debug2_keeps_complete_goroutines(real: Path, tmp_path: Path, frac: float) -> None:
    data = (real / "d2.txt").read_bytes()
    # Cut mid-frame: in the middle of the first function line after `frac` of the dump.
    m = re.compile(rb"^[a-z][^\n]*\(", re.M).search(data, int(len(data) * frac))
    assert m is not None
    cut = (m.start() + m.end()) // 2
    p = tmp_path / "cut.txt"
    p.write_bytes(data[:cut])
    res = leakhunter("goroutines", str(p), "--format", "json")
    assert res.returncode == 0, res.stderr
    err = res.stderr.decode().strip().splitlines()
    assert len(err) == 1 and err[0].startswith("leakhunter: warning: input is truncated"), err
    out = json.loads(res.stdout)
    assert out["total"] == _complete_before(data, cut) > 0
    assert out["warnings"] and "truncated" in out["warnings"][0]


def test_truncated_debug1(real: Path, tmp_path: Path) -> None:
    data = (real / "d1.txt").read_bytes()
    cut = data.rindex(b"\n#", 0, len(data) - 2) + 5  # in the last record's frames
    p = tmp_path / "cut1.txt"
    p.write_bytes(data[:cut])
    res = leakhunter("goroutines", str(p), "--format", "json")
    assert res.returncode == 0, res.stderr
    assert b"leakhunter: warning: input is truncated" in res.stderr
    out = json.loads(res.stdout)
    # Every record before the one cut (the runtime's own counts) survives.
    records = re.findall(rb"^(\d+) @", data[:cut], re.M)
    assert out["total"] == sum(int(n) for n in records[:-1]) > 0


def test_gzip_truncated(real: Path, tmp_path: Path) -> None:
    import gzip

    p = tmp_path / "d2.txt.gz"
    p.write_bytes(gzip.compress((real / "d2.txt").read_bytes())[:300])
    assert "gzip" in fails(str(p))


def test_every_cut_of_the_last_goroutine_is_named_truncated(real: Path) -> None:
    """The 64 MiB cut can fall at any byte of a goroutine, the word `goroutine` of its
    header too (`\n\ngorou`): that was read as trailing noise, "ends mid-line", one
    run of test_pprof_64mib_cut in six. Every cut of a real dump's last goroutine is
    either a whole goroutine kept or "input is truncated"."""
    from leakhunter.profiles.goroutine_text import parse

    data = (real / "d2.txt").read_bytes().rstrip(b"\n") + b"\n"
    start = data.rindex(b"\n\n") + 2
    for cut in range(start + 1, len(data) - 1):
        dump = parse(data[:cut])
        whole = sum(g.count for g in dump.groups) == _complete_before(data, start) + 1
        if not whole:
            assert [w for w in dump.warnings if w.startswith("input is truncated")], (
                cut - start, data[start:cut][-30:], dump.warnings)


def test_pprof_64mib_cut(tmp_path: Path) -> None:
    """net/http/pprof cuts ?debug=2 at 64 MiB: a real cut dump keeps what it holds, and says so."""
    with run_lab("goroutinelab") as svc:
        # Enough goroutines for ~80 MB of dump, measured rather than assumed (the size of a
        # goroutine's text depends on path lengths: GOROOT, the checkout).
        svc.get("/spawn?n=10000", timeout=120)
        per = len(svc.get("/stacks", timeout=120)) / 10000
        svc.get(f"/spawn?n={int(80e6 / per) - 10000}", timeout=120)
        data = svc.get("/debug/pprof/goroutine?debug=2", timeout=120)
        num = int(svc.get("/count"))
    assert len(data) == 64 << 20  # the runtime's own cut
    p = tmp_path / "cut64.txt"
    p.write_bytes(data)
    res = leakhunter("goroutines", str(p), "--format", "json")
    assert res.returncode == 0, res.stderr
    warnings = res.stderr.decode().strip().splitlines()
    assert all(w.startswith("leakhunter: warning: ") for w in warnings), warnings
    assert "64 MiB" in warnings[-1]
    out = json.loads(res.stdout)
    # Every goroutine closed by a blank line, plus the cut one if its stack is whole: the
    # cut fell after a complete frame line, or only in its `created by` hex offset.
    last = data[data.rindex(b"\n\n") + 2 :]
    if data.endswith(b"\n"):
        last_whole = re.search(rb"\n\t[^\n]*:\d+[^\n]*\n\Z", last) is not None
    else:
        last_whole = re.search(rb"\ncreated by [^\n]*\n\t[^\n]*:\d+ \+0x[0-9a-f]*\Z", last) is not None
    assert out["total"] == _complete_before(data, len(data)) + last_whole, warnings
    if not last_whole:
        assert len(warnings) == 2 and "input is truncated" in warnings[0]
    assert 0 < out["total"] < num


def test_paste_without_final_newline(real: Path, tmp_path: Path) -> None:
    """A paste that lost its final newline is not a truncation: `created by` closes it."""
    data = (real / "d2.txt").read_bytes()
    assert data.rstrip(b"\n").rsplit(b"\n", 2)[1].startswith(b"created by ")
    p = tmp_path / "pasted.txt"
    p.write_bytes(data.rstrip(b"\n"))
    res = leakhunter("goroutines", str(p), "--format", "json")
    assert res.returncode == 0, res.stderr
    assert res.stderr.decode().startswith("leakhunter: warning: input ends without a newline")
    assert json.loads(res.stdout)["total"] == len(re.findall(rb"^goroutine \d+ \[", data, re.M))


def test_cut_in_a_goroutine_header(real: Path, tmp_path: Path) -> None:
    """A cut inside a `goroutine N [state` header (where net/http/pprof's 64 MiB cut can fall)
    is a truncation, said as such: the goroutines before it are all kept."""
    data = (real / "d2.txt").read_bytes()
    heads = [m.start() for m in re.finditer(rb"^goroutine \d+ \[", data, re.M)]
    cut = data[: heads[-1] + len(b"goroutine 1")]
    p = tmp_path / "cut-header.txt"
    p.write_bytes(cut)
    res = leakhunter("goroutines", str(p), "--format", "json")
    assert res.returncode == 0, res.stderr
    assert "input is truncated" in res.stderr.decode() and "header" in res.stderr.decode()
    assert json.loads(res.stdout)["total"] == len(heads) - 1


def test_url_refused() -> None:
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    msg = fails(f"http://127.0.0.1:{port}/debug/pprof/goroutine?debug=2", "--timeout", "5")
    assert str(port) in msg or "refused" in msg.lower()


def test_cut_at_every_byte_of_a_goroutine(real: Path) -> None:
    """Cut a real dump at each byte around one goroutine: every goroutine whose text is
    whole is kept, the cut one only if its stack survived, and a cut is always reported."""
    from leakhunter.profiles import goroutine_text

    data = (real / "d2.txt").read_bytes()
    start = data.index(b"\n\ngoroutine ", len(data) // 2)
    end = data.index(b"\n\n", start + 2) + 2
    for cut in range(start + 2, end + 1):
        d = data[:cut]
        last = d[d.rindex(b"\n\n") + 2 :]
        if d.endswith(b"\n"):
            whole = re.search(rb"\n\t[^\n]*:\d+[^\n]*\n\Z", last) is not None
        else:
            whole = re.search(rb"\ncreated by [^\n]*\n\t[^\n]*:\d+ \+0x[0-9a-f]*\Z", last) is not None
        dump = goroutine_text.parse(d)
        assert dump.total == _complete_before(d, len(d)) + whole, (cut, d[-60:])
        if last and (not d.endswith(b"\n") or not whole):
            assert dump.warnings and "truncated" in dump.warnings[0], (cut, d[-60:])
