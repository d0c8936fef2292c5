"""Turn an input spec (a path, `-` for stdin, or an http(s) URL) into bytes, bounded.

This is the only place the profile commands touch files, stdin or the network, so
the failures a user meets here (missing file, refused connection, a server that never
answers, HTTP 404, an input larger than --max-bytes) each become one clear error line.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from leakhunter.errors import FetchError, InputError, InputTooLargeError
from leakhunter.profiles.decompress import read_to_end

_CHUNK = 1 << 20


def _too_large(what: str, max_bytes: int) -> InputTooLargeError:
    return InputTooLargeError(f"{what} is larger than --max-bytes ({max_bytes} bytes)")


def is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def read_input(
    spec: str, *, max_bytes: int, timeout: float = 30.0, follow_redirects: bool = False
) -> bytes:
    """Read all bytes of `spec` (path, `-`, or URL), never more than `max_bytes` (+1 to detect it)."""
    if is_url(spec):
        return fetch(spec, max_bytes=max_bytes, timeout=timeout, follow_redirects=follow_redirects)
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
            return read_to_end(self.read, _CHUNK)
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
    from leakhunter.bounds import open_regular

    # Only regular files: a FIFO without a writer would block here forever, and a
    # device (/dev/zero) never ends; both are refused on the opened descriptor.
    f = open_regular(spec)
    with f:
        yield BoundedReader(f, max_bytes, spec)


MAX_REDIRECTS = 5


def fetch(
    url: str, *, max_bytes: int, timeout: float = 30.0, follow_redirects: bool = False
) -> bytes:
    """GET `url` within `timeout` seconds in all (connect, headers and body), at most `max_bytes`.

    httpx's timeouts are per operation: a server trickling one header byte a second
    never trips them. The whole exchange therefore runs under one asyncio deadline.
    Redirects are followed only to the same scheme, host and port, unless
    `follow_redirects` allows any host (a profile URL that bounces elsewhere is
    suspicious in an incident, and the answer would be attributed to the wrong target).
    """
    import asyncio

    async def bounded() -> bytes:
        return await asyncio.wait_for(
            _fetch_async(url, max_bytes, timeout, follow_redirects), timeout
        )

    try:
        return asyncio.run(bounded())
    except TimeoutError:
        raise FetchError(f"{url}: timed out after {timeout:g}s") from None


async def _fetch_async(url: str, max_bytes: int, timeout: float, follow: bool) -> bytes:
    import httpx

    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            current = url
            for _hop in range(MAX_REDIRECTS + 1):
                async with client.stream(
                    "GET", current, headers={"Accept-Encoding": "identity"}
                ) as resp:
                    if resp.is_redirect:
                        current = _redirect_target(url, current, resp, follow)
                        continue
                    if resp.status_code >= 400:
                        raise FetchError(
                            f"{url}: HTTP {resp.status_code} {resp.reason_phrase}".rstrip()
                        )
                    if resp.status_code >= 300:
                        raise FetchError(f"{url}: HTTP {resp.status_code} without a Location")
                    chunks: list[bytes] = []
                    total = 0
                    async for chunk in resp.aiter_raw():
                        total += len(chunk)
                        if total > max_bytes:
                            raise _too_large(url, max_bytes)
                        chunks.append(chunk)
                    return b"".join(chunks)
            raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")
    except httpx.TimeoutException:
        raise FetchError(f"{url}: timed out after {timeout:g}s (no answer)") from None
    except httpx.ConnectError as exc:
        raise FetchError(f"{url}: cannot connect ({_reason(exc)})") from None
    except httpx.InvalidURL as exc:
        raise FetchError(f"{url}: invalid URL ({exc})") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {type(exc).__name__}: {_reason(exc)}") from None


def _redirect_target(origin: str, current: str, resp: object, follow: bool) -> str:
    """Where a redirect points, if it may be followed (see `fetch`)."""
    import httpx

    assert isinstance(resp, httpx.Response)
    loc = resp.headers.get("location", "")
    if not loc:
        raise FetchError(f"{origin}: HTTP {resp.status_code} without a Location")
    try:
        nxt = httpx.URL(current).join(loc)
    except httpx.InvalidURL as exc:
        raise FetchError(f"{origin}: redirect to an invalid URL ({exc})") from None
    first = httpx.URL(origin)
    same = (nxt.scheme, nxt.host, nxt.port) == (first.scheme, first.host, first.port)
    if not same and not follow:
        where = f"{nxt.scheme}://{nxt.host}" + (f":{nxt.port}" if nxt.port else "")
        raise FetchError(
            f"{origin}: redirects to another host ({where}); not followed "
            "(pass --follow-redirects to allow it)"
        )
    if nxt.scheme not in ("http", "https"):
        raise FetchError(f"{origin}: redirect to a non-HTTP URL refused")
    return str(nxt)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    low = text.lower()
    if "refused" in low:
        return "connection refused"
    return text.splitlines()[0]
