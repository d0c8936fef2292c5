"""The vectorized half of the pprof decoder: all samples at once, with numpy.

Reading 250,000 samples through protobuf's Python objects costs ~1 µs per field
access, which dominates `leakhunter top` on a big heap profile. Instead, upb parses the
Profile with `sample` declared as `bytes` (a descriptor variant built at run time from
the vendored one), and the concatenated sample payloads are decoded here in bulk:
every field of a Sample is a varint or a length-delimited run of varints, so the whole
buffer is one varint stream, decoded with array operations.

This handles the layout every real producer writes (Go's runtime/pprof, pprof itself):
packed location_id (field 1) then packed value (field 2), then labels. Anything else
raises `Irregular` and the caller decodes that profile the plain way.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from leakhunter.model import Frame, Sample
from leakhunter.profiles.columns import Columns, LazySamples

_EMPTY: dict[str, Any] = {}


class Irregular(Exception):
    """The samples are not in the common layout; use the per-message decoder."""


@cache
def lazy_profile_class() -> Any:
    """`perftools.profiles.Profile` with `repeated bytes sample`, in a private pool."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    from leakhunter.profiles.proto import profile_pb2

    fdp = descriptor_pb2.FileDescriptorProto()
    profile_pb2.DESCRIPTOR.CopyToProto(fdp)
    fdp.name = "leakhunter_lazy_profile.proto"
    fdp.package = "leakhunter.lazy"
    for msg in fdp.message_type:
        for f in msg.field:
            if f.type_name:
                f.type_name = f.type_name.replace(".perftools.profiles.", ".leakhunter.lazy.")
            if msg.name == "Profile" and f.name == "sample":
                f.type = descriptor_pb2.FieldDescriptorProto.TYPE_BYTES
                f.ClearField("type_name")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("leakhunter.lazy.Profile"))


def _varints(buf: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint64], npt.NDArray[Any]]:
    """Decode a buffer that is a sequence of varints: (values, start byte of each).

    Positions are int32 when the buffer allows it: this runs over millions of tokens
    and every 8-byte temporary costs tens of MiB."""
    pos_t = np.int32 if buf.size < (1 << 31) - 16 else np.int64
    if buf.size == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=pos_t)
    if buf[-1] >= 0x80:
        raise Irregular("buffer ends inside a varint")
    ends = np.flatnonzero(buf < 0x80).astype(pos_t)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    extra = ends - starts
    del ends
    if int(extra.max()) > 9:
        raise Irregular("varint longer than 10 bytes")
    length = extra.astype(np.int8)  # continuation bytes per varint, 0..9
    del extra
    val = (buf[starts] & 0x7F).astype(np.uint64)
    sel = np.flatnonzero(length > 0)
    k = 1
    while sel.size:
        val[sel] |= (buf[starts[sel] + k] & 0x7F).astype(np.uint64) << np.uint64(7 * k)
        k += 1
        sel = sel[length[sel] >= k]
    return val, starts


