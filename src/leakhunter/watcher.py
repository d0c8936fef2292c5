"""The watcher: scrape every target every interval, concurrently, into a :class:`Store`.

It sits above the layers (like `cli.py`, a driver): it runs `collect/` (scraping,
the store) and asks `analyze/` for verdicts, so neither of those reaches up.

Contract (used by `leakhunter watch` and by `leakhunter soak`, which runs its load
generator in the same asyncio loop)::

    watcher = Watcher(["http://127.0.0.1:6060"], Store("lh.db"), interval=10.0,
                      pid=None, metrics_url=None, limit_bytes=None, source_dir=None)
    await watcher.run(duration=1800, until_verdict=False, on_tick=cb, stop=event)
    watcher.verdicts()   # {target: [Verdict, ...]} computed from the store
    watcher.status()     # [TargetStatus, ...] for a live view

How it stays reliable:

- Each target runs its own loop (phase-shifted across the interval so hundreds of
  targets do not fire at once), so a target that refuses, hangs or returns garbage
  only delays itself: its fetches are retried with exponential backoff inside the
  interval's budget, then a gap is recorded and one warning line is printed per
  failure streak.
- Each target's scrape is committed on its own, so a `kill -9` loses at most the
  scrape in flight.
- Process identity (pid and start time from /proc or `process_start_time_seconds`,
  the binary's build id from the heap profile, and the monotone counters NumGC,
  TotalAlloc and the heap profile's alloc_space) is checked on every scrape; a change
  or a counter going backwards opens a new process row, which splits every series,
  so a restart never reads as a leak.
- The `goroutineleak` profile costs the target a GC cycle, so it is fetched only
  every `leak_every`-th scrape, and never again once the target answers 404; a scrape
  that fetches it forces no other GC (two cycles back to back empty every sync.Pool).
- A GC is forced on the target only when asked (`force_gc_every`: `soak` always, on
  the user's own test service; `watch --force-gc EVERY` opt-in): the live heap changes
  only at a GC, so where GCs are rare (a growing heap makes them rarer; GOGC=off) the
  verdict would otherwise wait for them. A forced scrape fetches
  `/debug/pprof/heap?gc=1` first: in the text form its MemStats trailer, which the runtime
  reads right after the GC and before rendering, holds HeapAlloc, the live heap just after
  that GC (`heap_marked`: exact, unsampled); in the binary form, `/debug/vars` (or, without it,
  the `metrics_url`'s `go_memstats_heap_alloc_bytes`) read right after it stands in, counting
  the garbage the rendering made as well. Cost: one GC of the
  target per forced scrape (bench/RESULTS-detection.md measures it).
- A forcing watcher fetches the heap profile in its text form (`debug=1`): the binary form costs the
  target a fresh gzip writer, ~1.3 MB of allocation per fetch against ~50 KB (lab
  poolmisuse; prometheus 1.48 MB against 0.21 MB), and on a small heap that much
  allocation twice per 0.5 s scrape started a GC of the target's own ~10 ms before
  the forced one in most scrapes. Two cycles with no request between them free every
  `sync.Pool` (victim cache), so soak itself emptied the pool a misused-pool leak grows
  in: lab poolmisuse (4 KiB/request at 100 req/s) grew 2.8 -> 4.7 MiB over 37 s, now
  5.4 -> 15.4 MiB over 21 s. A target whose first text profile passes HEAP_TEXT_MAX (so big a
  heap that the gzip writer's fixed cost is small beside it) is read in binary from then
  on, unless the text's MemStats trailer is the only place its memstats are found; a later
  profile switches only past HEAP_TEXT_LATE_MAX, since the switch itself steps the exact
  heap up by the gzip writer's ~1.2 MiB (a false alarm on healthy Alertmanagers). An
  unforced `watch` of a target with memstats elsewhere keeps the binary form (`_heap_as_text`).
- Where leaked goroutines were started: the debug=1 profile a scrape reads has no `created by`
  line, so once a process's goroutines grew (`_creators_due`) one full `goroutine?debug=2` dump is
  kept (snapshot kind `goroutine_stacks`, at most one a minute), and each goroutine suspect names
  the `go` statement most of its goroutines came from. The dump stops the target's world while it
  is written: past CREATORS_QUIET_MAX goroutines only soak and `watch --force-gc` take it.
- Files the GC closes: with `--pid`, a forced scrape counts the target's open files
  (descriptors with a path; sockets and pipes come and go on their own) right before
  the GC and again after it. Files the code never closed are closed by their
  finalizers in that GC (LH404): a forced GC per scrape keeps the fd count flat, so the
  leak shows only as `fds_gc_closed`, how many fewer files were open after each forced
  GC than before it. That difference is not zero for a healthy service whose requests
  open files of their own: soak's load and scrapes run on fixed, commensurate clocks
  (a request every 20 ms, a scrape every 500 ms), so the count before the GC falls at
  the same point of the request cycle all soak long, and the count after it at
  another (node-exporter: before inside a request, after between two, one GC in six
  "closed" a file; bench/RESULTS-realservices.md case 5). So half of the forced
  scrapes, chosen by a coin, are *shams*: the same two counts around the same fetches
  with `/debug/pprof/heap` without gc=1 (`fds_sham_closed`), and the GC follows the
  second count, so every scrape still has its exact heap. Both counts of a pair are
  taken the same time apart (`_FdPair.wait`), so sham and GC pairs sample the same
  points of any periodic load, and only the coin tells them apart: the verdict asks
  whether GC pairs lose files more often than sham pairs (an exact two-sample test).
- Each target has its own small keep-alive client (`http11.py` for http://, httpx for
  https://): measured at 1000 targets every 10 s with ~20% of one core
  (bench/RESULTS-watch.md).
"""

from __future__ import annotations

import asyncio
import math
import random
import ssl
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from leakhunter.collect.scrape import HeapTotals, Vars, goroutine_total, heap_totals, parse_vars
from leakhunter.collect.store import SHAM_SHARE, Store, StoreError
from leakhunter.errors import CorruptInputError, InputError, UsageError

if TYPE_CHECKING:
    from leakhunter.model import Verdict

DEFAULT_INTERVAL = 10.0
LEAK_EVERY = 6
LIVE_VERDICT_TARGETS = 20
MAX_BODY = 64 << 20
FORCED_SHARE = 0.75
"""Share of a scrape's remaining time its forced heap fetch (GC and profile) may take."""
HEAP_TEXT_MAX = 2 << 20
"""A target whose first text heap profile is larger than this is read in the binary form (module docstring)."""
HEAP_TEXT_LATE_MAX = 32 << 20
"""A later text heap profile switches the form only past this: each binary fetch makes the target allocate
~1.2 MiB that the exact heap read right after it still counts, so a switch inside a soak's window is a
step up in a healthy heap (Alertmanager v0.30.1 and v0.32.3, real leaks set 4: 4 of 4 fixed soaks that
switched at ~60 s alarmed). Past 32 MiB of text the heap is large enough for that step to be noise."""


CREATORS_EVERY = 60.0
"""Seconds between two `goroutine?debug=2` fetches of one process (see `_creators_due`)."""
CREATORS_MIN_GROWTH = 20
CREATORS_MIN_SHARE = 0.1
"""A full dump is fetched only once goroutines grew by this many and this share over the process's
first count: a healthy service is never asked for one."""
CREATORS_QUIET_MAX = 10_000
"""Above this many goroutines only a forcing watcher (soak, `watch --force-gc`) takes a full dump: the
target's world stops while it is written (bench/bench_goroutine_dump.py on lab blockedsend: 7, 52 and 399 ms
to fetch at 1,000, 10,000 and 50,000 goroutines, a probe on the service stalled up to 5, 23 and 94 ms;
the debug=1 profile 4, 21 and 68 ms)."""


