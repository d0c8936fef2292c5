"""Small Go sources and helpers shared by the `leakhunter scan` infrastructure tests.

The leak used throughout is LH201 lost-cancel (`ctx, _ := context.WithCancel(...)`):
the plainest catalog pattern, one finding on a known line. LH302 time-tick is the
Go-version-aware one (warning before go 1.23, info from 1.23 on).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from golab import leakhunter

LEAK = """package demo

import "context"

func Lost(parent context.Context) context.Context {
	ctx, _ := context.WithCancel(parent)
	return ctx
}
"""
LEAK_LINE = 6

CLEAN = """package demo

import "context"

func Fine(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	return ctx.Err()
}
"""

TICK = """package demo

import "time"

func Wait(ready func() bool) {
	for range time.Tick(time.Second) {
		if ready() {
			return
		}
	}
}
"""


def module(root: Path, files: dict[str, str | bytes], *, go: str = "1.22", name: str = "example.com/demo") -> Path:
    """Write a Go module (go.mod + files) under root and return root."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text(f"module {name}\n\ngo {go}\n")
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text)
    return root


def scan_json(*args: str, cwd: Path | None = None) -> tuple[int, dict[str, Any], str]:
    """Run `leakhunter scan --format json ARGS` as a real process; (exit code, document, stderr)."""
    import subprocess

    res = subprocess.run(
        [sys.executable, "-m", "leakhunter", "scan", "--format", "json", *args],
        capture_output=True, timeout=300, cwd=cwd,
    )
    doc = json.loads(res.stdout) if res.stdout.strip() else {}
    return res.returncode, doc, res.stderr.decode()


def rules_of(doc: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(f["rule"], Path(f["file"]).name, f["line"]) for f in doc.get("findings", [])]


__all__ = ["CLEAN", "LEAK", "LEAK_LINE", "TICK", "leakhunter", "module", "rules_of", "scan_json"]
