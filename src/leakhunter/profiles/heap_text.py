"""The legacy text heap profile (`/debug/pprof/heap?debug=1`, `heap profile: ...`).

Values follow pprof's legacy parser (profile/legacy_profile.go) exactly, so totals
equal `go tool pprof` on the same file: the header's `heap/RATE` gives a period of
RATE/2, and each record's counts are un-sampled with pprof's scaleHeapSample.

Where this differs from pprof, on purpose: pprof cannot symbolize this format without
the binary and shows every frame as `<unknown>`. The Go runtime writes the symbols
itself, as `#\t0xPC\tfunc+0xOFF\tfile:line` lines under each record (several lines for
one PC when calls were inlined), so we use them. The runtime omits its own allocator
frames from those lines; the unsymbolized addresses at the leaf of a stack are
therefore dropped, which is what pprof's heap drop_frames would do had it names.
"""

from __future__ import annotations

import math
import re

from leakhunter.bounds import compile_linear, to_int
from leakhunter.errors import CorruptInputError
from leakhunter.model import Frame, Profile, Sample, SampleType

# Anchored, and run on single lines; the symbol line (a lazy and a greedy `.*` that
# could backtrack against each other) goes through RE2, which is linear in the line.
_HEADER = re.compile(
    r"\s*heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] *@ *(heap[_a-z0-9]*)/?(\d*)"
)
_SAMPLE = re.compile(r"(-?\d+): *(-?\d+) *\[ *(\d+): *(\d+) *\] @([ x0-9a-f]*)")
_SYMBOL = compile_linear(
    r"#\s+0x([0-9a-f]+)\s+(\S.*?)\+0x[0-9a-f]+\s+(\S.*):(\d+)\s*$", "heap symbol line"
)
_I64 = (1 << 63) - 1


def scale_heap_sample(count: int, size: int, rate: int) -> tuple[int, int]:
    """pprof's scaleHeapSample: undo the runtime's sampling of allocations."""
    if count == 0 or size == 0:
        return 0, 0
    if rate <= 1:
        return count, size
    avg = size / count
    x = avg / rate
    denom = 1 - math.exp(-x)
    if denom == 0:
        # pprof's formula underflows for tiny objects at huge rates; expm1 does not.
        denom = -math.expm1(-x)
    factor = 1 / denom
    c, s = count * factor, size * factor
    if not (math.isfinite(c) and math.isfinite(s)) or max(abs(c), abs(s)) >= 2.0**63:
        raise CorruptInputError(f"heap record out of range: {count}: {size} at rate {rate}")
    return int(c), int(s)


def _header(first: str) -> tuple[bool, str, int, list[SampleType]]:
    """(has alloc columns, sampling, period, sample types) from the `heap profile:` line."""
    head = _HEADER.match(first)
    if head is None:
        raise CorruptInputError("not a heap profile: bad header line")
    n1, b1, n3, b3, kind, rate_s = head.groups()
    period = to_int(rate_s, "heap profile sampling rate", hi=_I64) if rate_s else 0
    sampling = ""
    if kind in ("heapz_v2", "heap_v2"):
        sampling = "v2"
    elif kind == "heapprofile":
        period = 1
    elif kind == "heap":
        sampling, period = "v2", period // 2
    else:
        raise CorruptInputError(f"not a heap profile: unknown sampling {kind!r}")
    has_alloc = (n3 != n1 and n3 != "0") or (b3 != b1 and b3 != "0")
    if has_alloc:
        types = [SampleType("alloc_objects", "count"), SampleType("alloc_space", "bytes"),
                 SampleType("inuse_objects", "count"), SampleType("inuse_space", "bytes")]
    else:
        types = [SampleType("objects", "count"), SampleType("space", "bytes")]
    return has_alloc, sampling, period, types


def _values(m: re.Match[str], has_alloc: bool, sampling: str, period: int,
            raw: list[int] | None = None) -> tuple[list[int], int]:
    """One record's (values in the order of the sample types, block size), un-sampled as pprof does.
    `raw`, if given, gets the record's numbers as written added to it (in-use count and bytes, alloc
    count and bytes: the header's order), parsed once for both."""
    values: list[int] = []
    block = 0
    pairs = ((m.group(3), m.group(4), 2),) if has_alloc else ()
    for count_s, size_s, at in (*pairs, (m.group(1), m.group(2), 0)):
        count = to_int(count_s, "heap record count", lo=-_I64, hi=_I64)
        size = to_int(size_s, "heap record bytes", lo=-_I64, hi=_I64)
        if raw is not None:
            raw[at] += count
            raw[at + 1] += size
        if count == 0 and size != 0:
            raise CorruptInputError(f"malformed heap record: count 0 but {size} bytes")
        if count:
            block = int(size / count)  # pprof: the last non-empty pair sets the block size
            if sampling == "v2":
                count, size = scale_heap_sample(count, size, period)
        values += (count, size)
    return values, block


