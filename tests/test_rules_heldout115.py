"""False shapes of the held-out history fixed in session 33 (tuning), on real Go, vetted:

- LH101 (tests/fixtures/scan/lh101_deferredsignal): Huawei eSDK_K8S_Plugin's execShellCmdTimeout (set 112)
  starts a goroutine that sends on exactly one of `done` and `timeCh` and closes both in its defers,
  while the owner selects on the two and nothing else. The other case can win only once its channel
  is sent on (the exclusive branch) or closed (after the one send was taken), so neither send can
  strand: a signal deferred by the goroutine runs after its pending send (goflow.exclusive_signals).
  The same holds for a send in a deferred closure. Twin, reported: the other channel closed before the
  send, not in a defer.
- LH402 (tests/fixtures/lrusize, golang-lru's constructors through a replace): threefoldtech/0-fs's NewStore
  (set 118) returns with its prepared statement open only when `lru.New(DirCacheSize)` fails, which it
  does only for a size below one (program.failures). Also v2's `lru.New[string, int](64)`, which
  tree-sitter-go reads as a conversion to a generic type. Twins, reported: a size from the caller, and
  a constant zero.
"""

from __future__ import annotations

import pytest
from scanfixtures import FIXTURES, compare, vet, vet_module

SHAPES = {
    "a signal the goroutine defers cannot abandon its pending send": ("lh101_deferredsignal", "LH101"),
}
"""Each shape above (module docstring) -> its fixture package (valid Go: `go vet` passes) and rule; the
package's `// want` markers are exactly the findings, its twins reported, the shape not."""


@pytest.mark.parametrize(("package", "rule"), list(SHAPES.values()), ids=list(SHAPES))
def test_the_shape_is_excused_and_its_twins_reported(package: str, rule: str) -> None:
    vet(package)
    assert compare(package, [rule]) == []


LRUSIZE = FIXTURES.parent / "lrusize"


def test_a_cache_of_constant_positive_size_cannot_fail() -> None:
    vet_module(LRUSIZE)
    assert compare("store", ["LH402"], root=LRUSIZE) == []
