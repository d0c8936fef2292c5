"""`leakhunter fleet --prometheus URL`: leak verdicts for every job a Prometheus watches.

Wiring only: discover the jobs (`collect.prometheus.discover`), fetch each job's
history with bounded concurrency (`fetch_job`), judge it as a population of process
lives (`analyze.fleet.judge_job`), fetch profiles for the leaking jobs (their pods'
pprof endpoints, or Pyroscope) and join them to `--source` findings, render
(`report.fleet_text/json/html`). Exit 1 when any job leaks; 2 on usage errors, when
nothing matches, or when a job could not be read and none leaks (a partial failure is
never reported as "nothing found"); 0 otherwise.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from leakhunter.commands._common import nonneg_int, positive_duration, positive_int, positive_size
from leakhunter.commands._duration import parse_duration

if TYPE_CHECKING:
    from leakhunter.analyze.fleet import JobResult
    from leakhunter.collect.prometheus import FleetPlan, JobInfo, PromClient

NAME = "fleet"
HELP = "leak verdicts per job and replica from the history a Prometheus already holds"
DESCRIPTION = (
    "Read Go runtime and process metrics of every job matching --selector from a "
    "Prometheus-compatible API (/api/v1/series, /api/v1/query_range) over --range, and "
    "decide per job and per replica: heap-leak, goroutine-leak, non-heap-growth, plateau, "
    "no-leak or inconclusive. Restarts, deploys and canaries are judged as one population "
    "of process lives. Exit 1 when any job leaks."
)
ORDER = 45
KINDS = ("heap", "goroutines", "rss", "fds", "start")


def _metric_override(text: str) -> tuple[str, str]:
    kind, sep, name = text.partition("=")
    if not sep or kind not in KINDS or not name.strip():
        raise argparse.ArgumentTypeError(
            f"not KIND=METRIC: {text!r} (KIND is one of {', '.join(KINDS)})")
    return kind, name.strip()


def _step(text: str) -> float | None:
    return None if text == "auto" else parse_duration(text)


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return v


def _port(text: str) -> int:
    v = _positive_int(text)
    if v > 65535:
        raise argparse.ArgumentTypeError(f"not a port: {text!r}")
    return v


def parse_time(text: str) -> float:
    """`now`, unix seconds, or RFC 3339 (`2026-12-03T20:00:00Z`)."""
    import datetime as dt
    import time

    s = text.strip()
    if s == "now":
        return time.time()
    try:
        return float(s)
    except ValueError:
        pass
    try:
        d = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a time: {text!r} (now, unix seconds, or 2026-12-03T20:00:00Z)") from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.UTC)
    return d.timestamp()


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prometheus", required=True, metavar="URL",
                   help="base URL of a Prometheus-compatible API (Prometheus, Thanos, Mimir, VictoriaMetrics)")
    p.add_argument("--selector", default="", metavar="SEL",
                   help="label matchers every series must match, e.g. '{namespace=\"prod\"}'")
    p.add_argument("--range", dest="range_s", type=positive_duration, default=6 * 3600.0,
                   metavar="DUR", help="how much history to judge (default 6h)")
    p.add_argument("--end", type=parse_time, default=None, metavar="TIME",
                   help="end of the range: now (default), unix seconds or RFC 3339")
    p.add_argument("--step", type=_step, default=None, metavar="DUR|auto",
                   help="window of the server-side aggregation (default auto: ~240 windows, "
                        "finer for jobs whose processes live shorter)")
    p.add_argument("--group-by", default="job", metavar="LABEL",
                   help="label that names a job (default job)")
    p.add_argument("--limit", type=positive_size, default=None, metavar="SIZE",
                   help="memory limit per replica for the time-to-limit forecast (e.g. 2GiB); "
                        "default: the level restarts happen at, when they look like OOM kills")
    p.add_argument("--metric", type=_metric_override, action="append", default=[],
                   metavar="KIND=METRIC",
                   help="use METRIC for KIND (heap, goroutines, rss, fds, start) — for renamed "
                        "metrics; repeatable")
    p.add_argument("--format", choices=("text", "json", "html"), default="text",
                   help="output format (default: text)")
    p.add_argument("--report", metavar="OUT.html", help="also write the HTML report here")
    p.add_argument("--source", metavar="DIR",
                   help="Go source of the services: join profile suspects with scan findings")
    g = p.add_argument_group("profiles of the leaking jobs")
    g.add_argument("--no-profiles", action="store_true",
                   help="do not fetch pprof profiles from the leaking jobs' pods")
    g.add_argument("--pprof-port", type=_port, default=None, metavar="PORT",
                   help="port of the pods' /debug/pprof (default: the instance's own port)")
    g.add_argument("--profile-pods", type=positive_int, default=3, metavar="N",
                   help="pods per leaking job to fetch profiles from (default 3)")
    g.add_argument("--pyroscope", metavar="URL",
                   help="Grafana Pyroscope base URL: diff the merged profiles of the range's "
                        "first and last windows")
    g.add_argument("--pyroscope-label", default="service_name", metavar="LABEL",
                   help="Pyroscope label that names the job (default service_name)")
    c = p.add_argument_group("connection")
    c.add_argument("--concurrency", type=positive_int, default=4, metavar="N",
                   help="requests in flight at once (default 4)")
    c.add_argument("--workers", type=positive_int, default=None, metavar="N",
                   help="processes judging jobs in parallel (default: up to 2, one per core)")
    c.add_argument("--timeout", type=positive_duration, default=60.0, metavar="DUR",
                   help="per-request timeout (default 60s)")
    c.add_argument("--retries", type=nonneg_int, default=3, metavar="N",
                   help="retries of a failed request, with exponential backoff (default 3)")
    c.add_argument("--bearer-token-file", metavar="FILE", help="send 'Authorization: Bearer' with this token")
    c.add_argument("--basic-auth-file", metavar="FILE", help="file holding USER:PASSWORD for basic auth")
    c.add_argument("--header", action="append", default=[], metavar="'K: V'",
                   help="extra request header, e.g. 'X-Scope-OrgID: tenant1'; repeatable")
    c.add_argument("--ca-file", metavar="FILE", help="CA bundle to verify the server")
    c.add_argument("--cert-file", metavar="FILE", help="client certificate (PEM)")
    c.add_argument("--key-file", metavar="FILE", help="client certificate key (PEM)")
    c.add_argument("--insecure", action="store_true", help="do not verify the server's certificate")


def _read_secret(path: str, what: str) -> str:
    from leakhunter.errors import UsageError

    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError as exc:
        raise UsageError(f"{what} {path}: {exc.strerror or exc}") from None


def _config(args: argparse.Namespace) -> Any:
    from urllib.parse import urlparse

    from leakhunter.collect.prometheus import PromConfig
    from leakhunter.errors import UsageError

    u = urlparse(args.prometheus)
    if u.scheme not in ("http", "https") or not u.netloc:
        raise UsageError(f"--prometheus {args.prometheus!r}: not an http(s) URL")
    headers: dict[str, str] = {}
    for h in args.header:
        k, sep, v = h.partition(":")
        if not sep or not k.strip():
            raise UsageError(f"--header {h!r}: not 'Name: value'")
        headers[k.strip()] = v.strip()
    token = _read_secret(args.bearer_token_file, "--bearer-token-file") if args.bearer_token_file else ""
    basic = None
    if args.basic_auth_file:
        user, sep, pw = _read_secret(args.basic_auth_file, "--basic-auth-file").partition(":")
        if not sep:
            raise UsageError(f"--basic-auth-file {args.basic_auth_file}: expected USER:PASSWORD")
        basic = (user, pw)
    if args.retries < 0:
        raise UsageError("--retries must be >= 0")
    return PromConfig(args.prometheus, bearer_token=token, basic_auth=basic, headers=headers,
                      ca_file=args.ca_file or "", cert_file=args.cert_file or "",
                      key_file=args.key_file or "", insecure=args.insecure,
                      timeout=args.timeout, concurrency=args.concurrency, retries=args.retries)


def run(args: argparse.Namespace) -> int:
    import asyncio
    import sys
    import time
    from pathlib import Path

    from leakhunter.collect.prometheus import FleetPlan
    from leakhunter.errors import FetchError, InputError, UsageError

    if args.source and not Path(args.source).is_dir():
        raise UsageError(f"--source {args.source}: not a directory")
    cfg = _config(args)
    end = args.end if args.end is not None else time.time()
    plan = FleetPlan(end - args.range_s, end, selector=args.selector, group_by=args.group_by,
                     step=args.step, overrides=dict(args.metric))
    t0 = time.monotonic()
    pool = _judge_pool(args.workers)
    try:
        results, stats = asyncio.run(_main(cfg, plan, args, pool))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    elapsed = time.monotonic() - t0
    failed = [r for r in results if r.errors and not any(v.kind != "inconclusive" for v in r.verdicts)]
    meta: dict[str, Any] = {"range": {"start": plan.start, "end": plan.end, "selector": plan.selector,
                      "group_by": plan.group_by},
            "stats": {**stats, "seconds": round(elapsed, 2), "jobs": len(results)},
            "errors": [f"{r.job}: {e}" for r in results for e in r.errors]}
    out = _render(args.format, results, meta, plan)
    sys.stdout.write(out)
    sys.stdout.flush()
    if args.report:
        from leakhunter.errors import OutputError
        from leakhunter.report.fleet_html import write_fleet_report

        try:
            write_fleet_report(results, Path(args.report), meta=meta)
        except OSError as exc:
            raise OutputError(f"--report {args.report}: cannot write: {exc.strerror or exc}") from None
    if any(r.is_leak for r in results):
        return 1
    if failed or meta["errors"]:
        raise FetchError(f"{len(meta['errors'])} partial failure(s), no leak among the jobs "
                         f"read; first: {meta['errors'][0]}")
    del InputError
    return 0


def _render(fmt: str, results: list[JobResult], meta: dict[str, Any], plan: FleetPlan) -> str:
    if fmt == "json":
        from leakhunter.report import fleet_json

        return fleet_json.render(results, meta=meta, group_by=plan.group_by)
    if fmt == "html":
        from leakhunter.report.fleet_html import render_fleet_report

        return render_fleet_report(results, meta=meta)
    from leakhunter.report import fleet_text

    st = meta["stats"]
    leaks = sum(r.is_leak for r in results)
    footer = [f"{len(results)} jobs, {leaks} leaking; {st['points']} points from "
              f"{st['requests']} requests in {st['seconds']} s"]
    footer += [f"partial failure: {e}" for e in meta["errors"][:10]]
    return fleet_text.render(results, footer=footer)


def _warm(_: int) -> int:
    return 0


def _judge_pool(workers: int | None) -> Any:
    """Processes to judge jobs in, forked now: before the event loop and its threads
    exist, and after the statistics are imported (the children inherit them)."""
    import os

    n = workers if workers is not None else min(2, os.cpu_count() or 1)
    if n <= 1:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import leakhunter.analyze.fleet  # noqa: F401  (scipy and numpy, inherited by the fork)

    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("fork"))
    list(pool.map(_warm, range(n)))
    return pool


async def _main(cfg: Any, plan: FleetPlan, args: argparse.Namespace, pool: Any = None
                ) -> tuple[list[JobResult], dict[str, Any]]:
    import asyncio

    from leakhunter.analyze.fleet import judge_job, rank
    from leakhunter.collect.prometheus import PromClient, discover, fetch_job
    from leakhunter.errors import InputError

    async with PromClient(cfg) as client:
        jobs = await discover(client, plan)
        if not jobs:
            raise InputError(
                f"no Go runtime or process metrics match {plan.selector or 'any series'} "
                f"in the range at {cfg.url} (grouped by {plan.group_by!r})")
        gate = asyncio.Semaphore(max(1, cfg.concurrency))
        points = 0

        async def one(info: JobInfo) -> JobResult:
            nonlocal points
            async with gate:
                h = await fetch_job(client, plan, info)
                points += h.points
                if pool is None:
                    return await asyncio.to_thread(judge_job, h, limit_bytes=args.limit)
                import functools

                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(
                    pool, functools.partial(judge_job, h, limit_bytes=args.limit))

        results = rank(await asyncio.gather(*(one(i) for i in jobs.values())))
        leaking = [r for r in results if r.is_leak]
        if leaking and not args.no_profiles:
            await _profiles(client, plan, jobs, leaking, args)
        stats = {"requests": client.requests, "retried": client.retried, "bytes": client.bytes,
                 "points": points}
    return results, stats


async def _profiles(client: PromClient, plan: FleetPlan, jobs: dict[str, JobInfo],
                    leaking: list[JobResult], args: argparse.Namespace) -> None:
    """Suspects for the leaking jobs: pods' pprof endpoints, then Pyroscope; joined to --source."""
    from leakhunter.analyze.fleet import WindowProfiles, attach_suspects
    from leakhunter.errors import FetchError

    findings = None
    if args.source:
        import asyncio

        from leakhunter.analyze.join import scan_findings

        findings = await asyncio.to_thread(scan_findings, args.source)
    targets: list[dict[str, Any]] = []
    try:
        targets = await client.targets()
    except FetchError:
        targets = []
    for r in leaking:
        info = jobs.get(r.job)
        if info is None:
            continue
        bases = pprof_bases(r, info, targets, port=args.pprof_port, group_by=plan.group_by,
                            limit=args.profile_pods)
        got = await fetch_pod_profiles(bases, timeout=min(args.timeout, 30.0))
        pyro: WindowProfiles | None = None
        if args.pyroscope:
            from leakhunter.collect.prometheus import quote
            from leakhunter.collect.pyroscope import PyroscopeClient, window_pair

            try:
                async with PyroscopeClient(args.pyroscope, timeout=args.timeout) as pc:
                    pairs = await window_pair(pc, f'{{{args.pyroscope_label}={quote(r.job)}}}',
                                              plan.start, plan.end)
                pyro = WindowProfiles(pairs.get("heap"), pairs.get("goroutines"),
                                      "first and last quarter of the range, at most 1h each")
            except FetchError as exc:
                r.errors.append(f"pyroscope: {exc}")
        attach_suspects(r, got, pyro, findings)


