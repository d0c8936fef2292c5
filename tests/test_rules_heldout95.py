"""Held-out sets 95-98's false shapes fixed after their measurement (tuning, session 31's round two), on real
Go, vetted:

- LH102 (tests/fixtures/scan/lh102_lenguard): spiceai's RunCommand (set 98) returns the goroutine's error only
  under `if len(cmdErr) > 0 { return <-cmdErr }`, after the goroutine signalled it was done: a value is already
  in the buffer. Twin, reported: the same receive without the check.
- LH401 (tests/fixtures/scan/lh401_ifaceclosed): Kyma's eventing client (set 96, four findings) sends through an
  interface field whose only implementation in the module reads the body and closes it with `defer func() { _ =
  resp.Body.Close() }()` before handing the response back: the blank-assigned Close in a deferred literal
  counts. Twin, reported: an interface whose implementation hands the body back open.
- LH401 (tests/fixtures/scan/lh401_headwrap): reaper-client-go (set 96) pings through `doHead`, a wrapper whose
  every return is a call given `http.MethodHead`: the transport answers HEAD with http.NoBody. Twin, reported:
  the same wrapper fixing GET.
"""

from __future__ import annotations

from scanfixtures import compare, vet


def test_a_receive_under_a_buffered_length_check_cannot_wait() -> None:
    vet("lh102_lenguard")
    assert compare("lh102_lenguard", ["LH102"]) == []


def test_an_interface_whose_implementation_closes_the_body_hands_back_nothing_open() -> None:
    vet("lh401_ifaceclosed")
    assert compare("lh401_ifaceclosed", ["LH401"]) == []


def test_a_wrapper_fixing_the_head_method_hands_back_no_body() -> None:
    vet("lh401_headwrap")
    assert compare("lh401_headwrap", ["LH401"]) == []
