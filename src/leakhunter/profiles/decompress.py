"""Bounded gunzip: a profile is untrusted input, so decompression never outgrows a limit.

A 1 KiB gzip bomb can expand to gigabytes; `gzip.decompress` would allocate all of
it before we could object. Streaming through `zlib.decompressobj` with `max_length`
lets us stop at `max_bytes` having allocated at most that much.
"""

from __future__ import annotations

import zlib

from leakhunter.errors import CorruptInputError, InputTooLargeError

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 22

# What a gzipped input may decompress to when the user set no --max-bytes. Decoded
# bytes are held whole, so this is also about the peak memory a gzip bomb costs before
# it is refused. 256 MiB is more than a real profile needs: a 24 MB pprof (400,000
# samples of 20 frames, far past a real heap profile) already took 0.7 GB to decode,
# ~28x its size, so a 256 MiB one would need ~7 GB; and it is the bound the live
# scrape (collect.scrape), fleet and pyroscope already put on a profile.
DEFAULT_MAX_UNPACKED = 256 << 20


def is_gzip(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC


def _size(n: int) -> str:
    for unit, div in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div:
            return f"{n / div:g}{unit}"
    return f"{n}B"


def _too_large(max_bytes: int) -> InputTooLargeError:
    return InputTooLargeError(
        f"gzip data decompresses to more than {_size(max_bytes)} "
        "(a gzip bomb? raise --max-bytes to allow it)"
    )


def gunzip_bounded(data: bytes, max_bytes: int) -> bytes:
    """Decompress gzip `data` (possibly several members), refusing to exceed `max_bytes`.

    Raises InputTooLargeError when the output would pass the limit and
    CorruptInputError when the stream is damaged or ends early.
    """
    out: list[bytes] = []
    total = 0
    rest: bytes = data
    while True:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        buf: bytes = rest
        try:
            while not d.eof:
                chunk = d.decompress(buf, min(_CHUNK, max_bytes - total + 1))
                total += len(chunk)
                if total > max_bytes:
                    raise _too_large(max_bytes)
                buf = d.unconsumed_tail
                if not chunk and not buf:
                    raise CorruptInputError("truncated gzip data (the stream ends early)")
                out.append(chunk)
        except zlib.error as exc:
            raise CorruptInputError(f"corrupt gzip data: {exc}") from None
        rest = d.unused_data
        if not rest.startswith(GZIP_MAGIC):
            # Trailing bytes after the last member (zero padding) are ignored, as gzip(1) does.
            break
    return b"".join(out)
