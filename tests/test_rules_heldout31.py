"""Held-out set 31's false shapes (issue #8, session 22, after its measurement: tuning), each fixed in a
general form with a reported twin, on real Go:

- LH401: a body handed to a function (a dependency's too) that reads its reader to EOF with `io.ReadAll`
  before it can return (starlib's xlsx loader through excelize's `OpenReader`): at EOF the transport has
  the connection back, whatever the function returns. Twins, reported: a callee that decodes one JSON
  value (the rest stays unread), and one that may return before it reads.
"""

from __future__ import annotations

from scanfixtures import compare, vet


def test_a_body_handed_to_a_function_that_reads_it_whole_is_drained() -> None:
    vet("lh401_drainedby/sheet", "lh401_drainedby/load")
    assert compare("lh401_drainedby/load", ["LH401"]) == []
