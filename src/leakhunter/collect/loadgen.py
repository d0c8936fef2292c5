"""A small built-in load generator, so `soak` needs no external tool (wrk, hey, k6).

Why its shape:

- A *steady* rate, not "as fast as possible": a leak is judged per request, and a
  load whose rate drifts with the service's latency would turn a latency change into
  an apparent change of leak rate. Request *i* is due at ``t0 + i / rate``, spread
  round-robin over the URLs.
- *Bounded* concurrency: a service that starts to hang (a leak exhausting a pool) must
  not make the generator open thousands of sockets. When every slot is busy the
  schedule waits; if it falls more than a second behind, it is re-anchored (counted in
  ``late``) instead of firing a catch-up burst.
- A request budget and a time budget, both optional, and an external stop event: every
  load ends.
- A *fixed* set of connections, opened before the first request and used in turn: the
  service holds the same connections (their buffers, their goroutines) from the first
  second to the last, so the load itself never adds heap mid-soak (a pool that grew at
  each latency spike did: issue 9, node-exporter).
- Cheap per request: plain http:// URLs go through the keep-alive client of
  `http11.py` (a fraction of httpx's ~1.4 ms of CPU per request), so the asked rate is
  delivered on a busy machine and the load does not starve the watcher sharing its
  event loop (issue 9: httpx delivered 31-37 of 50 req/s on the shared 2-core box).
  https:// URLs use httpx.
- `{seq}` in a URL is replaced by the request's sequence number, so a load can walk a
  key space (`/get?key={seq}`) to fill a cache instead of hitting one key.
- Loopback only unless the caller allows remote hosts: a soak is a test, and pointing
  it at someone else's server by accident must not be one typo away. The host is
  *resolved*, so a name that points outside 127.0.0.0/8 or ::1 is refused too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import random
import socket
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from leakhunter.errors import UsageError

if TYPE_CHECKING:
    from leakhunter.collect.http11 import Client

MAX_LATENCIES = 200_000
"""Latencies kept for percentiles; beyond this a uniform reservoir sample is kept."""
MAX_LOAD_BODY = 64 << 20
"""A load response larger than this is an error (the load reads every body whole)."""


def check_load_url(url: str, *, allow_remote: bool = False) -> str:
    """Validate a --load URL; refuse hosts that do not resolve to loopback unless allowed.

    Returns the URL unchanged. Raises `UsageError` (exit 2) with one clear line.
    """
    parts = urlsplit(url.replace("{seq}", "0"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--load {url!r}: need an http:// or https:// URL with a host")
    if allow_remote:
        return url
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UsageError(f"--load {url!r}: bad port") from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"--load {url!r}: cannot resolve {host!r} ({exc})") from None
    addrs = sorted({str(info[4][0]) for info in infos})
    remote = [a for a in addrs if not ipaddress.ip_address(a.split("%", 1)[0]).is_loopback]
    if remote:
        raise UsageError(
            f"--load {url!r}: {host} resolves to non-loopback {', '.join(remote)}; "
            "soak sends load to loopback only unless you pass --allow-remote"
        )
    return url


@dataclass(slots=True)
class LoadStats:
    """What the load did: counts, errors by reason, latency percentiles."""

    sent: int = 0
    ok: int = 0
    errors: int = 0
    late: int = 0
    error_reasons: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    _seen: int = 0

    @property
    def elapsed(self) -> float:
        end = self.finished or time.monotonic()
        return max(end - self.started, 0.0) if self.started else 0.0

    @property
    def done(self) -> int:
        return self.ok + self.errors

    @property
    def rate(self) -> float:
        """Completed requests per second so far."""
        e = self.elapsed
        return self.done / e if e > 0 else 0.0

    def record_latency(self, seconds: float) -> None:
        self._seen += 1
        if len(self.latencies) < MAX_LATENCIES:
            self.latencies.append(seconds)
        else:
            j = random.randrange(self._seen)
            if j < MAX_LATENCIES:
                self.latencies[j] = seconds

    def percentile(self, p: float) -> float | None:
        """The p-th percentile latency in seconds (nearest rank), None before any answer."""
        if not self.latencies:
            return None
        xs = sorted(self.latencies)
        k = min(len(xs) - 1, max(0, math.ceil(p / 100 * len(xs)) - 1))
        return xs[k]

    def first_error(self) -> str:
        return self.error_reasons.most_common(1)[0][0] if self.error_reasons else ""

    def as_dict(self) -> dict[str, Any]:
        def ms(x: float | None) -> float | None:
            return None if x is None else round(x * 1000, 3)

        return {
            "requests": self.done,
            "ok": self.ok,
            "errors": self.errors,
            "late": self.late,
            "elapsed_s": round(self.elapsed, 3),
            "rate": round(self.rate, 2),
            "latency_ms": {"p50": ms(self.percentile(50)), "p90": ms(self.percentile(90)),
                           "p99": ms(self.percentile(99)), "max": ms(self.percentile(100))},
            "error_reasons": dict(self.error_reasons.most_common(10)),
        }


class LoadGenerator:
    """Send GET requests at a steady rate over URLs; see the module docstring."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        rate: float = 50.0,
        concurrency: int = 16,
        max_requests: int | None = None,
        duration: float | None = None,
        timeout: float = 10.0,
        allow_remote: bool = False,
    ) -> None:
        if not urls:
            raise UsageError("give at least one --load URL")
        if rate <= 0 or not math.isfinite(rate):
            raise UsageError("--rate must be a positive number of requests per second")
        if concurrency < 1:
            raise UsageError("--concurrency must be at least 1")
        if max_requests is None and duration is None:
            raise UsageError("a load needs a request budget or a time budget")
        self.urls = [check_load_url(u, allow_remote=allow_remote) for u in urls]
        self.rate = float(rate)
        self.concurrency = concurrency
        self.max_requests = max_requests
        self.duration = duration
        self.timeout = timeout
        self.stats = LoadStats()

    async def run(self, stop: asyncio.Event | None = None) -> LoadStats:
        """Drive the load until a budget is spent or `stop` is set; wait for requests in flight."""
        stop = stop or asyncio.Event()
        st = self.stats
        sem = asyncio.Semaphore(self.concurrency)
        tasks: set[asyncio.Task[None]] = set()
        st.started = time.monotonic()
        deadline = math.inf if self.duration is None else st.started + self.duration
        anchor, i = st.started, 0
        async with _Clients(self.concurrency, self.timeout) as clients:
            await clients.open(self.urls)
            try:
                while not stop.is_set():
                    if self.max_requests is not None and st.sent >= self.max_requests:
                        break
                    due = anchor + i / self.rate
                    if due >= deadline:
                        break
                    if await _wait(stop, due - time.monotonic()):
                        break
                    if not await _acquire(sem, stop):
                        break
                    now = time.monotonic()
                    if now >= deadline or stop.is_set():
                        sem.release()
                        break
                    if now - due > 1.0:  # fell behind (all slots busy): re-anchor, no burst
                        st.late += 1
                        anchor, i = now, 0
                    url = self.urls[st.sent % len(self.urls)]
                    if "{seq}" in url:
                        url = url.replace("{seq}", str(st.sent))
                    st.sent += 1
                    i += 1
                    task = asyncio.create_task(self._one(clients, url, sem))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            finally:
                if stop.is_set():  # interrupted: do not wait out the requests in flight
                    for t in tasks:
                        t.cancel()
                if tasks:
                    await asyncio.gather(*tasks, return_exceptions=True)
                st.finished = time.monotonic()
        return st

    async def _one(self, clients: _Clients, url: str, sem: asyncio.Semaphore) -> None:
        st = self.stats
        t0 = time.perf_counter()
        try:
            status = await clients.get(url)
            st.record_latency(time.perf_counter() - t0)
            if status >= 400:
                st.errors += 1
                st.error_reasons[f"HTTP {status}"] += 1
            else:
                st.ok += 1
        except TimeoutError:
            st.errors += 1
            st.error_reasons[f"timeout after {self.timeout:g}s"] += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # refused, reset, a broken answer: counted by reason
            st.errors += 1
            st.error_reasons[_reason(exc)] += 1
        finally:
            sem.release()


