"""Annotated source per function, exactly as `go tool pprof -list REGEX`.

pprof's `list` (internal/report/source.go, printSource) builds the graph at line
granularity without trimming, keeps the nodes whose *function name* the regex
searches (unanchored, like Go's MatchString), groups them by function and then by
file, and prints for each (function, file) a "routine": the sums of flat and cum
over its line nodes, then every source line from the function's first line (Go
profiles record it; else five lines before the first sampled line) to five after
the last sampled line (clipped to the file), each with the flat and
cum of the nodes at that line. Routines come in function-name order, files in name
order. Reading the source follows pprof's sourceReader: a path is first trimmed
heuristically against the search path (`--source-path`, default the working
directory), then opened if absolute, else looked up under every search directory
and its parents. A routine whose file cannot be read keeps its numbers and says why.

The numbers come from `aggregate.node_values` (the same nodes `top --by line`
shows), so `list` and `top` can never disagree; with a BASE profile the merged
profile of `analyze.diff.merge_negated` is listed (pprof `-base`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from leakhunter.analyze.aggregate import (
    NodeKey,
    NodeValues,
    node_values,
    node_values_columns,
    total_of,
)
from leakhunter.errors import UsageError
from leakhunter.model import Profile
from leakhunter.profiles.columns import Columns

MARGIN = 5
"""Lines shown before the first and after the last sampled line (pprof's margin)."""


@dataclass(slots=True)
class SourceLine:
    line: int
    flat: int
    cum: int
    text: str


@dataclass(slots=True)
class Routine:
    """One function in one file: pprof's `ROUTINE ==== fn in file` block."""

    function: str
    file: str
    flat: int
    cum: int
    lines: list[SourceLine] = field(default_factory=list)
    error: str = ""
    """Why the source could not be shown (the numbers per line are still in `sampled`)."""
    sampled: list[SourceLine] = field(default_factory=list)
    """Only the lines with values, text included when readable: kept even without source."""


@dataclass(slots=True)
class Listing:
    sample_type: str
    unit: str
    total: int
    routines: list[Routine]


class SourceReader:
    """pprof's sourceReader: files read once, found through the search path."""

    def __init__(self, search_path: str | None = None) -> None:
        self.search = search_path if search_path else os.getcwd()
        self._files: dict[str, list[str] | str] = {}

    def lines(self, path: str) -> list[str] | str:
        """The file's lines (no newlines), or the error text pprof would print."""
        got = self._files.get(path)
        if got is None:
            got = self._files[path] = self._read(path)
        return got

    def _read(self, path: str) -> list[str] | str:
        try:
            with open(self._locate(path), "rb") as f:
                data = f.read()
        except (OSError, ValueError) as exc:
            return f"{path}: {getattr(exc, 'strerror', None) or exc}"
        text = data.decode("utf-8", "replace")
        # bufio-style lines: a final newline does not start one more (empty) line.
        parts = text.split("\n")
        if parts and parts[-1] == "":
            parts.pop()
        return parts

    def _locate(self, path: str) -> str:
        p = self.trim(path)
        if os.path.isabs(p):
            return p
        for d in self.search.split(os.pathsep):
            d = os.path.abspath(d)
            while True:
                cand = os.path.join(d, p)
                if os.path.isfile(cand):
                    return cand
                parent = os.path.dirname(d)
                if parent == d:
                    break
                d = parent
        raise FileNotFoundError(2, f"not found under {self.search}")

    def trim(self, path: str) -> str:
        """pprof's trimPath heuristic: `/remote/proj/x/y.go` with search dir `/local/proj`
        becomes `x/y.go`, so a profile from a build machine lists against a local checkout."""
        for d in self.search.split(os.pathsep):
            want = "/" + os.path.basename(os.path.normpath(d)) + "/"
            i = path.find(want)
            if i != -1:
                return path[i + len(want):]
        return path


def _values(profile: Profile, idx: int) -> tuple[int, NodeValues]:
    cols = profile.columns if isinstance(profile.columns, Columns) else None
    if cols is not None:
        return int(abs(cols.values[:, idx]).sum()), node_values_columns(cols, idx, "line")
    return total_of(profile.samples, idx), node_values(profile.samples, idx, "line")


def listing(
    profile: Profile,
    regex: str,
    *,
    sample_index: str | int | None = None,
    source_path: str | None = None,
    reader: SourceReader | None = None,
) -> Listing:
    """pprof `-list REGEX` of `profile`; UsageError when no function matches (as pprof)."""
    try:
        rx = re.compile(regex)
    except re.error as exc:
        raise UsageError(f"REGEX {regex!r} is not a valid regular expression: {exc}") from None
    idx = profile.sample_index(sample_index)
    st = profile.sample_types[idx]
    total, nv = _values(profile, idx)
    by_fn: dict[str, dict[str, list[NodeKey]]] = {}
    for k in nv.cum.keys() | nv.flat.keys():
        name, file = k[0], k[1]
        if not name or not rx.search(name):
            continue
        files = by_fn.setdefault(name, {})
        if file:
            files.setdefault(file, []).append(k)
    if not by_fn:
        raise UsageError(f"no matches found for regexp: {regex}")
    reader = reader or SourceReader(source_path)
    routines: list[Routine] = []
    for name in sorted(by_fn):
        files = by_fn[name]
        if not files:
            routines.append(Routine(name, "", 0, 0, error=f"no source information for {name}"))
            continue
        for file in sorted(files):
            r = _routine(name, file, files[file], nv, reader)
            if source_path:
                # pprof names the file as found under -source_path (trimmed), not as
                # the build machine recorded it.
                r.file = reader.trim(file)
            routines.append(r)
    return Listing(st.type, st.unit, total, routines)


def _routine(name: str, file: str, keys: list[NodeKey], nv: NodeValues,
             reader: SourceReader) -> Routine:
    flat_at: dict[int, int] = {}
    cum_at: dict[int, int] = {}
    for k in keys:
        ln = k[3]
        flat_at[ln] = flat_at.get(ln, 0) + nv.flat.get(k, 0)
        cum_at[ln] = cum_at.get(ln, 0) + nv.cum.get(k, 0)
    r = Routine(name, file, sum(flat_at.values()), sum(cum_at.values()))
    src = reader.lines(file)
    sampled = sorted(cum_at)
    # pprof starts at the function's first line when the profile records it (Go
    # toolchains do), else five lines before the sampled line.
    start = min(nv.frames[k].start_line or k[3] - MARGIN for k in keys)
    if isinstance(src, str):
        r.error = src
        r.sampled = [SourceLine(ln, flat_at[ln], cum_at[ln], "") for ln in sampled]
        return r
    start = max(1, start)
    end = sampled[-1] + MARGIN
    for ln in range(start, min(end, len(src)) + 1):
        r.lines.append(SourceLine(ln, flat_at.get(ln, 0), cum_at.get(ln, 0), src[ln - 1]))
    r.sampled = [SourceLine(ln, flat_at[ln], cum_at[ln],
                            src[ln - 1] if 0 < ln <= len(src) else "") for ln in sampled]
    return r
