"""`leakhunter goroutines` end to end: a real lab process, the CLI as a subprocess.

Covers the three input kinds (file, stdin, URL), JSON contract, text layout, filters,
`--diff` against a second dump of the same process after creating more goroutines, and
dumps as they are met in the wild: a panic with GOTRACEBACK=all and a SIGQUIT dump read
from the crashed process's stderr, an indented paste, CRLF line ends.
"""

from __future__ import annotations

import json
import os
import re
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from golab import go_env, leakhunter, run_lab

SCHEMA = {
    "type": "object",
    "required": ["total", "groups"],
    "properties": {
        "total": {"type": "integer"},
        "groups": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["count", "state", "wait_minutes", "leaked", "frames", "created_by"],
                "properties": {
                    "count": {"type": "integer", "minimum": 1},
                    "state": {"type": "string"},
                    "wait_minutes": {"type": "integer"},
                    "leaked": {"type": "boolean"},
                    "frames": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["function", "file", "line"],
                            "properties": {
                                "function": {"type": "string"},
                                "file": {"type": "string"},
                                "line": {"type": "integer"},
                            },
                        },
                    },
                    "created_by": {"type": ["object", "null"]},
                },
            },
        },
    },
}


def leaf(group: dict[str, object]) -> str | None:
    for fr in group["frames"]:  # type: ignore[attr-defined]
        if str(fr["function"]).startswith("main."):
            return str(fr["function"])
    return None


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    d = tmp_path_factory.mktemp("grcli")
    with run_lab("goroutinelab") as svc:
        svc.get("/block?kind=chansend&n=4")
        svc.get("/block?kind=sleep&n=2")
        svc.get("/leak?n=3")
        (d / "base.txt").write_bytes(svc.get("/debug/pprof/goroutine?debug=2"))
        (d / "base1.txt").write_bytes(svc.get("/debug/pprof/goroutine?debug=1"))
        svc.get("/block?kind=chansend&n=11")
        svc.get("/block?kind=select&n=5")
        (d / "new.txt").write_bytes(svc.get("/debug/pprof/goroutine?debug=2"))
        (d / "new.pb.gz").write_bytes(svc.get("/debug/pprof/goroutine"))
        (d / "leak2.txt").write_bytes(svc.get("/debug/pprof/goroutineleak?debug=2"))
        yield svc.base_url, d


def run_json(*args: str, input: bytes | None = None) -> dict[str, object]:
    res = leakhunter("goroutines", *args, "--format", "json", input=input)
    assert res.returncode in (0, 1), res.stderr
    assert b"Traceback" not in res.stderr
    out: dict[str, object] = json.loads(res.stdout)
    jsonschema.validate(out, SCHEMA)
    return out


def counts(out: dict[str, object]) -> dict[str, int]:
    c: dict[str, int] = {}
    for g in out["groups"]:  # type: ignore[attr-defined]
        if (lf := leaf(g)) is not None:
            c[lf] = c.get(lf, 0) + g["count"]
    return c


def test_json_file_stdin_url_agree(lab: tuple[str, Path]) -> None:
    url, d = lab
    from_file = run_json(str(d / "new.txt"))
    from_stdin = run_json("-", input=(d / "new.txt").read_bytes())
    assert from_file == from_stdin
    assert counts(from_file)["main.blockSend"] == 15
    assert counts(from_file)["main.blockSelect"] == 5
    # A live URL: same lab goroutines (the HTTP plumbing of that moment may differ).
    from_url = run_json(url + "/debug/pprof/goroutine?debug=2")
    lab_counts = {k: v for k, v in counts(from_url).items() if k != "main.stacks"}
    assert lab_counts == counts(from_file)
    assert from_url["total"] == sum(g["count"] for g in from_url["groups"])  # type: ignore[attr-defined]


