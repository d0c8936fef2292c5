"""Turn an input spec (a path, `-` for stdin, or an http(s) URL) into bytes, bounded.

This is the only place the profile commands touch files, stdin or the network, so
the failures a user meets here (missing file, refused connection, a server that never
answers, HTTP 404, an input larger than --max-bytes) each become one clear error line.
"""

from __future__ import annotations

import os
import sys
import time
from typing import BinaryIO

from leakhunter.errors import FetchError, InputError, InputTooLargeError

_CHUNK = 1 << 20


def _too_large(what: str, max_bytes: int) -> InputTooLargeError:
    return InputTooLargeError(f"{what} is larger than --max-bytes ({max_bytes} bytes)")


def is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def read_input(spec: str, *, max_bytes: int, timeout: float = 30.0) -> bytes:
    """Read all bytes of `spec` (path, `-`, or URL), never more than `max_bytes` (+1 to detect it)."""
    if spec == "-":
        return _read_stream(sys.stdin.buffer, "stdin", max_bytes)
    if is_url(spec):
        return fetch(spec, max_bytes=max_bytes, timeout=timeout)
    return _read_path(spec, max_bytes)


def _read_stream(stream: BinaryIO, what: str, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(_CHUNK, max_bytes + 1 - total))
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            raise _too_large(what, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _read_path(path: str, max_bytes: int) -> bytes:
    try:
        if os.path.isdir(path):
            raise InputError(f"{path}: is a directory, not a profile")
        with open(path, "rb") as f:
            return _read_stream(f, path, max_bytes)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a profile") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None


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
