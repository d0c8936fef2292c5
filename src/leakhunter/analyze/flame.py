"""Call trees for flame graphs (icicles): one profile, a `-base` diff, or goroutine growth.

A flame graph is the call tree of the samples, root (the outermost caller) at the
top, one box per function per call path, as wide as the value under it. For one
profile the value is the sample value (pprof's flame graph). For a difference
(NEW with BASE negated and merged, `analyze.diff.merge_negated`, pprof `-base`)
the question is "what grew", so a box is as wide as the *growth* under it (the
positive merged samples), and what shrank under the same path is kept beside it for
the hover text: a path where +10 MiB and -10 MiB cancel is churn, not a leak, and
shows as such instead of vanishing. Goroutine dumps are grouped already; their
growth is the count per stack, latest minus first.

Boxes narrower than `min_fraction` of the whole are folded away (their value stays
in their parent's total), which bounds the size of the HTML file for big profiles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leakhunter.analyze.aggregate import compile_filter, filter_samples
from leakhunter.model import Frame, GoroutineDump, Profile, Stack
from leakhunter.profiles.columns import Columns

MIN_FRACTION = 1e-4


@dataclass(slots=True)
class FlameNode:
    name: str
    file: str = ""
    value: int = 0
    """Width: the sample values (for a diff, the growth) under this box."""
    self_value: int = 0
    """The part of `value` whose stacks end here (pprof's flat)."""
    shrank: int = 0
    """For a diff: how much fell under this box (positive number)."""
    children: dict[str, FlameNode] = field(default_factory=dict)


@dataclass(slots=True)
class FlameTree:
    root: FlameNode
    sample_type: str
    unit: str
    diff: bool = False
    folded: int = 0
    """Boxes folded away as narrower than `min_fraction` of the total."""


def _name(fr: Frame) -> str:
    return fr.function or (f"0x{fr.address:x}" if fr.address else "<unknown>")


def _add(root: FlameNode, stack: Stack, v: int) -> None:
    """Add one stack (leaf first) with signed value `v` along its root-first path."""
    node = root
    grow = v > 0
    amount = v if grow else -v
    if grow:
        root.value += amount
    else:
        root.shrank += amount
    for fr in reversed(stack):
        name = _name(fr)
        child = node.children.get(name)
        if child is None:
            child = node.children[name] = FlameNode(name, fr.file)
        if grow:
            child.value += amount
        else:
            child.shrank += amount
        node = child
    if grow:
        node.self_value += amount


def _fold(node: FlameNode, floor: float) -> int:
    folded = 0
    for k in list(node.children):
        c = node.children[k]
        if c.value < floor and c.shrank < floor:
            del node.children[k]
            folded += 1
        else:
            folded += _fold(c, floor)
    return folded


def flame_tree(
    profile: Profile,
    *,
    sample_index: str | int | None = None,
    focus: str | None = None,
    ignore: str | None = None,
    diff: bool = False,
    min_fraction: float = MIN_FRACTION,
) -> FlameTree:
    """The call tree of `profile` at one sample index; `diff` for a merged -base profile."""
    idx = profile.sample_index(sample_index)
    st = profile.sample_types[idx]
    focus_rx, ignore_rx = compile_filter(focus, "focus"), compile_filter(ignore, "ignore")
    root = FlameNode("all")
    if isinstance(profile.columns, Columns) and focus_rx is None and ignore_rx is None:
        _add_columns(root, profile.columns, idx)
    else:
        for s in filter_samples(profile.samples, focus_rx, ignore_rx):
            v = s.values[idx]
            if v and s.stack:
                _add(root, s.stack, v)
    return _finish(FlameTree(root, st.type, st.unit, diff=diff), min_fraction)


def _add_columns(root: FlameNode, cols: Columns, idx: int) -> None:
    """`_add` for every sample of a columnar profile, on frame ids, without building
    Sample objects (big profiles arrive as columns; materializing them doubled the time
    of `--flame`)."""
    ids = cols.frame_idx.tolist()
    bounds = cols.starts.tolist()
    vals = cols.values[:, idx].tolist()
    names = [_name(fr) for fr in cols.frames]
    files = [fr.file for fr in cols.frames]
    for i, v in enumerate(vals):
        lo, hi = bounds[i], bounds[i + 1]
        if not v or hi <= lo:
            continue
        grow = v > 0
        amount = v if grow else -v
        node = root
        if grow:
            node.value += amount
        else:
            node.shrank += amount
        for k in range(hi - 1, lo - 1, -1):
            f = ids[k]
            name = names[f]
            child = node.children.get(name)
            if child is None:
                child = node.children[name] = FlameNode(name, files[f])
            if grow:
                child.value += amount
            else:
                child.shrank += amount
            node = child
        if grow:
            node.self_value += amount


def goroutine_growth_tree(base: GoroutineDump | None, new: GoroutineDump,
                          *, min_fraction: float = MIN_FRACTION) -> FlameTree:
    """Goroutines per stack, NEW minus BASE (all of NEW when there is no BASE)."""
    counts: dict[Stack, int] = {}
    for sign, dump in ((1, new), (-1, base)):
        for g in dump.groups if dump is not None else ():
            # The wait state as the innermost box: `[chan send]` under the blocked line.
            key = (Frame(f"[{g.state or g.inferred_state or 'unknown state'}]"), *g.stack)
            counts[key] = counts.get(key, 0) + sign * g.count
    root = FlameNode("all")
    for stack, n in counts.items():
        if n:
            _add(root, stack, n)
    return _finish(FlameTree(root, "goroutines", "count", diff=base is not None), min_fraction)


def _finish(tree: FlameTree, min_fraction: float) -> FlameTree:
    whole = max(tree.root.value, tree.root.shrank)
    if whole and min_fraction > 0:
        tree.folded = _fold(tree.root, whole * min_fraction)
    return tree


def find(tree: FlameTree, function: str) -> list[FlameNode]:
    """Every box of `function` (for tests and for the report's "where it sits")."""
    out: list[FlameNode] = []
    stack = [tree.root]
    while stack:
        n = stack.pop()
        if n.name == function:
            out.append(n)
        stack.extend(n.children.values())
    return out


def to_json(tree: FlameTree) -> dict[str, Any]:
    """Compact nested arrays for the page: [name#, file#, value, self, shrank, [children]].

    Names and files go through one string table, since the same function appears in
    many call paths; children are sorted by name so the picture is stable run to run."""
    strings: dict[str, int] = {}

    def sid(s: str) -> int:
        i = strings.get(s)
        if i is None:
            i = strings[s] = len(strings)
        return i

    def enc(n: FlameNode) -> list[Any]:
        kids = [enc(n.children[k]) for k in sorted(n.children)]
        return [sid(n.name), sid(n.file), n.value, n.self_value, n.shrank, kids]

    body = enc(tree.root)
    return {"strings": list(strings), "root": body, "sample_type": tree.sample_type,
            "unit": tree.unit, "diff": tree.diff, "folded": tree.folded}


__all__ = ["FlameNode", "FlameTree", "find", "flame_tree", "goroutine_growth_tree",
           "to_json"]
