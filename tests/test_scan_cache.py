"""The scan result cache: replays unchanged files, never a stale finding.

Each test scans a real Go module twice or more with a private cache directory and
compares with what a scan without the cache says about the same tree.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from scanfix import CLEAN, LEAK, module

from leakhunter.model import Finding
from leakhunter.source.cache import DB_NAME, KeyBuilder, ResultCache
from leakhunter.source.config import ScanConfig
from leakhunter.source.scanner import ScanResult, scan_paths

HANDLER = """package demo

import "net/http"

var seen = map[string]*http.Request{}

func handle(w http.ResponseWriter, r *http.Request) {
	seen[r.URL.Path] = r
}
"""
FORGET = """package demo

func forget(k string) {
	delete(seen, k)
}
"""


def scan(root: Path, cache_dir: Path | None, rules: list[str] | None = None) -> ScanResult:
    store = ResultCache(cache_dir) if cache_dir is not None else None
    try:
        return scan_paths([str(root)], config=ScanConfig(), rules=rules, jobs=1, cache=store)
    finally:
        if store is not None:
            store.close()


def keyed(findings: list[Finding]) -> list[tuple[str, str, int, str]]:
    return [(f.rule, Path(f.file).name, f.line, f.fingerprint) for f in findings]


def test_unchanged_files_replay_and_a_changed_file_is_rescanned(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"a.go": LEAK, "b.go": CLEAN.replace("Fine", "Fine2"), "sub/c.go": LEAK})
    cache = tmp_path / "cache"
    cold = scan(root, cache)
    assert cold.cached_files == 0 and len(cold.findings) == 2
    warm = scan(root, cache)
    assert warm.cached_files == 3 and keyed(warm.findings) == keyed(cold.findings)
    assert warm.files_scanned == cold.files_scanned
    # The leak in a.go is fixed: a.go (and its package sibling b.go) are re-scanned, sub/ is not.
    (root / "a.go").write_text(CLEAN)
    after = scan(root, cache)
    assert after.cached_files == 1
    assert keyed(after.findings) == keyed(scan(root, None).findings) == [("LH201", "c.go", 6, after.findings[0].fingerprint)]
    # A different rule set is a different key.
    assert scan(root, cache, rules=["LH302"]).cached_files == 0


def test_a_changed_sibling_invalidates_the_package_view(tmp_path: Path) -> None:
    """LH501 reads the whole package: a delete in b.go decides whether a.go has a finding."""
    root = module(tmp_path / "m", {"a.go": HANDLER, "b.go": FORGET})
    cache = tmp_path / "cache"
    assert scan(root, cache, rules=["LH501"]).findings == []
    assert scan(root, cache, rules=["LH501"]).cached_files == 2
    (root / "b.go").write_text(FORGET.replace("delete(seen, k)", "_ = k"))  # a.go itself is unchanged
    res = scan(root, cache, rules=["LH501"])
    assert [(f.rule, Path(f.file).name, f.line) for f in res.findings] == [("LH501", "a.go", 8)]
    assert res.cached_files == 0


def test_keys_follow_module_local_imports_only(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {
        "a/a.go": 'package a\n\nimport "example.com/demo/b"\n\nvar X = b.Y\n',
        "b/b.go": 'package b\n\nimport "example.com/demo/c"\n\nvar Y = c.Z\n',
        "c/c.go": "package c\n\nvar Z = 1\n",
        "d/d.go": "package d\n\nvar W = 1\n",
    })
    files = [(p, p.stat().st_size) for p in sorted(root.rglob("*.go"))]

    def keys() -> dict[str, str]:
        return {p.parent.name: k for p, k in KeyBuilder(["LH201"], 1 << 20).keys(files, 1 << 20).items()}

    k0 = keys()
    assert keys() == k0
    (root / "c" / "c.go").write_text("package c\n\nvar Z = 2\n")  # imported by b, transitively by a
    k1 = keys()
    assert k1["a"] != k0["a"] and k1["b"] != k0["b"] and k1["c"] != k0["c"]
    assert k1["d"] == k0["d"]
    (root / "go.mod").write_text("module example.com/demo\n\ngo 1.26\n")  # the go directive changes severities
    k2 = keys()
    assert all(v != k1[k] for k, v in k2.items())
    # A local `replace` directory is read by the program model: editing it invalidates.
    other = module(tmp_path / "other", {"o.go": "package other\n\nvar V = 1\n"}, name="example.com/other")
    (root / "go.mod").write_text("module example.com/demo\n\ngo 1.26\n\nreplace example.com/other => ../other\n")
    k3 = keys()
    assert keys() == k3
    (other / "o.go").write_text("package other\n\nvar V = 22\n")
    assert all(v != k3[k] for k, v in keys().items())


def test_keys_follow_the_packages_that_import_a_package(tmp_path: Path) -> None:
    """program/exits.py reads callers in importing packages (three levels): editing them must invalidate."""
    root = module(tmp_path / "m", {
        "a/a.go": 'package a\n\nimport "example.com/demo/b"\n\nvar X = b.Y\n',
        "b/b.go": 'package b\n\nimport "example.com/demo/c"\n\nvar Y = c.Z\n',
        "c/c.go": "package c\n\nvar Z = 1\n",
        "d/d.go": "package d\n\nvar W = 1\n",
        "e/e.go": 'package e\n\nimport "example.com/demo/a"\n\nvar V = a.X\n',
    })
    files = [(p, p.stat().st_size) for p in sorted(root.rglob("*.go"))]

    def keys() -> dict[str, str]:
        return {p.parent.name: k for p, k in KeyBuilder(["LH201"], 1 << 20).keys(files, 1 << 20).items()}

    k0 = keys()
    (root / "a" / "a.go").write_text('package a\n\nimport "example.com/demo/b"\n\nvar X = b.Y + 1\n')
    k1 = keys()
    # a itself, e (imports a), b (a imports it) and c (a imports b, which imports c) change; d does not
    assert all(k1[x] != k0[x] for x in "abce"), (k0, k1)
    assert k1["d"] == k0["d"]
    (root / "e" / "e.go").write_text('package e\n\nimport "example.com/demo/a"\n\nvar V = a.X + 1\n')
    k2 = keys()
    # e imports a (one level up), which imports b (two), which imports c (three): callers of callers
    assert all(k2[x] != k1[x] for x in "abce"), (k1, k2)
    assert k2["d"] == k1["d"]
    (root / "f" / "f.go").parent.mkdir()
    (root / "f" / "f.go").write_text('package f\n\nimport "example.com/demo/e"\n\nvar U = e.V\n')
    files.append((root / "f" / "f.go", (root / "f" / "f.go").stat().st_size))
    k3 = keys()
    assert k3["a"] != k2["a"] and k3["b"] != k2["b"]  # a new importer of e: e <- f reaches a (2), b (3)
    assert k3["c"] == k2["c"] and k3["d"] == k2["d"]  # c is four levels below f; d unrelated
    # Another package's tests are invisible to it: a new test file of b changes b's key only.
    (root / "b" / "b_test.go").write_text("package b\n\nvar T = 1\n")
    k4 = keys()
    assert k4["b"] != k3["b"]
    assert all(k4[x] == k3[x] for x in "acdef"), (k3, k4)


def test_an_edit_to_the_tests_that_judged_a_helper_is_seen(tmp_path: Path) -> None:
    """A test-support helper's finding is left out when every test calling it (in packages
    that import it) fails on its error (program/testfail.py reads those `_test.go` files).
    They are not in the helper's key; the lookup is stored with the outcome, and an edit
    there must re-judge the helper, not replay the old outcome (real `scan` processes)."""
    fx = Path(__file__).parent / "fixtures" / "scan" / "lh401_testfail" / "support"
    root = module(tmp_path / "m", {
        "lh401_testfail/support/support.go": (fx / "support.go").read_text(),
        "lh401_testfail/support/user/user_test.go": (fx / "user" / "user_test.go").read_text(),
    }, name="leakhunter.dev/fixtures")

    def run(*extra: str) -> dict[str, object]:
        env = {**os.environ, "LEAKHUNTER_CACHE_DIR": str(tmp_path / "cache")}
        res = subprocess.run([sys.executable, "-m", "leakhunter", "scan", "--format", "json", "--tests", *extra,
                              "./..."], cwd=root, env=env, capture_output=True, timeout=300)
        doc: dict[str, object] = json.loads(res.stdout)
        return doc

    def lines(doc: dict[str, object]) -> list[int]:
        return sorted(f["line"] for f in doc["findings"] if f["rule"] == "LH401")  # type: ignore[attr-defined]

    first = run()
    assert lines(first) == lines(run("--no-cache")) and len(lines(first)) == 2
    user = root / "lh401_testfail/support/user/user_test.go"
    user.write_text(user.read_text().replace("t.Fatal(err)", "t.Log(err)", 1))
    again = run()
    assert lines(again) == lines(run("--no-cache")), lines(again)
    assert len(lines(again)) == 3 and again["cached_files"] == 0  # support.go re-judged
    third = run()
    assert third["cached_files"] == 2 and lines(third) == lines(again)


def test_damaged_entries_and_a_damaged_database_are_ignored(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"a.go": LEAK, "b.go": CLEAN})
    cache = tmp_path / "cache"
    cold = scan(root, cache)
    with sqlite3.connect(cache / DB_NAME) as db:
        db.execute("UPDATE results SET value = x'789c00'")  # not a zlib stream of JSON any more
    res = scan(root, cache)
    assert res.cached_files == 0 and keyed(res.findings) == keyed(cold.findings)
    assert scan(root, cache).cached_files == 2  # rewritten
    for name in os.listdir(cache):  # the database file itself is garbage now
        (cache / name).unlink()
    (cache / DB_NAME).write_bytes(b"this is not a database" * 100)
    store = ResultCache(cache)
    assert store.enabled and "unreadable" in store.note
    res = scan_paths([str(root)], jobs=1, cache=store)
    store.close()
    assert keyed(res.findings) == keyed(cold.findings)
    assert scan(root, cache).cached_files == 2


def test_two_concurrent_scans_share_the_cache(tmp_path: Path) -> None:
    files = {f"p{i}/a.go": LEAK.replace("package demo", f"package p{i}") for i in range(6)}
    root = module(tmp_path / "m", files)
    env = {**os.environ, "LEAKHUNTER_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "leakhunter", "scan", "--format", "json", str(root)]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [1, 1], [o[1] for o in outs]
    docs = [json.loads(o[0]) for o in outs]
    assert docs[0]["findings"] == docs[1]["findings"] and len(docs[0]["findings"]) == 6
    assert all(b"Traceback" not in o[1] and b"note:" not in o[1] for o in outs)
    third = subprocess.run(cmd, env=env, capture_output=True, timeout=300)
    doc = json.loads(third.stdout)
    assert third.returncode == 1 and doc["cached_files"] == 6 and doc["findings"] == docs[0]["findings"]
    # --no-cache neither reads nor writes it.
    nocache = subprocess.run([*cmd, "--no-cache"], env=env, capture_output=True, timeout=300)
    assert json.loads(nocache.stdout)["cached_files"] == 0


def test_scans_started_together_on_a_new_cache_never_destroy_it(tmp_path: Path) -> None:
    """Two scans that both create the cache: switching a new database to WAL takes a lock SQLite's
    busy timeout does not wait for, and the loser used to take the lock for damage, move the file
    aside and start a new one, deleting the winner's tables ("no such table: results"; 4 of 12
    fresh starts on a loaded machine). A lock is waited out, never repaired."""
    root = module(tmp_path / "m", {f"p{i}/a.go": LEAK.replace("package demo", f"package p{i}") for i in range(4)})
    cmd = [sys.executable, "-m", "leakhunter", "scan", "--format", "json", str(root)]
    for trial in range(8):
        env = {**os.environ, "LEAKHUNTER_CACHE_DIR": str(tmp_path / f"cache{trial}")}
        procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
        outs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [1, 1, 1], [o[1] for o in outs]
        for _, err in outs:
            assert b"note:" not in err and b"Traceback" not in err, err.decode()
        assert not list((tmp_path / f"cache{trial}").glob("*.broken-*"))


def test_a_same_size_edit_that_restores_mtime_is_still_seen(tmp_path: Path) -> None:
    """The file table trusts (size, mtime, ctime, inode): faking mtime back cannot fake ctime."""
    root = module(tmp_path / "m", {"a.go": LEAK})
    time.sleep(2.1)  # older than the two-second "racy" window: its digest is remembered by stat
    cache = tmp_path / "cache"
    assert len(scan(root, cache).findings) == 1
    store = ResultCache(cache)
    assert store.files_in(str((root).absolute())), "the file table was not filled"
    store.close()
    assert scan(root, cache).cached_files == 1
    a = root / "a.go"
    st = a.stat()
    fixed = LEAK.replace("ctx, _ := context.WithCancel(parent)", "ctx := context.Context(parent)      ")
    assert len(fixed) == len(LEAK)
    a.write_text(fixed)
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime: only ctime tells
    res = scan(root, cache)
    assert res.cached_files == 0 and res.findings == []
