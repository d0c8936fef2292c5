"""Binary pprof (`profile.proto`) <-> the shared `Profile` model.

Decoding uses protobuf's upb backend (the C parser behind `google.protobuf`), which
parses a whole profile in one call; the Python work left is turning locations into
interned `Frame` tuples. Frames are interned per (function, line, mapping, inlined), so
the hundreds of thousands of samples of a big heap profile share a few thousand
Frame objects.

Inlined calls are expanded as pprof does: a Location with several Line entries becomes
several frames, Line[0] (the innermost) first; every frame but the last of a Location
carries `inlined=True` so `encode` can put them back into one Location.

`drop_frames` / `keep_frames` are applied here, exactly like pprof's
`Profile.RemoveUninteresting` at fetch time, so every consumer sees the same stacks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from leakhunter.errors import CorruptInputError
from leakhunter.model import Frame, Profile, Sample, SampleType

if TYPE_CHECKING:
    from leakhunter.profiles.proto import profile_pb2

_EMPTY_LABELS: dict[str, tuple[str, ...]] = {}
_EMPTY_NUM: dict[str, tuple[int, ...]] = {}


def _pb() -> Any:
    from leakhunter.profiles.proto import profile_pb2

    return profile_pb2


def decode(raw: bytes) -> Profile:
    """Decode an uncompressed (or gzipped, bounded at 1 GiB) pprof protobuf into a Profile."""
    if raw[:2] == b"\x1f\x8b":
        from leakhunter.profiles.decompress import gunzip_bounded

        raw = gunzip_bounded(raw, 1 << 30)
    if not raw:
        raise CorruptInputError("empty input: not a pprof profile")
    from google.protobuf.message import DecodeError

    if len(raw) >= FAST_MIN_BYTES:
        from leakhunter.profiles import pprof_fast

        try:
            lazy = pprof_fast.lazy_profile_class()()
            lazy.ParseFromString(raw)
            return _checked_convert(lazy, lazy=True)
        except (DecodeError, ValueError, RuntimeError, pprof_fast.Irregular):
            pass  # decode it the plain way, which also words the error
    pb = _pb().Profile()
    try:
        pb.ParseFromString(raw)
    except DecodeError as exc:
        raise CorruptInputError(f"not a valid pprof profile (truncated or damaged): {exc}") from None
    except (ValueError, RuntimeError) as exc:  # upb reports some damage this way
        raise CorruptInputError(f"not a valid pprof profile: {exc}") from None
    return _checked_convert(pb, lazy=False)


# Profiles smaller than this are decoded message by message: no numpy import needed.
FAST_MIN_BYTES = 256 << 10


def _checked_convert(pb: Any, *, lazy: bool) -> Profile:
    try:
        return _convert(pb, lazy=lazy)
    except (IndexError, KeyError) as exc:
        raise CorruptInputError(
            f"not a valid pprof profile: dangling reference ({type(exc).__name__}: {exc})"
        ) from None


def _convert(pb: profile_pb2.Profile, *, lazy: bool = False) -> Profile:
    """Profile from a parsed message; with `lazy`, samples are raw bytes for pprof_fast."""
    strings = list(pb.string_table)
    if not strings or strings[0] != "":
        raise CorruptInputError("not a valid pprof profile: string_table[0] must be empty")
    if not pb.sample_type:
        raise CorruptInputError("not a valid pprof profile: no sample types")
    nstr = len(strings)

    def s(i: int) -> str:
        if not 0 <= i < nstr:
            raise CorruptInputError(f"not a valid pprof profile: string index {i} out of range")
        return strings[i]

    sample_types = [SampleType(s(vt.type), s(vt.unit)) for vt in pb.sample_type]
    nvalues = len(sample_types)

    functions: dict[int, tuple[str, str, int]] = {
        f.id: (s(f.name), s(f.filename), f.start_line) for f in pb.function
    }
    mappings: dict[int, str] = {m.id: s(m.filename) for m in pb.mapping}

    drop_rx, keep_rx = _prune_regexps(s(pb.drop_frames), s(pb.keep_frames))

    intern: dict[tuple[str, str, int, str, int, int, bool], Frame] = {}

    def frame(
        fn: str, file: str, line: int, mapping: str, address: int, start: int, inl: bool
    ) -> Frame:
        key = (fn, file, line, mapping, address, start, inl)
        fr = intern.get(key)
        if fr is None:
            fr = Frame(
                fn, file, line, mapping=mapping, address=address, start_line=start, inlined=inl
            )
            intern[key] = fr
        return fr

    locations: dict[int, tuple[Frame, ...]] = {}
    pruned: set[int] = set()  # location matched drop_frames entirely (prune it and below)
    prune_beneath: set[int] = set()
    for loc in pb.location:
        mfile = mappings.get(loc.mapping_id, "") if loc.mapping_id else ""
        lines = loc.line
        if not lines:
            locations[loc.id] = (
                frame(f"0x{loc.address:x}" if loc.address else "", "", 0, mfile, loc.address, 0, False),
            )
            continue
        last = len(lines) - 1
        frames = []
        for i, ln in enumerate(lines):
            fn, file, start = functions[ln.function_id] if ln.function_id else ("", "", 0)
            frames.append(frame(fn, file, ln.line, mfile, 0, start, i != last))
        if drop_rx is not None:
            for i in range(last, -1, -1):
                fn = frames[i].function
                if fn and _prune_here(fn, drop_rx, keep_rx):
                    prune_beneath.add(loc.id)
                    if i == last:
                        pruned.add(loc.id)
                    else:
                        frames = frames[i + 1 :]
                    break
        locations[loc.id] = tuple(frames)

    columns = None
    samples: list[Sample]
    if lazy:
        from leakhunter.profiles import pprof_fast

        if pruned or prune_beneath:
            raise pprof_fast.Irregular("drop_frames: cut stacks one by one")
        samples, columns = pprof_fast.decode_samples(
            list(cast(Any, pb).sample), nvalues, list(locations), list(locations.values()), strings
        )
    else:
        samples = _samples(pb, locations, nvalues, pruned, prune_beneath)

    default = s(pb.default_sample_type) if pb.default_sample_type else ""
    period_type = (
        SampleType(s(pb.period_type.type), s(pb.period_type.unit))
        if pb.HasField("period_type")
        else None
    )
    return Profile(
        sample_types=sample_types,
        samples=samples,
        default_sample_type=default,
        period_type=period_type,
        period=pb.period,
        time_nanos=pb.time_nanos,
        duration_nanos=pb.duration_nanos,
        comments=[s(c) for c in pb.comment],
        drop_frames=s(pb.drop_frames),
        keep_frames=s(pb.keep_frames),
        columns=columns,
    )


def _samples(
    pb: profile_pb2.Profile,
    locations: dict[int, tuple[Frame, ...]],
    nvalues: int,
    pruned: set[int],
    prune_beneath: set[int],
) -> list[Sample]:
    strings = pb.string_table
    nstr = len(strings)
    # Most locations hold one frame; then a stack is a plain map over location ids.
    single: dict[int, Frame] | None = (
        {k: v[0] for k, v in locations.items()} if all(len(v) == 1 for v in locations.values()) else None
    )
    out: list[Sample] = []
    append = out.append
    for smp in pb.sample:
        ids: Sequence[int] = smp.location_id
        if pruned or prune_beneath:
            ids = _prune_ids(list(ids), pruned, prune_beneath)
        if single is not None:
            stack = tuple(map(single.__getitem__, ids))
        else:
            stack = tuple(fr for i in ids for fr in locations[i])
        values = tuple(smp.value)
        if len(values) != nvalues:
            raise CorruptInputError(
                f"not a valid pprof profile: a sample has {len(values)} values for {nvalues} sample types"
            )
        if smp.label:
            labels: dict[str, tuple[str, ...]] = {}
            nums: dict[str, tuple[int, ...]] = {}
            for lab in smp.label:
                if not (0 <= lab.key < nstr and 0 <= lab.str < nstr):
                    raise CorruptInputError(
                        f"not a valid pprof profile: label string index out of range "
                        f"({lab.key}, {lab.str} of {nstr})"
                    )
                key = strings[lab.key]
                if lab.str:
                    labels[key] = (*labels.get(key, ()), strings[lab.str])
                else:
                    nums[key] = (*nums.get(key, ()), lab.num)
            append(Sample(stack, values, labels or _EMPTY_LABELS, nums or _EMPTY_NUM))
        else:
            append(Sample(stack, values, _EMPTY_LABELS, _EMPTY_NUM))
    return out


# --- drop_frames / keep_frames (pprof profile/prune.go) ---------------------------------

_RESERVED = ("(anonymous namespace)", "operator()")
_BRACKET_RX = re.compile("|".join(re.escape(x) for x in (*_RESERVED, "(")))


def _simplify_func(name: str) -> str:
    """pprof's simplifyFunc: drop a leading '.' and an argument list, keeping reserved names."""
    name = name.removeprefix(".")
    for m in _BRACKET_RX.finditer(name):
        if m.group(0) not in _RESERVED:
            return name[: m.start()]
    return name