def test_json_suspect_and_user_frame(lab: tuple[str, Path]) -> None:
    _, d = lab
    out = run_json(str(d / "new.txt"))
    groups = {leaf(g): g for g in out["groups"]}  # type: ignore[attr-defined]
    send = groups["main.blockSend"]
    assert send["state"] == "chan send"
    assert send["suspect"] is True
    assert send["user_frame"]["function"] == "main.blockSend"
    assert send["created_by"]["function"] == "main.block"
    counts_sorted = [g["count"] for g in out["groups"]]  # type: ignore[attr-defined]
    assert counts_sorted == sorted(counts_sorted, reverse=True)


def test_leaked_sets_exit_1(lab: tuple[str, Path]) -> None:
    _, d = lab
    res = leakhunter("goroutines", str(d / "leak2.txt"), "--format", "json")
    assert res.returncode == 1, res.stderr
    out = json.loads(res.stdout)
    leaked = [g for g in out["groups"] if g["leaked"]]
    assert [(leaf(g), g["count"]) for g in leaked] == [("main.leakOne.func1", 3)]
    # The plain goroutine dump taken before leak detection proves nothing: exit 0.
    assert leakhunter("goroutines", str(d / "base.txt")).returncode == 0


def test_text_output(lab: tuple[str, Path]) -> None:
    _, d = lab
    res = leakhunter("goroutines", str(d / "new.txt"))
    assert res.returncode == 0
    text = res.stdout.decode()
    assert "\x1b[" not in text  # not a terminal: no colour
    first = text.splitlines()[0]
    total = json.loads(leakhunter("goroutines", str(d / "new.txt"), "--format", "json").stdout)["total"]
    assert f"goroutines: {total}" in first
    # The largest group leads, its user-code line on the header line: file:line function.
    head = text.split("\n\n")[1].splitlines()[0]
    assert re.match(r"\s*15\s+chan send\s+-\s+suspect\s+\S+/goroutinelab/main\.go:\d+ main\.blockSend$", head), head


def test_min_count_and_state(lab: tuple[str, Path]) -> None:
    _, d = lab
    out = run_json(str(d / "new.txt"), "--min-count", "5")
    assert all(g["count"] >= 5 for g in out["groups"])  # type: ignore[attr-defined]
    assert counts(out) == {"main.blockSend": 15, "main.blockSelect": 5}
    out = run_json(str(d / "new.txt"), "--state", "^chan|select")
    assert {g["state"] for g in out["groups"]} <= {"chan send", "chan receive", "select"}  # type: ignore[attr-defined]
    assert counts(out) == {"main.blockSend": 15, "main.blockSelect": 5, "main.leakOne.func1": 3}
    # For the binary form, --state matches the state inferred from the stack.
    out = run_json(str(d / "new.pb.gz"), "--state", "^sleep$")
    assert counts(out) == {"main.blockSleep": 2}


@pytest.mark.parametrize("base", ["base.txt", "base1.txt"])
def test_diff(lab: tuple[str, Path], base: str) -> None:
    _, d = lab
    out = run_json(str(d / "new.txt"), "--diff", str(d / base))
    grew = {leaf(g): (g["growth"], g["new"]) for g in out["groups"] if leaf(g)}  # type: ignore[attr-defined]
    assert grew == {"main.blockSend": (11, False), "main.blockSelect": (5, True)}
    growths = [g["growth"] for g in out["groups"]]  # type: ignore[attr-defined]
    assert growths == sorted(growths, reverse=True)
    text = leakhunter("goroutines", str(d / "new.txt"), "--diff", str(d / base)).stdout.decode()
    assert re.search(r"\+11 \(4->15\)\s+chan send", text), text
    assert re.search(r"\+5 new\s+select", text), text


