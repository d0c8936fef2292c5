"""The contract every command shares: help is fast and exits 0, misuse exits 2."""

from __future__ import annotations

from golab import leakhunter


def test_help_lists_commands() -> None:
    res = leakhunter("--help")
    assert res.returncode == 0
    assert b"leakhunter" in res.stdout


def test_no_command_is_usage_error() -> None:
    res = leakhunter()
    assert res.returncode == 2


def test_unknown_command_is_usage_error() -> None:
    res = leakhunter("frobnicate")
    assert res.returncode == 2
    assert b"Traceback" not in res.stderr
