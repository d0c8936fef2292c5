"""Merged profiles from Grafana Pyroscope's query API, for two windows of a range.

Pyroscope stores continuous profiles; its query API (Connect protocol, the routes under
`/querier.v1.QuerierService/`) merges every profile matching a label selector in a time
window into one: `SelectMergeProfile` answers with a pprof profile (Pyroscope's
`google.v1.Profile` is the pprof wire format). Neither it nor Parca gives a leak
verdict; `fleet` asks it for the first and the last window of the range and diffs
them, so the code that grew is named even when no pod is reachable.

The request is the protobuf `SelectMergeProfileRequest`: 1 profile_typeID (string),
2 label_selector (string), 3 start and 4 end (int64, milliseconds), sent as
`application/proto` (the codec the response then uses). Encoded here by hand: four
fields do not justify generated code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leakhunter.errors import FetchError, LeakhunterError

if TYPE_CHECKING:
    import httpx

    from leakhunter.model import Profile

MERGE_PATH = "/querier.v1.QuerierService/SelectMergeProfile"
PROFILE_TYPES = {
    "heap": "memory:inuse_space:bytes:space:bytes",
    "goroutines": "goroutines:goroutine:count:goroutine:count",
}
MAX_BYTES = 256 << 20


def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def merge_request(profile_type: str, selector: str, start_ms: int, end_ms: int) -> bytes:
    """SelectMergeProfileRequest, protobuf-encoded."""
    out = bytearray()
    for field, text in ((1, profile_type), (2, selector)):
        b = text.encode()
        out += _varint(field << 3 | 2) + _varint(len(b)) + b
    for field, num in ((3, start_ms), (4, end_ms)):
        out += _varint(field << 3) + _varint(num)
    return bytes(out)


def parse_merge_request(data: bytes) -> dict[str, Any]:
    """The inverse of `merge_request` (for servers in tests, and to check the encoding)."""
    out: dict[str, Any] = {}
    i = 0

    def varint() -> int:
        nonlocal i
        shift = v = 0
        while True:
            b = data[i]
            i += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v

    names = {1: "profile_typeID", 2: "label_selector", 3: "start", 4: "end"}
    while i < len(data):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 2:
            n = varint()
            out[names.get(field, str(field))] = data[i:i + n].decode()
            i += n
        elif wire == 0:
            out[names.get(field, str(field))] = varint()
        else:
            raise ValueError(f"unexpected wire type {wire}")
    return out


class PyroscopeClient:
    """`async with PyroscopeClient(url) as c: await c.merged(...)`."""

    def __init__(self, url: str, *, timeout: float = 60.0, headers: dict[str, str] | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.headers = dict(headers or {})
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> PyroscopeClient:
        import httpx

        self._client = httpx.AsyncClient(timeout=self.timeout, headers=self.headers)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def merged(self, profile_type: str, selector: str, start: float, end: float) -> Profile:
        """The merged profile of `selector` in [start, end] (seconds)."""
        import httpx

        from leakhunter.profiles import read_profile

        assert self._client is not None
        body = merge_request(profile_type, selector, int(start * 1000), int(end * 1000))
        try:
            r = await self._client.post(
                self.url + MERGE_PATH, content=body,
                headers={"Content-Type": "application/proto", "Connect-Protocol-Version": "1"})
        except httpx.TransportError as exc:
            raise FetchError(f"{self.url}{MERGE_PATH}: {exc or type(exc).__name__}") from None
        if r.status_code != 200:
            msg = r.text[:200].strip()
            raise FetchError(f"{self.url}{MERGE_PATH} ({profile_type} {selector}): "
                             f"HTTP {r.status_code}: {msg}")
        if not r.content:
            raise FetchError(f"{self.url}{MERGE_PATH} ({profile_type} {selector}): no profiles "
                             "in the window")
        try:
            return read_profile(r.content, max_bytes=MAX_BYTES)
        except LeakhunterError as exc:
            raise FetchError(f"{self.url}{MERGE_PATH}: answer is not a profile: {exc}") from None


async def window_pair(client: PyroscopeClient, selector: str, start: float, end: float, *,
                      window: float | None = None) -> dict[str, tuple[Profile, Profile]]:
    """{kind: (first window's merged profile, last window's)} for heap and goroutines.

    Windows are a quarter of the range (at most an hour) at each end; a kind Pyroscope
    has no profiles of is left out; when neither kind answers, the first error is raised."""
    w = window or min((end - start) / 4, 3600.0)
    out: dict[str, tuple[Profile, Profile]] = {}
    errors: list[str] = []
    for kind, pt in PROFILE_TYPES.items():
        try:
            first = await client.merged(pt, selector, start, start + w)
            last = await client.merged(pt, selector, end - w, end)
        except FetchError as exc:
            errors.append(str(exc))
            continue
        out[kind] = (first, last)
    if not out and errors:
        raise FetchError(errors[0])
    return out
