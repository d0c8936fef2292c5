"""Held-out sets 25 and 26's false-positive classes (issue #8, session 19, after their measurement:
tuning), each fixed in a general form with a reported twin, on real Go:

- LH401: a response dropped where it is made (`_, err := http.Get(url)`) in an example client's main
  that sends one request and exits (set 25): the process's end takes the connection. Twin: the same
  main polling in a loop, one more connection each round.
- LH404: `if off > 0 { f.Seek(off, io.SeekStart) }` on a file just opened by path cannot fail (set 26's
  objstore). Twins: a seek from the end, an unchecked offset.
- Test support named so (`test_passthrough_proxy.go`) that no production code uses
  (tests/test_scan_cli.py, test_a_test_named_file_no_production_code_uses_is_test_support).
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_a_response_dropped_once_in_main_ends_with_the_process() -> None:
    vet("lh401_oneshot")
    assert compare("lh401_oneshot", ["LH401"]) == []
    found = run_rules(FIXTURES / "lh401_oneshot" / "main.go", ["LH401"])
    assert [(f.function, f.line) for f in found] == [("main", 21)]


def test_a_seek_from_the_start_of_a_file_just_opened_cannot_fail() -> None:
    """LH404 (thanos-io/objstore's GetRange, held-out set 26): `if off > 0 { f.Seek(off, io.SeekStart) }`
    on the file just opened by path fails only on a pipe, socket or FIFO, so its error branch strands
    nothing (program/failures). Twins: a seek from the end, an unchecked offset: reported."""
    vet("lh404_seek")
    assert compare("lh404_seek", ["LH404"]) == []
    found = run_rules(FIXTURES / "lh404_seek" / "seek.go", ["LH404"])
    assert sorted(f.function for f in found) == ["at", "tail"]
