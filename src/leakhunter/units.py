"""Number formatting for people, in the two styles leakhunter needs — and why two.

1. **pprof style** (`scale`, `human`, `scaled`, `output_unit`, `percentage`):
   `3598.02kB`, `12.50ms`, `250`. `top` and `diff` print tables that users put
   side by side with `go tool pprof -top`'s, and tests compare them byte for byte,
   so the scaling rules are pprof's measurement package's: bytes go
   B/kB/MB/GB/TB/PB in powers of 1024 (pprof's spelling, not SI), durations
   ns/us/ms/s/hrs, counts stay plain; two decimals, `.00` trimmed. Changing these
   breaks compatibility with pprof's text.
2. **evidence style** (`human_bytes`, `human_count`, `human_amount`,
   `human_duration`): `12.3 MiB`, `+1.2k goroutines/min`, `14 min`. Verdict
   evidence is written as sentences by the analysis (the Verdict carries them to
   every renderer), where unambiguous IEC units, a sign for rates and a spoken
   duration read better than pprof's column format.

Both live here, at the bottom layer (it imports nothing from leakhunter), so
`analyze/` and `report/` share one module without a lower layer importing a
higher one.
"""

from __future__ import annotations

import math

# --- pprof style -------------------------------------------------------------------
_MEMORY = (("B", 1.0), ("kB", 1024.0), ("MB", 1024.0**2), ("GB", 1024.0**3),
           ("TB", 1024.0**4), ("PB", 1024.0**5))
_TIME = (("ns", 1.0), ("us", 1e3), ("ms", 1e6), ("s", 1e9), ("hrs", 3600e9))

_ALIASES: dict[str, tuple[tuple[tuple[str, float], ...], float]] = {}
for _names, _table, _factor in (
    (("b", "byte"), _MEMORY, 1.0),
    (("kb", "kbyte", "kilobyte"), _MEMORY, 1024.0),
    (("mb", "mbyte", "megabyte"), _MEMORY, 1024.0**2),
    (("gb", "gbyte", "gigabyte"), _MEMORY, 1024.0**3),
    (("tb", "tbyte", "terabyte"), _MEMORY, 1024.0**4),
    (("pb", "pbyte", "petabyte"), _MEMORY, 1024.0**5),
    (("ns", "nanosecond"), _TIME, 1.0),
    (("μs", "us", "microsecond"), _TIME, 1e3),
    (("ms", "millisecond"), _TIME, 1e6),
    (("s", "sec", "second"), _TIME, 1e9),
    (("hour", "hr"), _TIME, 3600e9),
):
    for _n in _names:
        _ALIASES[_n] = (_table, _factor)


def _lookup(unit: str) -> tuple[tuple[tuple[str, float], ...], float] | None:
    u = unit.lower()
    if len(u) > 2:
        u = u.removesuffix("s")
    return _ALIASES.get(u)


def scale(value: float, unit: str, to: str = "auto") -> tuple[float, str]:
    """pprof's measurement.Scale: `value` in `unit` expressed in `to` (or auto-scaled)."""
    if value < 0:
        v, u = scale(-value, unit, to)
        return -v, u
    found = _lookup(unit)
    if found is None:
        return float(value), "" if to in ("count", "sample", "unit", "minimum", "auto") else to
    table, factor = found
    base = value * factor
    if to in ("auto", "minimum"):
        best = None
        for name, f in table:
            if base / f >= 1.0:
                best = (name, f)
        if best is None:
            name, f = table[0] if table is _MEMORY else ("s", 1e9)
            return base / f, name
        return base / best[1], best[0]
    target = _lookup(to)
    if target is None or target[0] is not table:
        name, f = table[0] if table is _MEMORY else ("s", 1e9)
        return base / f, name
    for name, f in table:
        if f == target[1]:
            return base / f, name
    return base, to


def _fmt(v: float, u: str) -> str:
    s = f"{v:.2f}".removesuffix(".00")
    if s in ("0", "-0"):
        return "0"
    return s + u


def human(value: float, unit: str) -> str:
    """One value for people, auto-scaled like pprof (`4.01MB`, `12ms`, `250`)."""
    return _fmt(*scale(value, unit, "auto"))


def scaled(value: float, unit: str, to: str) -> str:
    """A value in a fixed output unit (a whole table shares one, like pprof's)."""
    return _fmt(*scale(value, unit, to))


def output_unit(min_value: int, max_value: int, unit: str) -> str:
    """pprof's selectOutputUnit: one unit for a table from its smallest and largest values."""
    if min_value == 0:
        min_value = max_value
    _, min_unit = scale(min_value, unit, "minimum")
    _, max_unit = scale(max_value, unit, "minimum")
    out = min_unit
    if min_unit != max_unit and min_value * 100 < max_value:
        _, out = scale(100 * min_value, unit, "minimum")
    return out or unit


def percentage(value: float, total: float) -> str:
    """pprof's measurement.Percentage, 6 characters wide."""
    ratio = abs(value / total) * 100 if total else 0.0
    if 99.95 <= ratio <= 100.05:
        return "  100%"
    if ratio >= 1.0:
        return f"{ratio:5.2f}%"
    return f"{ratio:5.2g}%"  # Go's %5.2g and Python's agree


# --- evidence style ----------------------------------------------------------------

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
    if unit == "bytes/request":
        return f"{human_bytes(n, sign=sign)}/request"
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


def eta_span(low_s: float | None, high_s: float | None) -> str:
    """` (95%: 3 min to 9 min)` for a time to the memory limit's interval, '' without one.

    `high_s` None is a rate whose lower bound is not above zero: the limit may never be
    reached. One wording for the text, the report and the evidence lines alike."""
    if low_s is None:
        return ""
    late = human_duration(high_s) if high_s is not None else "never"
    return f" (95%: {human_duration(low_s)} to {late})"
