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
- LH402, LH403 (tests/fixtures/scan/rpclayers): Grafeas' Postgres store (set 116) and shield's user repository
  (set 117) are reached only through an interface (`Storage.ListProjects`, `users.Repository.Create`) from
  gRPC handlers, and each hands the RPC's context to `QueryContext`/`BeginTx`: database/sql closes the rows
  and rolls the transaction back when the RPC returns. The caller search now passes over an interface's
  method of the name and other types' methods (each call judged by its operand's type: seven other
  repositories declare `Create`), and a type handed to a generated `Register…Server` is a gRPC service even
  without an embedded `Unimplemented…Server`. Twins, reported: the same store and another repository called
  by a nightly job with `context.Background()`. Grafeas' other list calls first pass the context through
  `g.Logger.PrepareCtx(ctx, pID)`, an interface method whose only implementation returns it: a value-only
  derivation (`contexts.value_only_call`), done when the RPC's is. Twin, reported: a `Detacher` whose one
  implementation returns `context.WithoutCancel(ctx)`.
- LH404 (tests/fixtures/scan/lh404_jsonliteral): shuffledns (set 117) leaves its output file open only when
  `json.Marshal(map[string]interface{}{"hostname": h})` fails, which a map literal of strings and numbers
  cannot (program.failures). Twin, reported: a map holding a caller's `any`.
- LH404 (tests/fixtures/scan/lh404_logsinklocal): wost-go's SetLogging (set 122) folds its log file into a
  local writer (`logOut = io.MultiWriter(logOut, f)`, a plain assignment to a local declared before) and
  installs it with `logrus.SetOutput(logOut)`: the process's log sink, open on purpose (release.py). Twin,
  reported: the same local writer used for one message and dropped.
"""

from __future__ import annotations

import pytest
from scanfixtures import FIXTURES, compare, vet, vet_module

SHAPES = {
    "a signal the goroutine defers cannot abandon its pending send": ("lh101_deferredsignal", "LH101"),
    "rows of a store reached through an interface from a registered gRPC service": ("rpclayers/storage", "LH402"),
    "json.Marshal of a literal of plain values cannot fail": ("lh404_jsonliteral", "LH404"),
    "a file folded into a local writer installed as the log output": ("lh404_logsinklocal", "LH404"),
    "a transaction of a repository reached through a service layer from a gRPC handler": ("rpclayers/postgres", "LH403"),
}
"""Each shape above (module docstring) -> its fixture package (valid Go: `go vet` passes) and rule; the
package's `// want` markers are exactly the findings, its twins reported, the shape not."""


@pytest.mark.parametrize(("package", "rule"), list(SHAPES.values()), ids=list(SHAPES))
def test_the_shape_is_excused_and_its_twins_reported(package: str, rule: str) -> None:
    vet(package.partition("/")[0] + "/..." if package.startswith("rpclayers/") else package)
    assert compare(package, [rule]) == []


LRUSIZE = FIXTURES.parent / "lrusize"


def test_a_cache_of_constant_positive_size_cannot_fail() -> None:
    vet_module(LRUSIZE)
    assert compare("store", ["LH402"], root=LRUSIZE) == []
