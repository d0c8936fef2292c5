"""A file opened through a module's own helper is a file (LH404; tests/fixtures/scan/lh404_wrapper, real Go).

caldav-go's FileStorage (held-out set 57, a leak its triage found unreported) opens every resource through
`openResourceFile(path, mode) (*os.File, error)` and `UpdateResource` never closes what it gets: one
descriptor per update. The helper's declared result makes the call an acquisition, as `os.OpenFile` is; a
getter of a kept file and `os.NewFile` on an inherited descriptor hand over nothing to close.
"""

from __future__ import annotations

from scanfixtures import compare, vet


def test_fixture_is_valid_go() -> None:
    vet("lh404_wrapper")


def test_file_from_own_helper() -> None:
    assert compare("lh404_wrapper", ["LH404"]) == []