def test_crash_log_with_panic(tmp_path: Path) -> None:
    env = go_env()
    env["GOTRACEBACK"] = "all"
    svc = run_lab("goroutinelab", env=env).start()
    try:
        svc.get("/block?kind=chansend&n=6")
        svc.get("/leak?n=2")
        with pytest.raises(Exception):  # noqa: B017 - the process dies mid-response
            svc.get("/panic")
        assert svc.proc is not None and svc.proc.stderr is not None
        svc.proc.wait(timeout=20)
        log = svc.proc.stderr.read()
    finally:
        svc.stop()
    assert log.startswith("panic: assignment to entry in nil map")
    path = tmp_path / "crash.log"
    path.write_text("2026/01/01 12:00:00 service starting\n" + log + "exit status 2\n")
    out = run_json(str(path))
    c = counts(out)
    assert c["main.blockSend"] == 6 and c["main.leakOne.func1"] == 2
    assert c["main.crash"] == 1
    assert out["total"] == len(re.findall(r"^goroutine \d+ \[", log, re.M))


def test_sigquit_dump(tmp_path: Path) -> None:
    svc = run_lab("goroutinelab").start()
    try:
        svc.get("/block?kind=waitgroup&n=5")
        assert svc.proc is not None and svc.proc.stderr is not None
        os.kill(svc.proc.pid, signal.SIGQUIT)
        svc.proc.wait(timeout=20)
        log = svc.proc.stderr.read()
    finally:
        svc.stop()
    assert log.startswith("SIGQUIT: quit")
    path = tmp_path / "quit.log"
    path.write_text(log)
    out = run_json(str(path))
    assert counts(out)["main.blockWaitGroup"] == 5
    # SIGQUIT shows system goroutines too, headers carry gp=/m=, frames fp=/sp=/pc=.
    assert out["total"] == len(re.findall(r"^goroutine \d+ gp=", log, re.M))


def test_indented_and_crlf(lab: tuple[str, Path], tmp_path: Path) -> None:
    _, d = lab
    raw = (d / "new.txt").read_text()
    want = run_json(str(d / "new.txt"))
    indented = tmp_path / "indented.txt"
    indented.write_text("log excerpt:\n" + "".join("    " + ln if ln.strip() else ln for ln in raw.splitlines(True)))
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(raw.replace("\n", "\r\n").encode())
    for p in (indented, crlf):
        got = run_json(str(p))
        assert got["total"] == want["total"]
        assert counts(got) == counts(want)


def test_url_of_goroutineleak_binary() -> None:
    with run_lab("goroutinelab") as svc:
        svc.get("/leak?n=4")
        out = run_json(svc.base_url + "/debug/pprof/goroutineleak")
        assert out["kind"] == "goroutineleak"
        assert out["total"] == 4
        assert [(leaf(g), g["leaked"]) for g in out["groups"]] == [("main.leakOne.func1", True)]  # type: ignore[attr-defined]
        with urllib.request.urlopen(svc.base_url + "/debug/pprof/goroutineleak?debug=1") as r:
            assert f"total {out['total']}".encode() in r.read()


def test_no_leaks_in_all_three_forms(tmp_path: Path) -> None:
    """A process without leaks: the goroutineleak profile is empty in every form, exit 0."""
    with run_lab("goroutinelab") as svc:
        svc.get("/block?kind=chansend&n=3")  # blocked on a global channel: not a leak
        forms = {
            "d1": svc.get("/debug/pprof/goroutineleak?debug=1"),
            "pb": svc.get("/debug/pprof/goroutineleak"),
        }
    assert forms["d1"].startswith(b"goroutineleak profile: total 0\n")
    for name, data in forms.items():
        p = tmp_path / name
        p.write_bytes(data)
        res = leakhunter("goroutines", str(p), "--format", "json")
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout)
        assert out["total"] == 0 and out["groups"] == [] and out["kind"] == "goroutineleak"
        text = leakhunter("goroutines", str(p)).stdout.decode()
        assert "(no leaked goroutines)" in text


# -- issue 9: stuck groups (count and wait), --source --------------------------------


