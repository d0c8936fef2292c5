"""Which module a file belongs to decides what its calls reach, and which code counts as a program's own.

- A module without go.mod, as old modules sit in the module cache (`<GOMODCACHE>/example.com/!cloud!init@v1.4.0`):
  the go command synthesizes `module example.com/CloudInit` for it, so its packages import each other by
  that path. Read so, its own client's `Get` (bytes back, the body closed inside) is not net/http's
  (coreos-cloudinit, held-out set 54: two false LH401), and a real discarded response stays reported.
- A one-shot program at the module root does not make every package of the module its own code: a client
  package beside it is a library other programs import, and its per-call leak stays reported (credhub-cli's
  `AddPermission`, held-out set 48); a package under `internal/` is still the command's own.

Both fixtures are real Go: vetted (the go.mod-less one under the module line the go command would write).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from golab import go_env, go_exe
from scanfixtures import FIXTURES, wanted

from leakhunter.source import gomod
from leakhunter.source.scanner import scan_paths

GOMODLESS = FIXTURES.parent / "gomodless"
ROOTPROG = FIXTURES.parent / "rootprog"
CACHED = "example.com/!cloud!init@v1.4.0"


def _findings(root: Path) -> set[tuple[str, int]]:
    return {(f.rule, f.line) for f in scan_paths([str(root)], rules=["LH401", "LH404"], jobs=1).findings
            if Path(f.file).name in ("ds.go", "client.go", "job.go")}


def _wanted(root: Path) -> set[tuple[str, int]]:
    return {w for p in sorted(root.rglob("*.go")) for w in wanted(p, ["LH401", "LH404"])}


def _vet(root: Path) -> None:
    res = subprocess.run([go_exe(), "vet", "./..."], cwd=root, capture_output=True, text=True, timeout=300,
                         env=go_env())
    assert res.returncode == 0, res.stdout + res.stderr


def test_gomodless_fixture_is_valid_go(tmp_path: Path) -> None:
    shutil.copytree(GOMODLESS, tmp_path / "m")
    (tmp_path / "m" / "go.mod").write_text("module example.com/CloudInit\n")
    _vet(tmp_path / "m")


def test_module_cache_copy_without_go_mod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "modcache"
    (cache / "cache" / "download").mkdir(parents=True)
    root = cache / CACHED
    shutil.copytree(GOMODLESS, root)
    info = gomod.module_for_dir(root / "datasource")
    assert (info.root, info.module, info.go_version) == (root, "example.com/CloudInit", None)
    monkeypatch.setenv("GOMODCACHE", str(cache))
    assert _findings(root) == _wanted(root)


def test_versioned_directory_outside_a_module_cache_is_no_module(tmp_path: Path) -> None:
    root = tmp_path / CACHED  # no `cache/download` beside it: a directory that merely looks versioned
    shutil.copytree(GOMODLESS, root)
    assert gomod.module_for_dir(root / "datasource").module == ""


def test_rootprog_fixture_is_valid_go() -> None:
    _vet(ROOTPROG)


def test_library_beside_a_root_program_is_not_its_own_code() -> None:
    got = _findings(ROOTPROG)
    assert got == _wanted(ROOTPROG)
    assert ("LH401", 21) in got  # the client's per-call leak
    assert not any(rule == "LH404" for rule, _ in got)  # internal/job: the one-shot command's own code
