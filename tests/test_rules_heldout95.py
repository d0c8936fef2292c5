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

import pytest
from scanfixtures import compare, vet

SHAPES = {
    "a receive under a buffered length check cannot wait": ("lh102_lenguard", "LH102"),
    "an interface whose implementation closes the body hands back nothing open": ("lh401_ifaceclosed", "LH401"),
    "a wrapper fixing the HEAD method hands back no body": ("lh401_headwrap", "LH401"),
}
"""Each shape above (module docstring) -> its fixture package (valid Go: `go vet` passes) and rule; the
package's `// want` markers are exactly the findings, its twins reported, the shape not."""


@pytest.mark.parametrize(("package", "rule"), list(SHAPES.values()), ids=list(SHAPES))
def test_the_shape_is_excused_and_its_twins_reported(package: str, rule: str) -> None:
    vet(package)
    assert compare(package, [rule]) == []
