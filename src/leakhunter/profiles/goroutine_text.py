"""Goroutine text dumps -> GoroutineDump: the debug=1 count form and the debug=2 / crash form.

debug=2 (`runtime.Stack(all)`, a panic, SIGQUIT) prints every goroutine: a million
goroutines is hundreds of MB. Building Python objects per goroutine or per line would
be the whole cost, so the reader works on big byte chunks with C-speed operations:

1. one regex substitution per chunk erases the argument lists, the only part of a
   frame that differs between goroutines of the same stack (a second one, only where
   headers carry pprof labels, erases those);
2. the chunk is split into goroutines, each goroutine's own id and its creator's id
   (`created by F in goroutine N`) are sliced out with C-level finds, and the blocks
   are counted with a `Counter` — identical blocks collapse to one key, so the
   Python-level parsing below runs per *distinct* block;
3. each distinct block is parsed line by line into state, frames and `created by`, and
   blocks that differ only in wait minutes or header details merge into one group.

Input is consumed in chunks cut at goroutine boundaries, so a dump read from a file never
needs to sit in memory whole. Everything before the first `goroutine N [` header (a panic
message, log lines) is ignored, as is noise after the last frame (`exit status 2`).
A dump cut short keeps every complete goroutine and drops the incomplete last one with a
warning: data already collected is never thrown away because its tail is missing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from leakhunter.bounds import to_int
from leakhunter.errors import CorruptInputError
from leakhunter.model import DumpKind, Frame, GoroutineDump, GoroutineGroup
from leakhunter.profiles.waitreason import infer_state


class Reader(Protocol):
    """Anything with `read(n)`: a binary file, stdin's buffer, a size-bounding wrapper."""

    def read(self, n: int = -1, /) -> bytes: ...


CHUNK = 8 << 20
_MAX_LINE = (1 << 31) - 1  # Go line numbers are int32
_I64 = (1 << 63) - 1
PPROF_DEBUG2_CAP = 64 << 20
"""runtime/pprof writeGoroutineStacks gives up growing its buffer at 64 MiB and writes
what fits: a larger ?debug=2 dump arrives cut at exactly this size."""

# First goroutine header of a debug=2 dump, wherever the noise before it ends.
_D2_HEADER = re.compile(rb"(?m)^([ \t]*)goroutine \d+(?: gp=\S+ m=\S+(?: mp=\S+)?)? \[")
# The debug=1 header line.
_D1_HEADER = re.compile(rb"(?m)^[ \t]*(goroutine|goroutineleak) profile: total (\d+)[ \t]*\r?$")

# Per-chunk normalisation (literal prefixes keep these on re's fast path).
_ARGS = re.compile(rb"\([^()\n]*+\)\n")  # possessive: no backtracking at `(*T).M(`
_GID = re.compile(rb"goroutine \d++")
_LABELS = re.compile(rb"\] \{[^\n]*\}:\n")  # Go 1.27: `[chan receive] {k: v}:`
_LABELS_IN = re.compile(rb" labels:\{[^\n]*\}\]:\n")  # Go 1.26: `[chan receive labels:{"k": "v"}]:`

# Per-distinct-block parsing.
_HEADER = re.compile(
    rb"goroutine(?: \d+)?(?: gp=\S+ m=\S+(?: mp=\S+)?)? \[([^\]]*?)(?: labels:\{.*\})?\](?: \{.*\})?:[ \t]*"
)
_FILE = re.compile(
    rb"[ \t]+(.*?):(\d+)(?: \+0x[0-9a-f]*)?(?: fp=0x[0-9a-f]+ sp=0x[0-9a-f]+(?: pc=0x[0-9a-f]+)?)?[ \t]*"
)
_CREATED_IN = re.compile(rb" in goroutine(?: \d+)?$")
_MINUTES = re.compile(rb"(\d+) minutes?")
_UNAVAILABLE = b"goroutine running on other thread; stack unavailable"


@dataclass(slots=True)
class _Block:
    """One distinct goroutine block, parsed: everything a group needs except the count."""

    state: str
    leaked: bool
    minutes: int
    locked: bool
    frames: tuple[Frame, ...]
    created_by: Frame | None
    elided: bool
    complete: bool


