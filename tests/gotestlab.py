"""Shared helpers for the `leakhunter test` tests: toolchains, runs, tree hashes.

Each toolchain runs the whole lab module once per session (a module-scoped fixture in
the test files); the cases then read that one real run's JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "lab" / "testleaks"
BROKEN = ROOT / "lab" / "testleaks_broken"


def toolchains() -> dict[str, str]:
    """`{"1.26": path, "1.27": path}` for the toolchains found on this machine."""
    found: dict[str, str] = {}
    for cand in (Path(sys.prefix) / "bin" / "go", shutil.which("go"), "/usr/local/go/bin/go"):
        if not cand or not Path(cand).exists():
            continue
        try:
            out = subprocess.run([str(cand), "version"], capture_output=True, text=True, timeout=60).stdout
        except OSError:
            continue
        m = re.search(r"go(\d+)\.(\d+)", out)
        if m:
            found.setdefault(f"{m.group(1)}.{m.group(2)}", str(cand))
    return found


def tree_hash(root: Path) -> str:
    """Every file's path and bytes under root (nothing may be added, changed or removed)."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    before: str
    after: str

    @property
    def doc(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.stdout)
        return data


def run_test_command(go: str, *args: str, cwd: Path = LAB, env_extra: dict[str, str] | None = None,
                     timeout: float = 600) -> Run:
    env = dict(os.environ)
    env["LEAKHUNTER_GO"] = go
    env.pop("GOEXPERIMENT", None)
    env.update(env_extra or {})
    before = tree_hash(cwd)
    res = subprocess.run(
        [sys.executable, "-m", "leakhunter", "test", *args], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=timeout,
    )
    return Run(res.returncode, res.stdout, res.stderr, before, tree_hash(cwd))


def leaks_of(doc: dict[str, Any], package: str) -> list[dict[str, Any]]:
    full = f"leakhunter.dev/testleaks/{package}"
    return [lk for lk in doc["leaks"] if lk["package"] == full]


def package_of(doc: dict[str, Any], package: str) -> dict[str, Any] | None:
    full = f"leakhunter.dev/testleaks/{package}"
    return next((p for p in doc["packages"] if p["package"] == full), None)
