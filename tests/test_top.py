"""`leakhunter top` equals `go tool pprof -top` on real profiles from a real Go process."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from golab import go_tool_pprof, leakhunter, run_lab
from pprof_top import assert_same, leakhunter_top, pprof_top


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """heap, allocs and goroutine profiles of chanleak after a map leak and blocked senders.

    Every allocation is recorded (-memprofilerate 1), so rows outside the handlers (the
    listener's set-up) exist in every run and the focus/ignore cases never compare two
    empty tables by sampling luck.
    """
    d = tmp_path_factory.mktemp("top")
    out: dict[str, Path] = {}
    with run_lab("chanleak", "-memprofilerate", "1") as svc:
        svc.get("/leak/map?n=3000&size=4096")
        svc.get("/leak/send?n=40")
        svc.get("/leak/map?n=500&size=100000")
        for name in ("heap", "allocs", "goroutine"):
            p = d / f"{name}.pb.gz"
            p.write_bytes(svc.get(f"/debug/pprof/{name}"))
            out[name] = p
    return out


CASES = [
    ("heap", "inuse_space", "bytes"),
    ("heap", "alloc_objects", "count"),
    ("allocs", "alloc_space", "bytes"),
    ("allocs", "inuse_objects", "count"),
    ("goroutine", "goroutine", "count"),
]


@pytest.mark.parametrize(("kind", "index", "unit"), CASES)
@pytest.mark.parametrize("by", ["function", "line", "file"])
def test_every_row_equals_pprof(captured: dict[str, Path], kind: str, index: str, unit: str, by: str) -> None:
    path = str(captured[kind])
    theirs = pprof_top(path, unit=unit, by=by, args=("-nodefraction=0", f"-sample_index={index}"))
    mine, doc = leakhunter_top(path, "--sample-index", index, "--node-fraction", "0", by=by)
    assert doc["sample_type"] == index and doc["unit"] == unit
    assert_same(mine, theirs)


def test_default_trimming_and_nodecount_match_pprof(captured: dict[str, Path]) -> None:
    path = str(captured["allocs"])
    theirs = pprof_top(path, unit="bytes", by="line", args=("-sample_index=alloc_space",))
    mine, _ = leakhunter_top(path, "--sample-index", "alloc_space", by="line")
    assert_same(mine, theirs)
    theirs = pprof_top(path, unit="bytes", args=("-nodecount=4", "-sample_index=alloc_space"))
    mine, _ = leakhunter_top(path, "-n", "4", "--sample-index", "alloc_space")
    assert len(mine.rows) == 4
    assert_same(mine, theirs)


def test_sample_index_by_number_and_default(captured: dict[str, Path]) -> None:
    path = str(captured["heap"])
    # No -sample_index: both use the profile's default (the last type, inuse_space, for heap).
    theirs = pprof_top(path, unit="bytes", args=("-nodefraction=0",))
    mine, doc = leakhunter_top(path, "--node-fraction", "0")
    assert doc["sample_type"] == "inuse_space"
    assert_same(mine, theirs)
    theirs = pprof_top(path, unit="bytes", args=("-nodefraction=0", "-sample_index=1"))
    mine, doc = leakhunter_top(path, "--node-fraction", "0", "--sample-index", "1")
    assert doc["sample_type"] == "alloc_space"
    assert_same(mine, theirs)


@pytest.mark.parametrize(
    ("option", "regex"),
    [("focus", "grow"), ("ignore", "grow"), ("focus", "chanleak"), ("ignore", r"net/http\.")],
)
def test_focus_and_ignore_match_pprof(captured: dict[str, Path], option: str, regex: str) -> None:
    path = str(captured["allocs"])
    theirs = pprof_top(
        path, unit="bytes", by="line",
        args=("-nodefraction=0", "-sample_index=alloc_space", f"-{option}={regex}"),
    )
    mine, _ = leakhunter_top(
        path, "--node-fraction", "0", "--sample-index", "alloc_space", f"--{option}", regex, by="line"
    )
    assert_same(mine, theirs)


def test_text_output_reads_like_pprof(captured: dict[str, Path]) -> None:
    """Same header line and the same formatted rows (kB, percentages) as pprof prints."""
    path = str(captured["heap"])
    res = leakhunter("top", path, "--sample-index", "inuse_space")
    assert res.returncode == 0
    mine = res.stdout.decode()
    theirs = go_tool_pprof("-top", "-sample_index=inuse_space", path)

    def body(text: str) -> list[str]:
        lines = text.splitlines()
        start = next(i for i, ln in enumerate(lines) if ln.startswith("Showing nodes"))
        return [re.sub(r"\s+", " ", ln).strip() for ln in lines[start:]]

    assert "\x1b[" not in mine  # not a terminal: no colour
    assert body(mine) == body(theirs)


def test_reads_stdin_and_url() -> None:
    with run_lab("chanleak") as svc:
        svc.get("/leak/map?n=2000&size=8192")
        url = svc.base_url + "/debug/pprof/allocs"
        via_url, _ = leakhunter_top(url, "--sample-index", "alloc_space")
        data = svc.get("/debug/pprof/allocs")
    via_stdin, _ = leakhunter_top("-", "--sample-index", "alloc_space", stdin=data)
    assert via_url.rows[0][0] == via_stdin.rows[0][0] == "main.grow"


def test_goroutine_pb_profile_works_like_pprof(captured: dict[str, Path]) -> None:
    path = str(captured["goroutine"])
    theirs = pprof_top(path, unit="count", args=("-nodefraction=0",))
    mine, _ = leakhunter_top(path, "--node-fraction", "0")
    assert_same(mine, theirs)
    assert any(name == "main.leakSend.func1" for name, _, _ in mine.rows)


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A heap profile with 20,000+ samples (manystacks: one stack per number)."""
    p = tmp_path_factory.mktemp("large") / "heap.pb.gz"
    with run_lab("manystacks", "-stacks", "20000") as svc:
        p.write_bytes(svc.get("/debug/pprof/heap", timeout=120))
    return p


@pytest.mark.parametrize("by", ["function", "line", "file"])
def test_large_profile_vectorized_path_equals_pprof(large: Path, by: str) -> None:
    """Big profiles take the numpy decoder and aggregator; numbers stay pprof's."""
    import gzip

    from leakhunter.profiles import pprof, read_profile
    from leakhunter.profiles.columns import LazySamples

    raw = gzip.decompress(large.read_bytes())
    assert len(raw) >= pprof.FAST_MIN_BYTES
    prof = read_profile(large.read_bytes())
    assert prof.columns is not None and isinstance(prof.samples, LazySamples)
    assert len(prof.samples) >= 20000
    args = ("-nodefraction=0", "-sample_index=inuse_space")
    theirs = pprof_top(str(large), unit="bytes", by=by, args=args)
    mine, _ = leakhunter_top(str(large), "--node-fraction", "0", "--sample-index", "inuse_space", by=by)
    assert_same(mine, theirs)
    theirs = pprof_top(str(large), unit="bytes", by=by, args=(*args, "-focus=digit7", "-ignore=digit3"))
    mine, _ = leakhunter_top(
        str(large), "--node-fraction", "0", "--sample-index", "inuse_space",
        "--focus", "digit7", "--ignore", "digit3", by=by,
    )
    assert_same(mine, theirs)


def test_vectorized_decoder_equals_message_decoder(large: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    from leakhunter.profiles import pprof

    raw = gzip.decompress(large.read_bytes())
    fast = pprof.decode(raw)
    assert fast.columns is not None
    monkeypatch.setattr(pprof, "FAST_MIN_BYTES", 1 << 62)
    slow = pprof.decode(raw)
    assert slow.columns is None
    assert len(fast.samples) == len(slow.samples)
    for a, b in zip(fast.samples, slow.samples, strict=True):
        assert (a.stack, a.values, dict(a.labels), dict(a.num_labels)) == (
            b.stack, b.values, dict(b.labels), dict(b.num_labels)
        )
        assert [(f.mapping, f.inlined, f.start_line) for f in a.stack] == [
            (f.mapping, f.inlined, f.start_line) for f in b.stack
        ]


def test_cpu_profile_in_nanoseconds_equals_pprof(tmp_path: Path) -> None:
    """A real CPU profile (samples/count, cpu/nanoseconds) while the service is kept busy."""
    import threading
    import urllib.request

    path = tmp_path / "cpu.pb.gz"
    with run_lab("chanleak") as svc:
        stop = threading.Event()

        def load() -> None:
            deadline = time.monotonic() + 10
            while not stop.is_set() and time.monotonic() < deadline:
                with urllib.request.urlopen(svc.base_url + "/leak/map?n=20000&size=16", timeout=10) as r:
                    r.read()

        t = threading.Thread(target=load)
        t.start()
        try:
            path.write_bytes(svc.get("/debug/pprof/profile?seconds=2", timeout=30))
        finally:
            stop.set()
            t.join(15)
    for index, unit in (("cpu", "nanoseconds"), ("samples", "count")):
        theirs = pprof_top(str(path), unit=unit, args=("-nodefraction=0", f"-sample_index={index}"))
        mine, doc = leakhunter_top(str(path), "--node-fraction", "0", "--sample-index", index)
        assert doc["unit"] == unit
        assert_same(mine, theirs)
    res = leakhunter("top", str(path))
    assert res.returncode == 0 and "Type: cpu" in res.stdout.decode()


@pytest.mark.parametrize("by", ["function", "line"])
def test_cum_sort_equals_pprof_cum(captured: dict[str, Path], by: str) -> None:
    """`top --cum` sorts like `pprof -top -cum`, and -n keeps the largest by cum."""
    path = str(captured["allocs"])
    for extra_p, extra_l in (((), ()), (("-nodecount=7",), ("-n", "7"))):
        theirs = pprof_top(path, unit="bytes", by=by,
                           args=("-cum", "-sample_index=alloc_space", *extra_p))
        mine, _ = leakhunter_top(path, "--cum", "--sample-index", "alloc_space", *extra_l, by=by)
        assert mine.rows == theirs.rows
        assert mine.total == theirs.total
        cums = [abs(c) for _, _, c in mine.rows]
        assert cums == sorted(cums, reverse=True) and len(set(cums)) > 1