class _Clients:
    """One light keep-alive client per http:// host (`http11.py`), httpx for the rest."""

    def __init__(self, concurrency: int, timeout: float) -> None:
        self.concurrency = concurrency
        self.timeout = timeout
        self._light: dict[str, Client] = {}
        self._httpx: Any = None

    async def __aenter__(self) -> _Clients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for c in self._light.values():
            await c.aclose()
        if self._httpx is not None:
            await self._httpx.aclose()

    async def open(self, urls: Sequence[str]) -> None:
        """Open every http:// host's whole pool before the first request (see `http11.Client`)."""
        for url in urls:
            u = urlsplit(url.replace("{seq}", "0"))
            if u.scheme == "http" and f"http://{u.netloc}" not in self._light:
                await self._client(u.netloc).open(self.concurrency, self.timeout)

    def _client(self, netloc: str) -> Client:
        from leakhunter.collect.http11 import Client

        root = f"http://{netloc}"
        c = self._light.get(root)
        if c is None:
            c = self._light[root] = Client(root, max_body=MAX_LOAD_BODY)
        return c

    async def get(self, url: str) -> int:
        """GET `url`, read the whole body, return the status."""
        u = urlsplit(url)
        if u.scheme == "http":
            c = self._client(u.netloc)
            path = (u.path or "/") + (f"?{u.query}" if u.query else "")
            try:
                status, _ = await c.get(path, self.timeout)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, EOFError) as exc:
                raise ConnectionError(f"connection lost: {exc}") from exc
            return int(status)
        import httpx

        if self._httpx is None:
            limits = httpx.Limits(max_connections=self.concurrency,
                                  max_keepalive_connections=self.concurrency)
            self._httpx = httpx.AsyncClient(timeout=self.timeout, limits=limits,
                                            trust_env=False, follow_redirects=False)
        try:
            resp = await self._httpx.get(url)
            await resp.aread()
        except httpx.TimeoutException:
            raise TimeoutError from None
        return int(resp.status_code)


def _reason(exc: BaseException) -> str:
    from leakhunter.collect.process import describe_http_error

    return describe_http_error(exc)


async def _acquire(sem: asyncio.Semaphore, stop: asyncio.Event) -> bool:
    """Take a concurrency slot, or give up (False) once `stop` is set."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(sem.acquire(), timeout=0.25)
            return True
        except TimeoutError:
            continue
    return False


async def _wait(stop: asyncio.Event, delay: float) -> bool:
    """Sleep `delay` seconds unless `stop` is set first (then True)."""
    if delay <= 0:
        return stop.is_set()
    try:
        await asyncio.wait_for(stop.wait(), timeout=delay)
        return True
    except TimeoutError:
        return False
