"""Held-out sets 91-94's false shapes fixed after their measurement (tuning, session 31), on real Go, vetted:

- LH303 (tests/fixtures/scan/lh303_neverfed): politeia's anchor checker polls every five minutes or when
  kicked, but its `checkAnchor` channel is an unexported field the package makes and never sends on or
  closes (the program model's field facts): that case never wins, so no `time.After` is abandoned for it.
  Twins, reported: a channel the package sends on, and an exported one.
- LH301 (tests/fixtures/fxonce, go 1.22, uber/fx declared in third_party): argus's Cassandra store (set 94)
  starts its keep-alive ticker goroutine from a constructor handed to `fx.Provide`, which fx calls once per
  App: `program.once` counts a function handed to fx.Provide/Invoke/Annotate/Supply as called once. Twin,
  reported: the same helper started per request by an HTTP handler.
- LH101 (tests/fixtures/scan/lh101_lastword): aistore's dsort reader and writer (set 93) each send one error
  into a channel of capacity 2; the reader's send inside its loop is followed by `return`, a last word sent
  at most once, not "a send in a loop" that outlasts the owner's early return. Twin, reported: a producer
  whose send in the loop goes round again.
- LH102 (tests/fixtures/scan/lh102_deferredsend): onet's tryConnect (set 92) releases its listener goroutine's
  receive with `defer func() { stopCh <- true }()`: a deferred call runs on every way out, so the receive
  always gets its value. Twins, reported: a deferred send under a condition, and a goroutine that ranges.
- LH107 (tests/fixtures/scan/lh107_cachedreq): phlare's agent (set 92) builds its scrape request once with
  http.NewRequest, keeps it in `t.req` and sends `t.req` with `ctxhttp.Do(ctx, ...)`: the request is followed
  under the name it is kept as. Twin, reported: the cached request sent with Client.Do, no ctx.
- LH111 (tests/fixtures/scan/lh111_once): Intel's device plugins (set 92) run their scan loop from `main`
  through a manager that calls it via an interface; it ends only on a channel nothing closes, but runs once
  per process (`program.once`; bufio's `scanner.Scan()` elsewhere in the module is now typed and told from
  the plugins' own `Scan`, test_program_types). Twin, reported: the same kind of loop started per request.
- LH301 (tests/fixtures/scan/lh301_shutdownchan): flowlogs-pipeline's stages (set 93, five findings) return
  from their ticker loops only on the process's shutdown channel (a package-level channel a signal handler
  closes, reached through a getter, a field set from it, or a parameter every caller passes it to):
  `exits.returns_at_shutdown` drops that return for every resource rule. Twin, reported: a loop returning on
  a per-object stop channel closed by Close.
"""

from __future__ import annotations

import pytest
from scanfixtures import FIXTURES, compare, vet, vet_module

SHAPES = {
    "a case on a channel nothing feeds abandons no timer": ("lh303_neverfed", "LH303"),
    "a send followed by return is a last word, not a loop": ("lh101_lastword", "LH101"),
    "a deferred send answers a single receive": ("lh102_deferredsend", "LH102"),
    "a request kept in a field and sent with ctx carries it": ("lh107_cachedreq", "LH107"),
    "a select loop started once per process is the process's worker": ("lh111_once", "LH111"),
    "a return on the process's shutdown channel leaves nothing behind": ("lh301_shutdownchan", "LH301"),
}
"""Each shape above (module docstring) -> its fixture package (valid Go: `go vet` passes) and rule; the
package's `// want` markers are exactly the findings, its twins reported, the shape not."""


@pytest.mark.parametrize(("package", "rule"), list(SHAPES.values()), ids=list(SHAPES))
def test_the_shape_is_excused_and_its_twins_reported(package: str, rule: str) -> None:
    vet(package)
    assert compare(package, [rule]) == []


FXONCE = FIXTURES.parent / "fxonce"


def test_fxonce_fixture_is_valid_go() -> None:
    vet_module(FXONCE, FXONCE / "third_party" / "fx")


def test_a_ticker_an_fx_constructor_starts_is_the_processs() -> None:
    """Set 94's argus (tuning, session 31): `doEvery`'s ticker goroutine, started by a constructor handed to
    `fx.Provide`, is the process's keep-alive; the same helper called per request stays reported."""
    assert compare("store", ["LH301"], root=FXONCE) == []
