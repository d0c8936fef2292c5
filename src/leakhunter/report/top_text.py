"""Render a top/diff `Table` as text (pprof's -top layout) or JSON (DESIGN.md contract).

Rendering only: every number comes from `analyze.aggregate`; here they are scaled to
one unit per table (pprof's "minimum" unit choice), aligned, and coloured on a terminal.
"""

from __future__ import annotations

import json
from typing import Any

from leakhunter.analyze.aggregate import Table
from leakhunter.model import Frame
from leakhunter.units import human, output_unit, percentage, scaled

_BOLD, _DIM, _RESET, _RED, _GREEN = "\x1b[1m", "\x1b[2m", "\x1b[0m", "\x1b[31m", "\x1b[32m"


def _table_unit(table: Table) -> str:
    vals = [abs(r.flat) or abs(r.cum) for r in table.rows]
    nonzero = [v for v in vals if v > 0]
    return output_unit(min(nonzero) if nonzero else 0, table.total, table.unit)


def render_text(table: Table, *, color: bool = False, title: str = "") -> str:
    """pprof -top text: header lines, then `flat flat% sum% cum cum% name` rows."""
    unit = _table_unit(table)

    def fmt(v: int) -> str:
        return scaled(v, table.unit, unit)

    lines: list[str] = []
    if title:
        lines.append(title)
    lines.append(f"Type: {table.sample_type}")
    if table.time_nanos:
        import time

        t = time.localtime(table.time_nanos / 1e9)
        lines.append("Time: " + time.strftime("%Y-%m-%d %H:%M:%S %Z", t))
    if table.duration_nanos:
        lines.append(f"Duration: {human(table.duration_nanos, 'nanoseconds')}")
    if table.base_total is not None and table.new_total is not None:
        lines.append(
            f"Diff: NEW minus BASE (base total {fmt(table.base_total)}, new total {fmt(table.new_total)})"
        )
    lines.append(
        f"Showing nodes accounting for {fmt(table.shown)}, "
        f"{percentage(table.shown, table.total).strip()} of {fmt(table.total)} total"
    )
    if table.dropped_nodes and table.total:
        cut = fmt(abs(int(table.total * table.node_fraction)))
        s = "s" if table.dropped_nodes > 1 else ""
        lines.append(f"Dropped {table.dropped_nodes} node{s} (cum <= {cut})")
    if 0 < len(table.rows) < table.node_count:
        lines.append(f"Showing top {len(table.rows)} nodes out of {table.node_count}")
    header = f"{'flat':>10s} {'flat':>5s}% {'sum':>5s}% {'cum':>10s} {'cum':>5s}%"
    lines.append(f"{_BOLD}{header}{_RESET}" if color else header)
    flat_sum = 0
    for r in table.rows:
        flat_sum += r.flat
        inl = f" {r.inline}" if r.inline else ""
        name = r.name + inl
        if color:
            if table.base_total is not None and (r.flat or r.cum):
                tone = _RED if (r.flat or r.cum) > 0 else _GREEN
                name = f"{tone}{name}{_RESET}"
            elif r.function and Frame(r.function).is_runtime:
                name = f"{_DIM}{name}{_RESET}"
        lines.append(
            f"{fmt(r.flat):>10s} {percentage(r.flat, table.total)} "
            f"{percentage(flat_sum, table.total)} {fmt(r.cum):>10s} "
            f"{percentage(r.cum, table.total)}  {name}"
        )
    return "\n".join(lines) + "\n"


def to_json(table: Table) -> dict[str, Any]:
    """The `top` / `diff` JSON object of DESIGN.md."""
    out: dict[str, Any] = {
        "sample_type": table.sample_type,
        "unit": table.unit,
        "total": table.total,
        "rows": [
            {"function": r.function, "file": r.file, "line": r.line, "flat": r.flat, "cum": r.cum}
            for r in table.rows
        ],
    }
    if table.base_total is not None:
        out["base_total"] = table.base_total
        out["new_total"] = table.new_total
    return out


def render_json(table: Table) -> str:
    return json.dumps(to_json(table), indent=2) + "\n"
