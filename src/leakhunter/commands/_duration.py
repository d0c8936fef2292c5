"""`10s`, `500ms`, `1m30s`, `2h`, `90` (seconds) → seconds, for --interval / --duration."""

from __future__ import annotations

import argparse
import re

_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h|d)?")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(text: str) -> float:
    s = text.strip().lower()
    pos, total = 0, 0.0
    if not s:
        raise argparse.ArgumentTypeError("empty duration")
    while pos < len(s):
        m = _PART.match(s, pos)
        if not m:
            raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try 10s, 500ms, 30m)")
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if total <= 0:
        raise argparse.ArgumentTypeError(f"duration must be positive: {text!r}")
    return total