class _Frames:
    """Interns Frames so the few thousand distinct frames of a dump exist once each."""

    def __init__(self) -> None:
        self._cache: dict[tuple[bytes, bytes, bytes], Frame] = {}

    def get(self, function: bytes, file: bytes, line: bytes) -> Frame:
        key = (function, file, line)
        fr = self._cache.get(key)
        if fr is None:
            fr = Frame(
                function.decode("utf-8", "replace"),
                file.decode("utf-8", "replace"),
                to_int(line, "goroutine dump line number", hi=_MAX_LINE) if line else 0,
            )
            self._cache[key] = fr
        return fr


def sniff(data: bytes) -> str:
    """`debug=1`, `debug=2`, or "" when `data` is not a goroutine text dump."""
    head = data[: 1 << 20]
    m1 = _D1_HEADER.search(head)
    m2 = _D2_HEADER.search(head)
    if m1 and (not m2 or m1.start() < m2.start()):
        return "debug=1"
    if m2:
        return "debug=2"
    if _D2_HEADER.search(data):
        return "debug=2"
    return ""


def parse(data: bytes) -> GoroutineDump:
    """Parse a goroutine text dump (debug=1, debug=2, or a crash log containing one)."""
    form = sniff(data)
    if form == "debug=1":
        return _parse_debug1(data)
    if form == "debug=2":
        return parse_chunks(_slices(data))
    raise CorruptInputError(_not_a_dump(data))


def parse_file(f: Reader, first: bytes = b"") -> GoroutineDump:
    """Parse a dump from a binary file, reading it in chunks (for dumps of any size).

    `first` is what the caller already read from `f` to sniff it.
    """
    head = first + f.read(max(0, min(CHUNK, 1 << 20) - len(first)))
    form = sniff(head)
    if form == "debug=1":
        return _parse_debug1(head + f.read())
    if form == "":
        rest = f.read(CHUNK)
        if not rest:
            raise CorruptInputError(_not_a_dump(head))
        head += rest
    return parse_chunks(_file_chunks(head, f))


def _slices(data: bytes) -> Iterator[bytes]:
    view = memoryview(data)
    for i in range(0, len(data), CHUNK):
        yield bytes(view[i : i + CHUNK])


def _file_chunks(head: bytes, f: Reader) -> Iterator[bytes]:
    yield head
    while chunk := f.read(CHUNK):
        yield chunk


def _not_a_dump(data: bytes) -> str:
    if not data.strip():
        return "empty input: no goroutine dump in it"
    return (
        "not a goroutine dump: no 'goroutine N [state]:' header (debug=2) "
        "and no 'goroutine profile: total N' line (debug=1)"
    )


# ---------------------------------------------------------------- debug=2


def _is_header_start(tail: bytes) -> bool:
    """`tail` is a goroutine header, whole or cut anywhere (`gorou`, `goroutine 12`)."""
    return tail.startswith(b"goroutine ") or (bool(tail) and b"goroutine ".startswith(tail))


def parse_chunks(chunks: Iterable[bytes]) -> GoroutineDump:
    """The chunked debug=2 reader; `chunks` may split lines and goroutines anywhere."""
    counts: Counter[bytes] = Counter()
    raw_tail = b""  # incomplete last line of the raw input so far
    text_tail = b""  # normalised complete lines after the last blank line
    started = False
    prefix = b""
    ended_with_newline = True
    size = 0
    for chunk in chunks:
        if not chunk:
            continue
        size += len(chunk)
        ended_with_newline = chunk.endswith(b"\n")
        buf = raw_tail + chunk if raw_tail else chunk
        if not started:
            m = _D2_HEADER.search(buf)
            if m is None:
                nl = buf.rfind(b"\n")
                raw_tail = buf[nl + 1 :]
                continue
            started = True
            prefix = m.group(1)
            buf = buf[m.start() :]
        nl = buf.rfind(b"\n")
        if nl < 0:
            raw_tail = buf
            continue
        lines, raw_tail = buf[: nl + 1], buf[nl + 1 :]
        text = text_tail + _normalise(lines, prefix) if text_tail else _normalise(lines, prefix)
        cut = text.rfind(b"\n\n")
        if cut < 0:
            text_tail = text
            continue
        _count(text[: cut + 1], counts)
        text_tail = text[cut + 2 :]
    if not started:
        raise CorruptInputError("not a goroutine dump: no 'goroutine N [state]:' header")
    last = text_tail + _normalise(raw_tail, prefix) if raw_tail else text_tail
    dump = _build(counts, last, ended_with_newline)
    if size == PPROF_DEBUG2_CAP:
        dump.warnings.append(
            "the dump is exactly 64 MiB, where net/http/pprof cuts ?debug=2 output: "
            "goroutines after the cut are missing (the binary or ?debug=1 profile counts all)"
        )
    return dump


