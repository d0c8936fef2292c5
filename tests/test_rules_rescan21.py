"""False shapes found when session 21 re-scanned the early held-out sets of large servers (sets 1-5: vault,
containerd, keda, tailscale, vitess, telegraf, cilium, weaviate, rclone, ...) on its tree (tuning, their
verdicts carried over), each fixed in a general form with a reported twin, on real Go:

- LH103 (set 3, vitess): a goroutine ranging over a ticker's channel whose owner's stop only tests call
  (AuthServerVault.close): in production the ticker is never stopped and the goroutine lives as long as the
  server. Twin, reported: an unexported stop that production code calls (a reload replacing the old cache).
- LH102 (set 5, cilium's standalone Envoy starter): the goroutine answers on a channel of capacity 1 with
  `select { case started <- v: default: }`; its first answer finds the buffer empty and always lands. Twin,
  reported: the same answer on an unbuffered channel.
- LH404 (set 5, weaviate's segment compaction and cleanup): a file left open only in the failing default of a
  switch over named constants (an enum's exhaustiveness guard). Twin, reported: the default of a switch over
  string literals (input being parsed).
- LH402 (set 8, libp2p's peerstore over go-datastore): results whose `Next()` is a channel, ranged over until
  it closes, are drained: their producer holds nothing after. Twin, reported: a loop that returns early on a
  bad entry, leaving the rest unread.
"""

from __future__ import annotations

from pathlib import Path

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_a_ticker_stopped_only_by_tests_is_not_a_shown_leak() -> None:
    vet("lh103_testonlystop")
    src = FIXTURES / "lh103_testonlystop" / "vault.go"
    lines = Path(src).read_text().splitlines()
    only_tests = next(i for i, t in enumerate(lines, 1) if "for range a.ticker.C" in t)
    twin = next(i for i, t in enumerate(lines, 1) if "want LH103" in t)
    shown = {(f.line, f.severity) for f in run_rules(src, ["LH103"]) if f.severity != "info"}
    assert shown == {(twin, "warning")}, shown
    assert only_tests not in {ln for ln, _ in shown}


def test_a_first_nonblocking_send_into_a_free_buffer_always_lands() -> None:
    vet("lh102_nonblockingfirst")
    assert compare("lh102_nonblockingfirst", ["LH102"]) == []


def test_an_enum_switch_failing_default_is_an_impossible_path() -> None:
    vet("lh404_enumguard")
    assert compare("lh404_enumguard", ["LH404"]) == []


def test_results_ranged_to_the_end_of_their_channel_are_drained() -> None:
    vet("lh402_rangedrain")
    assert compare("lh402_rangedrain", ["LH402"]) == []
