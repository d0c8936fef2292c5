"""`leakhunter watch TARGET...`: follow live Go services and decide leak or not.

Thin wiring: arguments → `watcher.Watcher` (scrape into the store) →
`analyze.verdicts` (via `Watcher.verdicts`) → `report.verdicts_text/json`, with the
live view of `report.live` on a terminal. Exit 1 on a leak verdict, 0 otherwise, 2 on
usage errors or when no target ever answered.
"""

from __future__ import annotations

import argparse

from leakhunter.analyze.expected import compile_expected
from leakhunter.commands._common import (
    add_expect_growth,
    add_format,
    positive_duration,
    positive_int,
    positive_size,
)

NAME = "watch"
HELP = "follow live Go services (/debug/pprof, /debug/vars) and decide: leak or not"
DESCRIPTION = (
    "Scrape each TARGET (base URL serving net/http/pprof) every --interval into a SQLite "
    "store, and decide per target with statistics whether the live heap, goroutines or "
    "memory outside the heap leak. Exit 1 on a leak, 0 otherwise, 2 on usage errors or "
    "when no target answers."
)
ORDER = 40


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("targets", nargs="+", metavar="TARGET",
                   help="base URL of a service serving /debug/pprof (http://127.0.0.1:6060)")
    p.add_argument("--interval", type=positive_duration, default=10.0, metavar="DUR",
                   help="time between scrapes of each target (default 10s)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--duration", type=positive_duration, default=None, metavar="DUR",
                   help="stop after this long (e.g. 30m); default: until Ctrl-C")
    g.add_argument("--until-verdict", action="store_true",
                   help="stop as soon as every target has a decisive verdict")
    p.add_argument("--give-up", type=positive_duration, default=120.0, metavar="DUR",
                   help="with --until-verdict: stop with exit 2 when no target has answered "
                        "for this long (default 2m; a restart that comes back within it is "
                        "followed); the samples already taken stay in --db")
    p.add_argument("--db", default="leakhunter.db", metavar="PATH",
                   help="SQLite store to append to (default ./leakhunter.db)")
    p.add_argument("--source", metavar="DIR", help="Go source to join suspects with scan findings")
    p.add_argument("--limit", type=positive_size, metavar="BYTES",
                   help="memory limit for the time-to-OOM forecast (e.g. 512MiB)")
    p.add_argument("--metrics", metavar="URL", help="Prometheus /metrics URL for RSS and fds")
    p.add_argument("--requests-metric", metavar="NAME",
                   help="a counter on the --metrics page of the requests the service served (summed "
                        "over its labels, e.g. http_requests_total): watch then also judges the "
                        "allocation per request (a chain every request walks), as soak does")
    add_expect_growth(p)
    p.add_argument("--pid", type=positive_int, metavar="PID", help="local process id for RSS/fds from /proc")
    p.add_argument("--force-gc", type=positive_duration, default=None, metavar="EVERY",
                   help="ask each target for a GC at most once per EVERY (heap?gc=1) so the "
                        "live heap is read fresh even when GCs are rare; costs the target one "
                        "full GC per EVERY (default: never; the verdict waits for the "
                        "target's own GCs)")
    p.add_argument("--timeout", type=positive_duration, default=5.0, metavar="DUR",
                   help="per-request timeout (default 5s)")
    add_format(p)


def run(args: argparse.Namespace) -> int:
    import asyncio
    import contextlib
    import signal
    import sys
    from pathlib import Path

    from leakhunter.collect.store import Store
    from leakhunter.errors import TargetError, UsageError
    from leakhunter.report import verdicts_json, verdicts_text
    from leakhunter.report.live import make_view
    from leakhunter.watcher import Watcher

    if args.pid is not None and not Path(f"/proc/{args.pid}").exists():
        raise UsageError(f"--pid {args.pid}: no such process")
    if args.source and not Path(args.source).is_dir():
        raise UsageError(f"--source {args.source}: not a directory")
    if args.timeout > args.interval:
        args.timeout = args.interval
    expected = compile_expected(args.expect_growth)
    store = Store(args.db)
    try:
        watcher = Watcher(
            args.targets, store, interval=args.interval, metrics_url=args.metrics,
            pid=args.pid, limit_bytes=args.limit, source_dir=args.source,
            timeout=args.timeout, force_gc_every=args.force_gc,
            expect_growth=expected, requests_metric=args.requests_metric,
        )
        view = make_view(watcher, live=sys.stderr.isatty() and args.format == "text")

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, stop.set)
            with view:
                await watcher.run(duration=args.duration, until_verdict=args.until_verdict,
                                  on_tick=view.update, stop=stop,
                                  give_up=args.give_up if args.until_verdict else None)

        asyncio.run(main())
        if watcher.gave_up is not None:
            from leakhunter.units import human_duration

            raise TargetError(
                f"no target answered for {human_duration(watcher.gave_up)} (--give-up), so "
                "--until-verdict stopped without a verdict: " + "; ".join(
                    f"{s.target}: {s.last_error or 'no answer'}" for s in watcher.status())
                + (f"; what was collected stays in {args.db} (leakhunter report reads it)"
                   if watcher.reachable() else ""))
        if not watcher.reachable():
            raise TargetError("no target answered: " + "; ".join(
                f"{s.target}: {s.last_error or 'no answer'}" for s in watcher.status()))
        verdicts = watcher.verdicts()
        out = verdicts_json.render(verdicts) if args.format == "json" else verdicts_text.render(verdicts)
        sys.stdout.write(out)
        sys.stdout.flush()
        from leakhunter.analyze.verdicts import failed

        return 1 if failed(verdicts) else 0
    finally:
        store.close()
