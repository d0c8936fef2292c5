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

import pytest
from scanfixtures import FIXTURES, compare, run_rules, vet

SHAPES = {
    "a time.After beside a one-shot deadline is abandoned once": ("lh303_oneshot", "LH303"),
    "a file under a logger in the returned literal is handed on": ("lh404_logholder", "LH404"),
    "a short write without an error cannot happen": ("lh404_shortwrite", "LH404"),
    "a clock whose Tick returns time.Tick is no leak site": ("lh302_clock", "LH302"),
    "a window as large as the read limit pins nothing": ("lh502_limited", "LH502"),
    "a discarded result typed as no response is not a body": ("lh401_notresponse", "LH401"),
}
"""Each shape above (module docstring) -> its fixture package (valid Go: `go vet` passes) and rule; the
package's `// want` markers are exactly the findings, its twins reported, the shape not."""


@pytest.mark.parametrize(("package", "rule"), list(SHAPES.values()), ids=list(SHAPES))
def test_the_shape_is_excused_and_its_twins_reported(package: str, rule: str) -> None:
    vet(package)
    assert compare(package, [rule]) == []


def test_a_value_no_path_closes_is_said_to_be_so() -> None:
    never = [f.message for f in run_rules(FIXTURES / "lh404_dup" / "stderr.go", ["LH404"])]
    assert never == ["f from os.Open at line 25 is not closed on the return at line 31 "
                     "(also the return at line 33; no path closes it)"]
    some = [f.message for f in run_rules(FIXTURES / "lh404_flock" / "lock.go", ["LH404"])]
    assert some == ["f from os.Open at line 27 is not closed on the return at line 33"]


def test_a_goroutine_stranded_only_after_ginkgo_fail_is_not_reported() -> None:
    assert compare("ginkgofail", ["LH101"], root=FIXTURES.parent) == []


def test_a_return_on_a_bodiless_status_leaves_nothing_open() -> None:
    vet("lh401_nocontent")
    assert compare("lh401_nocontent", ["LH401"]) == []
    got = {f.line: f.message for f in run_rules(FIXTURES / "lh401_nocontent" / "call.go", ["LH401"])}
    assert got[16] == "resp.Body from c.Do at line 16 is not closed on the return at line 24"
