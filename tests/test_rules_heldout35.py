"""Held-out sets 35 and 36's false shapes (issue #8, session 24, after their measurement: tuning), each
fixed in a general form with reported twins, on real Go:

- LH303: a `time.After` in a loop's select whose other case is a one-shot timer made before the loop
  (`timeout := time.NewTimer(total)` ... `case <-timeout.C:`, or `deadline := time.After(total)`),
  neither made again nor Reset in the loop: the deadline wins once per call, so at most one timer is
  abandoned (attestation-sdk's retryLoop, set 35; edgectl's loopUntil, set 32). Twins, reported: the
  timer Reset in the loop, a ticker's channel, a timer or a time.After channel made in the loop.
- Messages (set 35's triager): "not closed on the return at line 76" read as if other paths closed the
  value when none does (go-dry's HTTPPostJSON, one return); the message now says "no path closes it".
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_a_time_after_beside_a_one_shot_deadline_is_abandoned_once() -> None:
    vet("lh303_oneshot")
    assert compare("lh303_oneshot", ["LH303"]) == []


def test_a_value_no_path_closes_is_said_to_be_so() -> None:
    never = [f.message for f in run_rules(FIXTURES / "lh404_dup" / "stderr.go", ["LH404"])]
    assert never == ["f from os.Open at line 25 is not closed on the return at line 31 "
                     "(also the return at line 33; no path closes it)"]
    some = [f.message for f in run_rules(FIXTURES / "lh404_flock" / "lock.go", ["LH404"])]
    assert some == ["f from os.Open at line 27 is not closed on the return at line 33"]
