"""Held-out sets 103-110's false shapes fixed after their measurement (tuning, session 32), on
real Go, vetted:

- LH401 (tests/fixtures/scan/lh401_resetcontent): go-gh's REST DoWithContext (set 103) returns early under
  `if resp.StatusCode == http.StatusResetContent`; a 205 must carry no content (RFC 9110 15.3.6), so the
  response comes back with http.NoBody. Twin, reported: the same return on 202 Accepted.
- LH107 (tests/fixtures/scan/lh107_valuectx): go-livepeer's remote transcoder (set 104) builds its context
  from context.Background() through another package's value helpers (`clog.AddManifestID` returns
  `AddVal(ctx, ...)`, which reassigns `ctx = context.WithValue(ctx, ...)` and returns it): it can never be
  cancelled, so the request built without it loses nothing. Twin, reported: a helper that adds a deadline.
- LH301 (tests/fixtures/scan/lh301_unusedoption): kserve modelmesh-runtime-adapter's pull manager (set 104)
  starts its client cache's cleanup ticker from a constructor only main reaches, seven calls up (the call
  search now follows eight, was three); the constructor's other
  caller is the func literal returned by the option `CacheOptions`, which nothing in the module calls, so
  the literal runs in no production process (program.once). Twin, reported: an option the program applies
  once per request.
- LH301 (tests/fixtures/scan/lh301_ifacecall): hybridnet's daemon (set 107) starts its neighbour-cache
  cleaner from `CtrlHub.Run`, which main calls once; the module's other `.Run(` calls in loops are on
  interfaces CtrlHub does not implement (another signature, or a method it lacks), so they cannot reach it.
  Twin, reported: a method reached per request through an interface its type implements.
- LH301 (tests/fixtures/scan/lh301_oncedo): conjure's station statistics (set 109) start their ticker
  goroutines in `initStats`, handed by name to `Do` of a package-level sync.Once: once per process,
  however often the getter runs. Twin, reported: a method handed to a sync.Once that is a field.
- LH301 (tests/fixtures/scan/lh301_samename/monitor): go-livepeer's sender monitor and redeemer (set 104) start
  their cleanup loops from `Start`, which the node calls once; another type of the package also declares
  `Start`, and the call search gave up on a second declaration of the name. Each call is now judged by its
  operand's type. Twin, reported: the other type's ticker, started per sender.
- LH401 (tests/fixtures/scan/lh401_headbuilder): rkt's resumable download (set 113) sends a request built by
  `headRequest`, whose one statement returns `httpRequest("HEAD", u)`: a HEAD reply has http.NoBody. Twin,
  reported: the same probe through a GET builder.
"""

from __future__ import annotations

import pytest
from scanfixtures import compare, vet

SHAPES = {
    "a return on 205 Reset Content leaves no body open": ("lh401_resetcontent", "LH401"),
    "a context built by value-only helpers of another package is never cancelled": ("lh107_valuectx", "LH107"),
    "an option closure nothing asks for makes no second start": ("lh301_unusedoption/pullman", "LH301"),
    "a call on an interface the type does not implement cannot reach its method": ("lh301_ifacecall/daemon", "LH301"),
    "a function handed by name to a package-level sync.Once runs once": ("lh301_oncedo", "LH301"),
    "another type's method of the same name does not hide a once-per-process start": ("lh301_samename/monitor", "LH301"),
    "a request from a one-line HEAD builder leaves no body open": ("lh401_headbuilder", "LH401"),
}
"""Each shape above (module docstring) -> its fixture package (valid Go: `go vet` passes) and rule; the
package's `// want` markers are exactly the findings, its twins reported, the shape not."""


@pytest.mark.parametrize(("package", "rule"), list(SHAPES.values()), ids=list(SHAPES))
def test_the_shape_is_excused_and_its_twins_reported(package: str, rule: str) -> None:
    vet(package)
    assert compare(package, [rule]) == []
