"""Held-out sets 25 and 26's false-positive classes (issue #8, session 19, after their measurement:
tuning), each fixed in a general form with a reported twin, on real Go:

- LH401: a response dropped where it is made (`_, err := http.Get(url)`) in an example client's main
  that sends one request and exits (set 25): the process's end takes the connection. Twins: the same
  main polling in a loop, one more connection each round; a REPL's command function (a loop calls it).
- LH404: `if off > 0 { f.Seek(off, io.SeekStart) }` on a file just opened by path cannot fail (set 26's
  objstore). Twins: a seek from the end, an unchecked offset.
- Test support named so (`test_passthrough_proxy.go`) that no production code uses
  (tests/test_scan_cli.py, test_a_test_named_file_no_production_code_uses_is_test_support).
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_a_response_dropped_once_in_main_ends_with_the_process() -> None:
    vet("lh401_oneshot")
    assert compare("lh401_oneshot", ["LH401"]) == []
    found = run_rules(FIXTURES / "lh401_oneshot" / "main.go", ["LH401"])
    assert [(f.function, f.line) for f in found] == [("main", 21)]


def test_a_response_dropped_per_command_of_a_repl_stays_reported() -> None:
    """The twin set 25's tag-E re-scan showed lost (httpretty's example/httprepl, a true finding): the
    program serves nothing, so the one-shot-program model called all of it run-once, but the function
    runs once per command."""
    vet("lh401_repl")
    assert compare("lh401_repl", ["LH401"]) == []


def test_a_seek_from_the_start_of_a_file_just_opened_cannot_fail() -> None:
    """LH404 (thanos-io/objstore's GetRange, held-out set 26): `if off > 0 { f.Seek(off, io.SeekStart) }`
    on the file just opened by path fails only on a pipe, socket or FIFO, so its error branch strands
    nothing (program/failures). Twins: a seek from the end, an unchecked offset: reported."""
    vet("lh404_seek")
    assert compare("lh404_seek", ["LH404"]) == []
    found = run_rules(FIXTURES / "lh404_seek" / "seek.go", ["LH404"])
    assert sorted(f.function for f in found) == ["at", "tail"]


def test_a_loop_over_a_ticker_its_owner_stops_never_ends() -> None:
    """LH103 (go-session's memory store, held-out set 27's triage: a missed leak): `for range s.ticker.C`
    in a goroutine whose owner's Close calls `s.ticker.Stop()`; Stop never closes C, so every closed
    store leaves its loop waiting. A warning (the author meant Stop to end it), shown by default. Twins,
    quiet: a select on a done channel Close closes, a loop that returns; a loop that stops its own ticker
    when it ends (go-redis's Heartbeat) is only LH103's usual endless-loop `info`."""
    vet("lh103_ticker")
    assert compare("lh103_ticker", ["LH103"]) == []
    found = run_rules(FIXTURES / "lh103_ticker" / "store.go", ["LH103"])
    assert sorted((f.function, f.severity) for f in found) == [
        ("heartbeat", "info"), ("memoryStore.gc", "warning"), ("poll.func1", "warning")]
    gc = next(f for f in found if f.function == "memoryStore.gc")
    assert "memoryStore.Close (store.go:37) stops the ticker" in gc.message, gc.message


def test_a_reader_that_retries_every_error_spins_once_its_owner_closes_it() -> None:
    """LH103 (zondax/ledger-go's readThread, held-out set 27's triage, shown there only as `info`): an
    endless reader answering `if err != nil { continue }` while the owner's Close closes the device: after
    Close it spins at full speed for good, a warning. Twins: a reader that returns on os.ErrClosed/io.EOF
    (quiet), a reader of something its owner never closes (the usual info)."""
    vet("lh103_spin")
    assert compare("lh103_spin", ["LH103"]) == []
    found = run_rules(FIXTURES / "lh103_spin" / "device.go", ["LH103"])
    assert sorted((f.function, f.severity) for f in found) == [("device.readThread", "warning"), ("tap.drain", "info")]


def test_a_wait_for_a_goroutine_that_answers_on_some_paths_only_is_reported() -> None:
    """LH102, the forgotten sender (recall: scan said nothing about a handler waiting on a worker that
    returns without answering on its error path, the shape whose held connection buffers grew GoBGP's
    heap in real leaks set 2): `<-res` after a goroutine that sends on some paths only. Twins, quiet: an
    answer on every path, a deferred close, a select with the context."""
    vet("lh102_unanswered")
    assert compare("lh102_unanswered", ["LH102"]) == []
    found = run_rules(FIXTURES / "lh102_unanswered" / "lookup.go", ["LH102"])
    assert sorted(f.function for f in found) == ["lookup", "lookupSilentEnd"]
    assert "returns at line 28 without sending" in next(f for f in found if f.function == "lookup").message
