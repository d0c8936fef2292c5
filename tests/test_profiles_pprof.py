"""Decoding and encoding binary pprof, checked against `go tool pprof` on real profiles."""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

import pytest
from golab import go_tool_pprof, run_lab
from pprof_top import assert_same, leakhunter_top, pprof_top

from leakhunter.errors import CorruptInputError, InputTooLargeError, WrongKindError
from leakhunter.model import Profile
from leakhunter.profiles import read, read_profile
from leakhunter.profiles.decompress import gunzip_bounded
from leakhunter.profiles.pprof import decode, encode
from leakhunter.profiles.proto import profile_pb2
from leakhunter.profiles.sniff import sniff
from leakhunter.units import human


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pprof")
    out = {}
    with run_lab("chanleak") as svc:
        svc.get("/leak/map?n=2000&size=4096")
        svc.get("/leak/send?n=5")
        for name, path in [
            ("allocs", "/debug/pprof/allocs"),
            ("heap", "/debug/pprof/heap"),
            ("heap_text", "/debug/pprof/heap?debug=1"),
            ("goroutine1", "/debug/pprof/goroutine?debug=1"),
            ("goroutine2", "/debug/pprof/goroutine?debug=2"),
        ]:
            (d / name).write_bytes(svc.get(path))
            out[name] = d / name
    return out


def _traces(path: str, index: str) -> list[tuple[int, tuple[tuple[str, bool], ...]]]:
    """pprof -traces -lines: (value, ((frame, inline), ...)) per sample, sorted."""
    out = go_tool_pprof("-traces", "-lines", "-unit=B", f"-sample_index={index}", path)
    traces = []
    for block in out.split("-----------+-------------------------------------------------------")[1:]:
        frames: list[tuple[str, bool]] = []
        value = None
        for line in block.splitlines():
            m = re.match(r"^\s*(\S+)?\s{3}(\S.*)$", line)
            if not m or re.match(r"^\s+\w+:\s", line):
                continue
            if m.group(1) is not None and value is None:
                value = 0 if m.group(1) == "0" else int(m.group(1).rstrip("B"))
            name = m.group(2)
            inline = name.endswith(" (inline)")
            frames.append((name.removesuffix(" (inline)"), inline))
        if frames:
            assert value is not None
            traces.append((value, tuple(frames)))
    return sorted(traces)


def _ours(p: Profile, index: str) -> list[tuple[int, tuple[tuple[str, bool], ...]]]:
    i = p.sample_index(index)
    return sorted(
        (s.values[i], tuple((f"{f.function} {f.file}:{f.line}", f.inlined) for f in s.stack))
        for s in p.samples
    )


def test_stacks_values_and_inlining_equal_pprof_traces(lab: dict[str, Path]) -> None:
    prof = decode(lab["allocs"].read_bytes())
    for index in ("alloc_space", "inuse_space"):
        assert _ours(prof, index) == _traces(str(lab["allocs"]), index)
    # pprof marks inlined frames; we must have expanded at least the ones it shows.
    shown = sum(inl for _, fr in _traces(str(lab["allocs"]), "alloc_space") for _, inl in fr)
    assert shown == sum(f.inlined for s in prof.samples for f in s.stack)


def test_header_fields_equal_pprof_raw(lab: dict[str, Path]) -> None:
    raw = go_tool_pprof("-raw", str(lab["allocs"]))
    prof = decode(lab["allocs"].read_bytes())
    period_type = re.search(r"^PeriodType: (\S+) (\S+)$", raw, re.M)
    period = re.search(r"^Period: (\d+)$", raw, re.M)
    assert period_type and period
    assert prof.period_type is not None
    assert (prof.period_type.type, prof.period_type.unit) == period_type.groups()
    assert prof.period == int(period.group(1))
    types = raw.split("Samples:\n", 1)[1].splitlines()[0].split()
    dflt = prof.default_sample_type
    assert [f"{t.type}/{t.unit}" + ("[dflt]" if t.type == dflt else "") for t in prof.sample_types] == types
    assert "[dflt]" in " ".join(types)
    samples = raw.split("Samples:\n", 1)[1].split("Locations", 1)[0]
    assert len(prof.samples) == len(re.findall(r"^\s+-?\d+(\s+-?\d+)*: ", samples, re.M))
    assert all(s.num_labels.get("bytes") for s in prof.samples)


