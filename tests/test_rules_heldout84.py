"""Held-out set 84's false shapes fixed after its measurement (tuning), on real Go, vetted:

- LH303 (tests/fixtures/scan_go122/lh303_varconst, a go 1.22 module, where abandoned timers live until they
  fire): go-micro's registry offers each watcher an event for `time.After(sendEventTime)`, with
  `var sendEventTime = 10 * time.Millisecond` that nothing in the package writes: a constant in all but
  keyword, so the short-timer rule applies (`info`: each abandoned timer lives 10 ms). `goflow.duration_ns`
  now reads such a var. Twins: a var a setter writes, and one a `++` writes, stay `warning`.
(Set 84's other false shape, goka's back-off `time.AfterFunc` stopped before each re-arm, is not fixed.)
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules

GO122 = FIXTURES.parent / "scan_go122"


def test_fixture_is_valid_go() -> None:
    from scanfixtures import vet_module

    vet_module(GO122)


def test_an_unwritten_package_var_is_a_constant_duration() -> None:
    assert compare("lh303_varconst", ["LH303"], root=GO122) == []
    found = run_rules(GO122 / "lh303_varconst" / "memory.go", ["LH303"])
    assert {f.function: f.severity for f in found} == {"sendEvent": "info", "drain": "warning", "retry": "warning"}
