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