def _prune_regexps(drop: str, keep: str) -> tuple[Any, Any]:
    """The profile's own regexps, compiled with RE2: linear time whatever they say.

    They come from the input, so Python's backtracking engine could spend forever on
    `(a+)+$`; RE2 is also the engine (Go's regexp) that wrote them."""
    from leakhunter.bounds import compile_linear

    if not drop:
        return None, None
    drop_rx = compile_linear(f"^(?:{drop})$", "profile drop_frames")
    keep_rx = compile_linear(f"^(?:{keep})$", "profile keep_frames") if keep else None
    return drop_rx, keep_rx


def _prune_here(fn: str, drop_rx: Any, keep_rx: Any) -> bool:
    name = _simplify_func(fn)
    return bool(drop_rx.match(name)) and not (keep_rx is not None and keep_rx.match(name))


def _prune_ids(ids: list[int], pruned: set[int], beneath: set[int]) -> list[int]:
    """Cut a sample's location list like pprof's Prune: root to leaf, after the first user frame."""
    found_user = False
    for i in range(len(ids) - 1, -1, -1):
        lid = ids[i]
        if lid not in pruned and lid not in beneath:
            found_user = True
            continue
        if not found_user:
            continue
        if lid in pruned:
            return ids[i + 1 :]
        return ids[i:]
    return ids