def _normalise(lines: bytes, prefix: bytes) -> bytes:
    if b"\r" in lines:
        lines = lines.replace(b"\r\n", b"\n")
    if prefix:
        lines = re.sub(rb"(?m)^" + re.escape(prefix), b"", lines)
    return lines


def _count(text: bytes, counts: Counter[bytes]) -> None:
    """Count the goroutines of `text` (whole blocks, ending in a newline) by normalised content.

    After the argument lists are gone, what still differs between goroutines of one
    stack is the id in the header and the creator's id in `created by ... in goroutine
    N`: `_keys` slices both out of each block with C-level finds, which is cheaper than
    another regex pass over all the text.
    """
    text = _ARGS.sub(b"()\n", text)
    if b"] {" in text:  # pprof labels in headers (Go 1.27 tracebacklabels), often per request
        text = _LABELS.sub(b"]:\n", text)
    if b" labels:{" in text:  # the same labels as Go 1.26 prints them, inside the brackets
        text = _LABELS_IN.sub(b"]:\n", text)
    pieces = text[:-1].split(b"\n\ngoroutine ")
    if pieces[0].startswith(b"goroutine "):
        pieces[0] = pieces[0][len(b"goroutine ") :]  # like the others: the split ate it
    else:
        # Text after a chunk cut starts after a blank line, not necessarily at a header:
        # what precedes the first header is noise, as it is when read whole.
        pieces[0] = b""
    counts.update(_keys(pieces))


def _keys(pieces: list[bytes]) -> Iterator[bytes]:
    """`N [state]:\n...created by F in goroutine M\n...` -> ` [state]:\n...created by F\n...`.

    Each piece is one goroutine (its `goroutine ` prefix consumed by the split), possibly
    followed by noise after a blank line; the first piece may be noise, or start with
    `goroutine N [`. Keys are parsed back by `_parse_key`.
    """
    for p in pieces:
        h = p.find(b" [")
        if h < 0 or p.find(b"\n", 0, h) >= 0 or not _is_id(p[:h]):
            # No `N [` on the header line: not a goroutine header (noise that happens to
            # follow a blank line), whatever later lines hold.
            yield _NOISE + p
            continue
        i = p.rfind(b" in goroutine ")
        if i > h:
            yield p[h:i] + p[p.find(b"\n", i) :]
        else:
            yield p[h:]


_NOISE = b"\x00"
_ID = re.compile(rb"\d+ gp=\S+ m=\S+(?: mp=\S+)?")


def _is_id(head: bytes) -> bool:
    """`12` or `12 gp=0x.. m=0 mp=0x..`: what a goroutine header holds before ` [`."""
    return head.isdigit() or _ID.fullmatch(head) is not None


def _header_has_id(block: bytes) -> bool:
    if not block.startswith(b"goroutine "):
        return True  # not a header at all: _parse_block decides (and refuses) it
    h = block.find(b" [", 9)
    return h >= 10 and block.find(b"\n", 0, h) < 0 and _is_id(block[10:h])


def _parse_key(key: bytes, frames: _Frames) -> _Block | None:
    if key.startswith(_NOISE):
        return None
    return _parse_block(b"goroutine" + key, frames)