FD_WAIT_MIN = 0.01
"""Seconds: the least time between the two fd counts of a pair."""
FD_WAIT_MARGIN = 1.25
"""The wait between the two counts is this times the 90th percentile of the recent GC
pairs' fetch times, so nearly every GC pair (the longer kind) is done in time."""
FD_WAIT_HISTORY = 20
FD_JITTER = 0.1
"""Forced scrapes with --pid start up to this share of the interval late, at random..."""
FD_JITTER_MAX = 0.05
"""...and at most this many seconds late: covers a load period of 20 ms (50 requests/s)."""

_HEAP_BOOKKEEPING = ("MSpanSys", "MCacheSys", "BuckHashSys", "GCSys", "OtherSys")
"""Runtime metadata (memstats) that scales with the heap, not with what lives outside it."""

class _NotFound(Exception):
    """The endpoint answered 404: the target does not serve it (not a failure)."""


@dataclass(slots=True)
class TargetStatus:
    """What the live view shows for one target."""

    target: str
    ok: bool = False
    scrapes: int = 0
    failures: int = 0
    last_error: str = ""
    last_ts: float = 0.0
    heap_live: float | None = None
    goroutines: float | None = None
    rss: float | None = None
    restarts: int = 0
    leak_profile: bool | None = None


UNPROVEN_SCRAPES = 3
"""First scrapes a watcher withholds, at most, while it cannot tell its target's process
from the last one in the store (no counter, no start time), before it opens a new row."""
ADOPT_SLACK = 0.5
"""How far another live writer's counters may be ahead of ours at adoption without proving a
restart (a restart resets them to near zero; an overlapping scrape is a GC or two ahead)."""
ADOPT_LIVE_WINDOW = 30.0
"""Seconds (plus three intervals) within which the store's last row counts as a live writer's."""
ROUND_WAIT = 0.8
"""A tick waits for the scrapes due at its own time, up to this share of an interval.
Ticks and scrapes fall due together; a tick that ran at once judged the store one scrape
old, so every verdict (`--fail-fast`, `--until-verdict`, the live view) came an interval
late: at soak's 0.5 s, one goroutine per request was called at 3.5 s instead of ~3.0 s
(bench/RESULTS-detection.md). A target that hangs delays the tick by this much at most."""


@dataclass(slots=True)
class _FdPair:
    """The fd counts around one forced scrape's fetches (see the module docstring)."""

    sham: bool
    before: int
    at: float
    """time.monotonic() of the first count."""

    @staticmethod
    def wait(history: list[float], interval: float) -> float:
        """Seconds from the first count to the second, the same for GC and sham pairs: a
        GC pair's fetches take longer (the GC), and a second count taken as soon as they
        are done would fall later in the request cycle than a sham's, which is a bias of
        its own under a periodic load. At most 40% of the interval."""
        if not history:
            return min(0.1, 0.4 * interval)
        xs = sorted(history)
        q90 = xs[min(len(xs) - 1, int(0.9 * len(xs)))]
        return min(max(FD_WAIT_MIN, FD_WAIT_MARGIN * q90), 0.4 * interval)


@dataclass(slots=True)
class _Target:
    url: str
    phase: float
    status: TargetStatus
    process_id: int | None = None
    pid: int | None = None
    start_time: float | None = None
    build_id: str | None = None
    num_gc: float | None = None
    total_alloc: float | None = None
    alloc_space: float | None = None
    unproven: int = 0
    """First scrapes withheld because nothing in them told whether the process is the
    store's last one (see Watcher._record)."""
    vars_ok: bool | None = None
    leak_ok: bool | None = None
    metrics_heap: bool | None = None
    """/metrics carries go_memstats_heap_alloc_bytes (None: not read yet)."""
    heap_binary: bool = False
    """Its first text heap profile passed HEAP_TEXT_MAX (or a later one HEAP_TEXT_LATE_MAX): read the
    binary form (module docstring)."""
    metrics_ok: bool | None = None
    tick: int = 0
    failing: bool = False
    cgroup_max: int | None = None
    heap_sig: tuple[float, float, float] | None = None
    last_num_gc: float | None = None
    last_forced: float = 0.0
    fd_took: list[float] = field(default_factory=list)
    """Seconds the latest GC pairs' fetches took (for `_FdPair.wait`)."""
    done_due: float = -math.inf
    """Due time (monotonic) up to which every scrape of this target finished or was skipped."""
    extra: dict[str, Any] = field(default_factory=dict)
    gr_base: tuple[int, float] | None = None
    """(process row, its first goroutine count): what `_creators_due` measures growth against."""
    creators_at: float = -math.inf
    """When (time.time) this process's goroutines were last fetched in full (debug=2)."""


def _warn_stderr(line: str) -> None:
    print(f"leakhunter: warning: {line}", file=sys.stderr, flush=True)


