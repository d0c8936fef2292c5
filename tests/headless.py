"""Headless Chromium for the HTML tests: the DOM after scripts ran, console lines, a screenshot.

Debian's `chromium` with the options that keep it offline and quiet. `--dump-dom` prints
the DOM once the virtual time budget is spent, so a page's own script can leave its
results in attributes (data-*) for the test to read.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
WIDTH = 1280


@dataclass
class Page:
    dom: str
    console: list[str]
    log: str


def _base(profile: Path, width: int, height: int) -> list[str]:
    return [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
            "--enable-logging=stderr", "--v=0", f"--window-size={width},{height}",
            "--virtual-time-budget=10000"]


def _run(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    """Run Chromium, once more if it was killed by a signal. A SIGSEGV of the browser itself under a
    loaded CI machine (once in session 21's suite, 3 of 3 passes alone) says nothing about the page;
    a page that fails to render exits 0 with a wrong DOM, or non-zero without a signal, and fails."""
    res = subprocess.run(args, capture_output=True, timeout=120)
    if res.returncode < 0:
        res = subprocess.run(args, capture_output=True, timeout=120)
    return res


def load(page: Path, tmp: Path, *, width: int = WIDTH, height: int = 1000) -> Page:
    res = _run([*_base(tmp / "chromium-dom", width, height), "--dump-dom", page.as_uri()])
    log = res.stderr.decode("utf-8", "replace")
    assert res.returncode == 0, log[-2000:]
    console = [ln for ln in log.splitlines() if "CONSOLE" in ln]
    return Page(res.stdout.decode("utf-8", "replace"), console, log)


def screenshot(page: Path, out: Path, tmp: Path, *, width: int = WIDTH, height: int = 2400) -> Path:
    res = _run([*_base(tmp / "chromium-shot", width, height), f"--screenshot={out}", page.as_uri()])
    assert res.returncode == 0 and out.exists(), res.stderr.decode("utf-8", "replace")[-2000:]
    return out


def errors(console: list[str]) -> list[str]:
    return [ln for ln in console if "Uncaught" in ln or "Error" in ln]


if __name__ == "__main__":
    import sys
    import tempfile

    if len(sys.argv) != 3:
        sys.exit("usage: python tests/headless.py PAGE.html OUT.png")
    with tempfile.TemporaryDirectory() as d:
        print(screenshot(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve(), Path(d)))
