"""Goroutine dumps from a real Go process, in all three forms, read and grouped.

One goroutinelab process gets goroutines created through HTTP in each blocking state
(counts chosen per state) plus real leaks; then its debug=2, debug=1 and binary dumps,
and the goroutineleak profile in the same three forms, are read. Expected values come
from the runtime: the `total N` headers, runtime.NumGoroutine taken with the dump,
the state strings the runtime printed, `go tool pprof -raw` — and the counts created.
"""

from __future__ import annotations

import re
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from golab import go_tool_pprof, run_lab

from leakhunter.analyze.goroutines import analyze
from leakhunter.model import GoroutineDump
from leakhunter.profiles import goroutine_text, read_goroutines

# kind -> (goroutines to create, the lab function they block in)
KINDS = {
    "chansend": (7, "main.blockSend"),
    "chanrecv": (5, "main.blockRecv"),
    "select": (6, "main.blockSelect"),
    "mutex": (4, "main.blockMutex"),
    "waitgroup": (3, "main.blockWaitGroup"),
    "cond": (2, "main.blockCond"),
    "sleep": (8, "main.blockSleep"),
    "iowait": (3, "main.blockIO"),
}
LEAKS = 9
LEAK_FN = "main.leakOne.func1"
LAB_FNS = {fn for _, fn in KINDS.values()} | {LEAK_FN}


@dataclass
class Captures:
    stacks: bytes
    num_goroutine: int
    debug1: bytes
    debug2: bytes
    pb: bytes
    leak_debug1: bytes
    leak_debug2: bytes
    leak_pb: bytes
    pb_path: str


@pytest.fixture(scope="module")
def cap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Captures]:
    with run_lab("goroutinelab") as svc:
        for kind, (n, _) in KINDS.items():
            svc.get(f"/block?kind={kind}&n={n}")
        svc.get(f"/leak?n={LEAKS}")
        with urllib.request.urlopen(svc.base_url + "/stacks", timeout=30) as resp:
            stacks = resp.read()
            num = int(resp.headers["X-Num-Goroutine"])
        pb = svc.get("/debug/pprof/goroutine")
        pb_path = tmp_path_factory.mktemp("gr") / "goroutine.pb.gz"
        pb_path.write_bytes(pb)
        yield Captures(
            stacks=stacks,
            num_goroutine=num,
            debug1=svc.get("/debug/pprof/goroutine?debug=1"),
            debug2=svc.get("/debug/pprof/goroutine?debug=2"),
            pb=pb,
            leak_debug1=svc.get("/debug/pprof/goroutineleak?debug=1"),
            leak_debug2=svc.get("/debug/pprof/goroutineleak?debug=2"),
            leak_pb=svc.get("/debug/pprof/goroutineleak"),
            pb_path=str(pb_path),
        )


def lab_leaf(stack: tuple[object, ...]) -> str | None:
    """The innermost lab function of a stack (test-side definition of 'user code')."""
    for fr in stack:
        fn = fr.function  # type: ignore[attr-defined]
        if fn in LAB_FNS:
            return str(fn)
    return None


def by_leaf(dump: GoroutineDump) -> Counter[str]:
    out: Counter[str] = Counter()
    for g in dump.groups:
        leaf = lab_leaf(g.stack)
        if leaf:
            out[leaf] += g.count
    return out


def header_total(data: bytes) -> int:
    m = re.search(rb"^(?:goroutine|goroutineleak) profile: total (\d+)$", data, re.M)
    assert m, data[:200]
    return int(m.group(1))


EXPECTED = Counter({fn: n for n, fn in KINDS.values()}) + Counter({LEAK_FN: LEAKS})


def test_debug2_total_is_runtime_numgoroutine(cap: Captures) -> None:
    d = goroutine_text.parse(cap.stacks)
    assert d.form == "debug=2"
    assert d.total == cap.num_goroutine
    assert sum(g.count for g in d.groups) == d.total
    assert d.warnings == []


