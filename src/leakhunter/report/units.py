"""Values in the units pprof prints (`3598.02kB`, `12.50ms`, `250`), for people.

pprof's measurement package decides units; users compare our tables with its tables,
so the scaling rules are the same: bytes go B/kB/MB/GB/TB/PB in powers of 1024,
durations ns/us/ms/s/hrs, counts stay plain; two decimals, `.00` trimmed.
"""

from __future__ import annotations

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