class Watcher:
    """Scrape targets into a store on a fixed interval; see the module docstring."""

    def __init__(
        self,
        targets: list[str],
        store: Store,
        *,
        interval: float = DEFAULT_INTERVAL,
        metrics_url: str | None = None,
        pid: int | None = None,
        limit_bytes: int | None = None,
        source_dir: str | None = None,
        timeout: float = 5.0,
        leak_every: int = LEAK_EVERY,
        warn: Callable[[str], None] | None = None,
        max_connections: int = 200,
        force_gc_every: float | None = None,
        expect_growth: Sequence[Any] = (),
        load_done: Callable[[], float] | None = None,
        requests_metric: str | None = None,
    ) -> None:
        if not targets:
            raise UsageError("watch needs at least one target URL")
        if interval <= 0:
            raise UsageError("--interval must be positive")
        if (metrics_url or pid) and len(targets) > 1:
            raise UsageError("--metrics and --pid describe one process: give a single target")
        if requests_metric is not None and not requests_metric.strip():
            raise UsageError("--requests-metric needs the name of a counter")
        if requests_metric and not metrics_url:
            raise UsageError("--requests-metric names a counter of the --metrics page: give --metrics URL too")
        seen: set[str] = set()
        self.targets: list[str] = []
        for t in targets:
            u = normalize_target(t)
            if u not in seen:
                seen.add(u)
                self.targets.append(u)
        self.store = store
        self.interval = float(interval)
        self.metrics_url = metrics_url
        self.pid = pid
        self.limit_bytes = limit_bytes
        self.source_dir = source_dir
        self.timeout = float(timeout)
        self.leak_every = max(1, leak_every)
        self.warn = warn or _warn_stderr
        self.max_connections = max_connections
        self.force_gc_every = force_gc_every
        self.expect_growth = list(expect_growth)
        """Compiled --expect-growth patterns (analyze/expected.py), applied at every look."""
        self.load_done = load_done
        """Requests the driving load has completed so far (soak's own load generator): stored
        with every scrape as `load_requests`, so the analysis can read allocation per request."""
        self.requests_metric = requests_metric
        """`watch --requests-metric`: a counter of the /metrics page (summed over its labels) of the
        requests the service has served, stored as `load_requests` in place of soak's own count:
        under watch traffic comes and goes, but allocation per request served is still a ratio."""
        self.started: float = 0.0
        self.duration: float | None = None
        self.rounds = 0
        self.done = False
        self.gave_up: float | None = None
        n = len(self.targets)
        self._t: dict[str, _Target] = {
            u: _Target(u, phase=(i / n) * self.interval if n > 1 else 0.0,
                       status=TargetStatus(u))
            for i, u in enumerate(self.targets)
        }
        self._verdict_cache: dict[tuple[int, bool], dict[str, list[Verdict]]] = {}
        self.decided_until: float | None = None
        """The last sample time `until_verdict` decided on (see _all_decided)."""
        self._findings: list[Any] | None = None
        self._ssl: ssl.SSLContext | None = None
        self._rng = random.Random()
        """Draws which forced scrapes are shams (a test may seed it)."""
        self._scraped = asyncio.Event()
        """Set by a target loop after each scrape: a waiting tick re-checks its round."""
        self.live_verdicts: dict[str, list[Verdict]] = {}
        """Verdicts without suspects, refreshed each tick for small watches (live view)."""
        for u in self.targets:
            store.target_id(u)
            if limit_bytes:
                store.set_meta(u, "limit_bytes", str(int(limit_bytes)))
            if source_dir:
                store.set_meta(u, "source_dir", str(source_dir))
        self._read_limits()
        store.commit()

    def _read_limits(self) -> None:
        """The cgroup memory limit and GOMEMLIMIT of `--pid`, for the forecast.

        Read when the watcher is made and again at the target's first answer: a service
        started by `soak --cmd` through a wrapper that enters its cgroup (or a container
        runtime) may not be in it yet when the watcher is made."""
        if not self.pid:
            return
        from leakhunter.collect.procstat import cgroup_memory_max, gomemlimit

        target = self.targets[0]
        cg = cgroup_memory_max(self.pid)
        if cg and cg != self._t[target].cgroup_max:
            self._t[target].cgroup_max = cg
            self.store.set_meta(target, "cgroup_memory_max", str(cg))
        gml = gomemlimit(self.pid)
        if gml:
            self.store.set_meta(target, "gomemlimit", str(gml))

    # -- public -------------------------------------------------------------------

    async def run(
        self,
        *,
        duration: float | None,
        until_verdict: bool = False,
        on_tick: Callable[[Watcher], None] | None = None,
        stop: asyncio.Event | None = None,
        give_up: float | None = None,
    ) -> None:
        """Scrape until `duration` seconds passed, `stop` is set, or (with
        `until_verdict`) every target has a decisive verdict.

        `give_up`: stop when no target has answered for that many seconds (since the start
        or the last answer) and set `gave_up`: `--until-verdict` has no deadline, and a
        target that is down never reaches a verdict (it retried forever)."""
        if duration is None and not until_verdict and stop is None:
            raise UsageError("give --duration or --until-verdict (or a stop event)")
        stop = stop or asyncio.Event()
        # The first scrape does not wait for scipy (seconds on a busy machine): the import
        # runs in a worker thread beside the scrapes, and the first analysis (also in a
        # worker thread, one interval later) takes it from there via the import lock.
        warm = asyncio.create_task(asyncio.to_thread(_warm_imports))
        self._scraped = asyncio.Event()  # a fresh one per run: an Event binds to the loop that waits on it
        self.started = time.time()
        self.duration = duration
        deadline = math.inf if duration is None else time.monotonic() + duration
        t0 = time.monotonic()
        loops = [
            asyncio.create_task(self._target_loop(st, t0, deadline, stop))
            for st in self._t.values()
        ]
        ticker = asyncio.create_task(self._ticker(t0, deadline, stop, until_verdict, on_tick,
                                                  give_up))
        try:
            await asyncio.gather(*loops)
        finally:
            stop.set()
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await asyncio.gather(ticker, return_exceptions=True)
            await asyncio.gather(warm, return_exceptions=True)
        self.done = True
        self.store.commit()
        if on_tick:
            on_tick(self)

    def verdicts(self, *, suspects: bool = True) -> dict[str, list[Verdict]]:
        """Verdicts per target, computed from the store (cached per sample count).

        `suspects=False` skips decoding snapshots (the live view and `until_verdict`
        ask every interval; suspects are only needed for the final report)."""
        from leakhunter.analyze.verdicts import analyze_target

        if self.done and self.decided_until is not None and self.store.until is None:
            # Report what --until-verdict stopped on; verdicts cached before counted all samples.
            self.store.until = self.decided_until
            self._verdict_cache = {}
        n = self.store.sample_count()
        key = (n, suspects)
        cached = self._verdict_cache.get(key)
        if cached is not None:
            return cached
        findings = self._source_findings() if suspects else None
        out = {
            u: analyze_target(self.store, u, limit_bytes=self.limit_bytes, findings=findings,
                              with_suspects=suspects, expect_growth=self.expect_growth)
            for u in self.targets
        }
        self._cache_put(key, out)
        return out

    def status(self) -> list[TargetStatus]:
        """Per-target numbers for a live view (latest values, errors, restarts)."""
        return [self._t[u].status for u in self.targets]

    def elapsed(self) -> float:
        return time.time() - self.started if self.started else 0.0

    def silent_for(self) -> float:
        """Seconds since any target last answered (since the start if none has)."""
        last = max((st.status.last_ts for st in self._t.values()), default=0.0)
        return time.time() - max(last, self.started)

    def reachable(self) -> bool:
        """True when at least one target answered at least once."""
        return any(st.status.scrapes > 0 for st in self._t.values())

    # -- loops --------------------------------------------------------------------

    async def _ticker(
        self,
        t0: float,
        deadline: float,
        stop: asyncio.Event,
        until_verdict: bool,
        on_tick: Callable[[Watcher], None] | None,
        give_up: float | None = None,
    ) -> None:
        k = 1
        while not stop.is_set():
            nxt = min(t0 + k * self.interval, deadline)
            if await _sleep_until(nxt, stop):
                return
            if time.monotonic() >= deadline:
                return
            if len(self.targets) <= LIVE_VERDICT_TARGETS:
                await self._await_round(t0, nxt, stop)
            self.rounds = k
            # Ticks missed while the loop was busy are skipped, not replayed.
            k = max(k + 1, math.floor((time.monotonic() - t0) / self.interval) + 1)
            if on_tick:
                if len(self.targets) <= LIVE_VERDICT_TARGETS:
                    # Trend fits for the live view run in a worker thread on their own
                    # read-only connection: the scraping loop never waits for them.
                    self.live_verdicts = await asyncio.to_thread(self._analyze_readonly)
                try:
                    on_tick(self)
                except Exception as exc:  # a broken view must not stop the watch
                    self.warn(f"live view failed: {exc}")
            if until_verdict and await asyncio.to_thread(self._all_decided):
                stop.set()
                return
            if give_up is not None and self.silent_for() >= give_up:
                self.gave_up = give_up
                stop.set()
                return

    def _analyze_readonly(self) -> dict[str, list[Verdict]]:
        from leakhunter.analyze.verdicts import analyze_target

        with Store(self.store.path, readonly=True) as ro:
            n = ro.sample_count()
            out = {u: analyze_target(ro, u, limit_bytes=self.limit_bytes, with_suspects=False,
                                 expect_growth=self.expect_growth)
                   for u in self.targets}
        # The same numbers `verdicts(suspects=False)` would compute now: a tick's callback
        # asking for them again (soak --fail-fast, the benchmark) gets them for free.
        self._cache_put((n, False), out)
        return out

    def _cache_put(self, key: tuple[int, bool], out: dict[str, list[Verdict]]) -> None:
        """Keep the verdicts of the latest sample count only (both with and without
        suspects): the cache never grows with the length of a watch."""
        kept = {k: v for k, v in self._verdict_cache.items() if k[0] == key[0]}
        kept.setdefault(key, out)
        self._verdict_cache = kept

    def _all_decided(self) -> bool:
        """True when the live heap and goroutines of every target have a decisive verdict.

        Runs in a worker thread on its own read-only connection, so hundreds of trend
        fits never stall the scraping loop."""
        from leakhunter.analyze.verdicts import analyze_target

        with Store(self.store.path, readonly=True) as ro:
            # Decide on the samples up to now only: scrapes land meanwhile, and the final
            # report must show the verdicts the watch stopped on (a sequential test's
            # verdict is the one at its stopping time; one more look can undo a marginal one).
            ro.until = ro.last_sample_ts()
            for u in self.targets:
                vs = analyze_target(ro, u, limit_bytes=self.limit_bytes, with_suspects=False,
                                 expect_growth=self.expect_growth)
                main = [v for v in vs if v.series in ("heap_live", "gc_live_heap", "goroutines")]
                if not main or any(v.kind == "inconclusive" for v in main):
                    return False
        self.decided_until = ro.until
        return True

    async def _target_loop(
        self, st: _Target, t0: float, deadline: float, stop: asyncio.Event,
    ) -> None:
        # One client (a few kept-alive connections) per target, so targets never queue
        # behind each other; plain http uses the light client of `http11.py`.
        client = self._getter(st.url)
        if self.metrics_url is None and self.force_gc_every is not None and len(self.targets) == 1:
            self.metrics_url = await self._memstats_metrics(client, st.url)
        metrics = self._getter(self.metrics_url) if self.metrics_url else None
        try:
            await self._target_ticks(client, metrics, st, t0, deadline, stop)
        finally:
            await client.aclose()
            if metrics is not None:
                await metrics.aclose()

    async def _memstats_metrics(self, client: _Getter, base: str) -> str | None:
        """`BASE/metrics` when the target has no /debug/vars but exports the Prometheus Go
        collector's go_memstats_* there (prometheus itself, and many services): with forced
        GCs, its HeapAlloc read right after each GC is the exact live heap, where the heap
        profile's 512 KiB samples alone drew steps a healthy prometheus was once called a
        leak on (bench/RESULTS-realservices.md). Asked once, before the first scrape."""
        try:
            status, _ = await client.get(base + "/debug/vars", self.timeout)
            if status == 200:
                return None
            status, body = await client.get(base + "/metrics", self.timeout)
        except (OSError, TimeoutError, _TransportError):
            return None
        if status == 200 and b"\ngo_memstats_heap_alloc_bytes " in b"\n" + body:
            return base + "/metrics"
        return None

    def _getter(self, base: str) -> _Getter:
        from urllib.parse import urlsplit

        u = urlsplit(base)
        if u.scheme == "http":
            from leakhunter.collect.http11 import Client

            root = f"http://{u.netloc}"
            return _Http11Getter(Client(root, max_body=MAX_BODY))
        return _HttpxGetter(self._ssl_context(), self.timeout)

    async def _await_round(self, t0: float, at: float, stop: asyncio.Event) -> None:
        """Wait (ROUND_WAIT at most) until every scrape due at or before `at` is done."""
        limit = at + ROUND_WAIT * self.interval

        def pending() -> bool:
            for st in self._t.values():
                if at < t0 + st.phase:
                    continue
                due = t0 + st.phase + math.floor((at - t0 - st.phase) / self.interval + 1e-9) \
                    * self.interval
                if due > st.done_due + 1e-9:
                    return True
            return False

        while not stop.is_set():
            self._scraped.clear()
            left = limit - time.monotonic()
            if left <= 0 or not pending():
                return
            try:
                await asyncio.wait_for(self._scraped.wait(), timeout=left)
            except TimeoutError:
                return

    def _ssl_context(self) -> ssl.SSLContext:
        """One TLS context for all targets' clients (loading CA certificates costs ~0.1 s)."""
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def _target_ticks(
        self, client: _Getter, metrics: _Getter | None, st: _Target, t0: float,
        deadline: float, stop: asyncio.Event,
    ) -> None:
        k = 0
        while not stop.is_set():
            due = t0 + st.phase + k * self.interval
            if due >= deadline:
                return
            if await _sleep_until(due, stop):
                return
            # A scrape started before the deadline may finish after it: cutting it short
            # would record a false gap for targets whose phase falls near the end.
            started = time.monotonic()
            try:
                await self._scrape(client, metrics, st, max(self.interval * 0.9, self.timeout))
            except StoreError:
                raise
            except Exception as exc:  # watch never dies of what a target answers (issue 11)
                self._failed(st, time.time(), f"unreadable answer: {type(exc).__name__}: {exc}")
            # A scrape that overran skips the ticks it missed instead of bunching up; each
            # skipped interval is a gap of its own, so the record says how much is missing.
            nk = max(k + 1, math.ceil((time.monotonic() - t0 - st.phase) / self.interval))
            took = time.monotonic() - started
            for missed in range(k + 1, nk):
                at = t0 + st.phase + missed * self.interval
                if at < deadline:
                    self.store.add_gap(st.url, time.time() - (time.monotonic() - at),
                                       f"no scrape: the previous one took {took:.1f}s")
            if nk > k + 1:
                self.store.commit()
            k = nk
            st.done_due = t0 + st.phase + (k - 1) * self.interval
            self._scraped.set()

    # -- one scrape ---------------------------------------------------------------

    async def _scrape(
        self, client: _Getter, metrics_client: _Getter | None, st: _Target, budget: float
    ) -> None:
        end = time.monotonic() + budget
        if self.pid and self.force_gc_every is not None:
            # A random start within FD_JITTER of the interval: soak's load and scrapes run
            # on commensurate clocks, so without it every GC (and every fd count) fell at
            # the same point of the request cycle, and a sham's GC, which follows its
            # second count, at another: node-exporter's heap after a forced GC holds the
            # requests in flight, and the two kinds of scrape read it at different levels.
            await asyncio.sleep(self._rng.uniform(0.0, min(FD_JITTER * self.interval, FD_JITTER_MAX)))
        ts = time.time()
        base = st.url
        want_vars = st.vars_ok is not False or st.tick % 30 == 0
        want_leak = st.leak_ok is not False and st.tick % self.leak_every == 0
        force = (self.force_gc_every is not None
                 and ts - st.last_forced >= self.force_gc_every - 0.25 * self.interval)
        if force and want_leak and st.leak_ok:
            # The goroutineleak profile runs a GC cycle of its own: right after a forced one,
            # two cycles in a few ms move every sync.Pool to its victim cache and then free
            # it, so a pool in steady use was emptied every leak_every-th scrape (Go 1.27:
            # lab poolmisuse stayed at 1-5 MB under soak and grew without it). Its GC is
            # this scrape's GC instead: the heap profile and /debug/vars are read as for an
            # unforced scrape, and the next scrape forces again. Only once the target is known
            # to serve it: on the first scrape a target that answers 404 (Go < 1.27) ran no GC
            # at all, and the suspects' baseline was its heap as of its own last GC (real
            # services set 5, garagemq: 84 MiB against 254 MiB live, a +166 MiB top suspect).
            force = False
        pre: dict[str, Any] = {}
        pair: _FdPair | None = None
        heap_load: float | None = None
        if force:
            # The GC first, then everything else: /debug/vars read right after it gives
            # the live heap of that GC (HeapAlloc before new allocations pile up). A sham
            # pair fetches the heap profile without the GC here and forces it after its
            # second count (below).
            st.last_forced = ts
            if self.pid:
                from leakhunter.collect.procstat import file_fds

                before = file_fds(self.pid)
                if before is not None:
                    pair = _FdPair(self._rng.random() < SHAM_SHARE, before, time.monotonic())
            sham = pair is not None and pair.sham
            heap_url = "/debug/pprof/heap" if sham else "/debug/pprof/heap?gc=1"
            if _heap_as_text(st, self.metrics_url, self.force_gc_every):
                heap_url += "&debug=1" if "?" in heap_url else "?debug=1"
            # At most three quarters of what is left: a heap endpoint that hangs must not starve
            # the goroutine profile of the same scrape (a service whose heap profile never
            # answers read as "never answered a scrape" once every scrape forced a GC).
            heap_end = time.monotonic() + FORCED_SHARE * max(0.0, end - time.monotonic())
            load_before = self.load_done() if self.load_done is not None else None
            try:
                pre["heap"] = await self._fetch(client, base + heap_url, heap_end)
            except Exception as exc:  # recorded like any failed fetch below
                pre["heap"] = exc
            if load_before is not None and self.load_done is not None and not sham:
                # The profile's allocations stop at the GC this request ran: the load count
                # belongs to that moment, not to the end of the scrape (the goroutine profile
                # and an fd pair come after it). Read at the end, a loaded machine put 100s of
                # ms of requests between the two, and the allocation per request of a steadily
                # growing chain swung by a third from point to point (test_soak_per_request).
                heap_load = (load_before + self.load_done()) / 2
        # (Made after the forced fetch: a coroutine made and then left unawaited, when a
        # stop cancels that fetch, is a RuntimeWarning.)
        jobs: dict[str, Any] = {
            "goroutine": self._fetch(client, base + "/debug/pprof/goroutine?debug=1", end),
        }
        if not force:
            # Without a forced GC, a service that serves only pprof still tells the heap goal
            # and the GC count in the text form's MemStats trailer: the live heap's shape once
            # per GC, unsampled, where the binary form gave only the 512 KiB samples (syncthing
            # read as a leak at one tick of `watch` on them, held-out real services set 3).
            plain = "/debug/pprof/heap?debug=1" if _heap_as_text(st, self.metrics_url, self.force_gc_every) else "/debug/pprof/heap"
            jobs["heap"] = self._fetch(client, base + plain, end)
        if want_vars:
            jobs["vars"] = self._fetch(client, base + "/debug/vars", end)
        if want_leak:
            jobs["leak"] = self._fetch(client, base + "/debug/pprof/goroutineleak?debug=1", end)
        if self.metrics_url and metrics_client is not None:
            jobs["metrics"] = self._fetch(metrics_client, self.metrics_url, end)
        results = dict(zip(jobs, await asyncio.gather(*jobs.values(), return_exceptions=True),
                           strict=True))
        results.update(pre)
        fds_closed: tuple[str, float] | None = None
        if pair is not None and isinstance(pre.get("heap"), bytes):
            fds_closed = await self._second_count(client, metrics_client, st, pair, results, end)
        st.tick += 1
        values: dict[str, float] = {}
        errors: list[str] = []
        heap: HeapTotals | None = None
        heap_bytes = results.get("heap")
        new_heap: bytes | None = None
        if isinstance(heap_bytes, bytes):
            # after the first profile read (heap_sig set) the form stays unless the text grows huge
            limit = HEAP_TEXT_LATE_MAX if st.heap_sig is not None else HEAP_TEXT_MAX
            if (len(heap_bytes) > limit and heap_bytes[:2] != b"\x1f\x8b"
                    and not _memstats_from_profile(st, self.metrics_url)):
                st.heap_binary = True
            try:
                heap = heap_totals(heap_bytes)
                sig = (heap.alloc_space, heap.inuse_space, heap.alloc_objects)
                if sig != st.heap_sig:
                    # The heap profile is republished only at the end of a GC cycle; an
                    # unchanged profile is the same data point again, and repeating it
                    # would draw flat steps (a false plateau) between GCs.
                    st.heap_sig = sig
                    new_heap = heap_bytes
                    values["heap_live"] = heap.inuse_space
                    values["heap_objects"] = heap.inuse_objects
                    values["heap_alloc_total"] = heap.alloc_space
            except InputError as exc:
                errors.append(f"heap: {exc}")
                heap_bytes = None
        else:
            errors.append(f"heap: {_describe(heap_bytes)}")
            heap_bytes = None
        gr_bytes = results.get("goroutine")
        if isinstance(gr_bytes, bytes):
            try:
                values["goroutines"] = float(goroutine_total(gr_bytes))
            except InputError as exc:
                errors.append(f"goroutine: {exc}")
                gr_bytes = None
        else:
            errors.append(f"goroutine: {_describe(gr_bytes)}")
            gr_bytes = None
        if heap_bytes is None and gr_bytes is None:
            reasons = [e.split(": ", 1)[1] for e in errors]
            same = len(set(reasons)) == 1
            self._failed(st, ts, reasons[0] if same else "; ".join(errors))
            return
        for err in errors:  # one endpoint answered, the other did not: still a gap (issue 11)
            self.store.add_gap(st.url, ts, err)
        vars_: Vars | None = None
        if "vars" in results:
            r = results["vars"]
            if isinstance(r, bytes):
                try:
                    vars_ = parse_vars(r)
                    st.vars_ok = bool(vars_.memstats)
                except CorruptInputError as exc:
                    st.vars_ok = False
                    self.store.add_gap(st.url, ts, f"vars: {exc}")
            elif isinstance(r, _NotFound):
                st.vars_ok = False
            else:
                self.store.add_gap(st.url, ts, f"vars: {_describe(r)}")
        leak_bytes: bytes | None = None
        if "leak" in results:
            r = results["leak"]
            if isinstance(r, bytes):
                try:
                    values["goroutines_leaked"] = float(goroutine_total(r))
                    leak_bytes = r
                    st.leak_ok = True
                except CorruptInputError as exc:
                    st.leak_ok = False
                    self.store.add_gap(st.url, ts, f"goroutineleak: {exc}")
            elif isinstance(r, _NotFound):
                st.leak_ok = False
            else:
                self.store.add_gap(st.url, ts, f"goroutineleak: {_describe(r)}")
            st.status.leak_profile = st.leak_ok
        metrics: dict[str, float] = {}
        if "metrics" in results and isinstance(results["metrics"], bytes):
            from leakhunter.collect.metrics import parse_metrics

            page = results["metrics"].decode("utf-8", "replace")
            metrics = parse_metrics(page)
            st.metrics_heap = "go_memstats_heap_alloc_bytes" in metrics
            if self.requests_metric:
                from leakhunter.collect.metrics import counter_total

                served = counter_total(page, self.requests_metric)
                if served is not None:
                    values["load_requests"] = served
                elif st.tick <= 1:
                    self.warn(f"{self.metrics_url}: no counter {self.requests_metric!r} on the page: "
                              "no allocation per request")
        elif "metrics" in results:
            self.store.add_gap(st.url, ts, f"metrics: {_describe(results['metrics'])}")
        if vars_ is None and heap is not None and heap.memstats:
            # A service that serves only pprof: the text heap profile's MemStats trailer,
            # read by the runtime right after the GC this scrape forced, stands in for
            # /debug/vars (the exact live heap, the heap goal, the GC count).
            vars_ = Vars(memstats=heap.memstats)
        self._add_memory(values, vars_, metrics)
        if force and heap is not None and "HeapAlloc" in heap.memstats:
            # The text profile's own MemStats, which the runtime reads right after the GC and before
            # it renders the profile: /debug/vars read after the profile also counts the garbage the
            # rendering made (tests/fixtures/profilegrow: 0.25 MiB live read as 0.5-2.7 MiB, the more
            # the larger the profile grew, a ramp on a flat heap).
            values["heap_marked"] = heap.memstats["HeapAlloc"]
        elif force and heap is not None and vars_ and "HeapAlloc" in vars_.memstats:
            # The binary form has no MemStats: its gzip writer's ~1.2 MiB is counted, steadily.
            values["heap_marked"] = vars_.memstats["HeapAlloc"]
        elif force and heap is not None and "go_memstats_heap_alloc_bytes" in metrics:
            # The Prometheus Go collector's HeapAlloc, read right after the GC like
            # /debug/vars: a service without expvar (prometheus) was otherwise judged on the
            # heap profile's 512 KiB samples, whose quanta drew a staircase a healthy
            # prometheus was called a leak on at one tick of a soak.
            values["heap_marked"] = metrics["go_memstats_heap_alloc_bytes"]
        if fds_closed is not None:
            values[fds_closed[0]] = fds_closed[1]
        if "go_gc_gomemlimit_bytes" in metrics and not st.extra.get("gomemlimit"):
            gml = metrics["go_gc_gomemlimit_bytes"]
            if 0 < gml < 2 ** 62:
                st.extra["gomemlimit"] = True
                self.store.set_meta(st.url, "gomemlimit", str(int(gml)))
        if vars_ and "NextGC" in vars_.memstats and "NumGC" in vars_.memstats:
            ngc = vars_.memstats["NumGC"]
            if ngc != st.last_num_gc and vars_.memstats["NextGC"] > 0:
                # The heap goal is set from the exact marked (live) heap at the end of each
                # GC: unsampled, so it tracks the live heap's shape without the heap
                # profile's sampling noise. Recorded once per GC cycle.
                values["heap_goal"] = vars_.memstats["NextGC"]
            st.last_num_gc = ngc
        identity = self._identity(st, heap, vars_, metrics)
        st.status.heap_live = heap.inuse_space if heap is not None else st.status.heap_live
        if heap_load is not None and "heap_alloc_total" in values:
            values["load_requests"] = heap_load
        self._record(st, ts, values, identity, new_heap, gr_bytes, leak_bytes)
        if self._creators_due(st, ts, values.get("goroutines")):
            await self._fetch_creators(client, st, end)

    def _creators_due(self, st: _Target, ts: float, count: float | None) -> bool:
        """Whether to fetch every goroutine's stack with its `created by` line (debug=2) now.

        The debug=1 profile a scrape reads groups goroutines by stack and drops where each was
        started; the `go` statement is often the line to fix (Alertmanager's leaked group runs,
        real leaks set 4: parked in `run`, started in `groupAlert`, where the fix went). A full
        dump stops the target's world while it is written (runtime.Stack), for a time that grows
        with the goroutines, so it is taken only when they grew (CREATORS_MIN_GROWTH and
        CREATORS_MIN_SHARE over the process's first count), at most every CREATORS_EVERY, and past
        CREATORS_QUIET_MAX goroutines only by a watcher the user let force GCs on the target."""
        if count is None or st.process_id is None:
            return False
        if st.gr_base is None or st.gr_base[0] != st.process_id:
            st.gr_base = (st.process_id, count)
            st.creators_at = -math.inf
            return False
        if count > CREATORS_QUIET_MAX and self.force_gc_every is None:
            return False
        base = st.gr_base[1]
        grown = count - base >= max(CREATORS_MIN_GROWTH, CREATORS_MIN_SHARE * base)
        return grown and ts - st.creators_at >= CREATORS_EVERY

    async def _fetch_creators(self, client: _Getter, st: _Target, end: float) -> None:
        """One `goroutine?debug=2` dump into the store (kind `goroutine_stacks`); a failure is a gap
        note only: the scrape's series are recorded already."""
        ts = time.time()
        st.creators_at = ts
        try:
            body = await self._fetch(client, st.url + "/debug/pprof/goroutine?debug=2", end)
        except Exception as exc:
            self.store.add_gap(st.url, ts, f"goroutine stacks: {_describe(exc)}")
            self.store.commit()
            return
        if st.process_id is not None:
            self.store.add_snapshot(st.url, st.process_id, ts, "goroutine_stacks", body)
            self.store.commit()

    async def _second_count(
        self, client: _Getter, metrics_client: _Getter | None, st: _Target, pair: _FdPair,
        results: dict[str, Any], end: float,
    ) -> tuple[str, float] | None:
        """The second fd count of a forced scrape's pair, `_FdPair.wait` after the first;
        for a sham, then the GC it left out and the memstats read right after it (they
        replace the scrape's heap profile and /debug/vars or /metrics, so a sham scrape
        records the same exact heap as any forced scrape). Returns the series and the
        value: files open at the first count minus at the second. Signed: files a request
        had open before and closed itself meanwhile count as much as files it opened
        meanwhile count against; only the GC's finalizers close files *at* the GC."""
        from leakhunter.collect.procstat import file_fds

        took = time.monotonic() - pair.at
        if not pair.sham:
            st.fd_took.append(took)
            del st.fd_took[:-FD_WAIT_HISTORY]
        # Read after the GC and the fetches that followed it (the finalizers run on their
        # own goroutine right after the GC), at the same distance from the first count
        # for both kinds of pair.
        wait = _FdPair.wait(st.fd_took[:-1] if not pair.sham else st.fd_took, self.interval)
        delay = min(pair.at + wait, end) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        after = file_fds(self.pid) if self.pid else None
        if pair.sham:
            try:
                heap_url = "/debug/pprof/heap?gc=1"
                if _heap_as_text(st, self.metrics_url, self.force_gc_every):
                    heap_url += "&debug=1"
                results["heap"] = await self._fetch(client, st.url + heap_url, end)
            except Exception as exc:  # recorded like any failed fetch
                results["heap"] = exc
            again: dict[str, Any] = {}
            if "vars" in results:
                again["vars"] = self._fetch(client, st.url + "/debug/vars", end)
            if "metrics" in results and self.metrics_url and metrics_client is not None:
                again["metrics"] = self._fetch(metrics_client, self.metrics_url, end)
            if again:
                done = await asyncio.gather(*again.values(), return_exceptions=True)
                results.update(zip(again, done, strict=True))
        if after is None:
            return None
        return ("fds_sham_closed" if pair.sham else "fds_gc_closed", float(pair.before - after))

    def _add_memory(
        self, values: dict[str, float], vars_: Vars | None, metrics: dict[str, float]
    ) -> None:
        ms = vars_.memstats if vars_ else {}
        if not ms and metrics:
            # go_memstats_* from a Prometheus Go collector carry the same numbers.
            alias = {
                "HeapAlloc": "go_memstats_heap_alloc_bytes",
                "HeapInuse": "go_memstats_heap_inuse_bytes",
                "HeapIdle": "go_memstats_heap_idle_bytes",
                "HeapReleased": "go_memstats_heap_released_bytes",
                "HeapSys": "go_memstats_heap_sys_bytes",
                "StackInuse": "go_memstats_stack_inuse_bytes",
                "Sys": "go_memstats_sys_bytes",
                "MSpanSys": "go_memstats_mspan_sys_bytes",
                "MCacheSys": "go_memstats_mcache_sys_bytes",
                "BuckHashSys": "go_memstats_buck_hash_sys_bytes",
                "GCSys": "go_memstats_gc_sys_bytes",
                "OtherSys": "go_memstats_other_sys_bytes",
            }
            ms = {k: metrics[v] for k, v in alias.items() if v in metrics}
        for key, name in (("HeapAlloc", "mem_heap_alloc"), ("HeapInuse", "mem_heap_inuse"),
                          ("StackInuse", "mem_stack_inuse"), ("NumGC", "mem_num_gc"),
                          ("Sys", "mem_sys")):
            if key in ms:
                values[name] = ms[key]
        if "HeapIdle" in ms and "HeapReleased" in ms:
            values["mem_heap_idle_unreleased"] = ms["HeapIdle"] - ms["HeapReleased"]
        if "goroutines" not in values and "go_goroutines" in metrics:
            values["goroutines"] = metrics["go_goroutines"]
        if "go_threads" in metrics:
            values["threads"] = metrics["go_threads"]
        if "process_resident_memory_bytes" in metrics:
            values["rss"] = metrics["process_resident_memory_bytes"]
        if "process_open_fds" in metrics:
            values["fds"] = metrics["process_open_fds"]
        if self.pid:
            from leakhunter.collect.procstat import read_procstat

            try:
                ps = read_procstat(self.pid)
                values["rss"] = float(ps.rss)
                values["rss_anon"] = float(ps.rss - ps.rss_file)
                values["threads"] = float(ps.threads)
                if ps.fds is not None:
                    values["fds"] = float(ps.fds)
            except (OSError, ValueError, IndexError):
                pass
        if "rss" in values:
            # Memory outside the Go heap: RSS minus every heap page the runtime still
            # holds (in use or idle but not yet returned: HeapSys - HeapReleased). Idle
            # heap follows the heap goal and the scavenger returns it, so counting it as
            # "outside" would call every heap that breathes a non-heap leak. Also left
            # out: file-backed pages (the binary's code, touched path by path as traffic
            # reaches it: anonymous RSS when /proc is readable) and the runtime's
            # bookkeeping that grows with the heap (span, GC and other metadata). What
            # stays is what the catalog means by outside the heap: goroutine and thread
            # stacks, cgo and other non-Go memory.
            # Below zero, part of what the runtime holds is not resident yet (heap pages
            # mapped but not yet touched): RSS then rises as the heap first touches them,
            # which is heap warm-up, not growth outside it. So the series starts counting
            # only once RSS exceeds everything Go holds.
            rss = values.get("rss_anon", values["rss"])
            books = sum(ms.get(k, 0.0) for k in _HEAP_BOOKKEEPING)
            if "HeapSys" in ms and "HeapReleased" in ms:
                held = ms["HeapSys"] - ms["HeapReleased"]
                values["nonheap"] = max(0.0, rss - held - books)
            elif "mem_heap_inuse" in values:
                values["nonheap"] = max(0.0, rss - values["mem_heap_inuse"] - books)

    def _identity(
        self, st: _Target, heap: HeapTotals | None, vars_: Vars | None, metrics: dict[str, float]
    ) -> dict[str, Any]:
        ident: dict[str, Any] = {}
        if self.pid:
            from leakhunter.collect.procstat import read_procstat

            try:
                ident["pid"] = self.pid
                ident["start_time"] = read_procstat(self.pid).start_time
            except (OSError, ValueError, IndexError):
                pass
        if "process_start_time_seconds" in metrics:
            ident["start_time"] = metrics["process_start_time_seconds"]
        if heap is not None:
            if heap.build_id:
                ident["build_id"] = heap.build_id
            ident["alloc_space"] = heap.alloc_space
        if vars_ and vars_.memstats:
            ident["num_gc"] = vars_.memstats.get("NumGC")
            ident["total_alloc"] = vars_.memstats.get("TotalAlloc")
        return ident

    def _restart_reason(self, st: _Target, ident: dict[str, Any], slack: float = 0.0) -> str | None:
        """Why the process behind `st` is not the one seen last time, or None.

        `slack` is the fraction a counter may go back without proving anything: counters
        adopted from another writer's row were read by a scrape that overlapped ours, so
        its NumGC can be a GC or two ahead of what we read a moment earlier. A restart
        resets every counter to near zero, far beyond that."""
        # Only real evidence splits a series: a start time or build id that moves while every
        # monotone counter the target reports kept growing is not a new process. A broken
        # exporter moves the start time (issue 11: one that changed every scrape opened 30
        # rows); the build id is read by runtime/pprof from the binary ON DISK, so a binary
        # upgraded in place under a running service changes it with no restart at all.
        pairs = [(ident.get(k), getattr(st, k)) for k in ("num_gc", "total_alloc", "alloc_space")]
        known = [(cur, prev) for cur, prev in pairs if cur is not None and prev is not None]
        keep = 1.0 - slack
        counters_went_back = not known or any(cur < keep * prev for cur, prev in known)
        st_time = ident.get("start_time")
        if (st_time is not None and st.start_time is not None and abs(st_time - st.start_time) > 1
                and counters_went_back):
            return "process start time changed"
        b = ident.get("build_id")
        if b and st.build_id and b != st.build_id and counters_went_back:
            return "build id changed"
        g = ident.get("num_gc")
        if g is not None and st.num_gc is not None and g < keep * st.num_gc:
            return f"NumGC went back ({st.num_gc:.0f} -> {g:.0f})"
        ta = ident.get("total_alloc")
        if ta is not None and st.total_alloc is not None and ta < keep * st.total_alloc:
            return "TotalAlloc went back"
        a = ident.get("alloc_space")
        if a is not None and st.alloc_space is not None and a < min(0.9, keep) * st.alloc_space:
            return "heap profile alloc_space went back"
        return None

    def _record(
        self,
        st: _Target,
        ts: float,
        values: dict[str, float],
        ident: dict[str, Any],
        heap_bytes: bytes | None,
        gr_bytes: bytes | None,
        leak_bytes: bytes | None,
    ) -> None:
        store = self.store
        adopted_reason: str | None = None
        adopting = st.process_id is None
        if adopting:
            self._read_limits()
            store.begin_write()  # another watcher may be opening this target's row right now
            prev = store.last_process(st.url)
            if prev is not None:
                st.process_id = prev.id
                st.pid, st.start_time, st.build_id = prev.pid, prev.start_time, prev.build_id
                # Another writer (a second `watch` on this store and target) may have
                # recorded counters from a scrape that started after ours: comparing our
                # older NumGC with its newer one would read as "went back", a restart that
                # never happened. Its counters count only when its last scrape is older.
                if prev.last_ts < ts:
                    st.num_gc, st.total_alloc = prev.num_gc, prev.total_alloc
                    st.alloc_space = prev.alloc_space
                else:
                    st.num_gc = st.total_alloc = st.alloc_space = None
                # A row written moments ago is another live writer's: its scrape overlapped
                # ours (it started earlier, may have read /debug/vars later), so its counters
                # prove a restart only when they are far ahead of ours.
                live = ts - prev.last_ts < ADOPT_LIVE_WINDOW + 3 * self.interval
                reason = self._restart_reason(st, ident, slack=ADOPT_SLACK if live else 0.0)
                unproven = all(ident.get(k) is None for k in ("num_gc", "start_time", "alloc_space"))
                if reason is None and unproven and st.unproven < UNPROVEN_SCRAPES:
                    # A first scrape whose heap profile and /debug/vars both timed out
                    # (a loaded target) cannot tell this process from the store's last one.
                    # Opening a row would split a series another watcher is writing; wait
                    # for a scrape that can tell, keeping the miss as a gap.
                    st.unproven += 1
                    st.process_id = None
                    store.add_gap(st.url, ts, "no counter or start time yet to tell the process "
                                  "from the one in the store; scrape withheld")
                    store.commit()
                    return
                if reason is not None or unproven:
                    # Without a monotone counter or a start time we cannot prove it is the
                    # same process as the last run's: start a new series. (The heap
                    # profile's alloc_space counts: /debug/vars may time out under load.)
                    st.process_id = None
                    adopted_reason = reason
        if adopting:
            reason = adopted_reason  # judged above, with the slack an overlapping writer needs
        else:
            reason = self._restart_reason(st, ident) if st.process_id is not None else None
        if st.process_id is None or reason is not None:
            if reason is not None:
                st.status.restarts += 1
                self.warn(f"{st.url}: restart detected ({reason}); series split")
            st.process_id = store.open_process(
                st.url, ts=ts, pid=ident.get("pid"), start_time=ident.get("start_time"),
                build_id=ident.get("build_id"), reason=reason or "first scrape",
            )
        st.pid = ident.get("pid", st.pid)
        st.start_time = ident.get("start_time", st.start_time)
        st.build_id = ident.get("build_id", st.build_id)
        if ident.get("num_gc") is not None:
            st.num_gc = ident["num_gc"]
        if ident.get("total_alloc") is not None:
            st.total_alloc = ident["total_alloc"]
        if ident.get("alloc_space") is not None:
            st.alloc_space = ident["alloc_space"]
        pid = st.process_id
        if self.load_done is not None and "load_requests" not in values:  # (see heap_load in _scrape)
            values["load_requests"] = float(self.load_done())
        store.add_samples(st.url, pid, ts, values)
        if heap_bytes is not None:
            store.add_snapshot(st.url, pid, ts, "heap", heap_bytes)
        if gr_bytes is not None:
            store.add_snapshot(st.url, pid, ts, "goroutine", gr_bytes)
        if leak_bytes is not None:
            store.add_snapshot(st.url, pid, ts, "goroutineleak", leak_bytes)
        store.update_process(
            pid, ts=ts, num_gc=st.num_gc, total_alloc=st.total_alloc, pid=st.pid,
            start_time=st.start_time, build_id=st.build_id, alloc_space=st.alloc_space,
        )
        store.commit()
        s = st.status
        s.ok, s.scrapes, s.last_ts, s.last_error = True, s.scrapes + 1, ts, ""
        s.goroutines = values.get("goroutines", s.goroutines)
        s.rss = values.get("rss", s.rss)
        if st.failing:
            st.failing = False

    def _failed(self, st: _Target, ts: float, reason: str) -> None:
        self.store.add_gap(st.url, ts, reason)
        self.store.commit()
        s = st.status
        s.ok, s.failures, s.last_error = False, s.failures + 1, reason
        if not st.failing:
            st.failing = True
            self.warn(f"{st.url}: scrape failed ({reason}); retrying every interval")

    async def _fetch(self, client: _Getter, url: str, end: float) -> bytes:
        """GET with retries and exponential backoff, bounded by the scrape's budget."""
        delay = 0.2
        last: Exception | None = None
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0.05:
                raise last or TimeoutError("no time left in this interval")
            t = min(self.timeout, remaining)
            try:
                status, body = await client.get(url, t)
                if status == 404:
                    raise _NotFound(url)
                if status >= 500:
                    raise _HTTPStatus(status)
                if status != 200:
                    raise CorruptInputError(f"HTTP {status}")
                return body
            except (_NotFound, CorruptInputError):
                raise
            except TimeoutError:
                # A hung target: retrying would only multiply the wait.
                raise TimeoutError(f"timed out after {t:.1f}s") from None
            except (OSError, _HTTPStatus, _TransportError) as exc:
                last = exc
            if time.monotonic() + delay >= end:
                raise last
            await asyncio.sleep(delay)
            delay *= 2

    def _source_findings(self) -> list[Any] | None:
        if not self.source_dir:
            return None
        if self._findings is None:
            from leakhunter.analyze.join import scan_findings

            self._findings = scan_findings(self.source_dir)
        return self._findings


