"""A small keep-alive HTTP/1.1 GET client on asyncio streams, for scraping many targets.

Why not httpx here: `watch` sends hundreds of small GETs per second to hundreds of
targets from one event loop. Measured on this project's capacity benchmark, httpx
spent ~1.4 ms of CPU per request (request/response models, the connection pool's
bookkeeping), enough to saturate the loop at 500 targets and push scrapes into
timeouts. A GET that reuses one connection per target and parses a status line,
headers and a Content-Length or chunked body costs a fraction of that. It speaks
plain http:// only; https targets go through httpx (see `watcher.py`).

Bounded: at most `max_body` bytes are read, every read is under the caller's timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

from leakhunter.errors import CorruptInputError

_MAX_HEADER = 64 << 10


class HTTPStatusError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class Connection:
    """One kept-alive connection to one host:port, used by one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.busy = False

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def get(self, target: str, max_body: int) -> tuple[int, bytes]:
        """GET `target` (path and query); reconnects once if a kept-alive socket went stale."""
        for attempt in (0, 1):
            fresh = self.writer is None
            if fresh:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None and self.writer is not None
            self.writer.write(
                f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                "User-Agent: leakhunter-watch\r\nAccept-Encoding: identity\r\n\r\n".encode()
            )
            try:
                await self.writer.drain()
                return await self._response(max_body)
            except (ConnectionError, asyncio.IncompleteReadError, EOFError) as exc:
                await self.close()
                if fresh or attempt:
                    raise ConnectionError(f"connection lost: {exc}") from exc
        raise AssertionError("unreachable")

    async def _response(self, max_body: int) -> tuple[int, bytes]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        if len(head) > _MAX_HEADER:
            raise CorruptInputError("response headers too large")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise CorruptInputError(f"not an HTTP response: {lines[0][:80]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for ln in lines[1:]:
            if ":" in ln:
                k, v = ln.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        close = headers.get("connection", "").lower() == "close" or parts[0] == "HTTP/1.0"
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._chunked(max_body)
        elif "content-length" in headers:
            try:
                n = int(headers["content-length"])
            except ValueError:
                raise CorruptInputError("bad Content-Length") from None
            if n > max_body:
                raise CorruptInputError(f"response larger than {max_body} bytes")
            body = await self.reader.readexactly(n)
        else:
            body = await self.reader.read(max_body + 1)
            close = True
            if len(body) > max_body:
                raise CorruptInputError(f"response larger than {max_body} bytes")
        if close:
            await self.close()
        return status, body

    async def _chunked(self, max_body: int) -> bytes:
        assert self.reader is not None
        out = bytearray()
        while True:
            line = await self.reader.readuntil(b"\r\n")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise CorruptInputError("bad chunk size") from None
            if size == 0:
                # trailers end with an empty line
                while (await self.reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return bytes(out)
            if len(out) + size > max_body:
                raise CorruptInputError(f"response larger than {max_body} bytes")
            out += await self.reader.readexactly(size)
            await self.reader.readexactly(2)


class Client:
    """Per-target pool: a few kept-alive connections to one base URL."""

    def __init__(self, base_url: str, *, max_body: int) -> None:
        u = urlsplit(base_url)
        if u.scheme != "http" or not u.hostname:
            raise ValueError(f"http11.Client speaks http:// only: {base_url}")
        self.host = u.hostname
        self.port = u.port or 80
        self.prefix = u.path.rstrip("/")
        self.max_body = max_body
        self._idle: list[Connection] = []
        self._all: list[Connection] = []

    async def get(self, path_and_query: str, timeout: float) -> tuple[int, bytes]:
        conn = self._idle.pop() if self._idle else Connection(self.host, self.port)
        if conn not in self._all:
            self._all.append(conn)
        try:
            status, body = await asyncio.wait_for(
                conn.get(self.prefix + path_and_query, self.max_body), timeout)
        except BaseException:
            await conn.close()
            self._all.remove(conn)
            raise
        self._idle.append(conn)
        return status, body

    async def aclose(self) -> None:
        for c in self._all:
            await c.close()
        self._all.clear()
        self._idle.clear()
