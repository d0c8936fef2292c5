"""Read history from a Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics).

What `fleet` needs from the store is small: which series exist (`/api/v1/series`),
their values over a range (`/api/v1/query_range`), the scrape targets' addresses
(`/api/v1/targets`, for pprof endpoints) and now and then one instant value
(`/api/v1/query`). The care goes into doing that at fleet scale:

- **The 11,000-points cap.** Prometheus refuses a range query that would return more
  than 11,000 points per series; `query_range` cuts the range into chunks under
  `MAX_POINTS` and stitches the series back together by their label sets.
- **Too many samples.** A chunk the server refuses for loading too many samples
  (`--query.max-samples`, HTTP 422) is split in two and retried, down to one step.
- **Bounded concurrency, retries with backoff.** At most `concurrency` requests in
  flight; connection errors, 429 and 5xx are retried with exponential backoff and
  jitter; 4xx answers (a bad selector) are not, they will not get better.
- **Auth and TLS.** Bearer token, basic auth, extra headers (`X-Scope-OrgID` for
  Mimir/Cortex tenants), a CA bundle, a client certificate, or no verification.

Errors come out as `FetchError` with one line that names the query, so the caller
can report a failing job and keep the others (partial failures are per job).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from leakhunter.errors import FetchError

if TYPE_CHECKING:
    import httpx
    import numpy as np

MAX_POINTS = 11000
"""Prometheus' limit of points per series in one range query (`query_range`)."""


