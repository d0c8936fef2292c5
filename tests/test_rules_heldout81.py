"""Held-out set 81's false shapes fixed after its measurement (tuning), on real Go, vetted:

- LH404 (tests/fixtures/errcause, github.com/pkg/errors' Cause and WithStack through a replace):
  tidb-binlog's checkpoint load returns under `if os.IsNotExist(errors.Cause(err))` right after the open;
  an error classifier handed the error through an unwrapper that keeps nil nil is true only when the open
  failed, so there is no file there. `errors.Cause` (pkg/errors, juju, cockroachdb, emperror, pingcap) and
  std `errors.Unwrap` join the wrappers failures.keeps_nil knows. Twin: a later early return with the file
  open stays reported.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet_module

ERRCAUSE = FIXTURES.parent / "errcause"


def test_fixture_is_valid_go() -> None:
    vet_module(ERRCAUSE, ERRCAUSE / "third_party" / "errors")


def test_a_classifier_of_the_unwrapped_error_means_the_open_failed() -> None:
    assert compare("checkpoint", ["LH404"], root=ERRCAUSE) == []
    found = run_rules(ERRCAUSE / "checkpoint" / "checkpoint.go", ["LH404"])
    assert [f.function for f in found] == ["Point.Peek"]
