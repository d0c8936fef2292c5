"""`leakhunter test`: formats, options, evidence per toolchain, errors, the TestMain rewrite.

Every run here is a real `go test` of lab/testleaks (or a temporary copy of part of it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gotestlab import BROKEN, LAB, ROOT, run_test_command, toolchains, tree_hash

from leakhunter.collect.gotest import (
    USER_MAIN,
    label_tests,
    needs_subtest_notes,
    rerun_args,
    rewrite_subtests,
    rewrite_testmain,
)

TOOLCHAINS = toolchains()


def _go(version: str) -> str:
    go = TOOLCHAINS.get(version)
    if go is None:
        pytest.skip(f"Go {version} toolchain not installed")
    return go


def _newest() -> str:
    if not TOOLCHAINS:
        pytest.skip("no Go toolchain")
    return TOOLCHAINS[max(TOOLCHAINS, key=lambda v: tuple(int(x) for x in v.split(".")))]


def test_text_is_vet_style_and_go_test_args_pass_through() -> None:
    run = run_test_command(_newest(), "./plain", "--", "-v", "-run", "TestFirstResult")
    assert run.code == 1, run.stderr
    assert run.before == run.after
    line = run.stdout.splitlines()[0]
    assert re.fullmatch(
        r"plain/plain\.go:9: leaked 2 goroutines \(test TestFirstResult\): chan send in "
        r"plain\.FirstResult\.func1, created at plain/plain\.go:8; proven by the runtime", line
    ), line
    assert re.search(r"^    LH1\d\d \S+: ", run.stdout, re.M)  # the joined catalog rule and its fix
    assert "=== RUN   TestFirstResult" in run.stderr  # -v reached go test
    assert "TestNoLeak" not in run.stderr  # and so did -run


def test_sarif_is_valid_and_names_the_creation_site() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    run = run_test_command(_newest(), "./plain", "./global", "--format", "sarif")
    assert run.code == 1, run.stderr
    doc = json.loads(run.stdout)
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(doc, schema)
    results = doc["runs"][0]["results"]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {
        "plain/plain.go", "global/global.go"}
    for r in results:
        assert r["ruleId"] == "goroutine-leak"
        assert r["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] > 0
    by_uri = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r for r in results}
    assert by_uri["plain/plain.go"]["properties"]["proven"] is True
    assert by_uri["global/global.go"]["properties"]["proven"] is False


def test_github_annotations() -> None:
    run = run_test_command(_newest(), "./global", "--format", "github")
    assert run.code == 1, run.stderr
    assert run.stdout.startswith("::error file=global/global.go,line=10,title=goroutine leak (TestPublish)::leaked 1 goroutine")


def test_go126_without_the_experiment_gives_liveness_only() -> None:
    run = run_test_command(_go("1.26"), "./plain", "--format", "json",
                           env_extra={"GOEXPERIMENT": "nogoroutineleakprofile"})
    assert run.code == 1, run.stderr
    doc = json.loads(run.stdout)
    assert doc["proof_available"] is False
    assert "only" in doc["evidence"]
    [lk] = doc["leaks"]
    assert lk["count"] == 2 and lk["test"] == "TestFirstResult" and lk["proven"] is False
    assert doc["packages"][0]["proof"] == "unavailable"


def test_ignore_from_config_and_command_line(tmp_path: Path) -> None:
    mod = tmp_path / "mod"
    mod.mkdir()
    (mod / "go.mod").write_text("module leakhunter.dev/testleaks\n\ngo 1.22\n")
    for pkg in ("plain", "global"):
        shutil.copytree(LAB / pkg, mod / pkg)
    (mod / ".leakhunter.toml").write_text(
        '[test]\nignore = ["leakhunter.dev/testleaks/global.Publish"]\n'
    )
    go = _newest()
    run = run_test_command(go, "--ignore", "leakhunter.dev/testleaks/plain.FirstResult",
                           "--format", "json", cwd=mod)
    assert run.code == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["leaks"] == []
    assert run.before == run.after
    # Without the command-line ignore, plain's leak is back: the ignore was what hid it.
    run2 = run_test_command(go, "./plain", "./global", "--format", "json", cwd=mod)
    assert run2.code == 1
    assert {lk["test"] for lk in json.loads(run2.stdout)["leaks"]} == {"TestFirstResult"}


def test_build_failure_is_exit_2_with_one_line() -> None:
    before = tree_hash(BROKEN)
    run = run_test_command(_newest(), "./pkg", cwd=BROKEN)
    assert run.code == 2
    assert tree_hash(BROKEN) == before
    errors = [ln for ln in run.stderr.splitlines() if ln.startswith("leakhunter: error:")]
    assert errors == [
        "leakhunter: error: tests could not be built: leakhunter.dev/testleaksbroken/pkg "
        "(go test's output is above)"
    ]
    assert "undefinedName" in run.stderr  # the compiler's message is shown
    assert "Traceback" not in run.stderr


def test_panicking_test_means_the_check_did_not_run() -> None:
    run = run_test_command(_newest(), "./panics", cwd=BROKEN)
    assert run.code == 2, run.stderr
    assert "boom from the test" in run.stderr  # go test's report of the crash is shown
    errors = [ln for ln in run.stderr.splitlines() if ln.startswith("leakhunter: error:")]
    assert len(errors) == 1 and "leak check did not run in leakhunter.dev/testleaksbroken/panics" in errors[0]


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--source", "/nonexistent/dir"], "not a directory"),
        (["--settle=-1s"], "negative"),
        (["--format", "xml"], "invalid choice"),
        (["./nosuchpkg"], "error"),
    ],
)
def test_usage_errors(args: list[str], needle: str) -> None:
    res = subprocess.run([sys.executable, "-m", "leakhunter", "test", *args], cwd=LAB,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 2, res.stdout + res.stderr
    assert needle in res.stderr
    assert "Traceback" not in res.stderr


def test_rewrite_exit_of_run_form_keeps_lines() -> None:
    src = b'package p\n\nimport (\n\t"os"\n\t"testing"\n)\n\nfunc TestMain(m *testing.M) {\n\tos.Exit(m.Run())\n}\n\nfunc helper() { os.Exit(3) }\n'
    out = rewrite_testmain(src)
    lines = out.decode().splitlines()
    assert lines[7] == f"func {USER_MAIN}(m *testing.M) {{"
    assert lines[8] == "\tleakhunterExit(m.Run())"
    assert lines[11] == "func helper() { os.Exit(3) }"  # outside TestMain: untouched
    assert lines[-1] == "var _ = os.Exit"  # keeps "os" used; appended after every original line


def test_rewrite_aliased_os_and_run_then_exit_form() -> None:
    src = (b'package p_test\n\nimport (\n\tstdos "os"\n\t"testing"\n)\n\nfunc TestMain(m *testing.M) {\n'
           b'\tcode := m.Run()\n\tteardown()\n\tstdos.Exit(code)\n}\n')
    out = rewrite_testmain(src).decode().splitlines()
    assert out[10] == "\tleakhunterExit(code)"
    assert out[-1] == "var _ = stdos.Exit"


def test_rewrite_without_os_import() -> None:
    src = b"package p\n\nimport \"testing\"\n\nfunc TestMain(m *testing.M) {\n\tm.Run()\n}\n"
    out = rewrite_testmain(src).decode()
    assert f"func {USER_MAIN}(m *testing.M)" in out and "os.Exit" not in out


def test_rewrite_subtests_wraps_run_functions_and_keeps_lines() -> None:
    src = (b'package p\n\nimport tt "testing"\n\nfunc TestX(t *tt.T) {\n'
           b'\tt.Run("lit", func(t *tt.T) { a() })\n'
           b'\tfor _, c := range cs {\n\t\tt.Run(c.name, func(s *tt.T) {\n\t\t\tb(map[int]int{1: 2, 3: 4})\n\t\t})\n\t}\n'
           b'\tt.Run("by value", fn)\n'
           b'\tt.Run(fmt.Sprint("a", 1), nil)\n'
           b'\t// t.Run(name, inAComment)\n'
           b'\ts := "t.Run(name, inAString)"\n'
           b'\tt.Run(f(x, y), s.method)\n}\n')
    out = rewrite_subtests(src)
    assert out is not None
    lines, orig = out.decode().splitlines(), src.decode().splitlines()
    assert len(lines) == len(orig)
    # A func literal labels its goroutine with its full name first thing (no frame added
    # under the subtest); a function value is wrapped.
    assert lines[5] == '\tt.Run("lit", func(t *tt.T) { leakhunterLabelT(t); a() })'
    assert lines[7] == "\t\tt.Run(c.name, func(s *tt.T) { leakhunterLabelT(s);"
    assert lines[11] == '\tt.Run("by value", leakhunterWrap(fn))'
    assert lines[15] == "\tt.Run(f(x, y), leakhunterWrap(s.method))"
    # nil, a comment and a string are never touched.
    assert [i for i, (a, b) in enumerate(zip(lines, orig, strict=True)) if a != b] == [5, 7, 11, 15]
    assert rewrite_subtests(b'package p\n\nfunc TestY(t *testing.T) { t.Run("a", nil) }\n') is None
    assert rewrite_subtests(b"package p\n\nfunc TestY(t *testing.T) { t.Log(`.Run(`) }\n") is None
    assert needs_subtest_notes(b't.Run(`a`, func(t *T) {})') and not needs_subtest_notes(b"t.Log(1)")
    assert rewrite_subtests(b'package p\n\nfunc BenchmarkY(b *testing.B) { b.Run("a", func(b *testing.B) {}) }\n') is None


def test_label_tests_inserts_on_the_same_line_and_skips_what_is_not_a_test() -> None:
    src = (b'package p\n\nimport tt "testing"\n\n'
           b'func TestX(t *tt.T) {\n\tx()\n}\n'
           b'func TestMain(m *tt.M) {}\n'
           b'func Testify(t *tt.T) {}\n'
           b'func TestHelper(n int) {}\n'
           b'func BenchmarkY(b *tt.B) { y() }\n'
           b'func ExampleZ() {\n\tfmt.Println(1)\n}\n'
           b'func FuzzW(_ *tt.F) {}\n'
           b'var src = `\nfunc TestInAString(t *testing.T) {\n}`\n'
           b'/*\nfunc TestInAComment(t *testing.T) {\n*/\n')
    out = label_tests(src)
    assert out is not None
    lines, orig = out.decode().splitlines(), src.decode().splitlines()
    assert len(lines) == len(orig)
    changed = {i: lines[i] for i, (a, b) in enumerate(zip(lines, orig, strict=True)) if a != b}
    assert changed == {
        4: 'func TestX(t *tt.T) { leakhunterLabelAs("TestX");',
        10: 'func BenchmarkY(b *tt.B) { leakhunterLabelAs("BenchmarkY"); y() }',
        11: 'func ExampleZ() { leakhunterLabelAs("ExampleZ"); defer leakhunterUnlabel();',
        14: 'func FuzzW(_ *tt.F) { leakhunterLabelAs("FuzzW");}',
    }, changed
    assert label_tests(b"package p\n\nfunc helper() {}\n") is None

def test_subtests_without_labels_or_notes_name_the_parent(tmp_path: Path) -> None:
    """The labels name each subtest exactly; without them (code under test may replace a
    goroutine's labels), the run-time notes do, through the creation stacks; without
    either, a subtest named by a variable is `TestTable/…`, and one run from a function
    value is its caller's (`TestByValue/…`), never the helper's."""
    import io

    from leakhunter.analyze.testleaks import attribute
    from leakhunter.collect.gotest import run_go_test

    res = run_go_test(LAB, ["./subpar"], ["-run", "TestTable|TestByValue"], settle_s=0.5, ignore=[],
                      go=_newest(), console=io.StringIO())
    [pr] = res.packages
    assert pr.ancestry == "rerun"  # no needs_ancestry: every leaking package runs again
    assert pr.subtests and set(pr.subtests.values()) >= {"TestTable/noisy_one", "TestByValue/by_value"}
    labelled = {lk.test for lk in attribute(pr.package, pr.dump, proof=pr.proof_written)}
    assert labelled == {"TestTable/noisy_one", "TestByValue/by_value"}
    assert b"{leakhunter.test: TestTable/noisy_one}:" in pr.dump
    bare = re.sub(rb"(?m)^(goroutine \d+ \[[^\]\n]*\]) \{[^\n]*\}:$", rb"\1:", pr.dump)
    assert b"leakhunter.test" not in bare
    with_notes = {lk.test for lk in attribute(pr.package, bare, proof=pr.proof_written,
                                              subtests=pr.subtests)}
    assert with_notes == {"TestTable/noisy_one", "TestByValue/by_value"}
    without = {lk.test for lk in attribute(pr.package, bare, proof=pr.proof_written)}
    assert without == {"TestTable/…", "TestByValue/…"}


def test_ancestry_modes() -> None:
    """The tests' labels name the test in the one run: no GODEBUG=tracebackancestors (it
    costs every `go` statement a stack walk) and no second run. `always` gives the
    creation stacks in the one run; `off` never, and the label still names the test."""
    go = _newest()
    default = run_test_command(go, "./plain", "./clean", "--format", "json")
    assert default.code == 1, default.stderr
    doc = default.doc
    assert doc["ancestry"] == "rerun" and doc["rerun_packages"] == []
    assert [(lk["test"], lk["attributed"], lk["created_line"]) for lk in doc["leaks"]] == [
        ("TestFirstResult", True, 8)]
    always = run_test_command(go, "./plain", "--format", "json", "--ancestry", "always").doc
    assert always["rerun_packages"] == [] and [lk["test"] for lk in always["leaks"]] == ["TestFirstResult"]
    off = run_test_command(go, "./plain", "--ancestry", "off")
    assert off.code == 1
    assert "(test TestFirstResult)" in off.stdout
    assert "ran again" not in off.stderr


RELABEL_GO = """package relabel

