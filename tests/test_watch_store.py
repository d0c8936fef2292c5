"""The watch store: bounded snapshots, two writers on one file, clean errors.

Real watchers scrape real lab services; the checks read the SQLite file back.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import golab
import pytest
from watchload import Load, wait_for_samples

from leakhunter.collect.store import MAX_SNAPSHOTS, Store
from leakhunter.errors import InputError
from leakhunter.watcher import Watcher


def test_snapshots_stay_bounded_and_keep_first_and_latest(tmp_path: Path) -> None:
    with golab.run_lab("chanleak") as svc:
        st = Store(tmp_path / "w.db")
        w = Watcher([svc.base_url], st, interval=0.1, warn=lambda s: None)
        asyncio.run(w.run(duration=4))
        scrapes = st.series(svc.base_url, "goroutines")
        snaps = st.snapshots(svc.base_url, "goroutine")
        st.close()
    assert len(scrapes) > 2 * MAX_SNAPSHOTS
    assert len(snaps) == MAX_SNAPSHOTS
    # First and latest are always kept; older ones are sparser than newer ones.
    assert snaps[0].ts == scrapes[0].ts and snaps[-1].ts == scrapes[-1].ts
    gaps = [b.ts - a.ts for a, b in itertools.pairwise(snaps)]
    assert gaps[0] > gaps[-1]


def test_two_watchers_append_to_one_store(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    with golab.run_lab("chanleak") as a, golab.run_lab("sawtooth") as b:
        procs = [
            subprocess.Popen([sys.executable, "-m", "leakhunter", "watch", svc.base_url,
                              "--interval", "0.2s", "--duration", "4s", "--db", str(db)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for svc in (a, b)
        ]
        for p in procs:
            _, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
        # A later watch of the first target continues the same process identity.
        res = golab.leakhunter("watch", a.base_url, "--interval", "0.2s", "--duration",
                               "1s", "--db", str(db), timeout=60)
        assert res.returncode == 0, res.stderr
    with Store(db, readonly=True) as st:
        assert st.integrity_ok()
        assert set(st.targets()) == {a.base_url, b.base_url}
        for svc in (a, b):
            assert len(st.series(svc.base_url, "goroutines")) >= 10
        assert len(st.processes(a.base_url)) == 1


def test_store_errors_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        Store(tmp_path / "missing.db", readonly=True)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all" * 64)
    with pytest.raises(InputError):
        Store(junk)
    res = golab.leakhunter("watch", "http://127.0.0.1:9", "--duration", "1s", "--db", str(junk))
    assert res.returncode == 2 and b"not a leakhunter store" in res.stderr


def test_watch_until_verdict_stops_once_decided(tmp_path: Path) -> None:
    """A fast goroutine leak plus heap churn: both main series decide within seconds."""
    db = tmp_path / "w.db"
    with golab.run_lab("chanleak") as svc:
        args = [sys.executable, "-m", "leakhunter", "watch", svc.base_url, "--interval",
                "0.25s", "--until-verdict", "--db", str(db), "--format", "json"]
        t0 = time.monotonic()
        with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
            wait_for_samples(db, 1)
            with Load(svc.base_url, lambda i: "/leak/send?n=20", rate=20, max_seconds=60):
                out, err = p.communicate(timeout=90)
        took = time.monotonic() - t0
    assert p.returncode == 1, err
    assert took < 60
    kinds = {v["series"]: v["kind"] for v in json.loads(out)["targets"][0]["verdicts"]}
    assert kinds["goroutines"] == "goroutine-leak"
    assert kinds.get("heap_live", "no-leak") != "inconclusive"


def test_a_store_from_before_alloc_space_opens_and_gains_the_column(tmp_path: Path) -> None:
    """Stores written by earlier versions have no processes.alloc_space: `report` reads
    them as they are, and the next `watch` adds the column without losing a row."""
    import sqlite3

    db = tmp_path / "old.db"
    with sqlite3.connect(db) as c:
        c.executescript(
            "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
            "CREATE TABLE targets(id INTEGER PRIMARY KEY, url TEXT UNIQUE NOT NULL);"
            "CREATE TABLE processes(id INTEGER PRIMARY KEY, target_id INTEGER NOT NULL,"
            " pid INTEGER, start_time REAL, build_id TEXT, first_ts REAL, last_ts REAL,"
            " num_gc REAL, total_alloc REAL, reason TEXT);"
            "INSERT INTO targets(id, url) VALUES(1, 'http://127.0.0.1:1');"
            "INSERT INTO processes(target_id, pid, first_ts, last_ts, num_gc, reason)"
            " VALUES(1, 42, 1.0, 2.0, 7, 'first scrape');"
        )
    ro = Store(db, readonly=True)
    (row,) = ro.processes("http://127.0.0.1:1")
    assert (row.pid, row.num_gc, row.alloc_space) == (42, 7, None)
    ro.close()
    with Store(db) as rw:
        rw.update_process(row.id, ts=3.0, alloc_space=1e6)
        rw.commit()
        (row,) = rw.processes("http://127.0.0.1:1")
    assert (row.pid, row.num_gc, row.alloc_space, row.last_ts) == (42, 7, 1e6, 3.0)


def test_until_bounds_what_the_store_reads(tmp_path: Path) -> None:
    """`watch --until-verdict` reports the verdicts it stopped on: a store bounded at the
    decision reads no sample and no snapshot scraped after it."""
    url = "http://127.0.0.1:1"
    with Store(tmp_path / "u.db") as s:
        pid = s.open_process(url, ts=1.0)
        for t in (1.0, 2.0, 3.0):
            s.add_samples(url, pid, t, {"goroutines": t * 10})
            s.add_snapshot(url, pid, t, "goroutine", b"goroutine 1 [running]:\n")
        s.commit()
        assert s.last_sample_ts() == 3.0
        s.until = 2.0
        assert [p.ts for p in s.series(url, "goroutines")] == [1.0, 2.0]
        assert [r.ts for r in s.snapshots(url, "goroutine")] == [1.0, 2.0]
        s.until = None
        assert len(s.series(url, "goroutines")) == 3


def test_processes_creating_one_store_at_once_all_open_it(tmp_path: Path) -> None:
    """Two `watch` processes started together on one new --db: one failed with "not a leakhunter store
    (database is locked)" (SQLite answers a lock upgrade that would deadlock with SQLITE_BUSY at once,
    busy_timeout or not) or "(duplicate column name: alloc_space)" (both added the column). 8 processes
    open a new store at the same instant, 15 times: every open succeeds."""
    import os
    import time

    failures: list[str] = []
    for trial in range(15):
        path = tmp_path / f"s{trial}.db"
        start = time.time() + 0.6
        code = (f"import time\nwhile time.time() < {start}: pass\n"
                f"from leakhunter.collect.store import Store\nStore({str(path)!r}).close()")
        procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, env=dict(os.environ))
                 for _ in range(8)]
        for p in procs:
            _, err = p.communicate(timeout=60)
            if p.returncode != 0:
                failures.append(err.decode(errors="replace").strip().splitlines()[-1])
    assert not failures, failures
