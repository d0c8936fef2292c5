"""Held-out set 79's false shapes fixed after its measurement (tuning), on real Go, vetted:

- LH402 (tests/fixtures/scan/lh402_isnil): claircore's `switch { case errors.Is(err, nil): case errors.Is(err,
  pgx.ErrNoRows): return ...; default: return ... }` after a Query, three false findings: `errors.Is(err, nil)`
  is true exactly when err is nil, not an error classifier, so the default case is the failed query's; and
  `switch err { case nil: ...; case pgx.ErrNoRows: return ...; default: return ... }` (two more): past
  `case nil` the error is not nil, and a sentinel's case is a failure's. Twins: a return inside the
  success case stays reported, in both forms.
- LH404 (tests/fixtures/scan/lh404_newlogger): go-vcloud-director's `newLogger` returns `log.New(file, ...)`,
  two false findings: the caller keeps the logger, and the file with it, as it keeps `bufio.NewReader(f)`.
  Twin: a logger used once and dropped.
(Set 79's third shape, rows of a pgx batch whose `BatchResults.Close` runs before the return, is not fixed.)
"""

from __future__ import annotations

import pytest
from scanfixtures import FIXTURES, compare, run_rules, vet


@pytest.mark.parametrize("package", ["lh402_isnil", "lh404_newlogger"])
def test_fixture_is_valid_go(package: str) -> None:
    vet(package)


def test_errors_is_nil_is_the_success_case() -> None:
    assert compare("lh402_isnil", ["LH402"]) == []
    found = run_rules(FIXTURES / "lh402_isnil" / "files.go", ["LH402"])
    assert [(f.function, f.line) for f in found] == [("Store.FirstFile", 39), ("Store.ConfirmSome", 69)]


def test_a_returned_logger_on_the_file_keeps_it() -> None:
    assert compare("lh404_newlogger", ["LH404"]) == []
    found = run_rules(FIXTURES / "lh404_newlogger" / "logging.go", ["LH404"])
    assert [f.function for f in found] == ["LogOnce"]
