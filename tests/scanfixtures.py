"""Run source rules on the Go fixtures of tests/fixtures/scan and compare with their `want` markers.

A fixture line that a rule must report carries `// want LH101` (several ids:
`// want LH101 LH104`); every other line must stay silent for the rules under test.
The rules are called directly (registry + parse), so these tests do not depend on
the `scan` command's walker or output.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from leakhunter.model import Finding
from leakhunter.source.gomod import parse_go_mod
from leakhunter.source.parse import parse
from leakhunter.source.registry import all_rules
from leakhunter.source.rule import FileContext, Rule

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "scan"

_WANT = re.compile(r"//\s*want\s+((?:LH\d{3}\s*)+)")


def wanted(path: Path, rules: Iterable[str]) -> set[tuple[str, int]]:
    """(rule, line) pairs the `// want` markers of one file ask for, limited to `rules`."""
    keep = set(rules)
    out: set[tuple[str, int]] = set()
    for no, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = _WANT.search(text)
        if m:
            out.update((rid, no) for rid in m.group(1).split() if rid in keep)
    return out


def _go_version(path: Path | None = None) -> tuple[int, int] | None:
    """The `go` directive of the nearest go.mod above `path` (default: the fixtures module's)."""
    directory = path.parent if path is not None else FIXTURES
    for d in (directory, *directory.parents):
        gomod = d / "go.mod"
        if gomod.exists():
            return parse_go_mod(gomod.read_bytes())[1]
    return None


def run_rules(path: Path, rules: Iterable[str]) -> list[Finding]:
    """Findings of the given rule ids on one Go file."""
    keep = set(rules)
    source = path.read_bytes()
    ctx = FileContext(
        path=path,
        display_path=str(path),
        source=source,
        tree=parse(source),
        go_version=_go_version(path),
        is_test=path.name.endswith("_test.go"),
    )
    selected: list[Rule] = [r() for r in all_rules() if r.id in keep]
    assert len(selected) == len(keep), f"unknown rule ids: {keep - {r.id for r in selected}}"
    return [f for r in selected for f in r.check(ctx)]


def found(path: Path, rules: Iterable[str]) -> set[tuple[str, int]]:
    """(rule, line) pairs the rules report on one file."""
    return {(f.rule, f.line) for f in run_rules(path, rules)}


def fixture_files(package: str, root: Path = FIXTURES) -> list[Path]:
    """The .go files of one fixture package (tests/fixtures/scan/<package>, or under `root`)."""
    files = sorted((root / package).glob("*.go"))
    assert files, f"no fixtures in {root / package}"
    return files


def compare(package: str, rules: Iterable[str], root: Path = FIXTURES) -> list[str]:
    """Mismatches between markers and findings over a fixture package, as readable lines.

    `root` is the fixture module (default tests/fixtures/scan; another module, e.g. one
    with an older `go` directive, can hold packages of the same name).
    """
    rules = list(rules)
    problems: list[str] = []
    for path in fixture_files(package, root):
        want = wanted(path, rules)
        got = found(path, rules)
        rel = path.relative_to(root)
        problems += [
            f"{rel}:{ln}: missed {rid}" for rid, ln in sorted(want - got, key=lambda x: x[1])
        ]
        problems += [
            f"{rel}:{ln}: unexpected {rid}" for rid, ln in sorted(got - want, key=lambda x: x[1])
        ]
    return problems


def vet(*packages: str) -> None:
    """`go vet` the fixture packages: a fixture must be valid Go that the Go toolchain accepts."""
    import subprocess

    from golab import go_env, go_exe

    res = subprocess.run([go_exe(), "vet", *(f"./{p}/" for p in packages)], cwd=FIXTURES, capture_output=True,
                         text=True, timeout=300, env=go_env())
    assert res.returncode == 0, res.stdout + res.stderr


def vet_module(*roots: Path) -> None:
    """`go vet ./...` in each module root: a fixture module of its own beside tests/fixtures/scan (a module
    named without a dot, or one whose dependency's declarations come through a `replace`), and the
    replaced module itself, must be valid Go too."""
    import subprocess

    from golab import go_env, go_exe

    for root in roots:
        res = subprocess.run([go_exe(), "vet", "./..."], cwd=root, capture_output=True, text=True, timeout=300,
                             env=go_env())
        assert res.returncode == 0, f"{root}: " + res.stdout + res.stderr
