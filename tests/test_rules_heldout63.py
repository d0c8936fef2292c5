"""Held-out set 63's false shapes fixed after its measurement (tuning), on real Go, vetted:

- LH303 (tests/fixtures/scan/lh303_signal): a `time.After` whose only competitor that goes on
  looping receives an OS signal (a channel handed to `signal.Notify`): the timers abandoned number
  the signals a person sends, not the traffic (rain's magnet-to-torrent status loop). Twin: a
  progress channel that also goes on looping stays reported. The channel may be a closure's capture
  (v.io's handleRefresh, held-out set 125, session 34); twin: the closure's own parameter of that name,
  a channel of updates, stays reported.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_fixture_is_valid_go() -> None:
    vet("lh303_signal")


def test_a_signal_case_abandons_a_timer_per_signal() -> None:
    assert compare("lh303_signal", ["LH303"]) == []
    found = run_rules(FIXTURES / "lh303_signal" / "status.go", ["LH303"])
    assert [f.function for f in found] == ["waitWithProgress", "handleUpdates.func1"]
