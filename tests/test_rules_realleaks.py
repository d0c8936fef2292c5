"""Shapes of real leaks that a project fixed and `soak` called in the running service (bench/
RESULTS-realservices.md, "Real leaks in real services"), which `scan` must name at the line the fix
changed, with twins that stay quiet.

- LH107, GoBGP v3.7.0's WatchEvent (osrg/gobgp#2592, fixed in v3.8.0): a gRPC streaming handler makes
  `context.WithCancel(context.Background())` and waits on its `Done()`; the stream's own context, which
  ends when the client goes away, is never looked at, so every ended watch leaves the handler, its
  stream and its subscription behind until an event comes. The HTTP handler of the same shape too.
  Twins: derived from the stream's context, relayed by hand, or waiting on either context.
- LH112, OpenFGA v1.4.1's ReverseExpand (openfga/openfga#1296, fixed in v1.4.2): a sourcegraph/conc pool
  fed in a loop that returns on the iterator's error before `Wait`; every worker started so far waits
  on the pool's task channel for good. The fixture module (tests/fixtures/concpool) replaces conc with
  a stand-in of the same lifecycle, so the program the finding names is built and run: its leaky
  function leaves four goroutines per call, the fixed one none. Twins: break-and-wait, a return before
  the first Go, a deferred Wait, a pool handed to a helper that waits.
- LH113, Alertmanager v0.32.1's dispatcher (prometheus/alertmanager#5182, fixed in v0.32.3): a destroyed
  aggregation group is swapped out of its `sync.Map` by `CompareAndSwap` and never stopped, so its `run`
  goroutine waits for good (the maintenance that stops destroyed groups finds them through the map).
  The fixture's `go test` runs it: 50 groups left by 50 swaps, 1 by the fixed code. The same over a plain
  map (`old, ok := m[k]` ... `m[k] = fresh`) and `sync.Map.Store` after a `Load`. Twins: the displaced group
  cancelled or stopped, handed to a helper, a swapped value whose type runs nothing, a store only under a
  new key, a store only where the entry read was nil or absent (etcd's watch streams), a stored record of
  another package's type of the same name as a runner (centrifuge's `*controlpb.Node`; both from the
  corpora's caches, session 22).
"""

from __future__ import annotations

import subprocess

from golab import go_env, go_exe
from scanfixtures import FIXTURES, compare, run_rules, vet

CONC = FIXTURES.parent / "concpool"


def test_a_handler_waiting_on_a_context_of_its_own_making_is_named_at_its_making() -> None:
    vet("lh107_detached")
    assert compare("lh107_detached", ["LH107"]) == []
    got = {f.function: f for f in run_rules(FIXTURES / "lh107_detached" / "watch.go", ["LH107"])}
    assert set(got) == {"server.Watch", "server.Events"}
    assert all(f.severity == "warning" for f in got.values())
    assert "derive ctx from stream.Context()" in got["server.Watch"].message
    assert "when the request is cancelled" in got["server.Events"].message


def test_a_pool_left_without_its_wait_is_named_at_the_return_the_fix_changed() -> None:
    res = subprocess.run([go_exe(), "vet", "./..."], cwd=CONC, capture_output=True, text=True, timeout=300,
                         env=go_env())
    assert res.returncode == 0, res.stderr
    assert compare("concpool/expand", ["LH112"], root=FIXTURES.parent) == []
    got = run_rules(CONC / "expand" / "expand.go", ["LH112"])
    assert [f.function for f in got] == ["Leaky"]
    assert "on the return at line 38" in got[0].message and got[0].severity == "error"


def test_the_pool_finding_is_a_real_leak_when_run() -> None:
    """The same functions, run 50 times each with the request cancelled partway: the leaky one leaves
    its workers (4 per call), the fixed one leaves none."""
    left = {}
    for which in ("leaky", "fixed"):
        res = subprocess.run([go_exe(), "run", "./cmd/expandleak", which], cwd=CONC, capture_output=True,
                             text=True, timeout=300, env=go_env())
        assert res.returncode == 0, res.stderr
        left[which] = int(res.stdout.split()[-1])
    assert left["leaky"] >= 150 and left["fixed"] <= 3, left


def test_a_running_group_swapped_out_unstopped_is_named_at_the_swap() -> None:
    vet("lh113")
    assert compare("lh113", ["LH113"]) == []
    got = run_rules(FIXTURES / "lh113" / "groups.go", ["LH113"])
    assert sorted(f.function for f in got) == ["Dispatcher.AddLeaky", "Dispatcher.Promote", "Dispatcher.Replace",
                                               "Registry.Reload", "Registry.Restart"]
    assert all(f.parks_in == "group.run" and f.severity == "warning" for f in got)
    leaky = next(f for f in got if f.function == "Dispatcher.AddLeaky")
    assert "replaces el, a *group whose run goroutine" in leaky.message
    assert "cancel() or stop()" in leaky.message


def test_the_swapped_group_is_a_real_leak_when_run() -> None:
    """The fixture's own test runs AddLeaky and AddFixed 50 times each with the group destroyed first:
    the leaky one leaves a goroutine per swap, the fixed one none beyond the live group."""
    res = subprocess.run([go_exe(), "test", "-run", "TestTheFindingIsARealLeak", "-v", "./lh113/"], cwd=FIXTURES,
                         capture_output=True, text=True, timeout=300, env=go_env())
    assert res.returncode == 0, res.stdout + res.stderr
    assert "goroutines left: leaky 5" in res.stdout or "goroutines left: leaky 4" in res.stdout, res.stdout
