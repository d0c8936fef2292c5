"""LH106 and start barriers: `wg.Add(-n)` releases n waiters at once, like n Done calls.

Held-out set 12 (wazero's hammer, `unblocked.Add(-h.P)` once all P goroutines run) read
"nothing ever calls Done: Wait blocks forever" of a barrier that opens on every run."""

from __future__ import annotations

import subprocess

from golab import go_env, go_exe
from scanfixtures import FIXTURES, compare, run_rules


def test_barrier_fixture_vets() -> None:
    res = subprocess.run([go_exe(), "vet", "./lh106_negadd/"], cwd=FIXTURES, capture_output=True,
                         text=True, timeout=300, env=go_env())
    assert res.returncode == 0, res.stdout + res.stderr


def test_a_barrier_released_by_a_negative_add_is_not_reported() -> None:
    assert compare("lh106_negadd", ["LH106"]) == []
    found = {f.function for f in run_rules(FIXTURES / "lh106_negadd" / "barrier_test.go", ["LH106"])}
    assert found == {"runForgotten.func1"}