def test_many_goroutines_parked_at_one_line_are_stuck_and_joined_to_scan() -> None:
    """A real process with 150+ goroutines blocked on one user-code send: with the wait
    bar at 0 (a dump's waits show only from one minute on, and a test cannot wait five)
    the group is STUCK, exit 1, and --source joins it to scan's LH101 at that line. With
    the default --min-wait (5m) the same fresh dump is not a leak yet; a 64-worker pool
    parked at its `range` is never stuck (too few at one line)."""
    import urllib.request

    from soaklab import manifest

    svc = manifest().get("blockedsend")
    line = min(svc.leak_lines())
    with run_lab("blockedsend") as p:
        for _ in range(160):
            urllib.request.urlopen(p.base_url + "/leak?every=1", timeout=10).read()
        url = p.base_url + "/debug/pprof/goroutine?debug=2"
        res = leakhunter("goroutines", url, "--min-wait", "0", "--source", str(svc.source_dir),
                         "--format", "json")
        assert res.returncode == 1, res.stderr.decode()
        doc = json.loads(res.stdout)
        stuck = [g for g in doc["groups"] if g["stuck"]]
        assert stuck and sum(g["count"] for g in stuck) >= 150, doc["groups"][:2]
        g = stuck[0]
        assert g["user_frame"]["line"] == line and not g["leaked"]
        assert g["finding"] and g["finding"]["rule"] == "LH101", g
        text = leakhunter("goroutines", url, "--min-wait", "0", "--source", str(svc.source_dir))
        out = text.stdout.decode()
        assert text.returncode == 1 and "STUCK" in out and "<- LH101" in out, out[:2000]
        assert "stuck (many parked long at one line)" in out
        fresh = leakhunter("goroutines", url)
        assert fresh.returncode == 0, fresh.stdout.decode()[:2000]
        bar = leakhunter("goroutines", url, "--min-wait", "0", "--min-count", "1000")
        assert bar.returncode == 0
    with run_lab("lazypool") as p:
        urllib.request.urlopen(p.base_url + "/work", timeout=10).read()
        res = leakhunter("goroutines", p.base_url + "/debug/pprof/goroutine?debug=2",
                         "--min-wait", "0", "--format", "json")
        assert res.returncode == 0, res.stdout.decode()[:2000]
        pool = [g for g in json.loads(res.stdout)["groups"] if g["count"] == 64]
        assert pool and pool[0]["suspect"] and not pool[0]["stuck"]


def test_groups_parked_in_a_swapped_out_value_join_the_swap() -> None:
    """lab/cmd/replacedgroup (Alertmanager's dispatcher leak): the leaked goroutines wait in
    `(*group).run`, far from the line that orphaned them; --source joins the group to scan's LH113 at
    the `CompareAndSwap` (its finding's `parks_in`), and the group says where it was started."""
    import urllib.request

    from soaklab import manifest

    svc = manifest().get("replacedgroup")
    with run_lab("replacedgroup") as p:
        for _ in range(160):
            urllib.request.urlopen(p.base_url + "/leak?every=1", timeout=10).read()
        url = p.base_url + "/debug/pprof/goroutine?debug=2"
        res = leakhunter("goroutines", url, "--min-wait", "0", "--source", str(svc.source_dir),
                         "--format", "json")
        assert res.returncode == 1, res.stderr.decode()
        g = next(g for g in json.loads(res.stdout)["groups"] if g["stuck"])
        assert g["count"] >= 150 and g["user_frame"]["function"] == "main.(*group).run", g
        assert g["finding"] and g["finding"]["rule"] == "LH113", g
        assert g["finding"]["line"] in svc.leak_lines() and g["user_frame"]["line"] in svc.leak_lines(), g


def test_min_wait_rejects_bad_values() -> None:
    res = leakhunter("goroutines", "-", "--min-wait", "soon", input=b"")
    assert res.returncode == 2 and b"Traceback" not in res.stderr
