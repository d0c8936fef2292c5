"""The watch store under faults: a full disk and a power cut (a torn write-ahead log).

kill -9 of the watcher is tested in test_watch_reliability.py and two writers on one
store in test_watch_store.py; this file adds the faults below the process: the disk
fills while `watch` runs (a small tmpfs when we may mount one, else RLIMIT_FSIZE),
and the WAL is cut at arbitrary byte offsets, as a power cut mid-write leaves it.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import golab
import pytest
from watchload import wait_for_samples

from leakhunter.collect.store import Store


@contextlib.contextmanager
def small_disk(tmp_path: Path, size_kib: int) -> Iterator[tuple[Path, str]]:
    """A directory on a filesystem of `size_kib` KiB: ("tmpfs") if we may mount, else None."""
    d = tmp_path / "disk"
    d.mkdir()
    mounted = False
    if os.geteuid() == 0 and shutil.which("mount"):
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(d)],
                           capture_output=True)
        mounted = r.returncode == 0
    try:
        yield d, "tmpfs" if mounted else "rlimit"
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(d)], capture_output=True)


def _limit_file_size(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_full_disk_is_one_line_and_the_store_keeps_what_it_has(tmp_path: Path) -> None:
    with golab.run_lab("chanleak") as svc, small_disk(tmp_path, 256) as (disk, how):
        db = disk / "w.db"
        args = [sys.executable, "-m", "leakhunter", "watch", svc.base_url, "--interval", "0.1s",
                "--duration", "120s", "--timeout", "2s", "--db", str(db)]
        pre = None if how == "tmpfs" else (lambda: _limit_file_size(200 << 10))
        t0 = time.monotonic()
        # A goroutine dump per scrape (3,000 goroutines, distinct every time: they are
        # started between scrapes) fills the disk in seconds, not minutes.
        svc.get("/leak/send?n=3000")
        with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              preexec_fn=pre) as watch:
            try:
                while watch.poll() is None and time.monotonic() - t0 < 100:
                    with contextlib.suppress(OSError):
                        svc.get("/leak/send?n=50")
                    time.sleep(0.1)
            finally:
                if watch.poll() is None:
                    watch.kill()
                _, err_b = watch.communicate(timeout=30)
        err = err_b.decode()
        assert watch.returncode == 2, (how, err[-2000:])
        errors = [ln for ln in err.splitlines() if ln.startswith("leakhunter: error:")]
        assert len(errors) == 1 and "Traceback" not in err, err[-2000:]
        assert "cannot write the store" in errors[0], errors[0]
        with Store(db, readonly=True) as st:
            assert st.integrity_ok()
            assert len(st.series(svc.base_url, "goroutines")) >= 3
        # Reading it back needs no space; the report is written elsewhere.
        rep = golab.leakhunter("report", "--db", str(db), "-o", str(tmp_path / "r.html"),
                               timeout=120)
        assert rep.returncode == 0, rep.stderr.decode()


def test_a_torn_write_ahead_log_opens_with_every_whole_commit(tmp_path: Path) -> None:
    """A power cut leaves the WAL's last frames half written; SQLite must open the store
    with every commit before the tear (frames are checksummed), never a corrupt one."""
    db = tmp_path / "w.db"
    with golab.run_lab("chanleak") as svc:
        args = [sys.executable, "-m", "leakhunter", "watch", svc.base_url, "--interval", "0.1s",
                "--duration", "60s", "--db", str(db)]
        with subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True) as watch:
            wait_for_samples(db, 20, timeout=60)
            os.kill(watch.pid, signal.SIGKILL)
            watch.wait(timeout=10)
    wal = Path(str(db) + "-wal")
    assert wal.exists() and wal.stat().st_size > 32
    size = wal.stat().st_size
    counts = []
    for frac in (0.0, 0.13, 0.37, 0.5, 0.71, 0.93, 1.0):
        d = tmp_path / f"cut{int(frac * 100)}"
        d.mkdir()
        shutil.copy(db, d / "w.db")
        cut = int(size * frac)
        (d / "w.db-wal").write_bytes(wal.read_bytes()[:cut])
        with sqlite3.connect(d / "w.db") as c:  # recovery needs a writable copy
            assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master")}
            # Cut before the first commit, even the schema is gone: an empty, valid file.
            counts.append(c.execute("SELECT count(*) FROM samples").fetchone()[0]
                          if "samples" in tables else 0)
    # More of the log survives -> never fewer samples; the whole log has them all.
    assert counts == sorted(counts), counts
    assert counts[-1] > counts[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")
def test_store_path_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "not.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    res = golab.leakhunter("report", "--db", str(bad), "-o", str(tmp_path / "r.html"), timeout=60)
    assert res.returncode == 2
    assert res.stderr.decode().count("\n") == 1
