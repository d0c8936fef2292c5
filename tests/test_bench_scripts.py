"""Bench and harness scripts meet bad input as the commands do: one line on stderr, exit 2, no traceback.

`bench/parse_sweep.py` given a root that is not a directory would otherwise sweep nothing and report a clean
result; `bench/precision/debian_candidates.py` without apt-cache (or outside a git checkout) would otherwise
list candidates with an exclusion silently dropped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)


def test_parse_sweep_says_a_root_that_is_not_a_directory(tmp_path: Path) -> None:
    res = _run(["bench/parse_sweep.py", str(tmp_path / "missing")])
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().splitlines() == [f"parse_sweep: not a directory: {tmp_path / 'missing'}"]


def test_debian_candidates_without_apt_cache_says_so(tmp_path: Path) -> None:
    res = _run(["bench/precision/debian_candidates.py"], env={"PATH": str(tmp_path)})
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("debian_candidates: apt-cache failed:"), res.stderr
    assert res.stdout == ""
