"""LH401 on a response variable assigned in the cases of a switch (held-out set 18's nacos-sdk-go, after
its measurement: tuning), on real Go: one finding at the first call naming the others, not one (or
none) per case."""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_branches_fixture_vets() -> None:
    vet("lh401_branches")


def test_a_response_from_any_case_of_a_switch_is_one_finding_naming_every_call() -> None:
    assert compare("lh401_branches", ["LH401"]) == []
    found = run_rules(FIXTURES / "lh401_branches" / "branches.go", ["LH401"])
    assert [(f.function, f.line) for f in found] == [("Agent.RequestOnlyResult", 37)]
    assert "from a.Get at line 37 (also a.Post at line 39, a.Delete at line 41) is not closed on the return at line 49" \
        in found[0].message
