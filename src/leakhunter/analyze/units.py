"""Human units for evidence lines: `12.3 MiB`, `+1.2k goroutines/min`, `14 min`.

Analysis writes its evidence as sentences (the Verdict carries them to every
renderer), so the number formatting lives here, next to the numbers.
"""

from __future__ import annotations

import math


def human_bytes(n: float, *, sign: bool = False) -> str:
    s = "+" if sign and n > 0 else ("-" if n < 0 else "")
    a = abs(n)
    for unit, div in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if a >= div:
            return f"{s}{a / div:.1f} {unit}"
    return f"{s}{a:.0f} B"


def human_count(n: float, *, sign: bool = False) -> str:
    s = "+" if sign and n > 0 else ("-" if n < 0 else "")
    a = abs(n)
    if a >= 1e6:
        return f"{s}{a / 1e6:.1f}M"
    if a >= 1e4:
        return f"{s}{a / 1e3:.1f}k"
    if a >= 100 or a == int(a):
        return f"{s}{a:,.0f}"
    return f"{s}{a:.1f}"


def human_amount(n: float, unit: str, *, sign: bool = False) -> str:
    if unit == "bytes":
        return human_bytes(n, sign=sign)
    return f"{human_count(n, sign=sign)} {unit}"


def human_duration(seconds: float) -> str:
    if math.isinf(seconds) or math.isnan(seconds):
        return "never"
    s = max(0.0, seconds)
    if s < 90:
        return f"{s:.0f}s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    if s < 2 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"
