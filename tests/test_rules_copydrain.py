"""A body copied into a writer whose Write cannot fail is drained (LH401; tests/fixtures/scan/lh401_copydrain).

smimesign's timestamp client (held-out set 43) leaks its response only when the content type is wrong;
on every other path `io.Copy` into a `bytes.Buffer` reads the body to its end. The finding stays, and its
message names only the return that leaks, not the ones after the copy.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet

FILE = FIXTURES / "lh401_copydrain" / "copy.go"


def test_fixture_is_valid_go() -> None:
    vet("lh401_copydrain")


def test_markers() -> None:
    assert compare("lh401_copydrain", ["LH401"]) == []


def test_message_names_only_the_leaking_return() -> None:
    bad = next(i for i, t in enumerate(FILE.read_text().splitlines(), 1) if "bad content type" in t)
    (f,) = run_rules(FILE, ["LH401"])
    assert f.message.endswith(f"is not closed on the return at line {bad}"), f.message
