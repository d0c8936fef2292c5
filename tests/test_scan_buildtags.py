"""Files whose build constraint no toolchain that builds the module satisfies are not scanned.

Held-out set 28: songgao/water keeps `syscalls_linux_legacy.go` (`// +build linux,!go1.11`) beside its
replacement; no Go release since 1.11 compiles it, yet its LH404 was shown. An OS or architecture tag,
a custom tag or a later release still leaves the file scanned (the twin below is reported).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from golab import leakhunter

from leakhunter.source.buildtags import never_built

OPEN_DEV = """package water

import (
	"errors"
	"os"
)

type Interface{name} struct{{ f *os.File }}

func {name}(dev string) (ifce *Interface{name}, err error) {{
	var file *os.File
	if file, err = os.OpenFile(dev, os.O_RDWR, 0); err != nil {{
		return nil, err
	}}
	if err := setup{name}(file.Fd()); err != nil {{
		return nil, err
	}}
	return &Interface{name}{{f: file}}, nil
}}

func setup{name}(fd uintptr) error {{
	if fd > 1<<20 {{
		return errors.New("unexpected descriptor")
	}}
	return nil
}}
"""


def test_a_file_no_toolchain_builds_is_skipped_and_its_twin_is_reported(tmp_path: Path) -> None:
    (tmp_path / "legacy.go").write_text("// +build linux,!go1.11\n\n" + OPEN_DEV.format(name="OpenDev"))
    (tmp_path / "current.go").write_text("//go:build linux && (amd64 || arm64)\n\n" + OPEN_DEV.format(name="OpenDevNow"))
    res = leakhunter("scan", str(tmp_path), "--no-cache", "--format", "json", timeout=120)
    doc = json.loads(res.stdout)
    places = [(Path(f["file"]).name, f["rule"]) for f in doc["findings"]]
    assert places == [("current.go", "LH404")], places
    text = leakhunter("scan", str(tmp_path), "--no-cache", timeout=120)
    assert text.returncode == 1
    assert "legacy.go: never built: `// +build linux,!go1.11` is false for every Go release from 1.16" in \
        text.stderr.decode(), text.stderr.decode()


@pytest.mark.parametrize(("head", "go", "skipped"), [
    ("// +build linux,!go1.11\n", (1, 21), True),
    ("//go:build !go1.18\n", (1, 21), True),
    ("//go:build linux && !go1.9 || windows && !go1.9\n", None, True),
    ("// +build !go1.11\n// +build linux\n", (1, 16), True),
    ("//go:build linux\n", (1, 21), False),
    ("//go:build !go1.22\n", (1, 21), False),    # a toolchain 1.21 still builds it
    ("//go:build go1.30\n", (1, 21), False),     # a later release: may be built
    ("// +build !go1.11 appengine\n", (1, 21), False),  # or appengine
    ("//go:build ignore\n", (1, 21), False),     # a program run by hand: scanned as before
    ("//go:build (linux && \n", (1, 21), False),  # unreadable: kept
])
def test_which_constraints_no_toolchain_satisfies(head: str, go: tuple[int, int] | None, skipped: bool) -> None:
    assert bool(never_built((head + "\npackage p\n").encode(), go)) is skipped
