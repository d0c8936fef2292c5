"""Held-out sets 99-102's false shapes fixed after their measurement (tuning, session 31's round three), on
real Go, vetted:

- LH401 (tests/fixtures/scan/lh401_emptybody): iceberg-go's REST doPost (set 99) returns early under `if
  rsp.ContentLength == 0`, a response the transport hands back with http.NoBody; sing's HTTP proxy (set 102)
  forwards the response with `resp.Write(conn)`, which closes its body (net/http's Response.Write;
  `ReleaseSpec.own`). Twins, reported: a return on `ContentLength < 1` (-1 is an unknown length, a body), a
  forward of the status line alone.
- LH404 (tests/fixtures/scan/lh404_closerfunc): trzsz-ssh (set 102) opens its keyboard input through a helper
  that hands back `func() { _ = file.Close() }` beside the file, and defers it: every return of every build
  variant of the helper is checked. Twins, reported: the closer dropped, a closer that closes nothing.
"""

from __future__ import annotations

import pytest
from scanfixtures import compare, vet

SHAPES = {
    "an empty or forwarded response leaves no body open": ("lh401_emptybody", "LH401"),
    "a deferred closer handed back beside the file closes it": ("lh404_closerfunc", "LH404"),
}
"""Each shape above (module docstring) -> its fixture package (valid Go: `go vet` passes) and rule; the
package's `// want` markers are exactly the findings, its twins reported, the shape not."""


@pytest.mark.parametrize(("package", "rule"), list(SHAPES.values()), ids=list(SHAPES))
def test_the_shape_is_excused_and_its_twins_reported(package: str, rule: str) -> None:
    vet(package)
    assert compare(package, [rule]) == []
