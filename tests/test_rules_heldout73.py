"""Held-out set 73's false shapes fixed after its measurement (tuning), on real Go, vetted:

- LH105 (tests/fixtures/scan/lh105_deadline): a goroutine that ends the process once its wait is over
  (`time.Sleep(3 * time.Minute); os.Exit(0)`: compose's demo provider) is a deadline for the process,
  not a goroutine parked per call. Twins: a goroutine that only logs after its wait, and one that exits
  only under a condition, stay reported.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_fixture_is_valid_go() -> None:
    vet("lh105_deadline")


def test_a_wait_that_ends_the_process_is_a_deadline() -> None:
    assert compare("lh105_deadline", ["LH105"]) == []
    found = run_rules(FIXTURES / "lh105_deadline" / "deadline.go", ["LH105"])
    assert sorted(f.function for f in found) == ["maybeExit.func1", "remindLater.func1"]
