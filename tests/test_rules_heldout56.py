"""Held-out set 56's false shapes, each with the twin that must stay reported (real Go, vetted).

- LH402 (kine's ListStream): every early return goes through `errorResult`, a local closure written
  before the rows exist that closes them; a closure that does not close them leaves them open.
- LH404 (activityserve's ReadLines, a leak the set's triage found unreported): lines appended from
  `sc.Text()` are strings, not a holder of the file the scanner reads; a slice of scanners is one.
- LH107 (gubernator's healthcheck): a one-shot command retries `http.Get` in a closure without the
  closure's ctx; the process ends a moment later. The same closure run per request by a handler is
  reported.
"""

from __future__ import annotations

from scanfixtures import compare, vet


def test_fixtures_are_valid_go() -> None:
    vet("lh402_closure", "lh107_oneshotretry", "lh404_scanlines")


def test_rows_closed_by_a_closure_written_before_them() -> None:
    assert compare("lh402_closure", ["LH402"]) == []


def test_context_in_a_one_shot_commands_closure() -> None:
    assert compare("lh107_oneshotretry", ["LH107"]) == []


def test_lines_read_out_of_a_scanner_do_not_hold_its_file() -> None:
    assert compare("lh404_scanlines", ["LH404"]) == []
