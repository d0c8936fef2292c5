"""Held-out sets 19 and 20's false-positive classes (issue #8, session 15, after their measurement:
tuning), each fixed in a general form with a reported twin, on real Go:

- LH402: a method of the package that keeps what it returns (stores it in a field or map of its
  owner) hands out a borrowed statement: squirrel's StmtCache.Prepare, whose Clear closes them all.
  A call on a value of a type that declares the method reaches that method even when an interface
  of the package names the method too. Twin: a pass-through Prepare, reported.
- LH107: `//nolint:noctx` (or contextcheck), this check's peer linters, on the call's line or alone
  above it (storj's tagsql fallbacks); a request built into a named result and returned by a bare
  `return` (cos-go-sdk-v5's newRequest). Twins: another linter's nolint, and a named-result request
  sent in the function itself without ctx, both reported (tests/fixtures/scan/lh107/leak.go).
- LH104: sends in the goroutine's own recover() handler (tengo's RunContext): in
  tests/test_rules_goroutines_precision.py (lh101_exclusive/recovered_count.go).
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_cache_fixture_vets() -> None:
    vet("lh402_cache")


def test_a_statement_cache_hands_out_borrowed_statements() -> None:
    assert compare("lh402_cache", ["LH402"]) == []
    found = run_rules(FIXTURES / "lh402_cache" / "cache.go", ["LH402"])
    assert [f.function for f in found] == ["Passthrough.Query"]


def test_peer_nolint_and_returned_named_requests_are_not_context_leaks() -> None:
    assert compare("lh107", ["LH107"]) == []
    assert run_rules(FIXTURES / "lh107" / "fixed_peer.go", ["LH107"]) == []
    found = {f.function for f in run_rules(FIXTURES / "lh107" / "leak.go", ["LH107"])}
    assert {"ExecOtherLint", "sendNamed"} <= found


def test_an_afterfunc_of_a_short_constant_delay_is_a_bounded_cost() -> None:
    """LH304 (tview's 50 ms redraw timer, held-out set 20): a constant delay of at most 5 s keeps what
    its callback captures that long at most: `info`, as LH303 does for `time.After`; a delay the caller
    passes stays a warning."""
    got = {f.function: f for f in run_rules(FIXTURES / "lh304" / "leak.go", ["LH304"])}
    assert got["redraw"].severity == "info" and "50 ms later at most" in got["redraw"].message
    assert got["send"].severity == "warning"


def test_an_error_no_implementation_of_the_interface_returns_strands_nothing() -> None:
    """LH401 (pulsar-client-go's OAuth transport, held-out set 19): the error branch after a call through
    an interface of the module whose every implementation returns nil cannot run; the twin's
    implementation can fail, and the response it leaves open is reported."""
    vet("lh401_ifacenil")
    assert compare("lh401_ifacenil", ["LH401"]) == []
    found = run_rules(FIXTURES / "lh401_ifacenil" / "transport.go", ["LH401"])
    assert [f.function for f in found] == ["refreshing.RoundTrip"]


def test_a_holder_stored_in_the_receiver_keeps_the_file() -> None:
    """LH404 (olivere/elastic's cluster-test, held-out set 20, session 16): the log file goes into a
    logger, the logger into options, the options into a client the receiver keeps (`h.c = c`); the
    returns after that store leave nothing behind, the one before it drops the file. Twins: a store
    made on one branch only, a store into a local object, and a stored count read from the file."""
    vet("lh404_owner")
    assert compare("lh404_owner", ["LH404"]) == []
    found = {f.function: f.message for f in run_rules(FIXTURES / "lh404_owner" / "holder.go", ["LH404"])}
    assert found["harness.setup"].endswith("is not closed on the return at line 47")
    assert "also the return at line 69" in found["harness.kept"]
    assert "also the return at line 84" in found["localHolder"]
    assert "also the return at line 98" in found["harness.counted"]


def test_a_test_request_without_ctx_is_info() -> None:
    """LH107 in `_test.go` (go-retry's examples, held-out set 20; 7 of 26 test findings of sets 1-20
    true, all harmless): the request outlives the test's ctx only until the test binary ends. The same
    call in production code stays a warning."""
    vet("lh107")
    got = run_rules(FIXTURES / "lh107" / "example_test.go", ["LH107"])
    assert [(f.line, f.severity) for f in got] == [(13, "info")]
    assert "warning" in {f.severity for f in run_rules(FIXTURES / "lh107" / "leak.go", ["LH107"])}
