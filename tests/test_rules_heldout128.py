"""Shapes of session 35's held-out sets (128, 129: modules found through Debian's golang-*-dev packages), on
real Go, vetted:

- LH404 (tests/fixtures/scan/lh404_reflectvalue): voxelbrain/goptions' `fileValueParser` opens the file a flag
  names and returns `reflect.ValueOf(f), e`; the options struct keeps it. A `reflect.Value` holds what it is
  handed, so the return hands the file over. Twins, reported: a `reflect.Value` of the file's size with the
  file dropped, and `reflect.ValueOf(f).Kind()`, which returns a kind read out of the value and not the file.
- LH401 (tests/fixtures/scan/lh401_passthrough): photon-controller-go-sdk's `GetList` (set 131, seen at triage,
  not shown) checks each response with `res, err = getError(res)`, a helper that hands its argument back or nil
  with an error; no body was ever closed, and reading the call as a hand-over hid it. Twins: the same with a
  `defer res.Body.Close()` after the check, and a helper that closes its argument and returns a fresh response
  (not reported).
- LH104 (tests/fixtures/scan/lh104_blockingsend): juju/utils' TestDoubleSet (set 130, test code) sends three times
  on an unbuffered channel received once; the finding named the third send, which never runs. It names the send
  after those the receives and the buffer take (the second; the third with a buffer of one).
- LH404 (tests/fixtures/scan/lh404_loggerfield): efm-langserver's configuration handler (set 133) opens the log
  file and, only when the open succeeded, stores `log.New(f, ...)` in the handler, which closes the previous
  logger's file on the next change. A holding wrapper stored straight into a field of the receiver, a parameter
  or a package-level variable hands the value over on that path. Twins, reported: a local scanner over the file,
  and a logger stored in a local struct.
"""

from __future__ import annotations

from scanfixtures import compare, vet


def test_a_file_returned_inside_a_reflect_value_is_handed_over() -> None:
    vet("lh404_reflectvalue")
    assert compare("lh404_reflectvalue", ["LH404"]) == []


def test_a_response_checked_by_a_helper_that_hands_it_back_is_still_the_callers() -> None:
    vet("lh401_passthrough")
    assert compare("lh401_passthrough", ["LH401"]) == []


def test_the_send_that_blocks_is_the_one_after_those_received() -> None:
    vet("lh104_blockingsend")
    assert compare("lh104_blockingsend", ["LH104"]) == []


def test_a_logger_on_the_file_stored_in_the_receiver_owns_it() -> None:
    vet("lh404_loggerfield")
    assert compare("lh404_loggerfield", ["LH404"]) == []
