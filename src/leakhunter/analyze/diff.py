"""NEW minus BASE with `go tool pprof -base` semantics.

pprof scales BASE by -1 and merges it into NEW: samples with the same stack and the
same labels add up (and cancel where nothing changed), and the report is built from
the merged profile. Its total is therefore the sum of |NEW - BASE| over samples, not
NEW total minus BASE total; both of those are reported too (`base_total`, `new_total`).
Aggregating the merged profile with `aggregate` gives rows and total that agree with
pprof, and `merge_negated` is also what `diff -o` writes.
"""

from __future__ import annotations

from leakhunter.analyze.aggregate import (
    DEFAULT_NODE_FRACTION,
    Granularity,
    Table,
    aggregate,
    total_of,
)
from leakhunter.errors import UsageError
from leakhunter.model import Profile, Sample

_LabelKey = tuple[tuple[str, tuple[str, ...]], ...]
_NumKey = tuple[tuple[str, tuple[int, ...]], ...]


def merge_negated(base: Profile, new: Profile) -> Profile:
    """NEW with BASE's samples negated and merged in (pprof -base); header from NEW."""
    names_new = [(t.type, t.unit) for t in new.sample_types]
    names_base = [(t.type, t.unit) for t in base.sample_types]
    if names_new != names_base:
        raise UsageError(
            "BASE and NEW have different sample types "
            f"({', '.join(t for t, _ in names_base)} vs {', '.join(t for t, _ in names_new)})"
        )
    merged: dict[tuple[object, _LabelKey, _NumKey], list[int]] = {}
    order: list[tuple[tuple[object, _LabelKey, _NumKey], Sample]] = []
    for sign, prof in ((1, new), (-1, base)):
        for s in prof.samples:
            key = (
                s.stack,
                tuple(sorted(s.labels.items())) if s.labels else (),
                tuple(sorted(s.num_labels.items())) if s.num_labels else (),
            )
            acc = merged.get(key)
            if acc is None:
                merged[key] = [sign * v for v in s.values]
                order.append((key, s))
            else:
                for i, v in enumerate(s.values):
                    acc[i] += sign * v
    samples = [
        Sample(s.stack, tuple(vals), s.labels, s.num_labels)
        for key, s in order
        if any(vals := merged[key])
    ]
    return Profile(
        sample_types=list(new.sample_types),
        samples=samples,
        default_sample_type=new.default_sample_type,
        period_type=new.period_type,
        period=max(new.period, base.period),
        time_nanos=new.time_nanos,
        duration_nanos=new.duration_nanos,
        comments=list(new.comments),
        drop_frames=new.drop_frames,
        keep_frames=new.keep_frames,
    )


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
) -> Table:
    """The `go tool pprof -top -base BASE NEW` table, plus both profiles' own totals."""
    m = merged if merged is not None else merge_negated(base, new)
    table = aggregate(
        m, sample_index=sample_index, by=by, focus=focus, ignore=ignore,
        node_fraction=node_fraction, node_count=node_count,
    )
    idx = new.sample_index(sample_index)
    table.base_total = total_of(base.samples, idx)
    table.new_total = total_of(new.samples, idx)
    return table
