"""Held-out set 64's false shapes fixed after its measurement (tuning), on real Go, vetted:

- LH107 (tests/fixtures/scan/lh107_unsent): a request built with http.NewRequest that is never sent
  (only handed to http.ProxyFromEnvironment, or a dummy whose header a token fills in: x/build's
  buildlet dialer, pkgsite's auth header) has nothing for ctx to cancel. Twins: the same request
  handed to a client, or to a dependency's method that sends it, stay reported.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_fixture_is_valid_go() -> None:
    vet("lh107_unsent")


def test_a_request_never_sent_is_not_reported() -> None:
    assert compare("lh107_unsent", ["LH107"]) == []
    found = run_rules(FIXTURES / "lh107_unsent" / "unsent.go", ["LH107"])
    assert sorted(f.function for f in found) == ["fetchAuthed", "fetchViaProxy"]
