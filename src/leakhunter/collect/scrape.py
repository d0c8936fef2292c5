"""One scrape of one target: fetch the endpoints, turn bytes into numbers.

The parsing here is deliberately minimal and fast, because it runs for every target
every interval (hundreds of targets at 10 s): the heap profile is decoded only far
enough to sum its columns (`heap_totals`), the goroutine count is the first line of
the `debug=1` text, memstats come from `/debug/vars` JSON. The full decoding into
the shared model (`leakhunter.profiles`) happens later, in analysis, and only for the
few snapshots that are kept.

Why the heap profile's `inuse_space` total is "the live heap": Go's heap profile is
published as of the most recently completed GC, so its in-use totals are the
post-GC heap, free of the GC sawtooth that HeapAlloc shows between collections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from leakhunter.errors import CorruptInputError

MAX_PROFILE_BYTES = 256 << 20


@dataclass(slots=True)
class HeapTotals:
    """Column totals of one heap profile and the identity facts it carries."""

    inuse_space: float = 0.0
    inuse_objects: float = 0.0
    alloc_space: float = 0.0
    alloc_objects: float = 0.0
    build_id: str = ""
    time_nanos: int = 0
    memstats: dict[str, float] = field(default_factory=dict)
    """The text form's `# runtime.MemStats` trailer (empty for the binary form)."""


def heap_totals(data: bytes, *, max_bytes: int = MAX_PROFILE_BYTES) -> HeapTotals:
    """Sum the sample columns of a heap profile: the (gzipped) binary form, or the text form
    (`heap?debug=1`) with the runtime's MemStats it ends with.

    Raises CorruptInputError for anything that is not a heap profile.
    """
    from google.protobuf.message import DecodeError

    from leakhunter.profiles import unpack
    from leakhunter.profiles.proto import profile_pb2

    raw = unpack(data, max_bytes=max_bytes)
    if raw[:64].lstrip().startswith(b"heap profile:"):
        return _text_heap_totals(raw)
    msg = profile_pb2.Profile()
    try:
        msg.ParseFromString(raw)
    except DecodeError as exc:
        raise CorruptInputError(f"heap profile does not decode: {exc}") from None
    strings = list(msg.string_table)

    def s(i: int) -> str:
        return strings[i] if 0 <= i < len(strings) else ""

    types = [s(st.type) for st in msg.sample_type]
    if "inuse_space" not in types:
        raise CorruptInputError(f"not a heap profile (sample types: {', '.join(types) or 'none'})")
    idx = {t: i for i, t in enumerate(types)}
    sums = [0] * len(types)
    for smp in msg.sample:
        vals = smp.value
        for i in range(min(len(vals), len(sums))):
            sums[i] += vals[i]
    out = HeapTotals(time_nanos=int(msg.time_nanos))
    for name in ("inuse_space", "inuse_objects", "alloc_space", "alloc_objects"):
        if name in idx:
            setattr(out, name, float(sums[idx[name]]))
    if msg.mapping:
        out.build_id = s(msg.mapping[0].build_id)
    return out


def _text_heap_totals(raw: bytes) -> HeapTotals:
    from leakhunter.profiles import heap_text

    sums = heap_text.totals(raw, complete=True)  # a live answer: a cut body must not read as a smaller heap
    out = HeapTotals(memstats=text_memstats(raw))
    for name in ("inuse_space", "inuse_objects", "alloc_space", "alloc_objects"):
        if name in sums:
            setattr(out, name, sums[name])
    return out


_MEMSTAT_LINE = re.compile(rb"^# (\w+) = (\d+)(?: / (\d+))?\s*$", re.M)
_MEMSTAT_PAIRS = {b"Stack": "Stack", b"MSpan": "MSpan", b"MCache": "MCache"}


def text_memstats(raw: bytes) -> dict[str, float]:
    """`# HeapAlloc = N` ... from the end of a text heap profile, named as /debug/vars names
    them (`# Stack = inuse / sys` gives StackInuse and StackSys).

    Why: net/http/pprof writes runtime.ReadMemStats after the profile, so `heap?gc=1&debug=1`
    gives the live heap right after the GC it forced on a service that serves nothing but
    pprof (no /debug/vars, no /metrics), which was otherwise judged on the profile's 512 KiB
    samples (issue 9's audit: a 1 KiB/request leak called at 58 s, a warming cache called a
    leak with --fail-fast in 4 of 4)."""
    tail = raw[raw.rfind(b"# runtime.MemStats"):] if b"# runtime.MemStats" in raw else b""
    out: dict[str, float] = {}
    for m in _MEMSTAT_LINE.finditer(tail):
        key, a, b = m.group(1), m.group(2), m.group(3)
        if b is not None and key in _MEMSTAT_PAIRS:
            out[_MEMSTAT_PAIRS[key] + "Inuse"] = float(a)
            out[_MEMSTAT_PAIRS[key] + "Sys"] = float(b)
        elif b is None:
            out[key.decode()] = float(a)
    return {k: v for k, v in out.items() if k in _MEMSTATS}


_GOROUTINE_TOTAL = re.compile(rb"^goroutine(?:leak)? profile: total (\d+)")


def goroutine_total(text: bytes) -> int:
    """The count on the first line of a `debug=1` goroutine (or goroutineleak) profile."""
    m = _GOROUTINE_TOTAL.match(text)
    if not m:
        raise CorruptInputError("not a debug=1 goroutine profile (no 'profile: total N' line)")
    from leakhunter.bounds import to_int

    return to_int(m.group(1), "goroutine profile total", hi=(1 << 63) - 1)


@dataclass(slots=True)
class Vars:
    """What `/debug/vars` (expvar) tells: memstats, and the command line for identity."""

    memstats: dict[str, float] = field(default_factory=dict)
    cmdline: list[str] = field(default_factory=list)


_MEMSTATS = ("HeapAlloc", "HeapInuse", "HeapIdle", "HeapReleased", "HeapSys", "StackInuse",
             "StackSys", "NumGC", "Sys", "TotalAlloc", "NextGC", "PauseTotalNs", "LastGC",
             "MSpanSys", "MCacheSys", "BuckHashSys", "GCSys", "OtherSys")


def parse_vars(data: bytes) -> Vars:
    """Parse expvar JSON; raises CorruptInputError when it is not JSON."""
    from leakhunter.bounds import loads_json

    # NaN/Infinity/1e400 and 100,000-deep nesting are refused here, never stored.
    doc: Any = loads_json(data, "/debug/vars")
    out = Vars()
    if not isinstance(doc, dict):
        return out
    ms = doc.get("memstats")
    if isinstance(ms, dict):
        for k in _MEMSTATS:
            v = ms.get(k)
            if isinstance(v, int | float) and not isinstance(v, bool):
                out.memstats[k] = float(v)
    cl = doc.get("cmdline")
    if isinstance(cl, list):
        out.cmdline = [str(x) for x in cl]
    return out
