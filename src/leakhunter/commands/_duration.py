"""`10s`, `500ms`, `1m30s`, `2h`, `90` (seconds) → seconds, for --interval / --duration."""

from __future__ import annotations

import argparse
import math
import re

_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h|d)?")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def duration_seconds(text: str) -> float:
    """Seconds in `text`, zero allowed; callers decide whether zero means "none".

    A leading minus gets its own message because "not a duration" would
    send the user looking for a unit typo when the sign is the problem.
    """
    s = text.strip().lower()
    pos, total = 0, 0.0
    if not s:
        raise argparse.ArgumentTypeError("empty duration (try 10s, 500ms, 30m)")
    if s.startswith("-"):
        raise argparse.ArgumentTypeError(f"duration must not be negative: {text!r}")
    while pos < len(s):
        m = _PART.match(s, pos)
        if not m:
            raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try 10s, 500ms, 30m)")
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if not math.isfinite(total):
        raise argparse.ArgumentTypeError(f"duration is not finite: {text!r}")
    return total


def parse_duration(text: str) -> float:
    total = duration_seconds(text)
    if total <= 0:
        raise argparse.ArgumentTypeError(f"duration must be positive: {text!r}")
    return total
