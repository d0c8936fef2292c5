"""Code a constant condition rules out is not reported (tests/fixtures/scan/deadconst, real Go, vetted).

btrfs (held-out set 54) keeps an unfinished native receive behind `if !nativeReceive { ...; return }`
with `const nativeReceive = false`; the two opens after it never run. Twins whose condition can vary
(a package variable, a parameter shadowing the constant, a runtime value) stay reported.

x/build's coordinator (held-out set 64) declares `const devPause = false` in coordinator.go and sleeps
under it in buildstatus.go (tests/fixtures/scan/deadconst_shared): a constant of another file of the
package counts when no other file of the directory declares the name, whatever the build tags (a file
under a constraint too); a name declared in two files (a twin per build) does not.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, found, vet, wanted

from leakhunter.source.scanner import scan_paths

RULES = ["LH101", "LH404"]
FILE = FIXTURES / "deadconst" / "receive.go"


def test_fixture_is_valid_go() -> None:
    vet("deadconst")


def test_scan_reports_only_live_code() -> None:
    res = scan_paths([str(FILE.parent)], rules=RULES, jobs=1)
    got = {(f.rule, f.line) for f in res.findings}
    assert got == wanted(FILE, RULES)


def test_paths_take_the_only_branch_a_constant_allows() -> None:
    """The rules themselves (no scanner filter) see `Send`'s early return as never taken."""
    send_line = next(i for i, t in enumerate(FILE.read_text().splitlines(), 1) if "func Send()" in t)
    assert not {ln for rid, ln in found(FILE, ["LH101"]) if send_line < ln < send_line + 8}


SHARED = FIXTURES / "deadconst_shared" / "status.go"


def test_a_constant_of_an_always_built_file_of_the_package_counts() -> None:
    vet("deadconst_shared")
    res = scan_paths([str(SHARED.parent)], rules=["LH404"], jobs=1)
    got = {(f.rule, f.line) for f in res.findings}
    assert got == wanted(SHARED, ["LH404"]) and len(got) == 1
