"""NEW minus BASE with `go tool pprof -base` semantics.

pprof scales BASE by -1 and merges it into NEW: samples with the same stack and the
same labels add up (and cancel where nothing changed), and the report is built from
the merged profile. Its total is therefore the sum of |NEW - BASE| over samples, not
NEW total minus BASE total; both of those are reported too (`base_total`, `new_total`).
Aggregating the merged profile with `aggregate` gives rows and total that agree with
pprof, and `merge_negated` is also what `diff -o` writes.
"""

from __future__ import annotations

from typing import Any

from leakhunter.analyze.aggregate import (
    DEFAULT_NODE_FRACTION,
    Granularity,
    Table,
    aggregate,
    total_of,
)
from leakhunter.errors import UsageError
from leakhunter.model import Frame, Profile, Sample
from leakhunter.profiles.columns import Columns, LazySamples, columns_of

_LabelKey = tuple[tuple[str, tuple[str, ...]], ...]
_NumKey = tuple[tuple[str, tuple[int, ...]], ...]


def merge_negated(base: Profile, new: Profile) -> Profile:
    """NEW with BASE's samples negated and merged in (pprof -base); header from NEW.

    Samples merge when their frames (all attributes) and labels are equal. Stacks are
    compared as tuples of small ints from the profiles' columns, not as Frame tuples:
    hashing 250,000 stacks of dataclasses is what made big diffs slow.
    """
    import numpy as np

    names_new = [(t.type, t.unit) for t in new.sample_types]
    names_base = [(t.type, t.unit) for t in base.sample_types]
    if names_new != names_base:
        raise UsageError(
            "BASE and NEW have different sample types "
            f"({', '.join(t for t, _ in names_base)} vs {', '.join(t for t, _ in names_new)})"
        )
    unified: list[Frame] = []
    by_attr: dict[tuple[str, str, int, str, int, int, bool], int] = {}
    merged: dict[tuple[tuple[int, ...], _LabelKey, _NumKey], list[int]] = {}
    first: dict[tuple[tuple[int, ...], _LabelKey, _NumKey], tuple[Any, Any]] = {}
    for sign, prof in ((1, new), (-1, base)):
        cols = columns_of(prof)
        remap = np.empty(len(cols.frames), dtype=np.int64)
        for i, fr in enumerate(cols.frames):
            a = (fr.function, fr.file, fr.line, fr.mapping, fr.address, fr.start_line, fr.inlined)
            j = by_attr.get(a)
            if j is None:
                j = by_attr[a] = len(unified)
                unified.append(fr)
            remap[i] = j
        ids = remap[cols.frame_idx].tolist()
        bounds = cols.starts.tolist()
        vals = cols.values.tolist()
        for i, (labs, nums) in enumerate(cols.sample_labels(prof.samples)):
            key = (
                tuple(ids[bounds[i] : bounds[i + 1]]),
                tuple(sorted(labs.items())) if labs else (),
                tuple(sorted(nums.items())) if nums else (),
            )
            acc = merged.get(key)
            if acc is None:
                merged[key] = [sign * v for v in vals[i]]
                first[key] = (labs, nums)
            else:
                for j, v in enumerate(vals[i]):
                    acc[j] += sign * v
    keys = [k for k, vals in merged.items() if any(vals)]

    def build() -> list[Sample]:
        return [
            Sample(tuple(unified[f] for f in k[0]), tuple(merged[k]), *first[k]) for k in keys
        ]

    lengths = np.fromiter((len(k[0]) for k in keys), dtype=np.int64, count=len(keys))
    starts = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    frame_idx = np.fromiter(
        (f for k in keys for f in k[0]), dtype=np.int32, count=int(starts[-1])
    )
    values = np.array([merged[k] for k in keys], dtype=np.int64).reshape(
        len(keys), len(new.sample_types)
    )
    merged_cols = Columns(unified, frame_idx, starts, values)
    merged_cols.labels = lambda: [first[k] for k in keys]
    return Profile(
        sample_types=list(new.sample_types),
        samples=LazySamples(builder=build),
        default_sample_type=new.default_sample_type,
        period_type=new.period_type,
        period=max(new.period, base.period),
        time_nanos=new.time_nanos,
        duration_nanos=new.duration_nanos,
        comments=list(new.comments),
        drop_frames=new.drop_frames,
        keep_frames=new.keep_frames,
        columns=merged_cols,
    )


def _total(prof: Profile, idx: int) -> int:
    if isinstance(prof.columns, Columns):
        return int(abs(prof.columns.values[:, idx]).sum())
    return total_of(prof.samples, idx)


def diff(
    base: Profile,
    new: Profile,
    *,
    sample_index: str | int | None = None,
    by: Granularity = "function",
    focus: str | None = None,
    ignore: str | None = None,
    node_fraction: float = DEFAULT_NODE_FRACTION,
    node_count: int = 0,
    merged: Profile | None = None,
    cum_sort: bool = False,
) -> Table:
    """The `go tool pprof -top -base BASE NEW` table, plus both profiles' own totals."""
    m = merged if merged is not None else merge_negated(base, new)
    table = aggregate(
        m, sample_index=sample_index, by=by, focus=focus, ignore=ignore,
        node_fraction=node_fraction, node_count=node_count, cum_sort=cum_sort,
    )
    idx = new.sample_index(sample_index)
    table.base_total = _total(base, idx)
    table.new_total = _total(new, idx)
    return table