def pprof_bases(r: JobResult, info: JobInfo, targets: list[dict[str, Any]], *,
                port: int | None, group_by: str, limit: int) -> list[tuple[str, str]]:
    """(replica, pprof base URL) for the replicas to profile: the ones that grew most,
    and the one that grew least as the base to diff against.

    The address is the replica's `instance` label (host:port), its port replaced by
    `--pprof-port`; when the instance is not an address, the scrape URL Prometheus
    discovered for it (`/api/v1/targets`)."""
    from urllib.parse import urlparse

    scrape: dict[str, str] = {}
    for t in targets:
        lab = t.get("labels") or {}
        if lab.get(group_by) != r.job:
            continue
        u = urlparse(str(t.get("scrapeUrl", "")))
        if u.netloc:
            scrape[str(lab.get("instance", ""))] = f"{u.scheme or 'http'}://{u.netloc}"
            disc = t.get("discoveredLabels") or {}
            if disc.get("__address__"):
                scrape.setdefault(str(disc["__address__"]), f"{u.scheme or 'http'}://{u.netloc}")

    def growth(rr: Any) -> float:
        v = rr.verdicts[0] if rr.verdicts else None
        return float(v.slope_per_min) if v is not None and v.is_leak else -1.0

    order = sorted(r.replicas, key=lambda rr: -growth(rr))
    picked = order[: max(1, limit - 1)]
    if len(order) > len(picked):
        picked.append(order[-1])
    out = []
    for rr in picked:
        inst = info.instances.get(rr.replica) or str(rr.labels.get("instance", ""))
        base = scrape.get(inst, "")
        host, sep, p = inst.rpartition(":")
        if not base and sep and p.isdigit():
            base = f"http://{host}:{p}"
        if not base:
            continue
        if port is not None:
            u = urlparse(base)
            base = f"{u.scheme}://{u.hostname}:{port}"
        out.append((rr.replica, base))
    return out


async def fetch_pod_profiles(bases: list[tuple[str, str]], *, timeout: float) -> list[Any]:
    """Heap profile and goroutine dump of each (replica, base URL); failures kept per pod."""
    import asyncio

    from leakhunter.analyze.fleet import PodProfiles
    from leakhunter.collect.inputs import fetch
    from leakhunter.errors import LeakhunterError
    from leakhunter.model import GoroutineDump
    from leakhunter.profiles import read, read_profile

    async def one(replica: str, base: str) -> PodProfiles:
        pp = PodProfiles(replica, base)
        try:
            heap = await asyncio.to_thread(fetch, base + "/debug/pprof/heap", max_bytes=256 << 20,
                                           timeout=timeout)
            pp.heap = read_profile(heap)
            dump = await asyncio.to_thread(fetch, base + "/debug/pprof/goroutine?debug=1",
                                           max_bytes=256 << 20, timeout=timeout)
            got = read(dump)
            pp.goroutines = got if isinstance(got, GoroutineDump) else None
        except LeakhunterError as exc:
            pp.error = str(exc)
        return pp

    return list(await asyncio.gather(*(one(r, b) for r, b in bases)))
