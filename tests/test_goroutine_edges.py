"""Edge cases of real dumps (the ones panicparse's stack package handles), made real.

The lab creates each case in a live process: a stack deeper than the runtime prints
(`...N frames elided...`), a goroutine blocked inside a deferred call while panicking
(a `panic(...)` frame), CPU-bound goroutines (running / runnable), and then a nil
pointer crash with GOTRACEBACK=all, whose log has `[signal SIGSEGV ...]` before the
first goroutine and `goroutine running on other thread; stack unavailable` inside.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from golab import LAB, LabProcess, go_env, run_lab

from leakhunter.analyze.goroutines import analyze
from leakhunter.model import GoroutineDump, GoroutineGroup
from leakhunter.profiles import read_goroutines


@dataclass
class Edge:
    debug2: bytes
    debug1: bytes
    pb: bytes
    crash: bytes


@pytest.fixture(scope="module")
def edge() -> Iterator[Edge]:
    env = go_env()
    env["GOTRACEBACK"] = "all"
    svc = run_lab("goroutinelab", env=env).start()
    try:
        svc.get("/block?kind=deep&n=3")
        svc.get("/block?kind=inpanic&n=4")
        svc.get("/block?kind=spin&n=2")
        d2 = svc.get("/debug/pprof/goroutine?debug=2")
        d1 = svc.get("/debug/pprof/goroutine?debug=1")
        pb = svc.get("/debug/pprof/goroutine")
        with pytest.raises(Exception):  # noqa: B017 - the process dies mid-response
            svc.get("/panic?kind=nilptr")
        assert svc.proc is not None and svc.proc.stderr is not None
        svc.proc.wait(timeout=30)
        crash = svc.proc.stderr.read().encode()
    finally:
        svc.stop()
    yield Edge(d2, d1, pb, crash)


def group_with(d: GoroutineDump, fn: str) -> GoroutineGroup:
    hits = [g for g in d.groups if any(f.function == fn for f in g.stack)]
    assert len(hits) == 1, [(g.count, g.stack[:2]) for g in hits]
    return hits[0]


def test_elided_frames(edge: Edge) -> None:
    assert re.search(rb"^\.\.\.\d+ frames elided\.\.\.$", edge.debug2, re.M)
    for data in (edge.debug2, edge.crash):
        g = group_with(read_goroutines(data), "main.blockDeep")
        assert g.count == 3 and g.elided
        assert g.state == "chan receive"
        # The runtime prints the 50 innermost and 50 outermost frames around the gap.
        assert len(g.stack) == 100
        assert g.stack[0].function == "main.blockRecv"
    # debug=1 is not elided (the profile keeps up to its own depth); counts agree.
    assert group_with(read_goroutines(edge.debug1), "main.blockDeep").count == 3
    assert group_with(read_goroutines(edge.pb), "main.blockDeep").count == 3


def test_panic_frame(edge: Edge) -> None:
    assert b"\npanic({" in edge.debug2
    d = read_goroutines(edge.debug2)
    g = group_with(d, "main.blockInPanic")
    assert g.count == 4
    assert [f.function for f in g.stack] == ["main.blockInPanic.func1", "panic", "main.blockInPanic"]
    assert g.stack[1].file.endswith("/src/runtime/panic.go")
    v = next(v for v in analyze(d).groups if v.group is g)
    assert v.suspect and v.user_frame is not None
    assert v.user_frame.function == "main.blockInPanic.func1"


def test_crash_log(edge: Edge) -> None:
    assert edge.crash.startswith(b"panic: runtime error: invalid memory address or nil pointer dereference\n")
    assert b"[signal SIGSEGV: segmentation violation" in edge.crash
    d = read_goroutines(edge.crash)
    assert d.total == len(re.findall(rb"^goroutine \d+ \[", edge.crash, re.M))
    assert d.warnings == []
    crashed = group_with(d, "main.crashNil")
    assert crashed.state == "running" and crashed.count == 1
    assert group_with(d, "main.blockInPanic").count == 4


def test_stack_unavailable(edge: Edge) -> None:
    """A goroutine on another CPU at crash time has no stack, only `created by`."""
    d = read_goroutines(edge.crash)
    unavailable = edge.crash.count(b"goroutine running on other thread; stack unavailable")
    spinning = [g for g in d.groups if g.created_by and g.created_by.function == "main.block"
                and (not g.stack or g.stack[-1].function == "main.spin")]
    assert sum(g.count for g in spinning) == 2
    empty = [g for g in d.groups if not g.stack]
    assert sum(g.count for g in empty) == unavailable
    for g in empty:
        assert g.state == "running"


def test_running_goroutines_are_no_suspects(edge: Edge) -> None:
    for data in (edge.debug2, edge.pb, edge.debug1):
        a = analyze(read_goroutines(data))
        for v in a.groups:
            if any(f.function == "main.spin" for f in v.group.stack):
                assert not v.suspect, (v.blocked_on, v.group.stack[:2])


def test_pprof_labels_are_ignored_for_grouping() -> None:
    """Goroutines with per-request pprof labels (shown in debug=2 headers with Go 1.27's
    tracebacklabels, and as `# labels:` in debug=1) still form one group per stack."""
    env = go_env()
    env["GODEBUG"] = "tracebacklabels=1"
    with run_lab("goroutinelab", env=env) as svc:
        svc.get("/block?kind=labeled&n=5")
        forms = [svc.get("/debug/pprof/goroutine?debug=2"), svc.get("/debug/pprof/goroutine?debug=1"),
                 svc.get("/debug/pprof/goroutine")]
    assert len(re.findall(rb"^goroutine \d+ \[chan receive\] \{job: \d+, kind: export\}:$", forms[0], re.M)) == 5
    assert forms[1].count(b"# labels: {") == 5  # one record per label set
    for data in forms:
        g = group_with(read_goroutines(data), "main.blockLabeled.func1")
        assert g.count == 5


def test_go126_labels_inside_the_state_brackets_are_ignored_too(tmp_path: Path) -> None:
    """Go 1.26 prints tracebacklabels inside the brackets (`[chan receive labels:{"job":
    "1"}]:`), Go 1.27 after them. Read naively, each label set made its own group with
    the labels as its state, and no group was a suspect."""
    from gotestlab import toolchains

    go126 = toolchains().get("1.26")
    if go126 is None:
        pytest.skip("no Go 1.26 toolchain on this machine")
    exe = tmp_path / "goroutinelab126"
    env = {**go_env(), "GOTOOLCHAIN": "local"}
    subprocess.run([go126, "build", "-o", str(exe), "./cmd/goroutinelab"], cwd=LAB, env=env,
                   check=True, capture_output=True, timeout=600)
    with LabProcess(exe, [], {**env, "GODEBUG": "tracebacklabels=1"}) as svc:
        svc.get("/block?kind=labeled&n=5")
        dump = svc.get("/debug/pprof/goroutine?debug=2")
    assert len(re.findall(rb'^goroutine \d+ \[chan receive labels:\{"job": "\d+", "kind": "export"\}\]:$',
                          dump, re.M)) == 5
    g = group_with(read_goroutines(dump), "main.blockLabeled.func1")
    assert g.count == 5 and g.state == "chan receive"
    assert any(v.suspect and v.group.count == 5 for v in analyze(read_goroutines(dump)).groups)
