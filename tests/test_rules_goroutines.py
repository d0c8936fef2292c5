"""The goroutine rules LH101-LH107 on their Go fixtures: exactly the `// want` lines, nothing else.

The fixtures are one real Go module (tests/fixtures/scan) that must compile and pass
`go vet`, so every leaking and fixed case is code the Go toolchain accepts.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from golab import go_env, go_exe
from scanfixtures import FIXTURES, compare, fixture_files, run_rules, wanted

from leakhunter.source.registry import get_rule

GOROUTINE_RULES = ["LH101", "LH102", "LH103", "LH104", "LH105", "LH106", "LH107"]


@pytest.mark.parametrize("rule", GOROUTINE_RULES)
def test_rule_reports_exactly_the_wanted_lines(rule: str) -> None:
    # every goroutine rule runs on every package, so a rule firing on another rule's
    # fixture (a double report) fails too
    problems = []
    for other in GOROUTINE_RULES:
        problems += [p for p in compare(other.lower(), [rule])]
    assert problems == []


@pytest.mark.parametrize("rule", GOROUTINE_RULES)
def test_fixtures_have_leaks_and_negatives(rule: str) -> None:
    files = fixture_files(rule.lower())
    assert any(wanted(f, [rule]) for f in files), "no leaking case"
    fixed = [f for f in files if f.name.startswith("fixed")]
    assert fixed and not any(wanted(f, [rule]) for f in fixed), "no negative file"


@pytest.mark.parametrize("rule", GOROUTINE_RULES)
def test_rule_is_documented(rule: str) -> None:
    cls = get_rule(rule)
    assert cls is not None
    assert cls.__doc__ and "fix" in cls.__doc__.lower()
    assert cls.leaking_example and cls.fixed_example and cls.fix
    assert cls.severity in ("error", "warning", "info")


def _line_of(path: Path, snippet: str, after: int = 0) -> int:
    """1-based line of the first line holding `snippet` after line `after`."""
    for no, text in enumerate(path.read_text().splitlines(), 1):
        if no > after and snippet in text:
            return no
    raise AssertionError(f"{snippet!r} not in {path}")


def test_messages_say_why_with_lines() -> None:
    leak = FIXTURES / "lh101" / "leak.go"
    by_fn = {f.function: f for f in run_rules(leak, ["LH101"])}
    timeout = by_fn["Timeout.func1"]
    start = _line_of(leak, "func Timeout(")
    assert "ctx.Done()" in timeout.message
    assert f"line {_line_of(leak, 'case v := <-ch:', start)}" in timeout.message  # the receive
    assert f"returns at line {_line_of(leak, 'return 0, ctx.Err()', start)}" in timeout.message
    early = by_fn["EarlyReturn.func1"]
    start = _line_of(leak, "func EarlyReturn(")
    assert f"return at line {_line_of(leak, 'return 0', start)}" in early.message
    deadlock = by_fn["WaitBeforeReceive.func1"]
    assert "wg.Wait()" in deadlock.message and "deadlock" in deadlock.message
    # LH104 quotes the condition its gather returns on instead of assuming an error (held-out 9's
    # avalanchego UPnP search returns on the first router found)
    gathers = {f.function: f.message for f in run_rules(FIXTURES / "lh104" / "leak.go", ["LH104"])}
    assert "as soon as `r != nil`" in gathers["FirstFound.func1"]
    assert any("as soon as `err != nil`" in m for m in gathers.values())


def test_handler_sleep_is_an_error_elsewhere_a_warning() -> None:
    leak = FIXTURES / "lh105" / "leak.go"
    sev = {f.function: f.severity for f in run_rules(leak, ["LH105"])}
    assert sev["Handle.func1"] == "error"
    assert sev["Remember.func1"] == "warning"
    # a test's watchdog parks one goroutine for one test run (held-out sets 14 and 20: 0 of 4 true)
    got = run_rules(FIXTURES / "lh105" / "watchdog_test.go", ["LH105"])
    assert [(f.line, f.severity) for f in got] == [(13, "info")]


def test_fixture_packages_pass_go_vet() -> None:
    # our packages only: vetfails/ holds other rules' fixtures that fail vet on purpose
    packages = [f"./{rule.lower()}" for rule in GOROUTINE_RULES] + ["./lh103/cmdonce"]
    proc = subprocess.run(
        [go_exe(), "vet", *packages],
        cwd=FIXTURES,
        env=go_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr


def test_context_background_is_info_http_is_warning() -> None:
    leak = FIXTURES / "lh107" / "leak.go"
    sev = {f.line: f.severity for f in run_rules(leak, ["LH107"])}
    assert sev[_line_of(leak, "context.WithTimeout(context.Background()")] == "info"
    assert sev[_line_of(leak, "http.Get(url)")] == "warning"


def test_deeply_nested_code_is_no_crash(tmp_path: Path) -> None:
    # a 3,000-branch else-if chain (generated code does this): the path analysis gives up
    # quietly instead of raising RecursionError into the scan
    chain = "".join(f"\tif x == {i} {{\n\t\treturn\n\t}} else " for i in range(3000))
    src = (
        "package p\n\nfunc F(x int) {\n\tch := make(chan int)\n\tgo func() { ch <- 1 }()\n"
        + chain
        + "{\n\t\t<-ch\n\t}\n}\n"
    )
    path = tmp_path / "deep.go"
    path.write_text(src)
    assert isinstance(run_rules(path, GOROUTINE_RULES), list)


def test_endless_loop_in_a_command_is_reported_only_when_started_per_call() -> None:
    # package main: a loop started from a function only `main` calls is the process's
    # own service (precision study: CLI and daemon loops); one started from a handler leaks
    assert compare("lh103/cmdonce", GOROUTINE_RULES) == []
