"""Reading profiles: bytes in, model out (`Profile` or `GoroutineDump`).

`read` decides the kind and compression from the bytes (never the file name):
gzip is unpacked with a size bound, then binary pprof goes to `pprof.decode`, a
goroutine text dump (debug=1, debug=2, or pasted from a crash log) to
`goroutine_text.parse`, and a legacy `heap profile:` text to `heap_text.parse`.
This layer knows nothing of HTTP or files; `collect.inputs.read_input` fetches bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leakhunter.errors import CorruptInputError, WrongKindError

if TYPE_CHECKING:
    from leakhunter.model import GoroutineDump, Profile

DEFAULT_MAX_BYTES = 1 << 30


def unpack(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Gunzip (bounded) if the bytes are gzip, and enforce `max_bytes` on the result."""
    from leakhunter.errors import InputTooLargeError
    from leakhunter.profiles.decompress import gunzip_bounded, is_gzip

    if is_gzip(data):
        return gunzip_bounded(data, max_bytes)
    if len(data) > max_bytes:
        raise InputTooLargeError(f"input is larger than --max-bytes ({max_bytes} bytes)")
    return data


def read(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Profile | GoroutineDump:
    """Decode any supported profile or dump; the kind is decided from the bytes."""
    from leakhunter.profiles.sniff import sniff

    raw = unpack(data, max_bytes=max_bytes)
    kind = sniff(raw)
    if kind == "pprof":
        from leakhunter.profiles import pprof

        return pprof.decode(raw)
    if kind == "goroutine-text":
        try:
            from leakhunter.profiles import goroutine_text
        except ModuleNotFoundError as exc:
            if exc.name != "leakhunter.profiles.goroutine_text":
                raise
            raise WrongKindError("goroutine text dumps are not supported yet") from None
        dump: GoroutineDump = goroutine_text.parse(raw)
        return dump
    if kind == "heap-text":
        from leakhunter.profiles import heap_text

        return heap_text.parse(raw)
    if kind == "empty":
        raise CorruptInputError("empty input: not a profile or goroutine dump")
    raise CorruptInputError(
        "unrecognized input: not a pprof profile, goroutine dump or heap profile"
    )


def read_profile(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Profile:
    """Like `read`, but the caller needs a pprof-style Profile (top, diff, watch)."""
    from leakhunter.model import Profile

    got = read(data, max_bytes=max_bytes)
    if not isinstance(got, Profile):
        raise WrongKindError(
            "this is a goroutine text dump, not a pprof profile "
            "(use `leakhunter goroutines`, or fetch /debug/pprof/goroutine without ?debug=)"
        )
    return got


__all__ = ["DEFAULT_MAX_BYTES", "read", "read_profile", "unpack"]


def read_goroutines(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> GoroutineDump:
    """Like `read`, but the caller needs goroutines (`leakhunter goroutines`).

    Text dumps go to `goroutine_text` (it also finds a dump indented or pasted inside a
    log); a binary goroutine/goroutineleak profile is grouped by `goroutine_pb`, which
    refuses any other profile kind with a message naming what it got.
    """
    from leakhunter.model import GoroutineDump
    from leakhunter.profiles import goroutine_text
    from leakhunter.profiles.goroutine_pb import dump_from_profile

    raw = unpack(data, max_bytes=max_bytes)
    if goroutine_text.sniff(raw):
        return goroutine_text.parse(raw)
    if raw[:4096].lstrip().startswith(b"heap profile:"):
        raise WrongKindError("this is a heap profile (legacy text form), not a goroutine dump")
    got = read(raw, max_bytes=max_bytes)
    if isinstance(got, GoroutineDump):
        return got
    return dump_from_profile(got)


__all__ += ["read_goroutines"]