def totals(data: bytes, *, complete: bool = False) -> dict[str, float]:
    """Each sample type's total, as `parse` would sum them, from the record lines alone.

    `complete`: the profile was just served by a Go runtime, which writes in its header the
    sums of the records below it and ends the MemStats trailer with `# DebugGC`; a body cut
    short (a dying process, a proxy) still parses as a smaller heap, so the records must add
    up to the header and the trailer must end, or CorruptInputError says it was truncated.

    Why: `watch` reads the text form on every scrape of a service that serves only pprof, for
    the MemStats trailer (the heap goal and GC count, once per GC); the `#` symbol lines are most
    of its bytes and matter only to suspects, which parse the stored profile when asked. On a 275 KB
    profile of the lab's unboundedmap (memprofilerate 512): 7.4 ms against `parse`'s 68 ms, the
    binary form's totals 6.2 ms."""
    lines = data.decode("utf-8", errors="replace").splitlines()
    if not lines:
        raise CorruptInputError("empty heap profile")
    has_alloc, sampling, period, types = _header(lines[0])
    sums = [0] * len(types)
    raw_sums = [0, 0, 0, 0]  # in-use objects, bytes; alloc objects, bytes: as the header has them
    for raw in lines[1:]:
        line = raw.lstrip()
        if not line or line[0] == "#":
            continue
        if line.startswith(("MAPPED_LIBRARIES:", "--- Memory map: ---")):
            break
        m = _SAMPLE.match(line)
        if m is None:
            raise CorruptInputError(f"not a heap profile: malformed record {line[:60]!r}")
        for i, v in enumerate(_values(m, has_alloc, sampling, period, raw_sums if complete else None)[0]):
            sums[i] += v
        if complete and not has_alloc:
            raw_sums[2] += int(m.group(3))
            raw_sums[3] += int(m.group(4))
    if complete:
        head = _HEADER.match(lines[0])
        assert head is not None  # _header checked it
        want = [int(head.group(i + 1)) for i in range(4)]
        # The runtime adds 1 to the alloc bytes when they equal the in-use bytes.
        if raw_sums[:3] != want[:3] or want[3] - raw_sums[3] not in (0, 1):
            raise CorruptInputError(
                f"heap profile truncated: its records add up to {raw_sums[1]} in-use bytes, "
                f"its header says {want[1]}")
        if not any(x.startswith("# DebugGC = ") for x in lines[-4:]):
            raise CorruptInputError("heap profile truncated: its MemStats trailer does not end")
    return {st.type: float(s) for st, s in zip(types, sums, strict=True)}


def parse(data: bytes) -> Profile:
    """Parse a legacy heap profile into a Profile with pprof's values."""
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines()
    if not lines:
        raise CorruptInputError("empty heap profile")
    has_alloc, sampling, period, types = _header(lines[0])

    # One record per sample line; the `#` lines under it are its stack as the runtime
    # chose to show it (allocator frames and goexit left out), innermost first.
    records: list[tuple[list[int], int, list[int], list[tuple[int, Frame]]]] = []
    for raw in lines[1:]:
        line = raw.strip()
        if line.startswith(("MAPPED_LIBRARIES:", "--- Memory map: ---")):
            break
        if not line:
            continue
        if line.startswith("#"):
            sym = _SYMBOL.match(line)
            if sym and records:
                pc = to_int(sym.group(1), "heap profile address", base=16)
                ln = to_int(sym.group(4), "heap profile line number", hi=(1 << 31) - 1)
                records[-1][3].append((pc, Frame(sym.group(2), sym.group(3), ln)))
            continue
        m = _SAMPLE.match(line)
        if m is None:
            raise CorruptInputError(f"not a heap profile: malformed record {line[:60]!r}")
        values, block = _values(m, has_alloc, sampling, period)
        try:
            addrs = [to_int(a, "heap record address", base=16) - 1 for a in m.group(5).split()]
        except (ValueError, CorruptInputError):
            raise CorruptInputError(f"malformed heap record addresses: {line[:60]!r}") from None
        records.append((values, block, addrs, []))

    intern: dict[tuple[str, str, int, bool], Frame] = {}
    samples: list[Sample] = []
    for values, block, addrs, symbols in records:
        stack: list[Frame] = []
        if symbols:
            for i, (pc, fr) in enumerate(symbols):
                # Several lines for one PC: calls inlined into the last of them.
                inl = i + 1 < len(symbols) and symbols[i + 1][0] == pc
                key = (fr.function, fr.file, fr.line, inl)
                stack.append(intern.setdefault(key, Frame(fr.function, fr.file, fr.line, inlined=inl)))
        else:
            stack = [Frame(f"0x{pc:x}", address=pc) for pc in addrs]
        samples.append(Sample(tuple(stack), tuple(values), {}, {"bytes": (block,)}))
    return Profile(
        sample_types=types,
        samples=samples,
        period_type=SampleType("space", "bytes"),
        period=period,
    )