def _ranges(first: npt.NDArray[np.int64], count: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Concatenation of arange(first[i], first[i] + count[i]) for all i."""
    total = int(count.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offs = np.cumsum(count) - count
    return np.arange(total, dtype=np.int64) - np.repeat(offs - first, count)


def decode_samples(
    payloads: list[bytes],
    nvalues: int,
    location_ids: list[int],
    location_frames: list[tuple[Frame, ...]],
    strings: list[str],
) -> tuple[LazySamples, Columns]:
    """Samples and their Columns from the raw Sample payloads (see module docstring)."""
    n = len(payloads)
    frames: list[Frame] = []
    frame_ix: dict[int, int] = {}
    loc_first = np.empty(len(location_frames), dtype=np.int64)
    loc_count = np.empty(len(location_frames), dtype=np.int64)
    flat_frames: list[int] = []
    for li, lf in enumerate(location_frames):
        loc_first[li] = len(flat_frames)
        loc_count[li] = len(lf)
        for fr in lf:
            j = frame_ix.get(id(fr))
            if j is None:
                j = frame_ix[id(fr)] = len(frames)
                frames.append(fr)
            flat_frames.append(j)
    loc_frame = np.array(flat_frames, dtype=np.int32)

    if n == 0:
        empty = Columns(frames, np.zeros(0, np.int32), np.zeros(1, np.int64),
                        np.zeros((0, nvalues), np.int64))
        return LazySamples(), empty

    buf = np.frombuffer(b"".join(payloads), dtype=np.uint8)
    plen = np.fromiter(map(len, payloads), dtype=np.int64, count=n)
    if int(plen.min()) == 0:
        raise Irregular("empty sample")
    pstart = np.cumsum(plen) - plen
    tok, tstart = _varints(buf)
    ntok = tok.size

    def tok_at(byte_pos: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        ix = np.searchsorted(tstart, byte_pos).astype(np.int64)
        inside = ix < ntok
        ok = np.where(inside, tstart[np.minimum(ix, ntok - 1)] == byte_pos, byte_pos == buf.size)
        if not ok.all():
            raise Irregular("field boundary inside a varint")
        return ix

    # Walk the fields of all samples in lock step. Go's encoder packs repeated fields
    # of more than two elements and writes shorter ones unpacked, so both forms occur:
    # location_id 0x0a (packed) / 0x08, value 0x12 / 0x10, label 0x1a.
    ts = tok_at(pstart)
    nxt = np.empty_like(ts)
    nxt[:-1] = ts[1:]
    nxt[-1] = ntok
    f_sample: list[npt.NDArray[np.int64]] = []
    f_tag: list[npt.NDArray[np.uint64]] = []
    f_first: list[npt.NDArray[np.int64]] = []
    f_count: list[npt.NDArray[np.int64]] = []
    active = np.arange(n, dtype=np.int64)
    p = ts.copy()
    tend = np.append(tstart[1:], np.array([buf.size], dtype=tstart.dtype))  # past each token
    for _step in range(1 << 16):
        if active.size == 0:
            break
        pa = p[active]
        if (pa + 1 >= nxt[active]).any():
            raise Irregular("field cut short")
        tag = tok[pa]
        packed = (tag & np.uint64(7)) == 2
        if not (packed | ((tag & np.uint64(7)) == 0)).all():
            raise Irregular("unexpected wire type in a sample")
        end_p = pa + 2
        pk = np.flatnonzero(packed)
        if pk.size:
            end_p[pk] = tok_at(tend[pa[pk] + 1] + tok[pa[pk] + 1].astype(np.int64))
        if (end_p > nxt[active]).any():
            raise Irregular("field runs past its sample")
        f_sample.append(active)
        f_tag.append(tag)
        f_first.append(np.where(packed, pa + 2, pa + 1))
        f_count.append(np.where(packed, end_p - pa - 2, 1))
        p[active] = end_p
        active = active[end_p < nxt[active]]
    else:
        raise Irregular("too many fields in a sample")
    fs = np.concatenate(f_sample)
    ft = np.concatenate(f_tag)
    ff = np.concatenate(f_first)
    fc = np.concatenate(f_count)
    order_f = np.argsort(fs, kind="stable")  # by sample, then field order (stable)
    fs, ft, ff, fc = fs[order_f], ft[order_f], ff[order_f], fc[order_f]
    is_ids = (ft == 0x0A) | (ft == 0x08)
    is_val = (ft == 0x12) | (ft == 0x10)
    is_lab = ft == 0x1A
    if not (is_ids | is_val | is_lab).all():
        raise Irregular("unknown field in a sample")
    n_ids = np.bincount(fs[is_ids], weights=fc[is_ids], minlength=n).astype(np.int64)
    n_vals = np.bincount(fs[is_val], weights=fc[is_val], minlength=n).astype(np.int64)
    if not (n_vals == nvalues).all():
        raise Irregular("sample value count differs from sample types")
    id_tokens = _ranges(ff[is_ids], fc[is_ids])
    val_tokens = _ranges(ff[is_val], fc[is_val])

    values = tok[val_tokens].view(np.int64).reshape(n, nvalues)
    del val_tokens

    # Locations: ids -> index into location_frames (arrays freed as soon as used: this
    # runs over every stack entry, and peak memory is what a big profile costs).
    ids = tok[id_tokens]
    del id_tokens
    order = np.argsort(np.array(location_ids, dtype=np.uint64), kind="stable").astype(np.int32)
    sorted_ids = np.array(location_ids, dtype=np.uint64)[order]
    pos = np.searchsorted(sorted_ids, ids)
    np.minimum(pos, max(sorted_ids.size - 1, 0), out=pos)
    if sorted_ids.size == 0 or not (sorted_ids[pos] == ids).all():
        from leakhunter.errors import CorruptInputError

        raise CorruptInputError("not a valid pprof profile: a sample names an unknown location")
    del ids
    loc = order[pos]
    del pos

    # Frames: expand inlined locations (most have exactly one frame).
    if int(loc_count.max(initial=1)) == 1:
        frame_idx = loc_frame[loc]
        stack_len = n_ids
    else:
        per_entry = loc_count[loc]
        frame_idx = loc_frame[_ranges(loc_first[loc], per_entry)]
        sample_of_id = np.repeat(np.arange(n, dtype=np.int64), n_ids)
        stack_len = np.bincount(sample_of_id, weights=per_entry, minlength=n).astype(np.int64)
        del per_entry, sample_of_id
    del loc
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(stack_len, out=starts[1:])

    plan = _label_plan(tok, fs[is_lab], ff[is_lab], fc[is_lab], strings)
    keep_payloads = payloads if plan[0] == "slow" else []
    del tok, tend

    def build() -> list[Sample]:
        labels = _labels(plan, n, keep_payloads, strings)
        farr = np.empty(len(frames), dtype=object)
        farr[:] = frames
        stack_objs = farr[frame_idx].tolist()
        bounds = starts.tolist()
        vals_list = values.tolist()
        return [
            Sample(tuple(stack_objs[bounds[i] : bounds[i + 1]]), tuple(vals_list[i]), lab, num)
            for i, (lab, num) in enumerate(labels)
        ]

    samples = LazySamples(builder=build)
    cols = Columns(frames, frame_idx.astype(np.int32), starts, values)
    cols.labels = lambda: _labels(plan, n, keep_payloads, strings)
    return samples, cols


_Plan = tuple[str, str, Any, Any]


def _label_plan(
    tok: npt.NDArray[np.uint64],
    lab_sample: npt.NDArray[np.int64],
    lab_first: npt.NDArray[np.int64],
    lab_count: npt.NDArray[np.int64],
    strings: list[str],
) -> _Plan:
    """Decide now (while the tokens exist) how labels will be built later:
    ("none"), ("num", key, samples, values) for at most one numeric label per sample
    with one key (Go heap profiles' `bytes`), else ("slow", "", samples-with-labels)."""
    if lab_sample.size == 0:
        return ("none", "", None, None)
    if (lab_count == 4).all() and np.unique(lab_sample).size == lab_sample.size:
        t = tok[lab_first[:, None] + np.arange(4)]
        if (t[:, 0] == 0x08).all() and (t[:, 2] == 0x18).all():
            keys = np.unique(t[:, 1])
            if keys.size == 1 and int(keys[0]) < len(strings):
                return ("num", strings[int(keys[0])], lab_sample, t[:, 3].view(np.int64).copy())
    # Checked now, not when the labels are built (lazily, long after decoding): every
    # field of a Label is a varint, so its tokens alternate tag, value; the string
    # indices (key 0x08, str 0x10, num_unit 0x20) must fall inside the string table.
    toks = _ranges(lab_first, lab_count)
    if (lab_count % 2).any():
        raise Irregular("label with a field that is not a varint")
    rel = toks - np.repeat(lab_first, lab_count)
    tags = tok[toks[rel % 2 == 0]]
    vals = tok[toks[rel % 2 == 1]]
    if not np.isin(tags, np.array([0x08, 0x10, 0x18, 0x20], dtype=np.uint64)).all():
        raise Irregular("label field other than key, str, num, num_unit")
    is_str = tags != 0x18
    if (vals[is_str] >= np.uint64(len(strings))).any():
        from leakhunter.errors import CorruptInputError

        raise CorruptInputError("not a valid pprof profile: label string index out of range")
    return ("slow", "", set(lab_sample.tolist()), None)


def _labels(
    plan: _Plan, n: int, payloads: list[bytes], strings: list[str]
) -> list[tuple[dict[str, tuple[str, ...]], dict[str, tuple[int, ...]]]]:
    """Per-sample (labels, num_labels) following `_label_plan`."""
    kind, key, which, nums_arr = plan
    out: list[tuple[dict[str, tuple[str, ...]], dict[str, tuple[int, ...]]]]
    out = [(_EMPTY, _EMPTY)] * n
    if kind == "none":
        return out
    if kind == "num":
        for i, v in zip(which.tolist(), nums_arr.tolist(), strict=True):
            out[i] = ({}, {key: (v,)})
        return out
    from leakhunter.profiles.proto import profile_pb2

    for i in sorted(which):
        labs: dict[str, tuple[str, ...]] = {}
        nums: dict[str, tuple[int, ...]] = {}
        for lab in profile_pb2.Sample.FromString(payloads[i]).label:
            k = strings[lab.key]
            if lab.str:
                labs[k] = (*labs.get(k, ()), strings[lab.str])
            else:
                nums[k] = (*nums.get(k, ()), lab.num)
        out[i] = (labs or _EMPTY, nums or _EMPTY)
    return out
