"""Flat and cumulative values per function / line / file, exactly as `go tool pprof -top`.

The numbers a Go engineer compares against are pprof's, so this follows pprof's
graph construction (internal/graph/graph.go, internal/report/report.go) rule by rule:

- a node is pprof's NodeInfo at the chosen granularity: the function name; name +
  file:line; or the file. When a frame has no function name (an unsymbolized
  location) the node is the binary, printed `[binary]` (or `<unknown>`).
  At file granularity pprof keeps the function's start line in the node, so one file
  can show up on several rows; we reproduce that.
- cum adds a sample's value once to every distinct node of its stack; flat adds it
  to the leaf; samples with value 0 are skipped; nodes with flat == cum == 0 vanish.
- the total is the sum of |value| over all samples, taken *before* --focus/--ignore
  (pprof's default, non-relative percentages).
- --focus keeps samples with a frame whose function name, file or binary matches;
  --ignore drops them (regexes are searched, not anchored, like Go's MatchString).
- trimming: nodes with |cum| below node_fraction of the summed flat values are
  dropped (pprof's -nodefraction, default 0.005), then rows are sorted by |flat|,
  name, |cum| and the first node_count kept (pprof's -nodecount).

Two implementations give the same numbers: a loop over `Profile.samples` for small
profiles (no numpy import, fast start) and `node_values_columns`, vectorized over
`profiles.columns.Columns`, for big ones (the binary decoder attaches columns to
every profile it decodes through its vectorized path).

`aggregate` is the entry point used by `top`, `diff`, `watch` and `soak`:
`aggregate(profile, sample_index=..., by="function"|"line"|"file") -> Table` with
`Table.total` and `Table.rows` (`Row.function/file/line/flat/cum`). For diffs, see
`analyze.diff.diff(base, new, ...)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from leakhunter.errors import UsageError
from leakhunter.model import Frame, Profile, Sample
from leakhunter.profiles.columns import Columns, columns_of

if TYPE_CHECKING:
    import numpy as np

Granularity = Literal["function", "line", "file"]
GRANULARITIES: tuple[Granularity, ...] = ("function", "line", "file")
DEFAULT_NODE_FRACTION = 0.005

# pprof's NodeInfo at our granularities: (name, file, start_line, lineno, objfile)
NodeKey = tuple[str, str, int, int, str]


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a top table."""

    name: str
    """The row as pprof prints it (`main.grow`, `main.grow /src/x.go:57`, `/src/x.go`)."""
    function: str
    file: str
    line: int
    flat: int
    cum: int
    inline: str = ""
    """`(inline)` / `(partial-inline)` as pprof marks nodes reached only through inlining."""


@dataclass(slots=True)
class Table:
    """The aggregated view of one profile (or a diff) at one sample index and granularity."""

    sample_type: str
    unit: str
    total: int
    rows: list[Row]
    granularity: Granularity = "function"
    dropped_nodes: int = 0
    """Nodes removed by node_fraction (pprof's "Dropped N nodes")."""
    node_count: int = 0
    """Nodes left after node_fraction, before the node_count cut."""
    node_fraction: float = 0.0
    time_nanos: int = 0
    duration_nanos: int = 0
    base_total: int | None = None
    new_total: int | None = None

    @property
    def shown(self) -> int:
        """Sum of flat over the rows shown ("Showing nodes accounting for ...")."""
        return sum(r.flat for r in self.rows)


def go_clean(path: str) -> str:
    """Go's filepath.Clean for slash paths (pprof cleans every file name it shows)."""
    if not path:
        return "."
    rooted = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    s = "/".join(out)
    if rooted:
        return "/" + s
    return s or "."


_TRIM_PREFIXES = ("/proc/self/cwd/./", "/proc/self/cwd/")


def _display_file(path: str) -> str:
    """pprof's report file name: default trim prefixes, then filepath.Clean."""
    for pre in _TRIM_PREFIXES:
        if path.startswith(pre):
            path = path[len(pre) :]
            break
    return go_clean(path) if path else ""


def _basename(path: str) -> str:
    path = path.rstrip("/")
    return path[path.rfind("/") + 1 :] if path else "."


