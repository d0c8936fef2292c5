"""Held-out sets 95-98's false shapes fixed after their measurement (tuning, session 31's round two), on real
Go, vetted:

- LH102 (tests/fixtures/scan/lh102_lenguard): spiceai's RunCommand (set 98) returns the goroutine's error only
  under `if len(cmdErr) > 0 { return <-cmdErr }`, after the goroutine signalled it was done: a value is already
  in the buffer. Twin, reported: the same receive without the check.
"""

from __future__ import annotations

from scanfixtures import compare, vet


def test_a_receive_under_a_buffered_length_check_cannot_wait() -> None:
    vet("lh102_lenguard")
    assert compare("lh102_lenguard", ["LH102"]) == []