class _TransportError(Exception):
    """httpx's transport failures, normalised (refused, reset, protocol errors)."""


class _Getter(Protocol):
    async def get(self, url: str, timeout: float) -> tuple[int, bytes]: ...

    async def aclose(self) -> None: ...


class _Http11Getter:
    def __init__(self, client: Any) -> None:
        self._c = client

    async def get(self, url: str, timeout: float) -> tuple[int, bytes]:
        from urllib.parse import urlsplit

        u = urlsplit(url)
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        try:
            status, body = await self._c.get(path, timeout)
        except (EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            raise _TransportError(f"connection lost: {exc}") from exc
        return int(status), bytes(body)

    async def aclose(self) -> None:
        await self._c.aclose()


class _HttpxGetter:
    """For https targets (and anything not plain http): httpx with one shared TLS context."""

    def __init__(self, ctx: ssl.SSLContext, timeout: float) -> None:
        import httpx

        self._c = httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, trust_env=False, verify=ctx,
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=4))

    async def get(self, url: str, timeout: float) -> tuple[int, bytes]:
        import httpx

        try:
            resp = await self._c.get(url, timeout=httpx.Timeout(timeout))
        except httpx.TimeoutException:
            raise TimeoutError from None
        except httpx.TransportError as exc:
            raise _TransportError(str(exc) or type(exc).__name__) from exc
        if len(resp.content) > MAX_BODY:
            raise CorruptInputError(f"response larger than {MAX_BODY} bytes")
        return resp.status_code, resp.content

    async def aclose(self) -> None:
        await self._c.aclose()


