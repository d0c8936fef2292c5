"""Held-out set 29's false-positive classes (issue #8, session 20, after its measurement: tuning), each
fixed in a general form with a reported twin, on real Go:

- LH404: a function a mode of main runs right before `os.Exit(0)` (goiardi's `-x` export and `-m`
  import) leaves its file open only as long as the process, which ends there. Twin: a mode after which
  main goes on to serve.
"""

from __future__ import annotations

from scanfixtures import compare, vet


def test_a_mode_of_main_that_exits_runs_once() -> None:
    """program/exits' tail-call check read past `os.Exit(0)` into the server main starts otherwise, so
    exportAll was taken for code that runs on in a long-lived process."""
    vet("lh404_exitmode")
    assert compare("lh404_exitmode", ["LH404"]) == []
