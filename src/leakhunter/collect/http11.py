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
from collections import deque
from urllib.parse import urlsplit

from leakhunter.errors import CorruptInputError

_MAX_HEADER = 64 << 10
CLOSE_WAIT_S = 2.0
"""How long closing a connection may wait for its last bytes to be sent."""


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
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            try:
                # Bounded: a close waits for unsent bytes to drain, forever if the peer
                # never reads them; then they are dropped (soak's teardown must end).
                await asyncio.wait_for(writer.wait_closed(), CLOSE_WAIT_S)
            except TimeoutError:
                writer.transport.abort()
            except OSError:
                pass
            except asyncio.CancelledError:
                # The close waiter of a stream whose reading was cancelled mid-body (a
                # timed-out slow target) can come back cancelled; that is not ours to
                # propagate unless this task itself is being cancelled.
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def get(self, target: str, max_body: int) -> tuple[int, bytes]:
        """GET `target` (path and query); reconnects once if a kept-alive socket went stale."""
        for attempt in (0, 1):
            fresh = self.writer is None
            if fresh:
                await self.connect()
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
            cl = headers["content-length"]
            if not cl.isdigit() or len(cl) > 18:
                raise CorruptInputError(f"bad Content-Length {cl[:40]!r}")
            n = int(cl)
            if n > max_body:
                raise CorruptInputError(f"response larger than {max_body} bytes")
            body = await self.reader.readexactly(n)
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:
            # No length: the body runs to the end of the connection (RFC 9112 6.3). One
            # read() returns only what has arrived so far, so read until EOF.
            body = await self._to_eof(max_body)
            close = True
        if close:
            await self.close()
        return status, body

    async def _to_eof(self, max_body: int) -> bytes:
        assert self.reader is not None
        out = bytearray()
        while chunk := await self.reader.read(1 << 16):
            out += chunk
            if len(out) > max_body:
                raise CorruptInputError(f"response larger than {max_body} bytes")
        return bytes(out)

    async def _chunked(self, max_body: int) -> bytes:
        assert self.reader is not None
        out = bytearray()
        while True:
            line = await self.reader.readuntil(b"\r\n")
            token = line.split(b";", 1)[0].strip()
            if not token or len(token) > 16:
                raise CorruptInputError("bad chunk size")
            try:
                size = int(token, 16)
            except ValueError:
                raise CorruptInputError("bad chunk size") from None
            if size < 0:
                raise CorruptInputError("bad chunk size")
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
    """Per-target pool: a few kept-alive connections to one base URL, used in turn.

    Idle connections are taken oldest-first, so every pooled connection keeps serving: a
    load that spreads over `open()`'s connections keeps the service's count of open
    connections (and the buffers and goroutine each holds) constant from its first second.
    A pool that grew only when requests overlapped would hand the service a new connection
    at every latency spike (a GC, a slow scrape) and never give one back: a ramp of heap
    that reads as a leak (issue 9: node-exporter's +0.8 MiB step when 14 connections
    opened two minutes into a soak).
    """

    def __init__(self, base_url: str, *, max_body: int) -> None:
        u = urlsplit(base_url)
        if u.scheme != "http" or not u.hostname:
            raise ValueError(f"http11.Client speaks http:// only: {base_url}")
        self.host = u.hostname
        self.port = u.port or 80
        self.prefix = u.path.rstrip("/")
        self.max_body = max_body
        self._idle: deque[Connection] = deque()
        self._all: list[Connection] = []

    async def open(self, n: int, timeout: float) -> int:
        """Open up to `n` connections before the first request; returns how many opened.

        A refused or slow connection is not an error here: the requests that follow will
        report it, counted by reason.
        """
        async def one() -> Connection | None:
            conn = Connection(self.host, self.port)
            try:
                await asyncio.wait_for(conn.connect(), timeout)
            except (OSError, TimeoutError):
                await conn.close()
                return None
            return conn

        opened = [c for c in await asyncio.gather(*(one() for _ in range(n))) if c is not None]
        self._all.extend(opened)
        self._idle.extend(opened)
        return len(opened)

    async def get(self, path_and_query: str, timeout: float) -> tuple[int, bytes]:
        conn = self._idle.popleft() if self._idle else Connection(self.host, self.port)
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