def test_debug2_counts_goroutine_headers(cap: Captures) -> None:
    d = read_goroutines(cap.debug2)
    assert d.total == len(re.findall(rb"^goroutine \d+ \[", cap.debug2, re.M))


def test_debug1_total_is_header_total(cap: Captures) -> None:
    d = read_goroutines(cap.debug1)
    assert d.form == "debug=1"
    assert d.total == header_total(cap.debug1)
    assert sum(g.count for g in d.groups) == d.total
    assert d.warnings == []


def test_pb_total_is_go_tool_pprof_total(cap: Captures) -> None:
    d = read_goroutines(cap.pb)
    raw = go_tool_pprof("-raw", cap.pb_path)
    samples = raw.split("Samples:", 1)[1].split("Locations", 1)[0]
    want = sum(int(m) for m in re.findall(r"^\s+(\d+): ", samples, re.M))
    assert d.form == "pb"
    assert d.total == want


@pytest.mark.parametrize("form", ["stacks", "debug2", "debug1", "pb"])
def test_group_counts_are_the_goroutines_created(cap: Captures, form: str) -> None:
    d = read_goroutines(getattr(cap, form))
    assert by_leaf(d) == EXPECTED
    # One group per lab function: goroutines differing only in arguments and ids merge.
    leaves = [lab_leaf(g.stack) for g in d.groups if lab_leaf(g.stack)]
    assert sorted(leaves) == sorted(EXPECTED)


def test_three_forms_agree(cap: Captures) -> None:
    forms = [read_goroutines(x) for x in (cap.debug2, cap.debug1, cap.pb)]
    assert by_leaf(forms[0]) == by_leaf(forms[1]) == by_leaf(forms[2])


def test_debug2_states_are_the_runtime_wait_reasons(cap: Captures) -> None:
    d = read_goroutines(cap.debug2)
    states = {lab_leaf(g.stack): g.state for g in d.groups if lab_leaf(g.stack)}
    # The exact strings of the runtime's waitReasonStrings for what each kind does.
    raw = cap.debug2.decode()
    for fn in EXPECTED:
        m = re.search(rf"goroutine \d+ \[([^\],]+)[^\]]*\]:\n(?:.*\n\t.*\n)*?{re.escape(fn)}\(", raw)
        assert m, fn
        assert states[fn] == m.group(1).replace(" (leaked)", "")
    assert states["main.blockSend"] == "chan send"
    assert states["main.blockMutex"] == "sync.Mutex.Lock"


def test_inferred_states_match_runtime_states(cap: Captures) -> None:
    """pb and debug=1 carry no state; what the stack implies must be what debug=2 says."""
    truth = {lab_leaf(g.stack): g.state for g in read_goroutines(cap.debug2).groups}
    pb = {lab_leaf(g.stack): g.inferred_state for g in read_goroutines(cap.pb).groups}
    d1 = {lab_leaf(g.stack): g.inferred_state for g in read_goroutines(cap.debug1).groups}
    for fn in EXPECTED:
        assert pb[fn] == truth[fn], fn
        if truth[fn] in ("chan send", "chan receive", "select"):
            assert d1[fn] == "chan or select", fn
        else:
            assert d1[fn] == truth[fn], fn
    for d in (read_goroutines(cap.pb), read_goroutines(cap.debug1)):
        assert all(g.state == "" for g in d.groups)


def test_created_by_and_frames(cap: Captures) -> None:
    d = read_goroutines(cap.debug2)
    d1 = read_goroutines(cap.debug1)
    lines1 = {g.stack[0].function: g.stack[0].line for g in d1.groups if lab_leaf(g.stack[:1])}
    for g in d.groups:
        leaf = lab_leaf(g.stack)
        if leaf is None or leaf == LEAK_FN:
            continue
        assert g.created_by is not None and g.created_by.function == "main.block"
        assert g.created_by.file.endswith("cmd/goroutinelab/main.go")
        assert g.created_by.line > 0
        # Same line number as the runtime's symbolization of the debug=1 PC.
        fr = next(f for f in g.stack if f.function == leaf)
        if leaf in lines1:
            assert fr.line == lines1[leaf]
        assert "(" not in fr.function.rsplit(".", 1)[-1]  # arguments stripped


