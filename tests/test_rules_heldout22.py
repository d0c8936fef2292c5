"""Held-out sets 21 and 22's false-positive classes (issue #8, session 16, after their measurement:
tuning), each fixed in a general form with a reported twin, on real Go:

- LH401: a return in the error branch of a read that can fail only in reading the body
  (`io.Copy(io.Discard, io.LimitReader(resp.Body, n))`, gowebdav): the transport closes the
  connection itself after a failed read. Twin: a copy into a file, whose write may be what failed.
- LH502: a returned window no caller keeps is `info` (tests/test_rules_memory.py,
  test_lh502_a_returned_window_no_caller_keeps_is_info).
- A package's own `new` called with several arguments is analysed (tests/test_scan_gosyntax.py).
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_a_return_after_a_failed_read_of_the_body_strands_nothing() -> None:
    vet("lh401_released")
    assert compare("lh401_released", ["LH401"]) == []
    found = run_rules(FIXTURES / "lh401_released" / "failedread.go", ["LH401"])
    assert [f.function for f in found] == ["saveTo"]


def test_a_mode_the_caller_already_left_is_not_the_callee_path() -> None:
    """LH402 (go-jet's statement cache, held-out set 21): PrepareContext returns a fresh statement only
    when caching is off, and ExecContext has returned on `!d.cachingEnabled` before it calls it: it only
    borrows cached statements. Twins: a caller without that test, and one that tested another field."""
    vet("lh402_modecache")
    assert compare("lh402_modecache", ["LH402"]) == []
    found = run_rules(FIXTURES / "lh402_modecache" / "cache.go", ["LH402"])
    assert sorted(f.function for f in found) == ["DB.ExecUnchecked", "DB.ExecVerbose"]


def test_an_owner_that_returns_only_if_an_infallible_call_fails_strands_nothing() -> None:
    """LH101 (opentofu's flock, held-out set 22): the owner returns before its receive only when
    syscall.Kill of its own pid fails, which it cannot; the goroutine path walk stops at such an exit
    as the resource rules do (program/failures). Twins: a kill of another pid, a json.Marshal of an
    interface map, both reported."""
    vet("lh101_impossible")
    assert compare("lh101_impossible", ["LH101"]) == []
    found = run_rules(FIXTURES / "lh101_impossible" / "flock.go", ["LH101"])
    assert sorted(f.function for f in found) == ["LockReporting.func1", "LockSignalling.func1"]


def test_a_method_stored_in_a_field_is_judged_by_the_calls_through_it() -> None:
    """LH107 (opentofu's pg state backend, held-out set 22, five findings): `configure` is stored in
    `Backend.ConfigureFunc`, whose only call passes `context.WithValue(context.Background(), ...)`: a
    context never done, so ignoring it cancels nothing (program/callsites.field_calls). Twins: a hook
    called with a request's context, a field read into a variable before the call: reported."""
    vet("lh107_fieldfunc")
    assert compare("lh107_fieldfunc", ["LH107"]) == []
    found = run_rules(FIXTURES / "lh107_fieldfunc" / "backend.go", ["LH107"])
    assert sorted(f.function for f in found) == ["cache.warm", "server.audit"]


def test_a_request_kept_as_a_template_is_not_sent_here() -> None:
    """LH107 (go-quartz's NewCurlJob, held-out set 22): a request built without the function's ctx and
    handed to a constructor that keeps it in the job (through one more call) is a template, sent later
    with the context of each run. Twins: handed to a helper that sends it at once, and sent in the
    return statement itself (`return http.DefaultClient.Do(request)`, which read as "the request is
    returned" and was missed), both reported."""
    vet("lh107_template")
    assert compare("lh107_template", ["LH107"]) == []
    found = run_rules(FIXTURES / "lh107_template" / "jobs.go", ["LH107"])
    assert sorted(f.function for f in found) == ["fetch", "probe"]


def test_a_handshake_after_tls_dial_and_the_removal_of_a_fresh_temp_file_cannot_fail() -> None:
    """LH404 (held-out set 23: bogdanfinn/tls-client's handshake of a conn tls.Dial returned, jacobsa/fuse's
    os.Remove of the temp file made a line earlier; set 22's phuslu/log unlinks the same way). Twins:
    a check after tls.Dial that can fail, the removal of another path: reported."""
    vet("lh404_fresh")
    assert compare("lh404_fresh", ["LH404"]) == []
    found = run_rules(FIXTURES / "lh404_fresh" / "fresh.go", ["LH404"])
    assert sorted(f.function for f in found) == ["replaceOld", "verifiedTLS"]


def test_a_read_of_the_body_under_a_large_limit_reaches_its_end() -> None:
    """LH401 (go-actions-cache, held-out set 24): io.ReadAll(io.LimitReader(resp.Body, 32*1024)) of small
    replies reads to EOF. Twin: a 512-byte read of an error page, reported."""
    vet("lh401_limitdrain")
    assert compare("lh401_limitdrain", ["LH401"]) == []
    found = run_rules(FIXTURES / "lh401_limitdrain" / "cache.go", ["LH401"])
    assert [f.function for f in found] == ["status"]


def test_a_returned_object_holding_a_logger_on_the_file_keeps_it() -> None:
    """LH404 (adhocore/gronx's tasker, held-out set 23): the file goes into a logger, the logger into the
    returned `&tasker{Log: logger}`: the caller's tasker holds it. Twin: a tasker built from the file's
    size only, the file dropped: reported."""
    vet("lh404_owner")
    assert compare("lh404_owner", ["LH404"]) == []
    found = run_rules(FIXTURES / "lh404_owner" / "tasker.go", ["LH404"])
    assert [f.function for f in found] == ["sizedTasker"]