func Block(ch chan int) { <-ch }
"""
RELABEL_TEST = """package relabel

import (
	"context"
	"runtime/pprof"
	"testing"
)

// The code under test replaces the goroutine's labels: the leak's label names no test.
func TestRelabelled(t *testing.T) {
	pprof.Do(context.Background(), pprof.Labels("worker", "x"), func(context.Context) {
		go Block(make(chan int))
	})
}

func TestClean(t *testing.T) {}
"""
SERVED_TEST = """package served

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"leakhunter.dev/relabel"
)

// The standard library starts the server's goroutines: no user line says go.
func TestServerLeft(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	_ = srv.URL
}

func TestLabelled(t *testing.T) {
	go relabel.Block(make(chan int))
}

// A timer's function runs on a goroutine the runtime starts from no test's goroutine.
func TestTimer(t *testing.T) {
	ch := make(chan int)
	time.AfterFunc(time.Millisecond, func() { ch <- 1 })
	time.Sleep(50 * time.Millisecond)
}
"""


def _relabel_module(tmp_path: Path) -> Path:
    mod = tmp_path / "relabel"
    (mod / "served").mkdir(parents=True)
    (mod / "go.mod").write_text("module leakhunter.dev/relabel\n\ngo 1.22\n")
    (mod / "relabel.go").write_text(RELABEL_GO)
    (mod / "relabel_test.go").write_text(RELABEL_TEST)
    (mod / "served" / "served_test.go").write_text(SERVED_TEST)
    return mod


def test_leaks_the_labels_cannot_name_run_again_with_ancestry(tmp_path: Path) -> None:
    """A leak whose labels were replaced by the code under test sends its package to a
    second run with creation stacks, which names the test; one that the standard library
    started (its test is named) sends only that test, which names the user line that
    created it. With --ancestry off, the relabelled one says it is not named. (Go 1.26's
    form of labels in headers is read in the lab runs.)"""
    go = _newest()
    mod = _relabel_module(tmp_path)
    run = run_test_command(go, "./...", "--format", "json", "--no-scan", cwd=mod)
    assert run.code == 1, run.stderr
    assert run.before == run.after
    doc = run.doc
    assert doc["rerun_packages"] == ["leakhunter.dev/relabel", "leakhunter.dev/relabel/served"]
    assert doc["not_reproduced"] == []
    by_test = {lk["test"] for lk in doc["leaks"]}
    assert by_test == {"TestRelabelled", "TestServerLeft", "TestLabelled", ""}, doc["leaks"]
    relabelled = [lk for lk in doc["leaks"] if lk["test"] == "TestRelabelled"]
    assert [(lk["line"], lk["created_line"], lk["attributed"]) for lk in relabelled] == [(3, 12, True)]
    served = [lk for lk in doc["leaks"] if lk["test"] == "TestServerLeft"]
    # The creating stack is an ancestor's: its frames hold return addresses, so the line
    # may be the one after the httptest.NewServer call.
    assert served and all(lk["created_file"].endswith("served_test.go") and lk["created_line"] in (14, 15)
                          for lk in served), [(lk["created_file"], lk["created_line"]) for lk in served]
    # Only the served package: its labels name every test, so only TestServerLeft runs
    # again (the timer's goroutine cannot be named by a rerun either).
    only = run_test_command(go, "./served", "--format", "json", "--no-scan", cwd=mod).doc
    assert only["rerun_packages"] == ["leakhunter.dev/relabel/served"] and only["not_reproduced"] == []
    assert {(lk["test"], lk["created_file"].rsplit("/", 1)[-1], lk["created_line"], lk["attributed"])
            for lk in only["leaks"] if lk["test"] != "TestServerLeft"} == {
        ("TestLabelled", "served_test.go", 19, True), ("", "", 0, False)}
    assert all(lk["created_file"].endswith("served_test.go") and lk["created_line"] in (14, 15)
               for lk in only["leaks"] if lk["test"] == "TestServerLeft")
    off = run_test_command(go, "./...", "--no-scan", "--ancestry", "off", cwd=mod)
    assert off.code == 1
    assert re.search(r"^relabel\.go:3: leaked 1 goroutine \(test not named: its goroutine lost", off.stdout,
                     re.M), off.stdout
    assert re.search(r"^served/served_test\.go:25: leaked 1 goroutine \(test not named: a timer's function",
                     off.stdout, re.M), off.stdout


def test_rerun_of_named_tests_runs_only_them(tmp_path: Path) -> None:
    import io

    from leakhunter.collect.gotest import run_go_test

    mod = _relabel_module(tmp_path)
    res = run_go_test(mod, ["./served"], [], settle_s=0.5, ignore=[], go=_newest(), console=io.StringIO(),
                      needs_ancestry=lambda pr: ["TestServerLeft"])
    [pr] = res.packages
    assert pr.ancestry == "rerun-tests" and pr.rerun_tests == ["TestServerLeft"]
    assert b"leakhunter.test: TestLabelled}" in pr.dump  # the first run ran every test
    assert b"TestServerLeft" in pr.rerun_dump and b"TestLabelled" not in pr.rerun_dump
    assert b"[originating from goroutine" in pr.rerun_dump and b"[originating from" not in pr.dump


def test_rerun_drops_flags_that_write_files() -> None:
    assert rerun_args(["-run", "TestX", "-coverprofile", "c.out", "-cpuprofile=p.out", "-v",
                       "-outputdir", "d", "-count=2", "-fuzz=FuzzX"]) == ["-run", "TestX", "-v", "-count=2"]


def test_rewrite_goleak_verify_test_main_gets_a_wrapped_m() -> None:
    src = (b'package p\n\nimport (\n\t"testing"\n\n\tgl "go.uber.org/goleak"\n)\n\n'
           b'func TestMain(m *testing.M) {\n\tgl.VerifyTestMain(m, gl.IgnoreCurrent())\n}\n')
    out = rewrite_testmain(src).decode().splitlines()
    assert out[9] == "\tgl.VerifyTestMain(leakhunterM{m}, gl.IgnoreCurrent())"


def test_failing_tests_fail_the_run_only_when_asked() -> None:
    """By default the exit code is about leaks (a failing test without a leak is exit 0 and
    reported); a CI that runs `leakhunter test` instead of `go test` asks for failures too."""
    go = _newest()
    plain = run_test_command(go, "./failing", "--no-scan", "--", "-run", "TestFails")
    assert plain.code == 0, plain.stderr
    assert "this test fails on purpose" in plain.stderr
    strict = run_test_command(go, "./failing", "--no-scan", "--fail-on-test-failure",
                              "--", "-run", "TestFails")
    assert strict.code == 1, strict.stderr
    assert "leakhunter: tests failed in 1 package(s) (1 test(s)); no leak found" in strict.stderr
    assert strict.before == strict.after
    passing = run_test_command(go, "./failing", "--no-scan", "--fail-on-test-failure",
                               "--", "-run", "TestLeakAlso")
    assert passing.code == 1 and "leaked" in passing.stdout  # a leak is exit 1 as before
    clean = run_test_command(go, "./clean", "--no-scan", "--fail-on-test-failure")
    assert clean.code == 0, clean.stderr
