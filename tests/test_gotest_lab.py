"""`leakhunter test` on the real Go module lab/testleaks, with Go 1.26 and Go 1.27.

One run per toolchain (module-scoped) feeds every case: each package of the lab states
what its tests leak (lab/testleaks/README.md) and these tests check the JSON against it,
and that the tree is byte-for-byte what it was.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from gotestlab import Run, leaks_of, package_of, run_test_command, toolchains

TOOLCHAINS = toolchains()


@pytest.fixture(scope="module", params=["1.26", "1.27"])
def lab_run(request: pytest.FixtureRequest) -> tuple[str, Run]:
    version = request.param
    go = TOOLCHAINS.get(version)
    if go is None:
        pytest.skip(f"Go {version} toolchain not installed")
    return version, run_test_command(go, "--format", "json")


def _by_test(leaks: list[dict[str, Any]]) -> Counter[str]:
    c: Counter[str] = Counter()
    for lk in leaks:
        c[lk["test"]] += lk["count"]
    return c


def test_exit_code_and_tree_untouched(lab_run: tuple[str, Run]) -> None:
    _, run = lab_run
    assert run.code == 1, run.stderr
    assert run.before == run.after
    doc = run.doc
    assert doc["proof_available"] is True
    assert "goroutineleak profile" in doc["evidence"]


def test_plain_package_leak_is_attributed_and_proven(lab_run: tuple[str, Run]) -> None:
    _, run = lab_run
    leaks = leaks_of(run.doc, "plain")
    assert len(leaks) == 1, leaks
    lk = leaks[0]
    assert lk["test"] == "TestFirstResult"
    assert lk["count"] == 2
    assert lk["state"] == "chan send"
    assert lk["file"].endswith("lab/testleaks/plain/plain.go") and lk["line"] == 9
    assert lk["created_file"].endswith("plain/plain.go") and lk["created_line"] == 8
    assert lk["function"] == "leakhunter.dev/testleaks/plain.FirstResult.func1"
    assert lk["proven"] is True
    assert lk["finding"] is not None and lk["finding"]["rule"].startswith("LH1")
    assert lk["finding"]["fix"]


def test_own_testmain_run_then_exit_form(lab_run: tuple[str, Run]) -> None:
    _, run = lab_run
    leaks = leaks_of(run.doc, "withmain")
    # TestMain's own worker ends in its teardown (after m.Run): the check runs after that.
    assert _by_test(leaks) == Counter({"TestLeakyCache": 1}), leaks
    assert leaks[0]["file"].endswith("withmain/cache.go") and leaks[0]["line"] == 21
    assert leaks[0]["created_line"] == 13
    pkg = package_of(run.doc, "withmain")
    assert pkg is not None and pkg["ok"] and pkg["checked"]


def test_own_testmain_exit_of_run_form(lab_run: tuple[str, Run]) -> None:
    _, run = lab_run
    leaks = leaks_of(run.doc, "withmainexit")
    assert _by_test(leaks) == Counter({"TestStart": 1}), leaks
    assert leaks[0]["state"] == "chan receive" and leaks[0]["proven"] is True


def test_leak_reachable_from_package_variable_is_not_proven(lab_run: tuple[str, Run]) -> None:
    _, run = lab_run
    leaks = leaks_of(run.doc, "global")
    assert _by_test(leaks) == Counter({"TestPublish": 1}), leaks
    assert leaks[0]["proven"] is False  # found by liveness only; the runtime cannot prove it


def test_subtests_and_parallel(lab_run: tuple[str, Run]) -> None:
    _, run = lab_run
    leaks = leaks_of(run.doc, "subpar")
    # TestTable's subtests are named by a variable (tc.name = "noisy one"): the name comes
    # from the subtest itself at run time, as go test prints it.
    assert _by_test(leaks) == Counter(
        {"TestParent/child": 2, "TestParallelB": 2, "TestTable/noisy_one": 1,
         "TestByValue/by_value": 1}), leaks
    assert all(lk["file"].endswith("subpar/work.go") for lk in leaks)
    assert all(lk["subtest"] == ("/" in lk["test"]) for lk in leaks)


def test_failing_tests_do_not_hide_leaks(lab_run: tuple[str, Run]) -> None:
    _, run = lab_run
    pkg = package_of(run.doc, "failing")
    assert pkg is not None
    assert pkg["ok"] is False and pkg["tests_failed"] == ["TestFails"] and pkg["checked"]
    assert _by_test(leaks_of(run.doc, "failing")) == Counter({"TestLeakAlso": 2})
    assert "this test fails on purpose" in run.stderr  # go test's own output stays available


def test_clean_package_has_no_leak(lab_run: tuple[str, Run]) -> None:
    _, run = lab_run
    assert leaks_of(run.doc, "clean") == []
    pkg = package_of(run.doc, "clean")
    assert pkg is not None and pkg["ok"] and pkg["checked"]


def test_external_test_package(lab_run: tuple[str, Run]) -> None:
    _, run = lab_run
    leaks = leaks_of(run.doc, "external")
    # TestWatchers/w1: a subtest named by fmt.Sprint in the external test package.
    assert _by_test(leaks) == Counter({"TestWatcherForgotten": 1, "TestWatchers/w1": 1}), leaks
    assert all(lk["file"].endswith("external/watch.go") and lk["line"] == 16 for lk in leaks)


def test_package_without_tests_is_left_alone(lab_run: tuple[str, Run]) -> None:
    _, run = lab_run
    assert package_of(run.doc, "notests") is None
    assert "[no test files]" in run.stderr


def test_testmain_in_external_package_and_named_subtests_in_internal(lab_run: tuple[str, Run]) -> None:
    _, run = lab_run
    # The check joins package xmain_test (its TestMain's); the internal test file's subtest
    # (named by a range variable) still gets its name from the running subtest.
    leaks = leaks_of(run.doc, "xmain")
    assert _by_test(leaks) == Counter({"TestSpawn/forgotten": 1}), leaks
    assert leaks[0]["file"].endswith("xmain/pool.go") and leaks[0]["line"] == 10
    pkg = package_of(run.doc, "xmain")
    assert pkg is not None and pkg["ok"] and pkg["checked"]


def test_testmain_that_exits_inside_goleak(lab_run: tuple[str, Run]) -> None:
    _, run = lab_run
    # goleak.VerifyTestMain(m) calls os.Exit itself: the check runs when m.Run returns.
    assert _by_test(leaks_of(run.doc, "withgoleak")) == Counter({"TestDrain": 1})
    pkg = package_of(run.doc, "withgoleak")
    assert pkg is not None and pkg["ok"] and pkg["checked"]
