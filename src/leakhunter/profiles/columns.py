"""Samples as numpy columns: the shape aggregation wants for profiles of 10^5+ samples.

`Profile.samples` (one Python object per sample) is the model every command shares;
summing flat/cum over 250,000 stacks one object at a time is what makes a Python `top`
slow. `Columns` holds the same stacks as one int32 array of frame indices (leaf first,
sample after sample), the sample boundaries, and the values matrix. The binary
decoder builds it directly from the protobuf bytes; `from_samples` builds it from any
sample list (legacy text, merged diffs).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

from leakhunter.model import Frame, Sample

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


@dataclass(slots=True)
class Columns:
    frames: list[Frame]
    """Distinct frames; `frame_idx` points into this list."""
    frame_idx: npt.NDArray[np.int32]
    """Frame of every stack entry, leaf first, samples concatenated."""
    starts: npt.NDArray[np.int64]
    """Sample i's stack is frame_idx[starts[i]:starts[i+1]] (len = samples + 1)."""
    values: npt.NDArray[np.int64]
    """Shape (samples, sample types)."""
    labels: Any = None
    """Optional: a callable returning [(labels, num_labels)] per sample, cheaper than
    building the Samples (diffs key samples on stack + labels)."""

    def sample_labels(self, samples: list[Sample]) -> list[tuple[Any, Any]]:
        if self.labels is not None and not (
            isinstance(samples, LazySamples) and samples.materialized
        ):
            result: list[tuple[Any, Any]] = self.labels()
            return result
        return [(s.labels, s.num_labels) for s in samples]

    @property
    def n_samples(self) -> int:
        return int(self.values.shape[0])


def from_samples(samples: list[Sample], n_values: int) -> Columns:
    """Build columns from model samples (frames deduplicated by identity)."""
    import numpy as np

    index: dict[int, int] = {}
    frames: list[Frame] = []

    def idx(fr: Frame) -> int:
        i = index.get(id(fr))
        if i is None:
            i = index[id(fr)] = len(frames)
            frames.append(fr)
        return i

    lengths = np.fromiter((len(s.stack) for s in samples), dtype=np.int64, count=len(samples))
    starts = np.zeros(len(samples) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    flat = np.fromiter(
        (idx(f) for f in chain.from_iterable(s.stack for s in samples)),
        dtype=np.int32, count=int(starts[-1]),
    )
    values = np.array([s.values for s in samples], dtype=np.int64).reshape(len(samples), n_values)
    return Columns(frames, flat, starts, values)


def columns_of(profile: Any) -> Columns:
    """The profile's columns, built from its samples (and cached) when the decoder gave none."""
    cols = profile.columns
    samples = profile.samples
    if isinstance(cols, Columns) and (
        (isinstance(samples, LazySamples) and not samples.materialized)
        or cols.n_samples == len(samples)
    ):
        return cols
    cols = from_samples(profile.samples, len(profile.sample_types))
    profile.columns = cols
    return cols


class LazySamples(list):  # type: ignore[type-arg]
    """`Profile.samples` built on first use.

    `top` on a 250,000-sample profile only needs `Columns`; building a Python object per
    sample would double its run time. This list fills itself from `builder` the first
    time anything reads or changes it, so every other user sees an ordinary list.
    """

    __slots__ = ("_builder",)

    def __init__(self, iterable: Any = (), *, builder: Any = None) -> None:
        super().__init__(iterable)
        self._builder = builder

    @property
    def materialized(self) -> bool:
        return self._builder is None

    def _fill(self) -> None:
        b = self._builder
        if b is not None:
            self._builder = None
            list.extend(self, b())


def _materializing(name: str) -> Any:
    method = getattr(list, name)

    def wrapper(self: LazySamples, *args: Any, **kwargs: Any) -> Any:
        self._fill()
        return method(self, *args, **kwargs)

    wrapper.__name__ = name
    return wrapper


for _name in (
    "__len__", "__iter__", "__getitem__", "__setitem__", "__delitem__", "__contains__",
    "__reversed__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__add__",
    "__mul__", "__rmul__", "__iadd__", "__imul__", "__repr__", "append", "extend", "insert",
    "pop", "remove", "index", "count", "sort", "reverse", "clear", "copy",
):
    setattr(LazySamples, _name, _materializing(_name))
LazySamples.__hash__ = None
