"""Held-out sets 47-50's false shapes (issue #8, session 27, after their measurement: tuning), each
fixed in a general form with reported twins, on real Go:

- LH402 (in lh402/sentinel.go, compared by test_rules_resources_owners): `if err == sql.ErrNoRows
  { break }` right after the query says err is not nil, so there are no rows on that branch, also
  when it leaves a loop and the function returns further down (nats-streaming-server's
  deepChannelDelete, held-out set 47). Twin, reported: the loop left on a condition that says nothing
  about err, with the round's rows open.
- LH101 in tests (in lh101_testfail/timeoutcase_test.go, compared by test_rules_goroutines_precision):
  a timeout case that fails the test itself, by asserting a made error nil (go-mysql's backup test) or
  by setting an error the statement after its select asserts nil (go-ceph's connect helpers, set 47):
  the sender strands only once the test has failed. Twins, reported: the same timeouts only logged.
- LH106: a non-blocking server whose Wait parks `main` once for the process (yunikorn-core's
  common.NonBlockingGRPCServer, set 46), in a package that also waits on a sync.WaitGroup of its own:
  the run-once search now knows sync's (and os/exec's) types, so `wg.Wait()` on a sync.WaitGroup is
  not a call of the server's Wait. Twin, reported: a per-request Wait of the same shape.
"""

from __future__ import annotations

from scanfixtures import compare, vet


def test_a_server_wait_main_parks_on_once_is_not_reported_a_per_request_one_is() -> None:
    vet("lh106_park/grpcserver", "lh106_park/cmd/sched")
    for package in ("lh106_park/grpcserver", "lh106_park/cmd/sched"):
        assert compare(package, ["LH106", "LH102", "LH101"]) == [], package
