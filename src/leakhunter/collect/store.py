"""The watch store: one SQLite file (WAL) holding everything `watch`, `soak` and `report` share.

Why SQLite in WAL mode: a `watch` can be killed at any moment (`kill -9`, OOM, a CI
timeout) and the data up to the last completed scrape must survive and open cleanly;
WAL gives atomic commits without a server, readers (`report`) never block the writer,
and a second process (a second `watch`, or `soak`) can append to the same file.

Tables (stable; `soak` and `report` read them):

- ``targets(id, url)`` — one row per watched base URL.
- ``processes(id, target_id, pid, start_time, build_id, first_ts, last_ts, num_gc,
  total_alloc, reason, alloc_space)`` — one row per *process identity* of a target. A restart
  (pid or start time or build id changed, or GC / allocation counters went backwards)
  opens a new row, and every sample carries its process id, so analysis splits series
  there and a restart can never look like growth or shrinkage.
- ``samples(ts, target_id, process_id, series, value)`` — time series; ``ts`` is Unix
  seconds. Series names are in :data:`SERIES`.
- ``snapshots(id, ts, target_id, process_id, kind, encoding, data)`` — profile bytes
  (``heap`` pprof, ``goroutine`` / ``goroutineleak`` debug=1 text), compressed, thinned by
  :meth:`Store.add_snapshot` so the store stays bounded (first, latest, and an
  exponentially sparser spacing for older ones).
- ``gaps(ts, target_id, reason)`` — scrapes that failed after retries.
- ``target_meta(target_id, key, value)`` — per-target facts (memory limit, cgroup
  ``memory.max``, source dir) so `report` can redo the analysis from the file alone.

Usage::

    store = Store("leakhunter.db")
    pid = store.open_process("http://127.0.0.1:6060", ts=time.time(), pid=123)
    store.add_samples("http://127.0.0.1:6060", pid, time.time(), {"heap_live": 1.2e6})
    store.commit()
"""

from __future__ import annotations

import contextlib
import gzip
import math
import random
import sqlite3
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from leakhunter.errors import InputError, LeakhunterError

SCHEMA_VERSION = "1"
_OPEN_TRIES = 40
"""Opens of a store that meet another process creating it at the same moment (about 4 s in all)."""

SHAM_SHARE = 0.5
"""Share of the forced scrapes whose fd pair the watcher makes a sham (`fds_sham_closed`:
no GC inside), by a coin; the analysis of `fds_gc_closed` relies on it."""

