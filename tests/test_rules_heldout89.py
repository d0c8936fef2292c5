"""Held-out set 89's false shapes fixed after its measurement (tuning), on real Go, vetted:

- LH401 (tests/fixtures/scan/lh401_erralias): fission's specialize retry, `netErr := network.Adapter(err);
  if netErr != nil && ... { continue }`: Adapter returns its own `*Error`, nil for a nil error (it starts
  `if err == nil { return nil }`), so `netErr != nil` holds only when the Post failed, and there is no body
  on that path. `failures.keeps_nil` takes such a classifier with a pointer result, and the release walker
  reads a local assigned only from one as the error itself. Twin: a `continue` guarded by the status.
(Set 89's other false shapes are not fixed: a health check whose `http.Get` of the server's own TLS address
always fails on its private CA; Elvish's `time.After` with a short configurable default.)
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_fixture_is_valid_go() -> None:
    vet("lh401_erralias")


def test_a_classifier_of_the_error_stands_for_it() -> None:
    assert compare("lh401_erralias", ["LH401"]) == []
    found = run_rules(FIXTURES / "lh401_erralias" / "specialize.go", ["LH401"])
    assert [f.function for f in found] == ["Poll"]
