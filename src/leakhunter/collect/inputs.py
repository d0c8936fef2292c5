"""Turn an input spec (a path, `-` for stdin, or an http(s) URL) into bytes, bounded.

This is the only place the profile commands touch files, stdin or the network, so
the failures a user meets here (missing file, refused connection, a server that never
answers, HTTP 404, an input larger than --max-bytes) each become one clear error line.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from leakhunter.errors import FetchError, InputError, InputTooLargeError

_CHUNK = 1 << 20


def _too_large(what: str, max_bytes: int) -> InputTooLargeError:
    return InputTooLargeError(f"{what} is larger than --max-bytes ({max_bytes} bytes)")


def is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def read_input(spec: str, *, max_bytes: int, timeout: float = 30.0) -> bytes:
    """Read all bytes of `spec` (path, `-`, or URL), never more than `max_bytes` (+1 to detect it)."""
    if is_url(spec):
        return fetch(spec, max_bytes=max_bytes, timeout=timeout)
    with open_local(spec, max_bytes=max_bytes) as reader:
        return reader.read()


class BoundedReader:
    """A binary reader that refuses to deliver more than `max_bytes` in all.

    Lets a parser stream a large local input (a 500 MB goroutine dump) instead of
    reading it whole, under the same --max-bytes bound and error lines as read_input.
    """

    def __init__(self, f: BinaryIO, max_bytes: int, what: str) -> None:
        self._f, self._limit, self._what, self._seen = f, max_bytes, what, 0

    def read(self, n: int = -1, /) -> bytes:
        if n < 0:
            chunks: list[bytes] = []
            while chunk := self.read(_CHUNK):
                chunks.append(chunk)
            return b"".join(chunks)
        try:
            data = self._f.read(min(n, self._limit + 1 - self._seen))
        except OSError as exc:
            raise InputError(f"{self._what}: cannot read: {exc.strerror or exc}") from None
        self._seen += len(data)
        if self._seen > self._limit:
            raise _too_large(self._what, self._limit)
        return data


@contextmanager
def open_local(spec: str, *, max_bytes: int) -> Iterator[BoundedReader]:
    """Open a path or `-` (stdin) for bounded reading, with one clear error line on failure."""
    if spec == "-":
        yield BoundedReader(sys.stdin.buffer, max_bytes, "stdin")
        return
    try:
        if os.path.isdir(spec):
            raise InputError(f"{spec}: is a directory, not a profile")
        f = open(spec, "rb")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        raise InputError(f"{spec}: no such file") from None
    except PermissionError:
        raise InputError(f"{spec}: permission denied") from None
    except IsADirectoryError:
        raise InputError(f"{spec}: is a directory, not a profile") from None
    except OSError as exc:
        raise InputError(f"{spec}: cannot read: {exc.strerror or exc}") from None
    with f:
        yield BoundedReader(f, max_bytes, spec)


def fetch(url: str, *, max_bytes: int, timeout: float = 30.0) -> bytes:
    """GET `url` with a per-operation and an overall `timeout`, streaming at most `max_bytes`."""
    import httpx

    deadline = time.monotonic() + timeout
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client, client.stream(
            "GET", url, headers={"Accept-Encoding": "identity"}
        ) as resp:
            if resp.status_code >= 400:
                raise FetchError(f"{url}: HTTP {resp.status_code} {resp.reason_phrase}".rstrip())
            chunks: list[bytes] = []
            total = 0
            for chunk in resp.iter_raw():
                total += len(chunk)
                if total > max_bytes:
                    raise _too_large(url, max_bytes)
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise FetchError(f"{url}: timed out after {timeout:g}s")
            return b"".join(chunks)
    except httpx.TimeoutException:
        raise FetchError(f"{url}: timed out after {timeout:g}s (no answer)") from None
    except httpx.ConnectError as exc:
        raise FetchError(f"{url}: cannot connect ({_reason(exc)})") from None
    except httpx.InvalidURL as exc:
        raise FetchError(f"{url}: invalid URL ({exc})") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {type(exc).__name__}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    low = text.lower()
    if "refused" in low:
        return "connection refused"
    return text.splitlines()[0]
