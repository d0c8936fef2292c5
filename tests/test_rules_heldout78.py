"""Held-out set 78's false shapes fixed after its measurement (tuning), on real Go, vetted:

- LH404 (tests/fixtures/scan/lh404_querylog): opencost's `prom.NewRateLimitedClient` opens its query log
  inside an `if`, makes `logger = golog.New(f, ...)` on it, puts the logger in a local
  `rlpc := &RateLimitedPrometheusClient{fileLogger: logger}` and returns rlpc: the returned client keeps the
  file, as it does when the literal is returned in place. Twin: a client that dies with the call.
(actions-runner-controller's own client, the set's large family, is test_rules_heldout62.py's lh401_ownclient.)
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_fixture_is_valid_go() -> None:
    vet("lh404_querylog")


def test_a_logger_on_the_file_in_a_returned_local_object_keeps_it() -> None:
    assert compare("lh404_querylog", ["LH404"]) == []
    found = run_rules(FIXTURES / "lh404_querylog" / "client.go", ["LH404"])
    assert [f.function for f in found] == ["RunOnce"]
