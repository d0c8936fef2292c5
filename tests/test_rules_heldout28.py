"""Held-out set 28's false-positive classes (issue #8, session 20, after its measurement: tuning), each
fixed in a general form with a reported twin, on real Go:

- LH404: a file opened to hold a flock(2) lock (rootlesskit's state-directory lock) is the lock.
  Twin: a file opened only to be read.
- LH101: a function main calls once, last, runs once before the process ends, also when a closure in
  it declares a local of the function's own name (pubnub's example). Twin: the same called in a loop.
- A file no toolchain that builds the module compiles (`// +build linux,!go1.11`, songgao/water) is not
  scanned (tests/test_scan_buildtags.py).
"""

from __future__ import annotations

from scanfixtures import compare, vet


def test_a_file_held_open_for_its_flock_is_the_lock() -> None:
    """LH404 (rootlesskit's createCleanupLock, held-out set 28): the state directory is opened and locked
    with LOCK_SH so that systemd-tmpfiles skips it; closing it would release the lock. Twin, reported: a
    file opened only to be read."""
    vet("lh404_flock")
    assert compare("lh404_flock", ["LH404"]) == []


def test_a_local_named_like_the_function_does_not_hide_its_callers() -> None:
    """LH101 (pubnub's getting_started example, held-out set 28): presence() runs once, as main's last
    statement, so the goroutine it may strand ends with the process; a closure inside it receives into a
    variable named `presence`, which the caller search took for an unknown use of the function. Twin,
    reported: the same function called from a loop of main."""
    vet("lh101_shadowed")
    assert compare("lh101_shadowed", ["LH101"]) == []
