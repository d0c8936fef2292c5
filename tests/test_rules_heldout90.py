"""Held-out set 90's false shapes fixed after its measurement (tuning), on real Go, vetted:

- LH301 (tests/fixtures/scan_go122/lh301_onceticker, a go 1.22 module): cluster-version-operator's dynamic
  client factory starts its cache-reset ticker from the constructor a package-level `sync.Once` runs
  (`once.Do(newSingletonFactory(config))`, the constructor returning the func literal): once per process,
  the process's ticker by design. `program.once` now counts a func literal handed to `Do` of a package-level
  `sync.Once`, in place or returned by a function every call of which in the file is so handed. Twin: a
  `sync.Once` field, once per object (one per request), stays reported.
- LH303 (tests/fixtures/scan/lh303_deadline, session 31): riot's search gathers one result per shard with
  `case <-time.After(deadline.Sub(time.Now())):` to a deadline fixed before the loop: every timer fires at
  that one instant, an overall timeout re-armed per iteration. Twins, reported: a full timeout per
  iteration, and a deadline the loop moves.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet, vet_module

GO122 = FIXTURES.parent / "scan_go122"


def test_fixture_is_valid_go() -> None:
    vet_module(GO122)


def test_a_ticker_a_package_level_once_starts_is_the_processs() -> None:
    assert compare("lh301_onceticker", ["LH301"], root=GO122) == []
    found = run_rules(GO122 / "lh301_onceticker" / "factory.go", ["LH301"])
    assert [f.function for f in found] == ["factory.runClientReset"]


def test_time_after_to_a_deadline_the_loop_does_not_move_is_one_timeout() -> None:
    vet("lh303_deadline")
    assert compare("lh303_deadline", ["LH303"]) == []
