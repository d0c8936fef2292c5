"""Held-out sets 35, 36 and 37's false shapes (issue #8, session 24, after their measurement: tuning),
each fixed in a general form with reported twins, on real Go:

- LH303: a `time.After` in a loop's select whose other case is a one-shot timer made before the loop
  (`timeout := time.NewTimer(total)` ... `case <-timeout.C:`, or `deadline := time.After(total)`),
  neither made again nor Reset in the loop: the deadline wins once per call, so at most one timer is
  abandoned (attestation-sdk's retryLoop, set 35; edgectl's loopUntil, set 32). Twins, reported: the
  timer Reset in the loop, a ticker's channel, a timer or a time.After channel made in the loop.
- LH404: a file whose logger is made inside the returned literal (`return &DefaultLogger{log: log.New(f,
  "", 0)}, nil`) is the returned object's (sentinel-golang, set 36). Twin, reported: a literal whose
  logger writes elsewhere.
- LH404: `if err == nil && n < len(msg)` right after `n, err := f.Write(msg)` is dead by io.Writer's
  contract (polaris-go's cache file, set 36). Twins, reported: the guard after a Read, and one on a
  length the write was not given.
- LH401: a return under `if resp.StatusCode == 204` (or 304) leaves nothing open: such a response has no
  body (aringo's Call, set 36: its message named that return first, not the leak on other statuses).
  Twin, reported: a return on 202.
- LH201 (in test_rules_memory's vetfails/lh201/started.go): under a never-cancelled parent, only paths
  that have started the goroutine handed the context count (libcompose's ProjectUp, set 36).
- LH101 in Ginkgo specs: a goroutine whose send a later select receives unless its timeout calls Ginkgo's
  `Fail` (which fails the spec and panics out of it) is stranded only after the spec failed (rueidis'
  adapter tests, set 35, six findings that `--tests` showed). Twin, reported: a timeout that only logs.
- LH302: `return time.Tick(d)` is a mockable clock's stand-in for time.Tick, its callers own the ticker
  (facebookgo/clock copied into lni/goutils, set 37). Twin, reported: a function ranging over time.Tick.
- LH502: `p[0:limit]` of a read through `io.LimitedReader{N: limit + 1}` (or `io.LimitReader(r, limit)`)
  is all of the buffer but a byte (snowflake's limitedRead, set 37, two). Twin, reported: a 16-byte head
  of a read capped at 1 MiB kept in a field.
- LH401: a discarded first result whose declared type is no response (a TLS session cache's `Get` on a
  field named `ClientSessionCache`) is not reported when the program model can type the receiver (set
  37's tlsdialer was shown only because the harness's module cache lacked the `replace` target).
- Messages (set 35's triager): "not closed on the return at line 76" read as if other paths closed the
  value when none does (go-dry's HTTPPostJSON, one return); the message now says "no path closes it".
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_a_time_after_beside_a_one_shot_deadline_is_abandoned_once() -> None:
    vet("lh303_oneshot")
    assert compare("lh303_oneshot", ["LH303"]) == []


def test_a_value_no_path_closes_is_said_to_be_so() -> None:
    never = [f.message for f in run_rules(FIXTURES / "lh404_dup" / "stderr.go", ["LH404"])]
    assert never == ["f from os.Open at line 25 is not closed on the return at line 31 "
                     "(also the return at line 33; no path closes it)"]
    some = [f.message for f in run_rules(FIXTURES / "lh404_flock" / "lock.go", ["LH404"])]
    assert some == ["f from os.Open at line 27 is not closed on the return at line 33"]


def test_a_file_under_a_logger_in_the_returned_literal_is_handed_on() -> None:
    vet("lh404_logholder")
    assert compare("lh404_logholder", ["LH404"]) == []


def test_a_short_write_without_an_error_cannot_happen() -> None:
    vet("lh404_shortwrite")
    assert compare("lh404_shortwrite", ["LH404"]) == []


def test_a_goroutine_stranded_only_after_ginkgo_fail_is_not_reported() -> None:
    assert compare("ginkgofail", ["LH101"], root=FIXTURES.parent) == []


def test_a_return_on_a_bodiless_status_leaves_nothing_open() -> None:
    vet("lh401_nocontent")
    assert compare("lh401_nocontent", ["LH401"]) == []
    got = {f.line: f.message for f in run_rules(FIXTURES / "lh401_nocontent" / "call.go", ["LH401"])}
    assert got[16] == "resp.Body from c.Do at line 16 is not closed on the return at line 24"


def test_a_clock_whose_tick_returns_time_tick_is_no_leak_site() -> None:
    vet("lh302_clock")
    assert compare("lh302_clock", ["LH302"]) == []


def test_a_window_as_large_as_the_read_limit_pins_nothing() -> None:
    vet("lh502_limited")
    assert compare("lh502_limited", ["LH502"]) == []


def test_a_discarded_result_typed_as_no_response_is_not_a_body() -> None:
    vet("lh401_notresponse")
    assert compare("lh401_notresponse", ["LH401"]) == []
