"""Render a `Listing` as pprof's `list` text, or as the `list` JSON of DESIGN.md.

JSON: DESIGN.md gives one object `{"function", "file", "lines": [{"line", "flat",
"cum", "text"}]}`. A regex often matches several functions (or one function in
several files), so the object describes the first routine in pprof's order (by
function name, then file) and always carries `"routines"`: every routine in that
same shape (plus its own `flat`, `cum` and `error`). A script written against the
single-object contract keeps working; one that wants every match reads `routines`.
"""

from __future__ import annotations

import json
from typing import Any

from leakhunter.analyze.listing import Listing, Routine
from leakhunter.units import human, percentage

_BOLD, _RED, _RESET = "\x1b[1m", "\x1b[31m", "\x1b[0m"


def render_text(lst: Listing, *, color: bool = False) -> str:
    def val(v: int) -> str:
        return human(v, lst.unit) if v else "."

    out = [f"Total: {human(lst.total, lst.unit)}"]
    for r in lst.routines:
        if not r.file:
            out.append(f"No source information for {r.function}")
            continue
        head = f"ROUTINE ======================== {r.function} in {r.file}"
        out.append(f"{_BOLD}{head}{_RESET}" if color else head)
        out.append(f"{human(r.flat, lst.unit):>10s} {human(r.cum, lst.unit):>10s} "
                   f"(flat, cum) {percentage(r.cum, lst.total)} of Total")
        if r.error:
            out.append(f" Error: {r.error}")
            for s in r.sampled:
                out.append(f"{val(s.flat):>10s} {val(s.cum):>10s} {s.line:6d}: (source not shown)")
            continue
        for s in r.lines:
            text = f"{val(s.flat):>10s} {val(s.cum):>10s} {s.line:6d}:{s.text}"
            if color and (s.flat or s.cum):
                text = f"{_RED}{text}{_RESET}"
            out.append(text)
    return "\n".join(out) + "\n"


def _routine(r: Routine) -> dict[str, Any]:
    lines = r.lines if not r.error else r.sampled
    return {
        "function": r.function, "file": r.file, "flat": r.flat, "cum": r.cum,
        "error": r.error,
        "lines": [{"line": s.line, "flat": s.flat, "cum": s.cum, "text": s.text} for s in lines],
    }


def to_json(lst: Listing) -> dict[str, Any]:
    routines = [_routine(r) for r in lst.routines]
    first = routines[0]
    return {
        "function": first["function"], "file": first["file"], "lines": first["lines"],
        "sample_type": lst.sample_type, "unit": lst.unit, "total": lst.total,
        "routines": routines,
    }


def render_json(lst: Listing) -> str:
    return json.dumps(to_json(lst), indent=2) + "\n"
