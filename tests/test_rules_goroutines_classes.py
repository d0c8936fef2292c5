"""Session-5 classes of goroutine-rule false positives (issue #8), each as real Go code (vetted here)
shaped after held-out set 3, with the reported twin next to it:

- one-shot programs (program/oneshot.py): a `package main` that reaches no server, signal wait or
  periodic job, and its own helper package, are not shown; the same code under a daemon that serves
  HTTP (or registers handlers a dependency serves), and a library package only the tool imports, are;
- tests: a helper that gives up on its own timeout and returns an error every caller asserts on
  (even on some paths only); a test cluster's TearDown that gives up waiting after its own timeout
  (and a wait only TearDown runs); a channel the test closes with `defer close(ch)`. A timeout nobody
  reports (a test helper's quiet `Ready`), and the deferred close in production code, stay shown;
- LH102: the main goroutine of a test binary re-executed as a child that hangs on purpose (called
  only from TestMain), while the same receive on a goroutine the test starts is shown;
- LH106: a WaitGroup marked done through `Add(-1)`; LH108: a mock nothing constructs (a library's
  exported Broker nobody in the module uses stays shown: other modules may); LH104: a relay
  goroutine the receive loop starts for itself, and a message that names the case that wins.
"""

from __future__ import annotations

import subprocess

import pytest
from golab import go_env, go_exe
from scanfixtures import FIXTURES, compare, run_rules

from leakhunter.source.program.oneshot import only_in_one_shot_programs, programs

RULES = ["LH101", "LH102", "LH103", "LH104", "LH105", "LH106", "LH108", "LH109", "LH110", "LH111"]
PACKAGES = [
    "gs5/oneshot/tool",
    "gs5/oneshot/tool/internal/fetch",
    "gs5/oneshot/shared",
    "gs5/oneshot/daemon",
    "gs5/oneshot/daemon/internal/work",
    "gs5/oneshot/worker/internal/job",
    "gs5/oneshot/gen/internal/table",
    "gs5/oneshot/gen/internal/other",
    "gs5/testtimeout",
    "gs5/closeprod",
    "gs5/waiter",
    "gs5/deadmock",
    "gs5/relay",
    "gs5/park",
]
MOD = "leakhunter.dev/fixtures"


@pytest.mark.parametrize("package", PACKAGES)
def test_reports_exactly_the_wanted_lines(package: str) -> None:
    assert compare(package, RULES) == []


def test_programs_are_judged_by_what_they_reach() -> None:
    progs = programs(FIXTURES)
    assert progs.long_running[f"{MOD}/gs5/oneshot/daemon"] is True  # ListenAndServe
    assert progs.long_running[f"{MOD}/gs5/oneshot/tool"] is False
    assert progs.long_running[f"{MOD}/gs5/oneshot/worker"] is True  # handlers a dependency serves
    assert progs.reached_by[f"{MOD}/gs5/oneshot/tool/internal/fetch"] == {f"{MOD}/gs5/oneshot/tool"}
    judge = {p: only_in_one_shot_programs(FIXTURES / p, f"{MOD}/{p}") for p in PACKAGES[:5]}
    assert judge == {
        "gs5/oneshot/tool": True,
        "gs5/oneshot/tool/internal/fetch": True,
        "gs5/oneshot/shared": False,  # a library: other modules' servers may call it
        "gs5/oneshot/daemon": False,
        "gs5/oneshot/daemon/internal/work": False,
    }
    # a `//go:build ignore` generator is a one-shot program of its own (go-textseg, held-out set 23)
    assert only_in_one_shot_programs(FIXTURES / "gs5/oneshot/gen/internal/table", f"{MOD}/gs5/oneshot/gen/internal/table")
    assert not only_in_one_shot_programs(FIXTURES / "gs5/oneshot/gen/internal/other",
                                         f"{MOD}/gs5/oneshot/gen/internal/other")


def test_lh104_message_names_the_case_that_wins() -> None:
    got = run_rules(FIXTURES / "gs5" / "relay" / "relay.go", ["LH104"])
    assert len(got) == 1
    assert "when its case `<-ctx.Done()` wins" in got[0].message
    assert "first error" not in got[0].message


def test_lh101_says_the_owners_deferred_close_makes_the_send_panic() -> None:
    """Held-out set 15 (embedded-postgres): "leaving the sender blocked forever" beside the owner's
    `defer close(ch)` was a false claim; the send blocks until the close, then panics."""
    (f,) = run_rules(FIXTURES / "gs5/closeprod/close.go", ["LH101"])
    assert "blocked forever" not in f.message
    assert "and then Wait's deferred close(token) (line 10) makes the send panic (send on closed channel)" in f.message
    assert "do not close a channel its sender may still send on" in f.fix
    (g,) = [x for x in run_rules(FIXTURES / "lh101/leak.go", ["LH101"]) if "blocked forever" in x.message][:1]
    assert "panic" not in g.message and "panic" not in g.fix


def test_fixture_packages_pass_go_vet() -> None:
    proc = subprocess.run(
        [go_exe(), "vet", "./gs5/..."], cwd=FIXTURES, env=go_env(), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
