"""False-positive shapes of the goroutine rules found on real modules (issue #8), each as
Go code shaped after the module where it was read, plus the true leak next to it.

- the test already failed (LH101, LH106): `t.Error` then return, a timeout case that calls
  `t.Error` in test code kept in an ordinary file (cmd/cgo/internal/test), a helper whose
  error (or `false`) every caller fails the test on, through a wrapper (vault cert tests);
- a deliberate, once-per-life abandon (LH101): a Stop's deadline (temporal), a Run that
  fails to start (containerd), an error return of a command (go-ethereum's export), a
  ctx that is a run loop's life (influxdb's telemetry Push);
- mutually exclusive outcomes (LH101 in an else branch, a switch, a callee, a loop that
  returns after its error send, a close as the signal; LH102): the owner returns on the goroutine's last message
  (vault's MySQL/ZooKeeper locks); one send reached through two calls (LH104, vault FDB); sends
  each followed by `runtime.Goexit()`, which ends the goroutine (LH104, godef, held-out set 44);
- LH108: a receiver that only stops at shutdown is info; a lost wake-up a test waits for is
  the test's own failure;
- LH109: a lock held in a branch whose every path returns is not held after it (cilium); a loop
  that unlocks around a blocking call and re-locks holds the lock at its head by design, so a
  `continue` after the re-lock is right (go-libp2p's webrtc stream, held-out set 8); a closure
  that unlocks (`done := func() { mu.Unlock() }`, or wrapped in `sync.OnceFunc`) releases the
  lock where it is called (mautrix, held-out set 10);
- LH108: a one-slot reply channel made per registration, sent on at most once per registration
  by its dispatcher, never fills (lnd's notifiers, held-out set 7).

The fixtures compile and pass `go vet` (one real Go module, tests/fixtures/scan); the rules
must report exactly the `// want` lines, and the same code without the escape (a caller
that ignores the error, an ordinary method, a goroutine that still waits) stays reported.
"""

from __future__ import annotations

import subprocess

import pytest
from golab import go_env, go_exe
from scanfixtures import FIXTURES, compare, run_rules

RULES = ["LH101", "LH102", "LH103", "LH104", "LH105", "LH106", "LH108", "LH109", "LH110", "LH111"]
PACKAGES = [
    "lh101_testfail",
    "lh101_testfail/support",
    "lh101_lifecycle",
    "lh101_lifecycle/cli",
    "lh101_lifecycle/action",
    "lh101_lifecycle/runloop",
    "lh101_exclusive",
    "lh101_counted",
    "lh104_twofail",
    "lh101_runonce",
    "lh109_branchreturn",
    "lh108_replyslot",
    "lh101_runonce/gen",
    "lh101_runonce/e2e",
    "lh101_runonce/wrap",
    "lh101_runonce/subcmd",
    "lh101_runonce/subcmd/cmd/server",
    "lh101_runonce/subcmd/cmd/relay",
    "lh102_exclusive",
    "lh104_calls",
    "lh104_goexit",
    "lh108_severity",
]


@pytest.mark.parametrize("package", PACKAGES)
def test_reports_exactly_the_wanted_lines(package: str) -> None:
    assert compare(package, RULES) == []


def _line(path_rel: str, snippet: str) -> int:
    for no, text in enumerate((FIXTURES / path_rel).read_text().splitlines(), 1):
        if snippet in text:
            return no
    raise AssertionError(snippet)


def test_receiver_that_stops_is_info_lost_wakeup_is_error() -> None:
    path = FIXTURES / "lh108_severity" / "loop.go"
    sev = {f.line: f.severity for f in run_rules(path, ["LH108"])}
    assert sev[_line("lh108_severity/loop.go", "n.status <- c")] == "info"
    assert sev[_line("lh108_severity/loop.go", "<-n.wake")] == "error"
    # the loop announces its stop on w.done and this sender ignores it: shown
    got = run_rules(FIXTURES / "lh108_severity" / "announce.go", ["LH108"])
    assert [(f.line, f.severity) for f in got] == [(_line("lh108_severity/announce.go", "w.status <- c"), "warning")]
    assert "closes worker.done when it stops" in got[0].message


def test_caller_ignoring_the_error_keeps_the_finding() -> None:
    # the helper-level escape needs every caller: one caller that drops the error is enough
    path = FIXTURES / "lh101_testfail" / "helper_test.go"
    got = [f for f in run_rules(path, ["LH101"])]
    assert [f.function for f in got] == ["peerAddr.func1"]
    assert "peerAddr can return" in got[0].message


def test_fixture_packages_pass_go_vet() -> None:
    proc = subprocess.run(
        [go_exe(), "vet", *[f"./{p}" for p in PACKAGES]],
        cwd=FIXTURES,
        env=go_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