def test_suspects(cap: Captures) -> None:
    for data in (cap.debug2, cap.pb, cap.debug1):
        a = analyze(read_goroutines(data))
        by = {lab_leaf(v.group.stack): v for v in a.groups if lab_leaf(v.group.stack)}
        for fn in EXPECTED:
            v = by[fn]
            assert v.user_frame is not None and v.user_frame.function == fn
            assert v.suspect == (fn != "main.blockIO"), (fn, v.blocked_on)
        # Plumbing that is all standard library (the HTTP listener's accept) is no suspect.
        assert not any(v.suspect for v in a.groups if lab_leaf(v.group.stack) is None)


def test_leaked_debug2(cap: Captures) -> None:
    d = read_goroutines(cap.leak_debug2)
    leaked = [g for g in d.groups if g.leaked]
    assert [lab_leaf(g.stack) for g in leaked] == [LEAK_FN]
    assert leaked[0].count == LEAKS == cap.leak_debug2.count(b" (leaked)]:")
    assert leaked[0].state == "chan send"
    assert by_leaf(d) == EXPECTED  # the debug=2 leak dump lists every goroutine


@pytest.mark.parametrize("form", ["leak_debug1", "leak_pb"])
def test_leaked_profile(cap: Captures, form: str) -> None:
    data = getattr(cap, form)
    d = read_goroutines(data)
    assert d.kind == "goroutineleak"
    assert all(g.leaked for g in d.groups)
    assert by_leaf(d) == Counter({LEAK_FN: LEAKS})
    if form == "leak_debug1":
        assert d.total == header_total(data) == LEAKS


def test_goroutine_profile_is_not_leaked(cap: Captures) -> None:
    for data in (cap.debug1, cap.pb):
        d = read_goroutines(data)
        assert d.kind == "goroutine"
        assert not any(g.leaked for g in d.groups)


def test_streamed_file_equals_bytes(cap: Captures, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The chunked file reader, with chunks much smaller than the dump, groups the same."""
    path = tmp_path_factory.mktemp("gr") / "d2.txt"
    path.write_bytes(cap.stacks)
    whole = goroutine_text.parse(cap.stacks)
    old = goroutine_text.CHUNK
    goroutine_text.CHUNK = 997  # cut lines and goroutines at odd places
    try:
        with path.open("rb") as f:
            streamed = goroutine_text.parse_file(f)
        sliced = goroutine_text.parse(cap.stacks)
    finally:
        goroutine_text.CHUNK = old

    def key(d: GoroutineDump) -> list[tuple[str, str, int]]:
        return sorted((g.state, repr(g.stack), g.count) for g in d.groups)

    assert key(streamed) == key(whole) == key(sliced)
    assert streamed.total == whole.total == sliced.total == cap.num_goroutine


def test_to_suspects(cap: Captures) -> None:
    """Suspects as model Suspects: one per user-code line, sized by the goroutines there."""
    sus = analyze(read_goroutines(cap.debug2)).to_suspects()
    by_fn = {s.function: s for s in sus}
    for n, fn in KINDS.values():
        if fn == "main.blockIO":
            assert fn not in by_fn  # IO wait is not a leak pattern
            continue
        assert by_fn[fn].growth == n and by_fn[fn].unit == "goroutines"
        assert by_fn[fn].file.endswith("cmd/goroutinelab/main.go") and by_fn[fn].line > 0
    assert by_fn[LEAK_FN].growth == LEAKS
