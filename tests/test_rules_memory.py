"""LH201 and the memory-retention rules (LH501–LH505) on their Go fixtures.

Each fixture package holds leaking code (lines marked `// want LHnnn`) and the fixed
or tricky-negative shapes users of go vet / staticcheck report as false positives;
the (rule, line) pairs found must equal the markers exactly.
"""

from __future__ import annotations

import pytest
from scanfixtures import compare

CASES = [
    ("lh501", "LH501"),
    ("lh502", "LH502"),
    ("lh503", "LH503"),
    ("lh504", "LH504"),
    ("lh505", "LH505"),
]


@pytest.mark.parametrize(("package", "rule"), CASES)
def test_rule_matches_want_markers(package: str, rule: str) -> None:
    problems = compare(package, [rule])
    assert not problems, "\n".join(problems)