def _build(counts: Counter[bytes], last: bytes, ended_with_newline: bool) -> GoroutineDump:
    frames = _Frames()
    groups: dict[tuple[object, ...], GoroutineGroup] = {}
    warnings: list[str] = []
    total = 0

    def add(block: _Block, n: int) -> None:
        nonlocal total
        total += n
        key = (block.state, block.leaked, block.frames, block.created_by)
        g = groups.get(key)
        if g is None:
            groups[key] = GoroutineGroup(
                count=n, state=block.state, stack=block.frames, wait_minutes=block.minutes,
                leaked=block.leaked, created_by=block.created_by, locked=block.locked,
                elided=block.elided,
            )
        else:
            g.count += n
            g.wait_minutes = max(g.wait_minutes, block.minutes)
            g.locked = g.locked or block.locked

    for raw, n in counts.items():
        parsed = _parse_key(raw, frames)
        if parsed is not None:
            add(parsed, n)

    # The tail: complete blocks, then the final one, which may have been cut short.
    if last.strip(b"\n"):
        text = _ARGS.sub(b"()\n", last)
        # The same header rule as `_keys` (a numeric id before ` [`), checked before the
        # ids are erased: a block read here or in `_count` must come out the same.
        blocks = [
            _GID.sub(b"goroutine", b) if _header_has_id(b) else b"\x00" + b
            for b in text.strip(b"\n").split(b"\n\n")
        ]
        for raw in blocks[:-1]:
            parsed = _parse_block(raw, frames)
            if parsed is not None:
                add(parsed, 1)
        parsed = _parse_block(blocks[-1], frames)
        if parsed is not None:
            if parsed.complete and (ended_with_newline or _ends_with_created_by(blocks[-1])):
                add(parsed, 1)
                if not ended_with_newline:
                    warnings.append(
                        f"input ends without a newline: it may be truncated (read {total} "
                        "goroutines; the last one is complete)"
                    )
            else:
                warnings.append(
                    f"input is truncated: read {total} complete goroutines, "
                    "ignored the last one (cut mid-stack)"
                )
        elif not ended_with_newline and _is_header_start(last.strip(b"\n").rsplit(b"\n\n", 1)[-1]):
            # A goroutine's header cut short (net/http/pprof's 64 MiB cut can fall there,
            # also inside the word `goroutine` itself).
            warnings.append(
                f"input is truncated: read {total} complete goroutines, "
                "ignored the last one (cut in its header)"
            )
        elif not ended_with_newline:
            # Trailing text that is no goroutine, cut mid-line: noise, or a header of its own.
            warnings.append(f"input ends mid-line: it may be truncated (read {total} goroutines)")
    if total == 0 and not groups:
        raise CorruptInputError("goroutine dump has no complete goroutine in it (truncated?)")
    ordered = sorted(groups.values(), key=lambda g: -g.count)
    # debug=2 looks the same from /goroutine and /goroutineleak; `(leaked)` marks say it all.
    return GoroutineDump(total=total, groups=ordered, form="debug=2", warnings=warnings)


def _ends_with_created_by(block: bytes) -> bool:
    """Input without a final newline may be cut anywhere; a goroutine whose last line is
    its `created by` location (with the `+0x..` offset, so the line number is whole) is
    complete all the same: `created by` always closes a goroutine's block."""
    lines = block.rsplit(b"\n", 2)
    return len(lines) == 3 and lines[1].startswith(b"created by ") and b" +0x" in lines[2]


def _parse_block(block: bytes, frames: _Frames) -> _Block | None:
    """Parse one goroutine block; None when it is not one (noise between goroutines)."""
    block = block.lstrip(b"\n")
    nl = block.find(b"\n")
    header = block if nl < 0 else block[:nl]
    m = _HEADER.fullmatch(header)
    if m is None:
        return None
    state, leaked, minutes, locked = _parse_state(m.group(1))
    lines = block[nl + 1 :].split(b"\n") if nl >= 0 else []
    stack: list[Frame] = []
    created_by: Frame | None = None
    elided = False
    complete = False
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            break  # the blank line that ends a goroutine: what follows is not this stack
        if stripped == _UNAVAILABLE:
            complete = True
            i += 1
            continue
        if stripped.startswith(b"...") and stripped.endswith(b"elided..."):
            elided = True
            i += 1
            continue
        if line.startswith(b"created by "):
            fm = _FILE.fullmatch(lines[i + 1]) if i + 1 < n else None
            if fm is None:
                complete = False
                break
            fn = _CREATED_IN.sub(b"", line[len(b"created by ") :].rstrip())
            created_by = frames.get(fn, fm.group(1), fm.group(2))
            complete = True
            i += 2
            continue
        if stripped.startswith(b"[originating from goroutine"):
            break  # ancestor tracebacks (GODEBUG=tracebackancestors): not this stack
        if line[:1] in b" \t" or not line.endswith(b")"):
            break  # noise after the stack (`exit status 2`, a log line)
        fm = _FILE.fullmatch(lines[i + 1]) if i + 1 < n else None
        if fm is None:
            complete = False
            break
        paren = line.rfind(b"(")
        stack.append(frames.get(line[:paren] if paren > 0 else line, fm.group(1), fm.group(2)))
        complete = True
        i += 2
    return _Block(state, leaked, minutes, locked, tuple(stack), created_by, elided, complete)