def node_key(fr: Frame, by: Granularity) -> NodeKey:
    """The pprof NodeInfo of a frame at a granularity, as a hashable tuple."""
    if fr.address or not (fr.function or fr.file or fr.start_line):
        # A location without line info, or a line without a function: only the binary is known.
        return ("", "", 0, 0, fr.mapping)
    name = "" if by == "file" else fr.function
    file = "" if by == "function" else _display_file(fr.file)
    lineno = fr.line if by == "line" else 0
    if not name:
        # pprof keeps the binary and the function's start line for nameless nodes.
        return ("", file, fr.start_line, lineno, fr.mapping)
    return (name, file, 0, lineno, "")


def printable_name(key: NodeKey) -> str:
    """pprof's NodeInfo.PrintableName for our keys."""
    name, file, _start, lineno, obj = key
    parts = [name] if name else []
    if lineno:
        parts.append(f"{file}:{lineno}")
    elif file:
        parts.append(file)
    elif name:
        pass  # the function name alone, already in parts
    elif obj:
        parts.append(f"[{_basename(obj)}]")
    else:
        parts.append("<unknown>")
    return " ".join(parts)


def _sprint_info(key: NodeKey) -> str:
    """fmt.Sprint(NodeInfo): pprof's last-resort tie-break between equally named rows."""
    name, file, start, lineno, obj = key
    return f"{{{name}  0 {file} {start} {lineno} 0 {obj}}}"


def _frame_matches(fr: Frame, rx: re.Pattern[str]) -> bool:
    if fr.function and (rx.search(fr.function) or rx.search(fr.file)):
        return True
    return bool(fr.mapping and rx.search(fr.mapping))


def compile_filter(pattern: str | None, option: str) -> re.Pattern[str] | None:
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"--{option}: invalid regular expression {pattern!r}: {exc}") from None


def filter_samples(
    samples: Iterable[Sample], focus: re.Pattern[str] | None, ignore: re.Pattern[str] | None
) -> list[Sample]:
    """pprof's FilterSamplesByName for focus/ignore: decided per distinct frame, cached."""
    if focus is None and ignore is None:
        return list(samples)
    verdict: dict[int, int] = {}  # id(frame) -> 0 neutral, 1 focus, 2 ignore

    def classify(fr: Frame) -> int:
        if ignore is not None and _frame_matches(fr, ignore):
            return 2
        if focus is None or _frame_matches(fr, focus):
            return 1
        return 0

    kept: list[Sample] = []
    for s in samples:
        focused = False
        for fr in s.stack:
            v = verdict.get(id(fr))
            if v is None:
                v = verdict[id(fr)] = classify(fr)
            if v == 2:
                break
            if v == 1:
                focused = True
        else:
            if focused:
                kept.append(s)
    return kept


@dataclass(slots=True)
class NodeValues:
    """Raw per-node flat/cum (before trimming), with a representative frame per node."""

    flat: dict[NodeKey, int]
    cum: dict[NodeKey, int]
    frames: dict[NodeKey, Frame]
    inline: dict[NodeKey, str]


def node_values(samples: Iterable[Sample], index: int, by: Granularity) -> NodeValues:
    """Accumulate flat and cum per node like pprof's graph.newGraph."""
    keys: dict[int, NodeKey] = {}
    frames: dict[NodeKey, Frame] = {}
    flat: dict[NodeKey, int] = {}
    cum: dict[NodeKey, int] = {}
    # Per node: has an inline in-edge / a non-inline in-edge (pprof's (inline) marker).
    edges: dict[tuple[NodeKey, NodeKey], bool] = {}
    for s in samples:
        v = s.values[index]
        if not v or not s.stack:
            continue
        ks: list[NodeKey] = []
        for fr in s.stack:
            k = keys.get(id(fr))
            if k is None:
                k = keys[id(fr)] = node_key(fr, by)
                frames.setdefault(k, fr)
            ks.append(k)
        for k in set(ks):
            cum[k] = cum.get(k, 0) + v
        leaf = ks[0]
        flat[leaf] = flat.get(leaf, 0) + v
        # Edges caller -> callee; inline when the callee frame was inlined into its caller.
        for i in range(len(ks) - 1):
            callee, caller = ks[i], ks[i + 1]
            if callee == caller:
                continue
            e = (caller, callee)
            inl = s.stack[i].inlined
            prev = edges.get(e)
            edges[e] = inl if prev is None else (prev and inl)
    inline: dict[NodeKey, str] = {}
    seen: dict[NodeKey, tuple[bool, bool]] = {}
    for (_caller, callee), inl in edges.items():
        a, b = seen.get(callee, (False, False))
        seen[callee] = (a or inl, b or not inl)
    for k, (has_inl, has_noinl) in seen.items():
        if has_inl:
            inline[k] = "(partial-inline)" if has_noinl else "(inline)"
    return NodeValues(flat, cum, frames, inline)