# --- encode ----------------------------------------------------------------------------


class _Strings:
    def __init__(self) -> None:
        self.table: list[str] = [""]
        self.index: dict[str, int] = {"": 0}

    def __call__(self, s: str) -> int:
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.table)
            self.table.append(s)
        return i


def _group_locations(stack: Iterable[Frame]) -> list[tuple[Frame, ...]]:
    """Split a flat stack back into pprof Locations (inlined frames join their caller)."""
    groups: list[tuple[Frame, ...]] = []
    cur: list[Frame] = []
    for fr in stack:
        cur.append(fr)
        if not fr.inlined:
            groups.append(tuple(cur))
            cur = []
    if cur:
        groups.append(tuple(cur))
    return groups


def encode_message(profile: Profile) -> Any:
    """Build the `perftools.profiles.Profile` message for a Profile (see `encode`)."""
    pb = _pb().Profile()
    st = _Strings()
    for t in profile.sample_types:
        vt = pb.sample_type.add()
        vt.type, vt.unit = st(t.type), st(t.unit)

    mapping_ids: dict[str, int] = {}
    function_ids: dict[tuple[str, str, int], int] = {}
    # Frame equality ignores mapping/address/inlined, so key locations on all of them.
    loc_key_ids: dict[tuple[tuple[str, str, int, str, int, int, bool], ...], int] = {}

    def mapping_id(name: str) -> int:
        mid = mapping_ids.get(name)
        if mid is None:
            mid = mapping_ids[name] = len(mapping_ids) + 1
            m = pb.mapping.add()
            m.id = mid
            m.filename = st(name)
            m.has_functions = m.has_filenames = m.has_line_numbers = m.has_inline_frames = True
        return mid

    def function_id(name: str, file: str, start: int) -> int:
        fid = function_ids.get((name, file, start))
        if fid is None:
            fid = function_ids[(name, file, start)] = len(function_ids) + 1
            f = pb.function.add()
            f.id = fid
            f.name = f.system_name = st(name)
            f.filename = st(file)
            f.start_line = start
        return fid

    def location_id(group: tuple[Frame, ...]) -> int:
        key = tuple(
            (f.function, f.file, f.line, f.mapping, f.address, f.start_line, f.inlined)
            for f in group
        )
        lid = loc_key_ids.get(key)
        if lid is None:
            lid = loc_key_ids[key] = len(loc_key_ids) + 1
            loc = pb.location.add()
            loc.id = lid
            head = group[-1]
            if head.mapping:
                loc.mapping_id = mapping_id(head.mapping)
            if not head.symbolized and len(group) == 1:
                loc.address = head.address
            else:
                for f in group:
                    ln = loc.line.add()
                    ln.function_id = function_id(f.function, f.file, f.start_line)
                    ln.line = f.line
        return lid

    for smp in profile.samples:
        s = pb.sample.add()
        s.location_id.extend(location_id(g) for g in _group_locations(smp.stack))
        s.value.extend(smp.values)
        for key, vals in smp.labels.items():
            for v in vals:
                lab = s.label.add()
                lab.key, lab.str = st(key), st(v)
        for key, nums in smp.num_labels.items():
            for n in nums:
                lab = s.label.add()
                lab.key, lab.num = st(key), n

    if profile.period_type is not None:
        pb.period_type.type = st(profile.period_type.type)
        pb.period_type.unit = st(profile.period_type.unit)
    pb.period = profile.period
    pb.time_nanos = profile.time_nanos
    pb.duration_nanos = profile.duration_nanos
    pb.comment.extend(st(c) for c in profile.comments)
    if profile.default_sample_type:
        pb.default_sample_type = st(profile.default_sample_type)
    if profile.drop_frames:
        pb.drop_frames = st(profile.drop_frames)
    if profile.keep_frames:
        pb.keep_frames = st(profile.keep_frames)
    pb.string_table.extend(st.table)
    return pb


def encode(profile: Profile) -> bytes:
    """Serialize a Profile as a gzipped pprof protobuf that `go tool pprof` opens."""
    import gzip

    data: bytes = encode_message(profile).SerializeToString()
    return gzip.compress(data, compresslevel=6, mtime=0)
