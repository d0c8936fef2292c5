"""Prometheus text exposition → the handful of process and Go numbers `watch` tracks.

Only what the verdicts need is kept: `process_resident_memory_bytes`,
`process_open_fds`, `process_start_time_seconds` (process identity),
`go_goroutines`, `go_threads` and `go_memstats_*` gauges. The parser is a tolerant
line reader (comments, labels, exponents, NaN), not a full OpenMetrics parser,
because a metrics page is foreign input and a bad line must not cost the scrape.
"""

from __future__ import annotations

import math
import re

_WANTED = re.compile(
    r"^(process_resident_memory_bytes|process_open_fds|process_start_time_seconds|"
    r"go_goroutines|go_threads|go_memstats_[a-z_]+)(\{[^}]*\})?\s+(\S+)"
)


def parse_metrics(text: str) -> dict[str, float]:
    """Values of the wanted unlabelled-or-first-labelled series; bad lines are skipped."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        m = _WANTED.match(line)
        if not m:
            continue
        try:
            v = float(m.group(3))
        except ValueError:
            continue
        if math.isnan(v) or math.isinf(v):
            continue
        out.setdefault(m.group(1), v)
    return out


def counter_total(text: str, name: str) -> float | None:
    """The sum of every series of the counter family `name` (all label sets; `name` or, for an
    OpenMetrics counter, `name` without its `_total`), None when the page has none. For `watch
    --requests-metric`: the requests a service has served, to divide its allocation by. Plain string
    matching, not a pattern built from the user's name: the name is input, the page foreign."""
    names = (name, name + "_total") if not name.endswith("_total") else (name,)
    total = 0.0
    found = False
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        head = line.split("{", 1)[0].split(None, 1)[0] if line.strip() else ""
        if head not in names:
            continue
        rest = line[len(head):]
        if rest.startswith("{"):
            close = rest.rfind("}")
            if close < 0:
                continue
            rest = rest[close + 1 :]
        parts = rest.split()
        if not parts:
            continue
        try:
            v = float(parts[0])
        except ValueError:
            continue
        if math.isnan(v) or math.isinf(v) or v < 0:
            continue
        total += v
        found = True
    # series that add up past a float's range are no count (an exporter's garbage, not traffic)
    return total if found and math.isfinite(total) else None
