"""What grew in a watched process, as flame trees: the heap between its first and last heap
profile (pprof `-base` semantics) and the goroutines between its first and last dump.

The report draws these; the choice of which snapshots, the diff and the relevance floor are
analysis, so they live here and the report layer only renders what it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leakhunter.analyze.flame import FlameTree
    from leakhunter.collect.store import Store


@dataclass(frozen=True)
class GrowthTree:
    kind: str  # "heap" or "goroutines"
    tree: FlameTree
    span_s: float  # seconds between the two snapshots compared


def _floor(series: str) -> float:
    """The growth the verdicts call relevant for `series`: below it a flame graph of
    "what grew" would draw noise (a handful of goroutines that come and go)."""
    from leakhunter.analyze.verdicts import SPECS

    spec = SPECS.get(series)
    return spec.floor if spec is not None else 1.0


def growth_trees(store: Store, target: str) -> list[GrowthTree]:
    """The heap and goroutine growth of the target's latest process, each only when it is
    above the verdicts' floor."""
    from leakhunter.analyze.diff import merge_negated
    from leakhunter.analyze.flame import flame_tree, goroutine_growth_tree
    from leakhunter.analyze.suspects import _dump, _pair, _profile
    from leakhunter.errors import LeakhunterError

    proc = store.last_process(target)
    if proc is None:
        return []
    out: list[GrowthTree] = []
    pair = _pair(store, target, "heap", proc.id)
    if pair is not None:
        a, b = (_profile(store, s) for s in pair)
        if a is not None and b is not None:
            try:
                tree = flame_tree(merge_negated(a, b), sample_index="inuse_space", diff=True)
            except LeakhunterError:
                tree = None
            if tree is not None and tree.root.value >= _floor("heap_live"):
                out.append(GrowthTree("heap", tree, pair[1].ts - pair[0].ts))
    pair = _pair(store, target, "goroutine", proc.id)
    if pair is not None:
        da, db = (_dump(store, s) for s in pair)
        if da is not None and db is not None:
            gtree = goroutine_growth_tree(da, db)
            if gtree.root.value >= _floor("goroutines"):
                out.append(GrowthTree("goroutines", gtree, pair[1].ts - pair[0].ts))
    return out
