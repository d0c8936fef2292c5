"""Held-out set 91's false shape fixed after its measurement (tuning), on real Go, vetted:

- LH303 (tests/fixtures/scan/lh303_neverfed): politeia's anchor checker polls every five minutes or when
  kicked, but its `checkAnchor` channel is an unexported field the package makes and never sends on or
  closes (the program model's field facts): that case never wins, so no `time.After` is abandoned for it.
  Twins, reported: a channel the package sends on, and an exported one.
"""

from __future__ import annotations

from scanfixtures import compare, vet


def test_a_case_on_a_channel_nothing_feeds_abandons_no_timer() -> None:
    vet("lh303_neverfed")
    assert compare("lh303_neverfed", ["LH303"]) == []
