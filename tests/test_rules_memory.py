"""LH201 and the memory-retention rules (LH501 to LH505) on their Go fixtures.

Each fixture package holds leaking code (lines marked `// want LHnnn`) and the fixed
or tricky-negative shapes users of go vet / staticcheck report as false positives;
the (rule, line) pairs found must equal the markers exactly. The fixtures compile and
pass `go vet`; LH201's leaking fixtures live in `vetfails/` because go vet's own
`lostcancel` objects to them — there the test checks that go vet and LH201 agree.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from golab import go_env, go_exe, go_tool_pprof
from scanfixtures import FIXTURES, compare, fixture_files, found, run_rules

CASES = [
    ("lh501", "LH501"),
    ("lh502", "LH502"),
    ("lh503", "LH503"),
    ("lh504", "LH504"),
    ("lh505", "LH505"),
    ("vetfails/lh201", "LH201"),
]


@pytest.mark.parametrize(("package", "rule"), CASES)
def test_rule_matches_want_markers(package: str, rule: str) -> None:
    problems = compare(package, [rule])
    assert not problems, "\n".join(problems)


def _vet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [go_exe(), "vet", *args], cwd=FIXTURES, env=go_env(), capture_output=True, text=True, timeout=300
    )


def test_fixtures_compile_and_pass_go_vet() -> None:
    res = _vet(*(f"./{p}" for p, _ in CASES if not p.startswith("vetfails/")))
    assert res.returncode == 0, res.stderr
    res = _vet("-lostcancel=false", "./vetfails/lh201")
    assert res.returncode == 0, res.stderr


GOES_FURTHER = {("helper.go", 14), ("handed.go", 25)}
"""LH201 findings go vet does not make, on purpose: the cancel is handed to a same-package
helper that never calls it, or only "used" by `_ = cancel` (vet counts any use of the
variable as handling it)."""


VET_ONLY = {("expired.go", 13), ("main_test.go", 11), ("main_test.go", 22), ("rooted.go", 25), ("rooted.go", 46),
            ("rooted.go", 69), ("started.go", 9)}
"""go vet findings LH201 leaves out on purpose: the only path without cancel has received from
the context's Done(), so the context is already removed from its parent (expired.go); a
WithCancel whose parent is `context.Background()` or a test's `t.Context()` registers with
nothing that outlives it, so its lost cancel holds nothing (main_test.go); a line whose vet report
the author silenced with `//nolint:govet` (rooted.go:69)."""


def test_lh504_a_cleanup_capturing_a_holder_of_its_object_is_a_warning() -> None:
    """OPA v1.18.0's leak (real leaks set 3): the cleanup's closure captures the receiver, whose `byRule` map
    holds the rule the cleanup is attached to. A may (the holder may not hold this object): `warning`.
    Twin: a receiver whose fields hold no value of the object's type."""
    got = run_rules(FIXTURES / "lh504" / "cache.go", ["LH504"])
    assert [(f.function, f.severity) for f in got] == [("Set.Labels", "warning")]
    assert "field byRule (map[*Rule][]string) holds *Rule values" in got[0].message


def test_lh504_in_tests_is_info() -> None:
    """Tests build finalizer cycles on purpose (the runtime checks AddCleanup panics on them): info there."""
    assert {f.severity for f in run_rules(FIXTURES / "lh504" / "cycle_test.go", ["LH504"])} == {"info"}
    assert {f.severity for f in run_rules(FIXTURES / "lh504" / "leak.go", ["LH504"])} == {"error"}


def test_lh502_in_tests_is_info() -> None:
    """A window kept by test code pins its buffer for one test run (held-out sets 11 and 19): shown
    only with --show-info; the same shape in production code stays a warning."""
    got = run_rules(FIXTURES / "lh502" / "fixture_test.go", ["LH502"])
    assert [(f.line, f.severity) for f in got] == [(18, "info")]
    assert {f.severity for f in run_rules(FIXTURES / "lh502" / "leak.go", ["LH502"])} == {"warning"}