class _HTTPStatus(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"HTTP {code}")


def _describe(exc: object) -> str:
    """One short reason for a failed fetch: `connection refused`, `timed out after 5.0s`."""
    if isinstance(exc, _NotFound):
        return "404 not found"
    if isinstance(exc, BaseException):
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, ConnectionRefusedError):
                return "connection refused"
            if isinstance(cause, ConnectionResetError):
                return "connection reset"
            cause = cause.__cause__ or cause.__context__
        msg = str(exc).strip()
        if "ConnectError" in type(exc).__name__:
            return f"cannot connect: {msg}"
        return msg or type(exc).__name__
    return "no answer"


async def _sleep_until(t: float, stop: asyncio.Event) -> bool:
    """Sleep until monotonic time `t`; True if `stop` was set meanwhile."""
    delay = t - time.monotonic()
    if delay <= 0:
        return stop.is_set()
    try:
        await asyncio.wait_for(stop.wait(), timeout=delay)
        return True
    except TimeoutError:
        return False


def _warm_imports() -> None:
    """Import scipy.stats (1-4 s) while the first scrapes run, so the first analysis finds
    it loaded; analysis runs in worker threads, so neither waits on the other."""
    import scipy.stats  # noqa: F401


def normalize_target(url: str) -> str:
    """`127.0.0.1:6060` → `http://127.0.0.1:6060`; a trailing `/` or `/debug/pprof/` is cut."""
    u = url.strip()
    if not u:
        raise UsageError("empty target URL")
    if "://" not in u:
        u = "http://" + u
    if not u.startswith(("http://", "https://")):
        raise UsageError(f"target must be an http(s) URL: {url!r}")
    for suffix in ("/debug/pprof/", "/debug/pprof"):
        if u.endswith(suffix):
            u = u[: -len(suffix)]
    return u.rstrip("/")


def _heap_as_text(st: _Target, metrics_url: str | None, force_gc_every: float | None) -> bool:
    """Fetch the heap profile's text form: far cheaper for the target to serve (no gzip writer), so
    it is what a forcing watcher (soak's scrape every 0.5 s) asks for, unless it grew past
    HEAP_TEXT_MAX; always when its trailer is where the memstats come from. An unforced `watch`
    of a target with /debug/vars keeps the binary form: one gzip writer per 10 s interval costs the
    target nothing a GC would notice, and parsing text costs the watcher (1,000 targets: 57% of one
    core against 39% on the binary form, the text totals 0.49 ms a profile against 0.05 ms)."""
    if _memstats_from_profile(st, metrics_url):
        return True
    return force_gc_every is not None and not st.heap_binary


def _memstats_from_profile(st: _Target, metrics_url: str | None) -> bool:
    """Ask for the heap profile's text form, whose MemStats trailer holds the live heap right
    after a forced GC and, on any scrape, the heap goal and GC count, when nothing else will tell
    them: /debug/vars answered without memstats (or not at all) and /metrics, if scraped, has no
    go_memstats_heap_alloc_bytes."""
    if st.vars_ok is not False:
        return False
    return not metrics_url or st.metrics_heap is False
