"""An exit after a call of another package's method that never returns an error is no path
(LH101; tests/fixtures/scan/lh101_nilerr, real Go, vetted).

gobacnet's WhoIs (held-out set 60) returns before receiving its sender's result only if
`c.utsm.Subscribe` fails, and that method of another package's type returns a nil error on every
path. `failures.never_fails` now reads the callee wherever the program model finds it
(`summaries.callee_declaration`), not only in the caller's package. The twin, a method that fails
on an empty range, stays reported.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_fixture_is_valid_go() -> None:
    vet("lh101_nilerr")


def test_an_exit_after_a_callee_that_never_fails_strands_nothing() -> None:
    assert compare("lh101_nilerr", ["LH101"]) == []
    found = run_rules(FIXTURES / "lh101_nilerr" / "whois.go", ["LH101"])
    assert [f.function for f in found] == ["Client.WhoIsChecked.func1"]
