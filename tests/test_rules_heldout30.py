"""Held-out set 30's false shapes (issue #8, session 21, after its measurement: tuning), each fixed in a
general form with a reported twin, on real Go:

- LH402: an example program whose last statement discards the rows of a query (sqlhooks' two example mains):
  the program ends right after, and with it the connection. Twin, reported: a server's main that discards
  the rows of a start-up query and then serves (with a pool of one, every later query waits).
"""

from __future__ import annotations

from scanfixtures import compare, vet


def test_rows_discarded_by_the_last_statement_of_main_end_with_the_program() -> None:
    vet("lh402_examplemain/example", "lh402_examplemain/server")
    assert compare("lh402_examplemain/example", ["LH402"]) == []
    assert compare("lh402_examplemain/server", ["LH402"]) == []