def test_encode_round_trips_through_pprof(lab: dict[str, Path], tmp_path: Path) -> None:
    prof = decode(lab["allocs"].read_bytes())
    out = tmp_path / "re.pb.gz"
    out.write_bytes(encode(prof))
    for index in ("alloc_space", "inuse_objects"):
        assert _traces(str(out), index) == _traces(str(lab["allocs"]), index)
    again = decode(out.read_bytes())
    assert [(s.stack, s.values, dict(s.num_labels)) for s in again.samples] == [
        (s.stack, s.values, dict(s.num_labels)) for s in prof.samples
    ]


def _rewrite(src: Path, dst: Path, edit: object) -> None:
    pb = profile_pb2.Profile()
    pb.ParseFromString(gzip.decompress(src.read_bytes()))
    edit(pb)  # type: ignore[operator]
    dst.write_bytes(gzip.compress(pb.SerializeToString()))


def _set_string(pb: profile_pb2.Profile, field: str, value: str) -> None:
    pb.string_table.append(value)
    setattr(pb, field, len(pb.string_table) - 1)


@pytest.mark.parametrize(
    ("drop", "keep"), [(r"main\.grow", ""), (r"main\..*|net\.open", r"main\.main")]
)
def test_drop_and_keep_frames_like_pprof(lab: dict[str, Path], tmp_path: Path, drop: str, keep: str) -> None:
    out = tmp_path / "drop.pb.gz"

    def edit(pb: profile_pb2.Profile) -> None:
        _set_string(pb, "drop_frames", drop)
        if keep:
            _set_string(pb, "keep_frames", keep)

    _rewrite(lab["allocs"], out, edit)
    prof = decode(out.read_bytes())
    assert prof.drop_frames == drop
    theirs = pprof_top(str(out), unit="bytes", by="line", args=("-nodefraction=0", "-sample_index=alloc_space"))
    mine, _ = leakhunter_top(str(out), "--node-fraction", "0", "--sample-index", "alloc_space", by="line")
    assert_same(mine, theirs)
    assert not any(n.startswith("main.grow ") for n, _, _ in mine.rows)  # pruned from the leaf


@pytest.mark.parametrize("by", ["function", "line", "file"])
def test_unsymbolized_locations_like_pprof(lab: dict[str, Path], tmp_path: Path, by: str) -> None:
    """Locations stripped of their lines show as the binary, `[name]`, in pprof and here."""
    out = tmp_path / "nosym.pb.gz"

    def edit(pb: profile_pb2.Profile) -> None:
        for loc in pb.location[::3]:
            del loc.line[:]

    _rewrite(lab["allocs"], out, edit)
    prof = decode(out.read_bytes())
    assert any(f.address and f.function.startswith("0x") for s in prof.samples for f in s.stack)
    theirs = pprof_top(
        str(out), unit="bytes", by=by,
        args=("-nodefraction=0", "-sample_index=alloc_space", "-symbolize=none"),
    )
    mine, _ = leakhunter_top(str(out), "--node-fraction", "0", "--sample-index", "alloc_space", by=by)
    assert_same(mine, theirs)
    assert any(n.startswith("[") for n, _, _ in mine.rows)