@dataclass(frozen=True, slots=True)
class PromConfig:
    """How to reach the API: base URL, credentials, TLS and politeness."""

    url: str
    bearer_token: str = ""
    basic_auth: tuple[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    insecure: bool = False
    timeout: float = 60.0
    concurrency: int = 4
    retries: int = 3
    backoff: float = 0.5
    max_points: int = MAX_POINTS


@dataclass(slots=True)
class RangeSeries:
    """One series of a range query: its labels and its points (seconds, float values)."""

    labels: dict[str, str]
    ts: np.ndarray
    values: np.ndarray


def _loads(data: bytes) -> Any:
    try:
        import orjson
    except ImportError:  # optional: the standard library is ~3x slower on big matrices
        import json

        return json.loads(data)
    return orjson.loads(data)


def chunks(start: float, end: float, step: float, max_points: int = MAX_POINTS) -> list[tuple[float, float]]:
    """[start, end] cut into consecutive ranges of at most `max_points` evaluation steps.

    Evaluation times are start + k*step; a chunk ends one step before the next begins,
    so no point is fetched twice and none is skipped."""
    if step <= 0:
        raise ValueError("step must be positive")
    total = math.floor((end - start) / step + 1e-9) + 1
    out = []
    k = 0
    while k < total:
        n = min(max_points, total - k)
        out.append((start + k * step, start + (k + n - 1) * step))
        k += n
    return out


class PromClient:
    """An async client for one API base URL; use as `async with PromClient(cfg) as c:`."""

    def __init__(self, cfg: PromConfig) -> None:
        self.cfg = cfg
        self._sem = asyncio.Semaphore(max(1, cfg.concurrency))
        self._client: httpx.AsyncClient | None = None
        self.requests = 0
        self.retried = 0
        self.bytes = 0

    async def __aenter__(self) -> PromClient:
        import httpx

        # Plain http needs no TLS context (building one loads the CA bundle: ~0.5 s).
        verify: Any = not self.cfg.insecure and self.cfg.url.lower().startswith("https:")
        if self.cfg.ca_file or self.cfg.cert_file:
            import ssl

            try:
                ctx = ssl.create_default_context(cafile=self.cfg.ca_file or None)
                if self.cfg.cert_file:
                    ctx.load_cert_chain(self.cfg.cert_file, self.cfg.key_file or None)
            except (OSError, ssl.SSLError) as exc:  # unreadable or mismatched files
                raise FetchError(f"{self.cfg.url}: TLS setup failed: {exc}") from None
            if self.cfg.insecure:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            verify = ctx
        headers = dict(self.cfg.headers)
        # On loopback, compression only costs CPU on both ends (the server gzips every
        # answer); across a network it saves far more than it costs.
        from urllib.parse import urlparse

        if (urlparse(self.cfg.url).hostname or "") in ("127.0.0.1", "localhost", "::1"):
            headers.setdefault("Accept-Encoding", "identity")
        if self.cfg.bearer_token:
            headers["Authorization"] = f"Bearer {self.cfg.bearer_token}"
        auth = httpx.BasicAuth(*self.cfg.basic_auth) if self.cfg.basic_auth else None
        self._client = httpx.AsyncClient(
            base_url=self.cfg.url.rstrip("/"), headers=headers, auth=auth, verify=verify,
            timeout=httpx.Timeout(self.cfg.timeout, connect=min(10.0, self.cfg.timeout)),
            limits=httpx.Limits(max_connections=max(1, self.cfg.concurrency)),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _call(self, path: str, form: Sequence[tuple[str, str]], what: str) -> Any:
        """POST a form to the API and return `data`, retrying what may succeed later."""
        import httpx

        assert self._client is not None, "use PromClient as an async context manager"
        last = ""
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                self.retried += 1
                await asyncio.sleep(self.cfg.backoff * 2 ** (attempt - 1) * (0.5 + random.random()))
            async with self._sem:
                self.requests += 1
                try:
                    r = await self._client.post(path, content=body_of(form), headers=_FORM)
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                    continue
                body = r.content
            self.bytes += len(body)
            doc: Any = None
            try:
                doc = _loads(body)
            except ValueError:
                doc = None
            if r.status_code == 200 and isinstance(doc, dict) and doc.get("status") == "success":
                return doc.get("data")
            msg = (doc.get("error") if isinstance(doc, dict) else None) or body[:200].decode(
                "utf-8", "replace").strip() or r.reason_phrase
            last = f"HTTP {r.status_code}: {msg}"
            if r.status_code == 422 and _too_big(msg):
                raise _TooBig(last)
            if r.status_code == 429 or r.status_code >= 500:
                continue
            break
        raise FetchError(f"{self.cfg.url}{path} ({what}): {last}")

    async def query(self, promql: str, at: float) -> list[tuple[dict[str, str], float]]:
        """An instant query: (labels, value) per result series."""
        data = await self._call("/api/v1/query", [("query", promql), ("time", _ts(at))], promql)
        out = []
        for r in _result(data, "vector", promql):
            out.append((dict(r.get("metric") or {}), float(r["value"][1])))
        return out

    async def series(self, matchers: Sequence[str], start: float, end: float) -> list[dict[str, str]]:
        """Label sets of every series matching any of `matchers` in [start, end]."""
        form = [("match[]", m) for m in matchers] + [("start", _ts(start)), ("end", _ts(end))]
        data = await self._call("/api/v1/series", form, " or ".join(matchers))
        if not isinstance(data, list):
            raise FetchError(f"{self.cfg.url}/api/v1/series: unexpected answer")
        return [dict(d) for d in data if isinstance(d, dict)]

    async def targets(self) -> list[dict[str, Any]]:
        """Active scrape targets (`discoveredLabels`, `labels`, `scrapeUrl`, `health`)."""
        assert self._client is not None
        import httpx

        try:
            async with self._sem:
                r = await self._client.get("/api/v1/targets", params={"state": "active"})
        except httpx.TransportError as exc:
            raise FetchError(f"{self.cfg.url}/api/v1/targets: {exc}") from None
        try:
            doc = _loads(r.content)
        except ValueError:
            doc = None
        if r.status_code != 200 or not isinstance(doc, dict):
            raise FetchError(f"{self.cfg.url}/api/v1/targets: HTTP {r.status_code}")
        act = (doc.get("data") or {}).get("activeTargets") or []
        return [t for t in act if isinstance(t, dict)]

    async def query_range(self, promql: str, start: float, end: float, step: float) -> list[RangeSeries]:
        """A range query of any length: chunked under the points cap, split on 'too many
        samples', chunks fetched concurrently, series joined by label set in time order."""
        import numpy as np

        parts = await asyncio.gather(*(self._range_chunk(promql, a, b, step, 0)
                                       for a, b in chunks(start, end, step, self.cfg.max_points)))
        by: dict[tuple[tuple[str, str], ...], list[tuple[list[float], list[float]]]] = {}
        labels: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        for part in parts:
            for lab, ts, vs in part:
                key = tuple(sorted(lab.items()))
                labels.setdefault(key, lab)
                by.setdefault(key, []).append((ts, vs))
        out = []
        for key, pieces in by.items():
            tarr = np.concatenate([np.asarray(p[0], dtype=float) for p in pieces])
            varr = np.concatenate([np.asarray(p[1], dtype=float) for p in pieces])
            if len(pieces) > 1:
                order = np.argsort(tarr, kind="stable")
                tarr, varr = tarr[order], varr[order]
            out.append(RangeSeries(labels[key], tarr, varr))
        return out

    async def _range_chunk(self, promql: str, start: float, end: float, step: float,
                           depth: int) -> list[tuple[dict[str, str], list[float], list[float]]]:
        form = [("query", promql), ("start", _ts(start)), ("end", _ts(end)), ("step", _ts(step))]
        try:
            data = await self._call("/api/v1/query_range", form, promql)
        except _TooBig as exc:
            if end - start < step or depth >= 12:
                raise FetchError(f"{self.cfg.url}/api/v1/query_range ({promql}): {exc}") from None
            mid = start + math.floor((end - start) / step / 2) * step
            a = await self._range_chunk(promql, start, mid, step, depth + 1)
            b = await self._range_chunk(promql, mid + step, end, step, depth + 1)
            return a + b
        out = []
        for r in _result(data, "matrix", promql):
            vals = r.get("values") or []
            out.append((dict(r.get("metric") or {}), [float(p[0]) for p in vals],
                        [float(p[1]) for p in vals]))
        return out


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def body_of(form: Sequence[tuple[str, str]]) -> bytes:
    """A form body; repeated keys (`match[]`) kept, which a dict would lose."""
    from urllib.parse import urlencode

    return urlencode(list(form)).encode()


class _TooBig(Exception):
    """The server refused a query for its size: split it."""


def _too_big(msg: str) -> bool:
    m = msg.lower()
    return "too many samples" in m or "exceeded maximum resolution" in m or "max-samples" in m


def _result(data: Any, kind: str, promql: str) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or data.get("resultType") != kind:
        got = data.get("resultType") if isinstance(data, dict) else type(data).__name__
        raise FetchError(f"query {promql!r}: expected a {kind}, got {got}")
    res = data.get("result") or []
    return [r for r in res if isinstance(r, dict)]


def _ts(x: float) -> str:
    return repr(round(float(x), 3))


def selector_matchers(selector: str) -> str:
    """The inside of a `{...}` selector (`{namespace="prod"}` -> `namespace="prod"`)."""
    s = selector.strip()
    if s.startswith("{") and s.endswith("}"):
        s = s[1:-1]
    return s.strip().rstrip(",")


def with_matchers(name: str, *matchers: str) -> str:
    """`name{m1,m2}` from non-empty matcher strings."""
    inner = ",".join(m for m in matchers if m)
    return f"{name}{{{inner}}}"


def quote(value: str) -> str:
    """A PromQL string literal for a label value."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# --- what a fleet verdict needs, per job ------------------------------------------------

HEAP_METRICS = ("go_gc_heap_live_bytes", "go_memstats_next_gc_bytes",
                "go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes")
"""Best first: the runtime's live heap (exact, runtime/metrics), the GC goal (set from the
marked heap at each GC, no sawtooth), then the in-use and allocated heap (saw-toothed:
only their per-window minimum is used)."""
GOROUTINE_METRICS = ("go_goroutines", "go_sched_goroutines_goroutines")
RSS_METRICS = ("process_resident_memory_bytes",)
FD_METRICS = ("process_open_fds",)
START_METRIC = "process_start_time_seconds"
CANDIDATES: dict[str, tuple[str, ...]] = {
    "heap": HEAP_METRICS, "goroutines": GOROUTINE_METRICS, "rss": RSS_METRICS,
    "fds": FD_METRICS, "start": (START_METRIC,),
}
AGG = {"heap": "min_over_time", "goroutines": "min_over_time", "rss": "max_over_time",
       "fds": "min_over_time", "start": "max_over_time"}
"""Per-window aggregation, evaluated by the server over every raw sample: floors for
what leaks (a leak raises the floor; GC sawtooth and bursts only lift the peaks), the
peak for RSS (what the memory limit sees) and the latest process start."""

NICE_STEPS = (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def nice_step(seconds: float, floor: float) -> float:
    """The smallest 'round' step >= seconds (and >= floor)."""
    want = max(seconds, floor)
    for s in NICE_STEPS:
        if s >= want:
            return float(s)
    return float(math.ceil(want / 86400) * 86400)


@dataclass(frozen=True, slots=True)
class FleetPlan:
    """What to read: the range, the selection, the grouping, the resolution."""

    start: float
    end: float
    selector: str = ""
    group_by: str = "job"
    step: float | None = None
    """None: auto (about `target_points` windows over the range, finer for short lives)."""
    min_step: float = 60.0
    target_points: int = 240
    overrides: Mapping[str, str] = field(default_factory=dict)
    """kind (heap, goroutines, rss, fds, start) -> metric name, for renamed metrics."""

    def candidates(self, kind: str) -> tuple[str, ...]:
        o = self.overrides.get(kind)
        return ((o,) if o else ()) + CANDIDATES[kind]

    def all_names(self) -> list[str]:
        return sorted({n for k in CANDIDATES for n in self.candidates(k)})


@dataclass(slots=True)
class JobInfo:
    """What discovery found about one job: its labels and which metrics it exports."""

    job: str
    labels: dict[str, str]
    names: set[str] = field(default_factory=set)
    replica_label: str = "instance"
    series: int = 0
    replicas: set[str] = field(default_factory=set)
    instances: dict[str, str] = field(default_factory=dict)
    """replica -> instance address (host:port), for pprof endpoints."""


@dataclass(slots=True)
class JobHistory:
    """What was fetched for one job, ready for `analyze.fleet.judge_job`."""

    job: str
    labels: dict[str, str]
    replica_label: str
    step: float
    series: dict[str, list[RangeSeries]] = field(default_factory=dict)
    """kind (`heap`, `goroutines`, `nonheap`, `fds`) -> one series per replica series."""
    starts: list[RangeSeries] = field(default_factory=list)
    promql: dict[str, str] = field(default_factory=dict)
    metric: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    peaks: list[RangeSeries] = field(default_factory=list)
    """RSS (window maxima) per replica series: OOM peaks and the time to the limit."""
    points: int = 0


async def discover(client: PromClient, plan: FleetPlan) -> dict[str, JobInfo]:
    """Jobs (values of `group_by`) with the metrics each exports, from `/api/v1/series`."""
    names = "|".join(plan.all_names())
    m = with_matchers("", f'__name__=~"{names}"', selector_matchers(plan.selector))
    rows = await client.series([m], plan.start, plan.end)
    jobs: dict[str, JobInfo] = {}
    for lab in rows:
        j = lab.get(plan.group_by)
        if j is None:
            continue
        info = jobs.get(j)
        if info is None:
            info = jobs[j] = JobInfo(j, {plan.group_by: j})
            if "namespace" in lab:
                info.labels["namespace"] = lab["namespace"]
        info.names.add(lab.get("__name__", ""))
        info.series += 1
        if "pod" in lab:
            info.replica_label = "pod"
        if info.labels.get("namespace") not in (None, lab.get("namespace")):
            info.labels.pop("namespace", None)
    for lab in rows:
        info = jobs.get(lab.get(plan.group_by, "\0"))
        if info is None:
            continue
        r = lab.get(info.replica_label) or lab.get("instance", "")
        info.replicas.add(r)
        if "instance" in lab:
            info.instances.setdefault(r, lab["instance"])
    return jobs


def _window(step: float) -> str:
    return f"{round(step)}s"


async def fetch_job(client: PromClient, plan: FleetPlan, info: JobInfo) -> JobHistory:
    """Fetch one job's history; errors are kept in `errors` (a partial failure)."""
    sel = selector_matchers(plan.selector)
    jm = f"{plan.group_by}={quote(info.job)}"
    if jm in sel:
        jm = ""
    rng = plan.end - plan.start
    step = plan.step or nice_step(rng / plan.target_points, plan.min_step)
    h = JobHistory(info.job, dict(info.labels), info.replica_label, step)

    def pick(kind: str) -> str:
        return next((n for n in plan.candidates(kind) if n in info.names), "")

    def q(kind: str, name: str, st: float) -> str:
        return f"{AGG[kind]}({with_matchers(name, sel, jm)}[{_window(st)}])"

    async def get(kind: str, name: str, st: float) -> list[RangeSeries]:
        try:
            out = await client.query_range(q(kind, name, st), plan.start + st, plan.end, st)
        except FetchError as exc:
            h.errors.append(str(exc))
            return []
        h.points += sum(len(s.ts) for s in out)
        return out

    start_name = pick("start")
    if start_name:
        starts = await get("start", start_name, step)
        if plan.step is None and starts:
            life = _median_life(starts, step)
            if life is not None and life < 30 * step and step > plan.min_step:
                finer = nice_step(life / 30, plan.min_step)
                if finer < step:
                    step = h.step = finer
                    starts = await get("start", start_name, step)
        h.starts = starts
    names = {k: pick(k) for k in ("heap", "goroutines", "rss", "fds")}
    kinds = [k for k, n in names.items() if n]
    got = await asyncio.gather(*(get(k, names[k], step) for k in kinds))
    fetched = dict(zip(kinds, got, strict=True))
    for k in ("heap", "goroutines", "fds"):
        if fetched.get(k):
            h.series[k] = fetched[k]
            h.metric[k] = names[k]
            h.promql[k] = q(k, names[k], step)
    if fetched.get("rss"):
        h.peaks = fetched["rss"]
        h.metric["nonheap"] = f"{names['rss']} - GC goal ({names.get('heap') or 'none'})"
        h.promql["nonheap"] = q("rss", names["rss"], step)
    return h


def _median_life(starts: Sequence[RangeSeries], step: float) -> float | None:
    """Median length of the process lives seen in start-time series (seconds)."""
    import numpy as np

    lens: list[float] = []
    for s in starts:
        if len(s.ts) == 0:
            continue
        cuts = np.flatnonzero(np.diff(s.values)) + 1
        bounds = np.concatenate(([0], cuts, [len(s.ts)]))
        for a, b in itertools.pairwise(bounds.tolist()):
            lens.append(float(s.ts[b - 1] - s.ts[a]) + step)
    return float(np.median(lens)) if lens else None