# Series names written by the watcher (and by `gctrace`); analysis reads them by name.
SERIES: Mapping[str, str] = {
    "heap_live": "bytes in use after the last GC (heap profile inuse_space total)",
    "heap_objects": "objects in use after the last GC (heap profile inuse_objects total)",
    "heap_alloc_total": "bytes allocated since start (heap profile alloc_space total)",
    "load_requests": "requests the driving load (soak's own generator) completed so far, or under watch "
                     "the --requests-metric counter of the service's /metrics page",
    "heap_goal": "memstats NextGC, once per GC cycle: (exact live heap) x (1+GOGC/100) + stacks",
    "goroutines": "number of goroutines",
    "goroutines_leaked": "goroutines the runtime reports leaked (goroutineleak profile)",
    "rss": "resident set size in bytes (--pid or --metrics)",
    "nonheap": "anonymous RSS minus (HeapSys - HeapReleased) and heap bookkeeping: memory outside the Go heap (stacks, threads, C)",
    "fds": "open file descriptors",
    "fds_gc_closed": "open files before a forced GC minus after it (finalizers close files the code left open)",
    "fds_sham_closed": "open files before minus after the same fetches without a GC, on a random half of the forced scrapes (what fds_gc_closed is judged against)",
    "threads": "OS threads (/proc/PID/stat or go_threads)",
    "mem_heap_alloc": "memstats HeapAlloc (includes garbage: sawtooth)",
    "mem_heap_inuse": "memstats HeapInuse",
    "mem_stack_inuse": "memstats StackInuse",
    "mem_heap_idle_unreleased": "memstats HeapIdle - HeapReleased",
    "mem_num_gc": "memstats NumGC",
    "mem_sys": "memstats Sys",
    "gc_live_heap": "live heap after GC from a GODEBUG=gctrace=1 log (third number)",
    "gc_goal": "heap goal from a gctrace log",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS targets(id INTEGER PRIMARY KEY, url TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS processes(
    id INTEGER PRIMARY KEY, target_id INTEGER NOT NULL, pid INTEGER, start_time REAL,
    build_id TEXT, first_ts REAL, last_ts REAL, num_gc REAL, total_alloc REAL, reason TEXT);
CREATE TABLE IF NOT EXISTS samples(
    ts REAL NOT NULL, target_id INTEGER NOT NULL, process_id INTEGER NOT NULL,
    series TEXT NOT NULL, value REAL NOT NULL);
CREATE INDEX IF NOT EXISTS samples_by_series ON samples(target_id, series, ts);
CREATE TABLE IF NOT EXISTS snapshots(
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, target_id INTEGER NOT NULL,
    process_id INTEGER NOT NULL, kind TEXT NOT NULL, encoding TEXT NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS snapshots_by_kind ON snapshots(target_id, kind, ts);
CREATE TABLE IF NOT EXISTS gaps(ts REAL NOT NULL, target_id INTEGER NOT NULL, reason TEXT);
CREATE TABLE IF NOT EXISTS target_meta(
    target_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT, PRIMARY KEY(target_id, key));
"""

MAX_SNAPSHOTS = 12
"""Snapshots kept per (target, process, kind): the first, the latest, and 10 spread out."""


def _add_alloc_space(db: sqlite3.Connection, readonly: bool) -> bool:
    """Give a store made before the column existed its `processes.alloc_space`.

    The heap profile's alloc_space is the one monotone counter every target serves
    (NumGC needs /debug/vars, a start time needs --pid or process metrics); a second
    watcher adopts a process row by it, so it is kept with the row.
    """
    cols = {str(r[1]) for r in db.execute("PRAGMA table_info(processes)")}
    if "alloc_space" in cols:
        return True
    if readonly:
        return False
    try:
        db.execute("ALTER TABLE processes ADD COLUMN alloc_space REAL")
    except sqlite3.OperationalError as exc:
        if "duplicate column" not in str(exc).lower():
            raise
        db.rollback()  # another watcher creating the same store added it a moment ago
        return True
    db.commit()
    return True


class StoreError(LeakhunterError):
    """The store file cannot be written (disk full, I/O error, locked for too long).

    Everything committed before stays readable: each scrape is its own transaction, so
    a failed write loses only the scrape in flight, and the error says so in one line."""


class _Guarded:
    """The SQLite connection, with write failures turned into one StoreError line."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db, self._path = db, path

    def _fail(self, exc: sqlite3.Error) -> StoreError:
        with contextlib.suppress(sqlite3.Error):
            self._db.rollback()
        msg = str(exc)
        what = "the disk is full" if "full" in msg.lower() else msg
        return StoreError(
            f"{self._path}: cannot write the store ({what}); it keeps every scrape "
            "committed before this one"
        )

    def execute(self, sql: str, params: Iterable[object] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, tuple(params))
        except sqlite3.OperationalError as exc:
            raise self._fail(exc) from None

    def executemany(self, sql: str, rows: Iterable[Any]) -> sqlite3.Cursor:
        try:
            return self._db.executemany(sql, rows)
        except sqlite3.OperationalError as exc:
            raise self._fail(exc) from None

    def executescript(self, sql: str) -> sqlite3.Cursor:
        try:
            return self._db.executescript(sql)
        except sqlite3.OperationalError as exc:
            raise self._fail(exc) from None

    def commit(self) -> None:
        try:
            self._db.commit()
        except sqlite3.OperationalError as exc:
            raise self._fail(exc) from None

    def close(self) -> None:
        self._db.close()


@dataclass(frozen=True, slots=True)
class ProcessRow:
    """One process identity of a target: samples between restarts belong to one row."""

    id: int
    target: str
    pid: int | None
    start_time: float | None
    build_id: str | None
    first_ts: float
    last_ts: float
    num_gc: float | None
    total_alloc: float | None
    reason: str
    alloc_space: float | None = None


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """A stored profile snapshot's metadata; fetch its bytes with :meth:`Store.snapshot_data`."""

    id: int
    ts: float
    target: str
    process_id: int
    kind: str


@dataclass(frozen=True, slots=True)
class Point:
    """One sample of one series."""

    ts: float
    value: float
    process_id: int


class Store:
    """A leakhunter SQLite store; safe to share between processes (WAL, busy timeout).

    One connection per `Store`; methods are not meant to be called from several
    threads at once (the watcher is a single asyncio loop). Writes are grouped until
    :meth:`commit`, which the watcher calls once per target per interval so that a
    killed watcher loses at most the scrape in flight.
    """

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        raw: sqlite3.Connection | None = None
        for attempt in range(_OPEN_TRIES):
            try:
                raw = self._connect(readonly)
                self._has_alloc_space = _add_alloc_space(raw, readonly)
                break
            except sqlite3.OperationalError as exc:
                # Two watchers creating one store at once: one connection's schema statements can meet the
                # other's in a lock upgrade SQLite answers with SQLITE_BUSY at once, without waiting
                # (deadlock avoidance), so busy_timeout does not cover it: close and try again.
                if readonly or "locked" not in str(exc).lower() or attempt == _OPEN_TRIES - 1:
                    self._fail(exc)
                if raw is not None:
                    with contextlib.suppress(Exception):
                        raw.close()
                    raw = None
                time.sleep(0.05 + random.random() * 0.1)
            except sqlite3.DatabaseError as exc:
                raise InputError(f"{self.path}: not a leakhunter store ({exc})") from None
        assert raw is not None
        self._db = _Guarded(raw, self.path)
        self._target_ids: dict[str, int] = {}
        self.until: float | None = None
        """When set, samples and snapshots after this time are not read: the data a
        decision was made on (`watch --until-verdict` reports the verdict it stopped on)."""

    def _fail(self, exc: sqlite3.OperationalError) -> NoReturn:
        if self.readonly or "full" not in str(exc).lower():
            raise InputError(f"{self.path}: not a leakhunter store ({exc})") from None
        raise StoreError(f"{self.path}: cannot create the store (the disk is full)") from None

    def _connect(self, readonly: bool) -> sqlite3.Connection:
        """Open (or create) the database and check it is a store; sqlite3's errors pass through."""
        if readonly:
            if not self.path.exists():
                raise InputError(f"{self.path}: no such store (run `leakhunter watch` first)")
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10, check_same_thread=False)
        else:
            db = sqlite3.connect(str(self.path), timeout=10, check_same_thread=False)
        try:
            if not readonly:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=10000")
            if not readonly:
                db.executescript(_SCHEMA)
                db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES('schema', ?)", (SCHEMA_VERSION,))
                db.commit()
            else:
                db.execute("SELECT count(*) FROM targets").fetchone()
        except BaseException:
            db.close()
            raise
        return db

    # -- lifecycle -----------------------------------------------------------------

    def commit(self) -> None:
        self._db.commit()

    def begin_write(self) -> None:
        """Take the store's write lock now, for a read-then-write that must be atomic.

        Two `watch` processes starting on one target and store both find no process row
        and would each open one; under the lock the second waits and adopts the first's.
        The lock is held until the next :meth:`commit`.
        """
        if self.readonly:
            return
        self._db.commit()
        self._db.execute("BEGIN IMMEDIATE")

    def close(self) -> None:
        try:
            self._db.commit()
        finally:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- targets and processes -----------------------------------------------------

    def target_id(self, url: str) -> int:
        """The id of `url`, adding the target on first use."""
        tid = self._target_ids.get(url)
        if tid is None:
            if not self.readonly:
                self._db.execute("INSERT OR IGNORE INTO targets(url) VALUES(?)", (url,))
            row = self._db.execute("SELECT id FROM targets WHERE url=?", (url,)).fetchone()
            if row is None:
                raise InputError(f"{url}: not a target in {self.path}")
            tid = int(row[0])
            self._target_ids[url] = tid
        return tid

    def targets(self) -> list[str]:
        return [str(r[0]) for r in self._db.execute("SELECT url FROM targets ORDER BY id")]

    def open_process(
        self,
        target: str,
        *,
        ts: float,
        pid: int | None = None,
        start_time: float | None = None,
        build_id: str | None = None,
        reason: str = "first scrape",
    ) -> int:
        """Start a new process identity for `target` (first scrape, or a detected restart)."""
        tid = self.target_id(target)
        cur = self._db.execute(
            "INSERT INTO processes(target_id, pid, start_time, build_id, first_ts, last_ts, reason)"
            " VALUES(?,?,?,?,?,?,?)",
            (tid, pid, start_time, build_id, ts, ts, reason),
        )
        return int(cur.lastrowid or 0)

    def update_process(
        self,
        process_id: int,
        *,
        ts: float,
        num_gc: float | None = None,
        total_alloc: float | None = None,
        pid: int | None = None,
        start_time: float | None = None,
        build_id: str | None = None,
        alloc_space: float | None = None,
    ) -> None:
        """Record the latest counters of a process (the baseline for restart detection)."""
        self._db.execute(
            "UPDATE processes SET last_ts=?, num_gc=coalesce(?, num_gc),"
            " total_alloc=coalesce(?, total_alloc), pid=coalesce(pid, ?),"
            " start_time=coalesce(start_time, ?), build_id=coalesce(build_id, ?),"
            " alloc_space=coalesce(?, alloc_space) WHERE id=?",
            (ts, num_gc, total_alloc, pid, start_time, build_id, alloc_space, process_id),
        )

    def processes(self, target: str) -> list[ProcessRow]:
        tid = self.target_id(target)
        alloc = "alloc_space" if self._has_alloc_space else "NULL"
        rows = self._db.execute(
            "SELECT id, pid, start_time, build_id, first_ts, last_ts, num_gc, total_alloc, reason,"
            f" {alloc} FROM processes WHERE target_id=? ORDER BY id",
            (tid,),
        ).fetchall()
        return [
            ProcessRow(
                int(r[0]), target, r[1], r[2], r[3], float(r[4]), float(r[5]), r[6], r[7],
                str(r[8] or ""), r[9],
            )
            for r in rows
        ]

    def last_process(self, target: str) -> ProcessRow | None:
        procs = self.processes(target)
        return procs[-1] if procs else None

    # -- samples -------------------------------------------------------------------

    def add_samples(
        self, target: str, process_id: int, ts: float, values: Mapping[str, float]
    ) -> None:
        # The readers refuse NaN and infinities at the door; this is the last guard, so
        # that no value SQLite would turn into NULL (and refuse) is ever written.
        if not math.isfinite(ts):
            return
        tid = self.target_id(target)
        self._db.executemany(
            "INSERT INTO samples(ts, target_id, process_id, series, value) VALUES(?,?,?,?,?)",
            [(ts, tid, process_id, k, float(v)) for k, v in values.items() if math.isfinite(v)],
        )

    def series(self, target: str, name: str) -> list[Point]:
        """All points of one series of one target, oldest first."""
        tid = self.target_id(target)
        return [
            Point(float(r[0]), float(r[1]), int(r[2]))
            for r in self._db.execute(
                "SELECT ts, value, process_id FROM samples WHERE target_id=? AND series=?"
                " AND ts <= ? ORDER BY ts, rowid",
                (tid, name, math.inf if self.until is None else self.until),
            )
        ]

    def last_sample_ts(self) -> float | None:
        row = self._db.execute("SELECT max(ts) FROM samples").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def series_names(self, target: str) -> list[str]:
        tid = self.target_id(target)
        return [
            str(r[0])
            for r in self._db.execute(
                "SELECT DISTINCT series FROM samples WHERE target_id=? ORDER BY series", (tid,)
            )
        ]

    def sample_count(self, target: str | None = None) -> int:
        if target is None:
            return int(self._db.execute("SELECT count(*) FROM samples").fetchone()[0])
        tid = self.target_id(target)
        return int(
            self._db.execute("SELECT count(*) FROM samples WHERE target_id=?", (tid,)).fetchone()[0]
        )

    # -- gaps ----------------------------------------------------------------------

    def add_gap(self, target: str, ts: float, reason: str) -> None:
        tid = self.target_id(target)
        self._db.execute(
            "INSERT INTO gaps(ts, target_id, reason) VALUES(?,?,?)", (ts, tid, reason[:500])
        )

    def gaps(self, target: str) -> list[tuple[float, str]]:
        tid = self.target_id(target)
        return [
            (float(r[0]), str(r[1]))
            for r in self._db.execute(
                "SELECT ts, reason FROM gaps WHERE target_id=? ORDER BY ts", (tid,)
            )
        ]

    # -- per-target facts ----------------------------------------------------------

    def set_meta(self, target: str, key: str, value: str) -> None:
        tid = self.target_id(target)
        self._db.execute(
            "INSERT OR REPLACE INTO target_meta(target_id, key, value) VALUES(?,?,?)",
            (tid, key, value),
        )

    def get_meta(self, target: str, key: str) -> str | None:
        tid = self.target_id(target)
        row = self._db.execute(
            "SELECT value FROM target_meta WHERE target_id=? AND key=?", (tid, key)
        ).fetchone()
        return None if row is None else str(row[0])

    # -- snapshots -----------------------------------------------------------------

    def add_snapshot(
        self, target: str, process_id: int, ts: float, kind: str, data: bytes
    ) -> int:
        """Keep a profile snapshot (compressed), then thin older ones of the same kind.

        Heap profiles arrive gzipped already and are stored as-is; text dumps are
        zlib-compressed. Thinning keeps the first and latest snapshot of each process
        and kind and at most :data:`MAX_SNAPSHOTS` in all, dropping the one whose
        neighbours are closest relative to its age, so old history is kept at
        exponentially growing spacing and the store stays bounded however long
        `watch` runs.
        """
        tid = self.target_id(target)
        if data[:2] == b"\x1f\x8b":
            enc, blob = "gzip", data
        else:
            enc, blob = "zlib", zlib.compress(data, 6)
        cur = self._db.execute(
            "INSERT INTO snapshots(ts, target_id, process_id, kind, encoding, data)"
            " VALUES(?,?,?,?,?,?)",
            (ts, tid, process_id, kind, enc, blob),
        )
        self._thin(tid, process_id, kind)
        return int(cur.lastrowid or 0)

    def _thin(self, tid: int, process_id: int, kind: str) -> None:
        rows = self._db.execute(
            "SELECT id, ts FROM snapshots WHERE target_id=? AND process_id=? AND kind=? ORDER BY ts",
            (tid, process_id, kind),
        ).fetchall()
        ids = [int(r[0]) for r in rows]
        ts = [float(r[1]) for r in rows]
        drop: list[int] = []
        while len(ids) > MAX_SNAPSHOTS:
            latest = ts[-1]
            best_i, best_score = 1, float("inf")
            for i in range(1, len(ids) - 1):
                span = ts[i + 1] - ts[i - 1]
                age = latest - ts[i - 1] + 1e-9
                score = span / age
                if score < best_score:
                    best_i, best_score = i, score
            drop.append(ids.pop(best_i))
            ts.pop(best_i)
        if drop:
            self._db.executemany("DELETE FROM snapshots WHERE id=?", [(i,) for i in drop])

    def snapshots(
        self, target: str, kind: str, process_id: int | None = None
    ) -> list[SnapshotRow]:
        tid = self.target_id(target)
        q = "SELECT id, ts, process_id FROM snapshots WHERE target_id=? AND kind=? AND ts <= ?"
        params: tuple[object, ...] = (tid, kind, math.inf if self.until is None else self.until)
        if process_id is not None:
            q += " AND process_id=?"
            params = (*params, process_id)
        return [
            SnapshotRow(int(r[0]), float(r[1]), target, int(r[2]), kind)
            for r in self._db.execute(q + " ORDER BY ts", params)
        ]

    def snapshot_data(self, snapshot_id: int) -> bytes:
        """The snapshot's bytes as the target served them (gzip kept for pprof, text inflated)."""
        row = self._db.execute(
            "SELECT encoding, data FROM snapshots WHERE id=?", (snapshot_id,)
        ).fetchone()
        if row is None:
            raise InputError(f"snapshot {snapshot_id} not in store")
        enc, blob = str(row[0]), bytes(row[1])
        if enc == "zlib":
            return zlib.decompress(blob)
        return blob

    def snapshot_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM snapshots").fetchone()[0])

    def integrity_ok(self) -> bool:
        """True when SQLite's own check passes (used after a `kill -9` of the watcher)."""
        row = self._db.execute("PRAGMA integrity_check").fetchone()
        return bool(row and row[0] == "ok")


def gunzip_if(data: bytes) -> bytes:
    """Inflate gzip bytes, pass anything else through (snapshots keep pprof gzipped)."""
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def stored_targets(path: str | Path) -> Iterable[str]:
    """The targets in a store file (opened read-only)."""
    with Store(path, readonly=True) as st:
        return st.targets()
