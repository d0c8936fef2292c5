"""Shapes of real leaks that a project fixed and `soak` called in the running service (bench/
RESULTS-realservices.md, "Real leaks in real services"), which `scan` must name at the line the fix
changed, with twins that stay quiet.

- LH107, GoBGP v3.7.0's WatchEvent (osrg/gobgp#2592, fixed in v3.8.0): a gRPC streaming handler makes
  `context.WithCancel(context.Background())` and waits on its `Done()`; the stream's own context, which
  ends when the client goes away, is never looked at, so every ended watch leaves the handler, its
  stream and its subscription behind until an event comes. The HTTP handler of the same shape too.
  Twins: derived from the stream's context, relayed by hand, or waiting on either context.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_a_handler_waiting_on_a_context_of_its_own_making_is_named_at_its_making() -> None:
    vet("lh107_detached")
    assert compare("lh107_detached", ["LH107"]) == []
    got = {f.function: f for f in run_rules(FIXTURES / "lh107_detached" / "watch.go", ["LH107"])}
    assert set(got) == {"server.Watch", "server.Events"}
    assert all(f.severity == "warning" for f in got.values())
    assert "derive ctx from stream.Context()" in got["server.Watch"].message
    assert "when the request is cancelled" in got["server.Events"].message
