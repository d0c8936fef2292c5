"""Parse `go tool pprof -top` output into exact numbers, and leakhunter's JSON into the same shape.

The expected side of every top/diff test: pprof's own table, printed with `-unit=B`
(or `-unit=ns`) so values are exact integers rather than rounded kB.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from golab import go_tool_pprof, leakhunter

GRAN_FLAG = {"function": "-functions", "line": "-lines", "file": "-files"}
_EXACT_UNIT = {"bytes": "-unit=B", "nanoseconds": "-unit=ns"}


@dataclass
class TopTable:
    total: int
    rows: list[tuple[str, int, int]]  # (printable name, flat, cum)
    text: str = ""

    def order(self) -> list[tuple[str, int]]:
        """(name, flat) in row order: pprof's sort key; equal-named rows (one file, several
        functions at -files) are tied in pprof and come out in Go-map order."""
        return [(n, f) for n, f, _ in self.rows]


def _num(tok: str) -> int:
    if tok == "0":
        return 0
    m = re.fullmatch(r"(-?\d+)(B|ns)?", tok)
    assert m, f"not an exact value: {tok!r} (missing -unit?)"
    return int(m.group(1))


def pprof_top(path: str, *, unit: str, by: str = "function", args: tuple[str, ...] = ()) -> TopTable:
    flags = ["-top", GRAN_FLAG[by], *args]
    if unit in _EXACT_UNIT:
        flags.append(_EXACT_UNIT[unit])
    out = go_tool_pprof(*flags, path)
    total = None
    rows: list[tuple[str, int, int]] = []
    in_rows = False
    for line in out.splitlines():
        m = re.match(r"Showing nodes accounting for (\S+), .* of (\S+) total", line)
        if m:
            total = _num(m.group(2))
            continue
        if re.match(r"\s+flat\s+flat%", line):
            in_rows = True
            continue
        if in_rows and line.strip():
            parts = line.split(None, 5)
            name = re.sub(r" \((partial-)?inline\)$", "", parts[5])
            rows.append((name, _num(parts[0]), _num(parts[3])))
    assert total is not None, out
    return TopTable(total, rows, out)


def json_name(row: dict[str, object], by: str) -> str:
    fn, file, line = str(row["function"]), str(row["file"]), int(str(row["line"]))
    if by == "function" or not file:
        return fn
    if by == "line":
        return f"{fn} {file}:{line}" if line else f"{fn} {file}"
    return file


def leakhunter_top(
    *args: str, by: str = "function", command: str = "top", stdin: bytes | None = None
) -> tuple[TopTable, dict[str, object]]:
    res = leakhunter(command, "--format", "json", "--by", by, *args, input=stdin)
    assert res.returncode == 0, res.stderr.decode()
    doc = json.loads(res.stdout)
    rows = [(json_name(r, by), int(r["flat"]), int(r["cum"])) for r in doc["rows"]]
    return TopTable(int(doc["total"]), rows), doc


def assert_same(mine: TopTable, theirs: TopTable) -> None:
    assert mine.total == theirs.total
    assert mine.order() == theirs.order()
    assert sorted(mine.rows) == sorted(theirs.rows)
    assert mine.rows, "an empty table proves nothing"