def test_lh502_a_returned_window_no_caller_keeps_is_info() -> None:
    """A returned window pins its buffer only while a caller keeps it: 0 of 10 LH502 findings of held-out
    sets 1-22 were true, the last two returned windows their callers compared or printed and dropped
    (kardianos/service's /proc name, troubleshoot's release tag). A caller storing the result, directly
    or through a local, keeps the warning (leak.go's firstLine and build, returned.go's latestTag)."""
    got = {f.function: f.severity for f in run_rules(FIXTURES / "lh502" / "returned.go", ["LH502"])}
    assert got == {"binaryName": "info", "latestTag": "warning"}
    leak = {f.function: f.severity for f in run_rules(FIXTURES / "lh502" / "leak.go", ["LH502"])}
    assert leak["firstLine"] == leak["build"] == "warning"


def test_lh201_children_of_never_cancelled_parents_are_info() -> None:
    """A lost cancel whose parent is `context.Background()` (directly, through a local, a value,
    `WithoutCancel` or a module helper that substitutes Background for nil) holds only its timer until
    the deadline: shown with --show-info, not by default; a lost WithCancel there is not reported."""
    root = FIXTURES / "vetfails" / "lh201"
    sev = {f.line: f.severity for f in run_rules(root / "rooted.go", ["LH201"])}
    assert sev == {13: "info", 19: "info", 37: "info", 56: "warning"}
    assert {f.severity for f in run_rules(root / "leak.go", ["LH201"])} <= {"error", "warning"}
    assert {f.line: f.severity for f in run_rules(root / "main_test.go", ["LH201"])} == {15: "info"}


def test_lh201_goroutine_handed_a_background_child_is_a_leak() -> None:
    """Under a never-cancelled parent a lost cancel is still a leak when a goroutine is handed
    the child: its `<-ctx.Done()` is its only end (reported at error, naming the goroutine)."""
    got = run_rules(FIXTURES / "vetfails" / "lh201" / "handed.go", ["LH201"])
    assert {(f.line, f.severity) for f in got} == {(25, "error"), (31, "error")}
    assert all("goroutine started at line" in f.message for f in got), [f.message for f in got]


def test_lh201_workers_started_once_per_process_own_their_context() -> None:
    """A never-cancelled context handed to goroutines by a constructor only main calls, once, is those
    workers' life (9fans' netshell console, held-out set 24): not reported. Twin: the same made once per
    accepted connection, in main's accept loop, is a goroutine more per connection: reported."""
    got = run_rules(FIXTURES / "vetfails" / "lh201" / "once" / "main.go", ["LH201"])
    assert [f.function for f in got] == ["newSession"]
    assert compare("vetfails/lh201/once", ["LH201"]) == []


def test_lh201_agrees_with_go_vet_lostcancel() -> None:
    """Every cancel go vet's lostcancel reports, LH201 reports on the same line; the only
    others are the documented cases where LH201 reads the helper the cancel is passed to."""
    res = _vet("-lostcancel", "./vetfails/lh201")
    vet_lines = {
        (m.group(1), int(m.group(2)))
        for m in re.finditer(
            r"^vetfails/lh201/(\w+\.go):(\d+):\d+: the cancel function", res.stderr, re.M
        )
    }
    assert vet_lines, res.stderr
    ours = {
        (path.name, line)
        for path in fixture_files("vetfails/lh201")
        for _, line in found(path, ["LH201"])
    }
    assert vet_lines >= VET_ONLY
    assert ours == (vet_lines - VET_ONLY) | GOES_FURTHER
    assert not vet_lines & GOES_FURTHER


def _vet_lostcancel_testdata() -> list[Path]:
    """go vet's own lostcancel test files (x/tools), when the module cache holds them."""
    gomodcache = subprocess.run(
        [go_exe(), "env", "GOMODCACHE"], env=go_env(), capture_output=True, text=True, check=True
    ).stdout.strip()
    return sorted(Path(gomodcache).glob("golang.org/x/tools@*/go/analysis/passes/lostcancel/testdata/src/*/*.go"))


def test_lh201_matches_go_vet_own_testdata() -> None:
    """On the lostcancel analyzer's own test files, LH201 reports exactly the cancels vet's markers want."""
    files = _vet_lostcancel_testdata()
    if not files:
        pytest.skip("golang.org/x/tools is not in the module cache")
    for path in files:
        want = {
            no
            for no, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if "// want" in text and "reached" not in text
        }
        got = {line for _, line in found(path, ["LH201"])}
        assert got == want, path