# Above this many stack entries the vectorized path wins over the per-sample loop
# (and importing numpy, ~0.1 s, is worth it).
NUMPY_THRESHOLD = 50_000


def _unique_sorted(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values. Keys here come in per-sample runs, which timsort
    (kind="stable") merges fast; numpy's hash-based np.unique is much slower on them."""
    import numpy as np

    if a.size == 0:
        return a
    a = np.sort(a, kind="stable")
    keep = np.empty(a.size, dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def node_values_columns(
    cols: Columns,
    index: int,
    by: Granularity,
    focus: re.Pattern[str] | None = None,
    ignore: re.Pattern[str] | None = None,
) -> NodeValues:
    """`filter_samples` + `node_values` over numpy columns: same numbers, vectorized."""
    import numpy as np

    frames = cols.frames
    key_index: dict[NodeKey, int] = {}
    node_keys: list[NodeKey] = []
    rep: dict[NodeKey, Frame] = {}
    fnode = np.empty(len(frames), dtype=np.int32)
    finl = np.zeros(len(frames), dtype=bool)
    fcls = np.zeros(len(frames), dtype=np.int8)
    for i, fr in enumerate(frames):
        k = node_key(fr, by)
        j = key_index.get(k)
        if j is None:
            j = key_index[k] = len(node_keys)
            node_keys.append(k)
            rep[k] = fr
        fnode[i] = j
        finl[i] = fr.inlined
        if ignore is not None and _frame_matches(fr, ignore):
            fcls[i] = 2
        elif focus is None or _frame_matches(fr, focus):
            fcls[i] = 1
    n_nodes = len(node_keys)
    n = cols.n_samples
    v = cols.values[:, index]
    lengths = np.diff(cols.starts)
    sample_of = np.repeat(np.arange(n, dtype=np.int32), lengths)
    use = (v != 0) & (lengths > 0)
    if focus is not None or ignore is not None:
        cls = fcls[cols.frame_idx]
        ignored = np.bincount(sample_of, weights=cls == 2, minlength=n) > 0
        focused = np.bincount(sample_of, weights=cls == 1, minlength=n) > 0
        use &= focused & ~ignored
    nodes = fnode[cols.frame_idx]
    entry_use = use[sample_of]
    vu = v[use]
    exact = float(np.abs(vu).sum()) < 2.0**52

    def sums(idx: np.ndarray, w: np.ndarray) -> np.ndarray:
        if exact:
            return np.rint(np.bincount(idx, weights=w, minlength=n_nodes)).astype(np.int64)
        out = np.zeros(n_nodes, dtype=np.int64)
        np.add.at(out, idx, w)
        return out

    flat = sums(nodes[cols.starts[:-1][use]], vu)
    pair = _unique_sorted(sample_of[entry_use].astype(np.int64) * n_nodes + nodes[entry_use])
    cum = sums(pair % n_nodes, v[pair // n_nodes])

    # Inline markers: only callees with an inlined occurrence can get one.
    inline: dict[NodeKey, str] = {}
    if finl.any():
        e_inl = finl[cols.frame_idx]
        cand_nodes = np.zeros(n_nodes, dtype=bool)
        cand_nodes[nodes[e_inl & entry_use]] = True
        callee_i = np.flatnonzero(entry_use[:-1] & (sample_of[:-1] == sample_of[1:]))
        callee_i = callee_i[cand_nodes[nodes[callee_i]]]
        callee, caller = nodes[callee_i], nodes[callee_i + 1]
        keep = callee != caller
        callee, caller, inl = callee[keep], caller[keep], e_inl[callee_i[keep]]
        ekey = caller.astype(np.int64) * n_nodes + callee
        all_edges = _unique_sorted(ekey)
        noinl_edges = _unique_sorted(ekey[~inl])
        inl_edges = np.setdiff1d(all_edges, noinl_edges, assume_unique=True)
        has_inl = set((inl_edges % n_nodes).tolist())
        has_noinl = set((noinl_edges % n_nodes).tolist())
        for j in has_inl:
            inline[node_keys[j]] = "(partial-inline)" if j in has_noinl else "(inline)"

    flat_d = {node_keys[j]: int(x) for j, x in enumerate(flat.tolist()) if x}
    cum_d = {node_keys[j]: int(x) for j, x in enumerate(cum.tolist()) if x}
    return NodeValues(flat_d, cum_d, rep, inline)


def total_of(samples: Iterable[Sample], index: int) -> int:
    """pprof's computeTotal: the sum of |value| over all samples."""
    return sum(abs(s.values[index]) for s in samples)


def _row(k: NodeKey, nv: NodeValues, by: Granularity) -> Row:
    fr = nv.frames[k]
    name = printable_name(k)
    if not k[0] and not k[1]:
        function, file, line = name, "", 0
    elif by == "function":
        function, file, line = fr.function, _display_file(fr.file), 0
    elif by == "line":
        function, file, line = fr.function, k[1], fr.line
    else:
        function, file, line = "", k[1], 0
    return Row(name, function, file, line, nv.flat.get(k, 0), nv.cum.get(k, 0), nv.inline.get(k, ""))


def rows_from(
    nv: NodeValues,
    by: Granularity,
    *,
    node_fraction: float = DEFAULT_NODE_FRACTION,
    node_count: int = 0,
    cum_sort: bool = False,
) -> tuple[list[Row], int, int]:
    """Trim and sort nodes like pprof's newTrimmedGraph + FlatNameOrder (CumNameOrder
    with `cum_sort`, pprof's -cum: |cum|, name, |flat|; the -nodecount cut then keeps
    the largest by cum, as pprof's SelectTopNodes does after its cum sort).

    Returns (rows, dropped_nodes, nodes_after_fraction).
    """
    keys = [k for k in nv.cum.keys() | nv.flat.keys() if nv.cum.get(k, 0) or nv.flat.get(k, 0)]
    flat_total = sum(nv.flat.get(k, 0) for k in keys)
    cutoff = abs(int(flat_total * node_fraction))
    dropped = 0
    if cutoff > 0:
        kept = [k for k in keys if abs(nv.cum.get(k, 0)) >= cutoff]
        dropped = len(keys) - len(kept)
        keys = kept
    after_fraction = len(keys)
    names = {k: printable_name(k) for k in keys}
    if cum_sort:
        keys.sort(key=lambda k: (
            -abs(nv.cum.get(k, 0)), names[k], -abs(nv.flat.get(k, 0)), _sprint_info(k),
        ))
    else:
        keys.sort(key=lambda k: (
            -abs(nv.flat.get(k, 0)), names[k], -abs(nv.cum.get(k, 0)), _sprint_info(k),
        ))
    if node_count > 0:
        keys = keys[:node_count]
    return [_row(k, nv, by) for k in keys], dropped, after_fraction


def aggregate(
    profile: Profile,
    *,
    sample_index: str | int | None = None,
    by: Granularity = "function",
    focus: str | None = None,
    ignore: str | None = None,
    node_fraction: float = DEFAULT_NODE_FRACTION,
    node_count: int = 0,
    cum_sort: bool = False,
) -> Table:
    """The `go tool pprof -top` table of one profile (`cum_sort`: `-top -cum`).

    `node_fraction=0` and `node_count=0` give every node (pprof `-nodefraction=0`).
    """
    if by not in GRANULARITIES:
        raise UsageError(f"--by must be one of {', '.join(GRANULARITIES)}, not {by!r}")
    idx = profile.sample_index(sample_index)
    st = profile.sample_types[idx]
    focus_rx, ignore_rx = compile_filter(focus, "focus"), compile_filter(ignore, "ignore")
    cols = profile.columns if isinstance(profile.columns, Columns) else None
    if cols is None and sum(len(s.stack) for s in profile.samples) > NUMPY_THRESHOLD:
        cols = columns_of(profile)
    if cols is not None:
        total = int(abs(cols.values[:, idx]).sum())
        nv = node_values_columns(cols, idx, by, focus_rx, ignore_rx)
    else:
        total = total_of(profile.samples, idx)
        nv = node_values(filter_samples(profile.samples, focus_rx, ignore_rx), idx, by)
    rows, dropped, after = rows_from(nv, by, node_fraction=node_fraction, node_count=node_count,
                                     cum_sort=cum_sort)
    return Table(
        st.type, st.unit, total, rows, by, dropped, after, node_fraction,
        profile.time_nanos, profile.duration_nanos,
    )
