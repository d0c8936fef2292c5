"""soak's bound: a watchdog thread that ends a soak which overran it, whatever the main thread
is stuck in, and says where and what was collected.

The bound is --start-timeout + --warmup + --duration + --grace + OVERRUN_SLACK_S, plus
SCAN_S_PER_MB per MB of Go under --source. Past it the watchdog kills the service's group,
prints the closing line or JSON with what the store holds (verdicts without suspects,
observed_s, `overran: stuck in <phase>`) and exits 2. Session 11's full suite had one soak
killed silently at its test's 180 s timeout (a fork in a multithreaded soak, see
collect/process.py); a soak must never again hang silently. Kept apart from commands/soak.py,
which wires the soak itself, because nothing here may wait on that wiring.
"""

from __future__ import annotations

import argparse
import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leakhunter.collect.process import ManagedProcess
    from leakhunter.model import Verdict

OVERRUN_SLACK_S = 60.0
"""Beyond start-timeout + warm-up + duration + grace: loading the analysis, stopping the load,
deciding (with the scan of --source). A lab soak spends 2-6 s on all that at load 10 (120 soaks of fileleak)."""
SCAN_S_PER_MB = 10.0
"""Added to the bound per MB of Go source under --source, for the decision's scan of it: a big
tree must not turn a soak into an overrun. net/http (2.3 MB) scans in 4.3 s at load 7 (1.9 s/MB)."""

Report = Callable[..., None]
"""commands/soak's printer of the closing line or JSON (`_print_result`)."""


class Outcome:
    """What happened during the soak, for the exit code and the messages; the watchdog reads
    it (from its own thread) to say where an overrun was stuck and what was collected."""

    def __init__(self) -> None:
        self.interrupted = False
        self.died: str | None = None
        self.observed = 0.0
        self.source_s = 0.0  # the bound's allowance for scanning --source (set by the preload)
        self.phase = "starting"
        self.proc: ManagedProcess | None = None
        self.watcher: Any = None
        self.loadgen: Any = None


class Watchdog:
    """Ends a soak that overran its bound, from a daemon thread: the main thread may be stuck
    anywhere (in Popen waiting for a child's exec, in an import, in asyncio.run waiting for a
    worker thread), so nothing here waits on it. Whoever comes first owns the output: the
    main thread `claim`s it before printing; once the watchdog fired, the main thread's
    claim fails and it only waits for the exit."""

    def __init__(self, args: argparse.Namespace, outcome: Outcome, target: str, warmup: float,
                 store_path: str, tmpdir: str | None, report: Report) -> None:
        import time

        self.args, self.outcome, self.target, self.warmup = args, outcome, target, warmup
        self.store_path, self.tmpdir, self.report = store_path, tmpdir, report
        self.bound = float(args.start_timeout + warmup + args.duration + args.grace + OVERRUN_SLACK_S)
        self.t0 = time.monotonic()
        self._lock = threading.Lock()
        self._owner: str | None = None
        self._done = threading.Event()
        # What the overrun path needs is imported now: at the overrun the main thread may hold
        # the import lock of any module (a stuck import is one way to overrun).
        import leakhunter.analyze.verdicts
        import leakhunter.collect.store
        import leakhunter.report.soak_view
        import leakhunter.report.verdicts_json
        import leakhunter.report.verdicts_text  # noqa: F401
        self._thread = threading.Thread(target=self._run, name="soak-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def claim(self) -> bool:
        """The main thread's turn to print; False if the watchdog already took it."""
        with self._lock:
            if self._owner is None:
                self._owner = "main"
                self._done.set()
            return self._owner == "main"

    def _run(self) -> None:
        import time

        # The allowance for --source is known once the preload thread has measured it.
        while not self._done.wait(1.0):
            if time.monotonic() - self.t0 >= self.bound + self.outcome.source_s:
                break
        else:
            return
        with self._lock:
            if self._owner is not None:
                return
            self._owner = "watchdog"
        import os
        import sys

        try:
            self._overrun()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            if self.tmpdir:
                import shutil

                shutil.rmtree(self.tmpdir, ignore_errors=True)
            os._exit(2)

    def _overrun(self) -> None:
        import sys
        import time

        o = self.outcome
        phase = o.phase
        kill_service(o.proc)
        why = f"stuck in {phase}"
        took = time.monotonic() - self.t0
        src = (f" + {SCAN_S_PER_MB:.0f}s per MB of --source" if self.args.source else "")
        print(f"leakhunter: error: soak overran its bound of {self.bound + o.source_s:.0f}s "
              f"(--start-timeout + --warmup + --duration + --grace + {OVERRUN_SLACK_S:.0f}s{src}): "
              f"{why} after {took:.0f}s; the service was stopped", file=sys.stderr)
        w, lg = o.watcher, o.loadgen
        verdicts: dict[str, list[Verdict]] = {}
        if w is not None and w.reachable():
            verdicts = verdicts_so_far(self.store_path, w)
        if not verdicts and self.args.format == "text":
            return  # nothing collected: the error line above is the whole story
        from leakhunter.collect.loadgen import LoadStats

        stats = lg.stats if lg is not None else LoadStats()
        if stats.started and not stats.finished:
            stats.finished = time.monotonic()
        self.report(self.args, verdicts, stats, self.warmup, self.target, observed=o.observed, overran=why)


def kill_service(proc: ManagedProcess | None) -> None:
    """SIGKILL the service's group at an overrun (there is no time left for a grace). A
    command whose Popen never returned (its child stuck before exec) is found among soak's
    children: it leads its own session, so its group is its pid."""
    import os
    import signal

    pgids = {proc.pgid} if proc is not None and proc.pgid else set()
    if not pgids:
        me = str(os.getpid())
        with contextlib.suppress(OSError):
            for d in os.listdir("/proc"):
                if not d.isdigit():
                    continue
                with contextlib.suppress(OSError, IndexError, ValueError):
                    with open(f"/proc/{d}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    if fields[1] == me and fields[2] == d:  # ppid is soak, leads its own group
                        pgids.add(int(d))
    for g in pgids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(g, signal.SIGKILL)


def verdicts_so_far(path: str, watcher: Any) -> dict[str, list[Verdict]]:
    """Verdicts without suspects from the store as it is now, on a read-only connection of
    this thread's own; bounded (a worker thread joined with a timeout): an overrun must print."""
    out: dict[str, list[Verdict]] = {}

    def work() -> None:
        from leakhunter.analyze.verdicts import analyze_target
        from leakhunter.collect.store import Store

        with Store(path, readonly=True) as ro:
            for u in watcher.targets:
                out[u] = analyze_target(ro, u, limit_bytes=watcher.limit_bytes, with_suspects=False,
                                        expect_growth=watcher.expect_growth)

    t = threading.Thread(target=work, name="soak-overrun-verdicts", daemon=True)
    t.start()
    t.join(20.0)
    return dict(out) if not t.is_alive() else {}


def go_bytes(root: str) -> int:
    """Bytes of the Go files the decision's scan of `root` reads (source/walker's walk: the same
    files `scan` reads), 0 if `root` cannot be walked any more (the scan will say why)."""
    from leakhunter.errors import LeakhunterError
    from leakhunter.source.walker import collect_files

    try:
        return sum(f.size for f in collect_files([root]).files)
    except LeakhunterError:
        return 0