def test_package_view_holds_every_file_whichever_file_asks_first(tmp_path: Path) -> None:
    """The per-directory tree cache must give each file all of its siblings (the first asker too)."""
    from leakhunter.source.gopackage import package_files
    from leakhunter.source.parse import parse
    from leakhunter.source.rule import FileContext

    for name in ("a.go", "b.go", "c.go"):
        (tmp_path / name).write_text(f"package p\n\nvar {name[0]} = 1\n")
    (tmp_path / "other.go").write_text("package q\n")
    (tmp_path / "a_test.go").write_text("package p\n")

    def ctx(name: str) -> FileContext:
        src = (tmp_path / name).read_bytes()
        return FileContext(tmp_path / name, name, src, parse(src))

    for name in ("a.go", "b.go", "c.go"):
        names = [f.path.name for f in package_files(ctx(name))]
        assert names[0] == name
        assert sorted(names) == ["a.go", "b.go", "c.go"]


RUNTIME_JOIN = [
    # lab service, rule, leak endpoint (64 KiB kept per request / a 1 MiB record pinned per request)
    ("unboundedmap", "LH501", "/leak?bytes=65536"),
    ("subslice", "LH502", "/leak?bytes=1048576"),
]


@pytest.mark.parametrize(("lab", "rule", "endpoint"), RUNTIME_JOIN)
def test_finding_points_where_the_live_heap_grows(tmp_path: Path, lab: str, rule: str, endpoint: str) -> None:
    """The catalog's "at run time" column, checked on a real process: the site the static
    finding names (LH501: the insert; LH502: the call that allocated the pinned buffer)
    holds (with its callers) the most live heap of the service's own code after the leak ran."""
    from golab import LAB, run_lab
    from scanfixtures import run_rules

    source = LAB / "cmd" / lab / "main.go"
    findings = run_rules(source, [rule])
    assert len(findings) == 1, findings
    f = findings[0]
    site = f.line
    if rule == "LH502":
        m = re.search(r"read by \S+ at line (\d+)", f.message)
        assert m, f.message
        site = int(m.group(1))

    with run_lab(lab) as svc:
        for _ in range(200):
            svc.get(endpoint)
        (tmp_path / "heap.pb.gz").write_bytes(svc.get("/debug/pprof/heap?gc=1"))
    top = go_tool_pprof(
        "-sample_index=inuse_space", "-top", "-cum", "-lines", "-nodecount=500", str(tmp_path / "heap.pb.gz")
    )
    # rows: flat flat% sum% cum cum% function file:line
    ours = [
        (line.split()[3], line.split()[-1])
        for line in top.splitlines()
        if re.search(r"\smain\.\S+\s+\S*/cmd/" + lab + r"/main\.go:\d+", line)
    ]
    assert ours, top
    # callers of the site (the handler line) carry the same cumulative bytes: the site must
    # be among the lines holding the most, not some other allocation of the service
    most = max(_bytes(cum) for cum, _ in ours)
    at_site = [_bytes(cum) for cum, where in ours if where.endswith(f"/main.go:{site}")]
    assert at_site and max(at_site) >= 0.9 * most, (f, top)


def _bytes(text: str) -> float:
    """pprof's `12.50MB` / `512kB` / `0` as bytes."""
    m = re.fullmatch(r"([\d.]+)([kMGT]?B)?", text)
    assert m, text
    scale = {"B": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}.get(m.group(2) or "B", 1)
    return float(m.group(1)) * scale


def test_lost_cancel_message_says_a_deadline_frees_a_timeout_context() -> None:
    """A WithTimeout whose cancel is dropped stays registered with its parent until the parent ends
    *or its deadline passes*: the message says the cost is bounded by the timeout (gorm's discarded
    cancels, held-out set 14), and a WithCancel's says only the parent's end frees it."""
    by_line = {f.line: f.message for f in run_rules(FIXTURES / "vetfails" / "lh201" / "leak.go", ["LH201"])}
    assert "deadline passes" in by_line[14] and "bounded by the timeout" in by_line[14], by_line[14]
    helper = {f.line: f.message for f in run_rules(FIXTURES / "vetfails" / "lh201" / "helper.go", ["LH201"])}
    assert helper[14].endswith("until the parent ends"), helper[14]
