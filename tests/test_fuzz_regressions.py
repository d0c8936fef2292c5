"""Replay every input that ever broke a reader (tests/regressions/READER/*).

Each directory is named for a reader of tests/fuzzreaders.py; each file in it is an
input that once failed (a traceback, a hang, a disagreement between two decoders),
found by the fuzzers or reported in issue 11. They must all keep the contract now:
a model or one InputError, within the reader's time and memory bounds.
"""

from __future__ import annotations

from pathlib import Path

import fuzzreaders as F
import pytest

CASES = F.regression_cases()


def test_there_are_regression_cases_for_the_issue_classes() -> None:
    readers = {r for r, _ in CASES}
    assert {"pprof", "goroutine_text", "heap_text", "gctrace", "expvar", "config", "baseline"} <= readers
    assert len(CASES) >= 30


@pytest.mark.parametrize(("reader", "path"), CASES, ids=[f"{r}/{p.name}" for r, p in CASES])
def test_regression_input_keeps_the_contract(reader: str, path: Path) -> None:
    F.check(reader, path.read_bytes(), time_scale=3, memory=True)