def _parse_state(inner: bytes) -> tuple[str, bool, int, bool]:
    """`chan send (leaked), 12 minutes, locked to thread` -> (state, leaked, minutes, locked)."""
    items = inner.split(b", ")
    state = items[0]
    leaked = False
    for marker in (b" (scan)", b" (leaked)"):
        if marker in state:
            leaked = leaked or marker == b" (leaked)"
            state = state.replace(marker, b"")
    if state == b"leaked":
        leaked = True
    minutes = 0
    locked = False
    for item in items[1:]:
        if item == b"locked to thread":
            locked = True
        else:
            mm = _MINUTES.fullmatch(item)
            if mm:
                minutes = to_int(mm.group(1), "goroutine wait minutes", hi=_I64)
    return state.decode("utf-8", "replace"), leaked, minutes, locked


# ---------------------------------------------------------------- debug=1

_D1_RECORD = re.compile(rb"(\d+) @((?: 0x[0-9a-f]+)*)[ \t]*")
_D1_FRAME = re.compile(rb"#[ \t]+0x([0-9a-f]+)[ \t]+(\S+?)\+0x[0-9a-f]+[ \t]+(.*):(\d+)[ \t]*")
_D1_BARE = re.compile(rb"#[ \t]+0x([0-9a-f]+)[ \t]*")


def _parse_debug1(data: bytes) -> GoroutineDump:
    """`goroutine profile: total N` then `count @ pcs` records with `#` frame lines.

    Records are already aggregated by the runtime (per PC stack and labels); records
    whose symbolised frames agree merge into one group, labels ignored.
    """
    m = _D1_HEADER.search(data)
    assert m is not None
    kind: DumpKind = "goroutineleak" if m.group(1) == b"goroutineleak" else "goroutine"
    header_total = to_int(m.group(2), "goroutine profile total", hi=_I64)
    body = data[m.end() :]
    if b"\r" in body:
        body = body.replace(b"\r\n", b"\n")
    frames = _Frames()
    groups: dict[tuple[Frame, ...], GoroutineGroup] = {}
    warnings: list[str] = []
    total = 0
    records = body.strip(b"\n").split(b"\n\n") if body.strip() else []
    for idx, rec in enumerate(records):
        lines = rec.strip(b"\n").split(b"\n")
        rm = _D1_RECORD.fullmatch(lines[0].strip())
        if rm is None:
            continue  # noise after the profile
        is_last = idx == len(records) - 1
        if is_last and not data.endswith(b"\n"):
            warnings.append(
                f"input is truncated: ignored the last record ({rm.group(1)[:20].decode()} goroutines, "
                "cut mid-stack)"
            )
            break
        count = to_int(rm.group(1), "goroutine record count", hi=_I64)
        pcs = rm.group(2).split()
        stack: list[Frame] = []
        first_pc = -1
        for line in lines[1:]:
            fm = _D1_FRAME.fullmatch(line)
            if fm is not None:
                if first_pc < 0:
                    first_pc = to_int(fm.group(1), "goroutine frame PC", base=16)
                stack.append(frames.get(fm.group(2), fm.group(3), fm.group(4)))
                continue
            bm = _D1_BARE.fullmatch(line)
            if bm is not None:
                if first_pc < 0:
                    first_pc = to_int(bm.group(1), "goroutine frame PC", base=16)
                stack.append(frames.get(b"0x" + bm.group(1), b"", b""))
        # The runtime prints a frame's PC as return address - 1; when the first shown
        # frame is not the first PC, runtime frames were hidden above it.
        hidden = (
            bool(pcs) and first_pc >= 0
            and to_int(pcs[0], "goroutine record PC", base=16) != first_pc + 1
        )
        key = tuple(stack)
        total += count
        g = groups.get(key)
        if g is None:
            groups[key] = GoroutineGroup(
                count=count, state="", stack=key, leaked=kind == "goroutineleak",
                inferred_state=infer_state(key, runtime_hidden=hidden),
            )
        else:
            g.count += count
    if total != header_total and not warnings:
        warnings.append(
            f"records add up to {total} goroutines but the header says total {header_total} "
            "(truncated input?)"
        )
    ordered = sorted(groups.values(), key=lambda g: -g.count)
    return GoroutineDump(total=total, groups=ordered, kind=kind, form="debug=1", warnings=warnings)
