"""Bounded gunzip: a profile is untrusted input, so decompression never outgrows a limit.

A 1 KiB gzip bomb can expand to gigabytes; `gzip.decompress` would allocate all of
it before we could object. Streaming through `zlib.decompressobj` with `max_length`
lets us stop at `max_bytes` having allocated at most that much.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Protocol

from leakhunter.errors import CorruptInputError, InputTooLargeError


def read_to_end(read: Callable[[int], bytes], chunk: int) -> bytes:
    """`read(-1)` of a bounded reader: chunk by chunk, so every chunk passes its bound check."""
    chunks: list[bytes] = []
    while data := read(chunk):
        chunks.append(data)
    return b"".join(chunks)


class _Reader(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 22
_IN_CHUNK = 1 << 20

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
                if not chunk and not buf and not d.eof:  # (an empty member is whole)
                    raise CorruptInputError("truncated gzip data (the stream ends early)")
                out.append(chunk)
        except zlib.error as exc:
            raise CorruptInputError(f"corrupt gzip data: {exc}") from None
        rest = d.unused_data
        if not rest.startswith(GZIP_MAGIC):
            # Trailing bytes after the last member (zero padding) are ignored, as gzip(1) does.
            break
    return b"".join(out)


class GunzipReader:
    """The decompressed bytes of a gzip stream read from `src`, on demand and bounded.

    A goroutine text dump of a million goroutines is ~0.5 GB; gzipped, it was held whole
    to be decompressed. Read through this, `goroutine_text.parse_file` streams it in
    chunks like a plain dump, so its memory is a few chunks whatever its size, and the
    in-memory bound (`DEFAULT_MAX_UNPACKED`) need not refuse it. `limit` may be lowered
    after the head is read (the caller decides then whether it streams or holds it).
    """

    def __init__(self, src: _Reader, max_bytes: int, first: bytes = b"") -> None:
        self._src, self.limit, self._in = src, max_bytes, first
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._total = 0
        self._done = False

    def read(self, n: int = -1, /) -> bytes:
        if n < 0:
            return read_to_end(self.read, _CHUNK)
        if self._total > self.limit:  # the limit was lowered below what was read
            raise _too_large(self.limit)
        out: list[bytes] = []
        got = 0
        while got < n and not self._done:
            if self._d.eof:
                # What follows this member is unused_data only: at the end of a member
                # read under max_length, unconsumed_tail may hold the same bytes again.
                rest = self._d.unused_data
                while len(rest) < 2 and (more := self._src.read(_IN_CHUNK)):
                    rest += more
                if not rest.startswith(GZIP_MAGIC):
                    # Trailing bytes after the last member are ignored, as gzip(1) does.
                    self._done = True
                    break
                self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._in = rest
            if not self._in:
                self._in = self._src.read(_IN_CHUNK)
                if not self._in:
                    raise CorruptInputError("truncated gzip data (the stream ends early)")
            try:
                chunk = self._d.decompress(self._in, min(n - got, self.limit - self._total + 1))
            except zlib.error as exc:
                raise CorruptInputError(f"corrupt gzip data: {exc}") from None
            self._in = self._d.unconsumed_tail
            self._total += len(chunk)
            if self._total > self.limit:
                raise _too_large(self.limit)
            out.append(chunk)
            got += len(chunk)
        return b"".join(out)