def test_legacy_heap_text_totals_equal_pprof(lab: dict[str, Path]) -> None:
    path = str(lab["heap_text"])
    prof = read_profile(lab["heap_text"].read_bytes())
    assert [t.type for t in prof.sample_types][-1] == "inuse_space"
    for i, st in enumerate(prof.sample_types):
        # Every row (no trimming): pprof cannot symbolize this form and groups by address,
        # we group by the runtime's symbol lines, so trimmed tables would drop different
        # rows; untrimmed, both must account for every sample.
        theirs = pprof_top(path, unit=st.unit, args=(f"-sample_index={i}", "-nodefraction=0"))
        mine, _ = leakhunter_top(path, "--sample-index", str(i), "--node-fraction", "0")
        assert mine.total == theirs.total
        assert sum(f for _, f, _ in mine.rows) == sum(f for _, f, _ in theirs.rows) == mine.total
    # Unlike pprof (which needs the binary), the runtime's own symbol lines are used.
    top, _ = leakhunter_top(path, "--sample-index", "alloc_space", by="line")
    assert any(name.startswith("main.grow ") for name, _, _ in top.rows)


def test_legacy_heap_text_record_totals_equal_the_full_parse(lab: dict[str, Path]) -> None:
    """`heap_text.totals` (watch's per-scrape reader, symbol lines skipped) sums what `parse` does."""
    from leakhunter.profiles import heap_text

    data = lab["heap_text"].read_bytes()
    prof = heap_text.parse(data)
    full = {st.type: float(sum(s.values[i] for s in prof.samples)) for i, st in enumerate(prof.sample_types)}
    assert heap_text.totals(data) == full
    assert full["inuse_space"] > 0


def test_sniff_decides_from_bytes(lab: dict[str, Path]) -> None:
    assert sniff(gzip.decompress(lab["allocs"].read_bytes())) == "pprof"
    assert sniff(lab["heap_text"].read_bytes()) == "heap-text"
    assert sniff(lab["goroutine1"].read_bytes()) == "goroutine-text"
    assert sniff(lab["goroutine2"].read_bytes()) == "goroutine-text"
    noisy = b"2026/01/01 panic: boom\n\nsome log line\n" + lab["goroutine2"].read_bytes()
    assert sniff(noisy) == "goroutine-text"
    assert sniff(b"  \n") == "empty"


def test_read_profile_refuses_text_dumps(lab: dict[str, Path]) -> None:
    with pytest.raises(WrongKindError):
        read_profile(lab["goroutine1"].read_bytes())
    assert isinstance(read(lab["heap"].read_bytes()), Profile)


def test_gunzip_bounded(lab: dict[str, Path]) -> None:
    data = lab["allocs"].read_bytes()
    raw = gzip.decompress(data)
    assert gunzip_bounded(data, len(raw)) == raw
    with pytest.raises(InputTooLargeError):
        gunzip_bounded(data, len(raw) - 1)
    with pytest.raises(CorruptInputError):
        gunzip_bounded(data[:-9], 1 << 30)
    # Concatenated members decompress as one stream (as gzip(1) does).
    assert gunzip_bounded(data + data, 1 << 30) == raw + raw
    # A bomb is refused having produced at most the limit.
    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
    blob = bomb.compress(b"\0" * (40 << 20)) + bomb.flush()
    with pytest.raises(InputTooLargeError):
        gunzip_bounded(blob, 10 << 20)


def test_corrupt_pprof_is_corrupt_input() -> None:
    with pytest.raises(CorruptInputError):
        decode(b"\x0a\xff\xff\xff\xff\x0f")
    with pytest.raises(CorruptInputError):
        decode(b"")
    pb = profile_pb2.Profile()
    pb.string_table.extend(["", "x", "y"])
    vt = pb.sample_type.add()
    vt.type, vt.unit = 1, 2
    s = pb.sample.add()
    s.location_id.append(7)  # no such location
    s.value.append(1)
    with pytest.raises(CorruptInputError):
        decode(pb.SerializeToString())


def test_human_units_scale_like_pprof() -> None:
    assert human(1536, "bytes") == "1.50kB"
    assert human(3 << 20, "bytes") == "3MB"
    assert human(12_500_000, "nanoseconds") == "12.50ms"
    assert human(250, "count") == "250"
    assert human(0, "bytes") == "0"
