"""Start-up of `scan`: rule metadata without importing the rules, and a warm re-scan that parses nothing.

A re-scan of an unchanged tree must cost about what a warm `go vet` costs; importing
every rule module, the program model and tree-sitter only to replay cached outcomes
was most of it (bench/RESULTS-scan.md). These tests keep that from creeping back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from leakhunter.source import registry
from leakhunter.source.config import ScanConfig, resolve_rule_id, selected_rules

LEAKY = """package main

import "fmt"

func leak() {
\tch := make(chan int)
\tgo func() { ch <- 1 }()
}

func main() { leak(); fmt.Println("x") }
"""


def test_rule_table_matches_the_rule_modules() -> None:
    """The generated table must say what the classes say (and be stamped with their sources' digest)."""
    from leakhunter.source import rule_table

    want = registry.infos_from_classes(registry.all_rules())
    got = tuple(registry.RuleInfo(i, n, s, d, m) for i, n, s, d, m in rule_table.RULES)  # type: ignore[arg-type]
    fix = f"src/leakhunter/source/rule_table.py is stale: run `{registry.FIX_COMMAND}`"
    assert got == want, fix
    assert registry.sources_digest() == rule_table.DIGEST, fix


def test_stale_table_is_not_believed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table whose digest does not match the sources must fall back to the classes, not mislead."""
    from leakhunter.source import rule_table

    real = registry.infos_from_classes(registry.all_rules())
    lie = tuple(("LH999", "made-up", "error", True, "lh999_made_up") for _ in range(1))
    monkeypatch.setattr(rule_table, "RULES", lie)
    monkeypatch.setattr(rule_table, "DIGEST", "0" * 32)
    registry.rule_infos.cache_clear()
    registry.table_is_fresh.cache_clear()
    try:
        assert registry.rule_infos() == real
        assert "LH999" not in selected_rules(ScanConfig())
        assert [r.id for r in registry.rules_for(["LH101", "LH201"])] == ["LH101", "LH201"]
    finally:
        registry.rule_infos.cache_clear()
        registry.table_is_fresh.cache_clear()


def test_selection_and_names_come_from_the_metadata() -> None:
    infos = registry.rule_infos()
    assert selected_rules(ScanConfig()) == sorted(r.id for r in infos if r.enabled_by_default)
    for r in infos:
        assert resolve_rule_id(r.name) == r.id
        assert resolve_rule_id(r.id.lower()) == r.id
    assert [c.id for c in registry.rules_for([r.id for r in infos])] == [r.id for r in infos]


_PROBE = """
import json, sys
from leakhunter.cli import main
rc = main(sys.argv[1:])
light = ("leakhunter.source.program", "leakhunter.source.program.oneshot")  # regexes: command-line code
heavy = sorted(m for m in sys.modules
               if m.startswith(("tree_sitter", "leakhunter.source.rules", "leakhunter.source.program",
                                "leakhunter.source.goflow", "leakhunter.source.release", "concurrent.futures"))
               and m not in light)
print(json.dumps({"rc": rc, "heavy": heavy}), file=sys.stderr)
"""


def _probe(tmp: Path, *args: str) -> dict[str, object]:
    env = {**os.environ, "LEAKHUNTER_CACHE_DIR": str(tmp / "cache")}
    p = subprocess.run([sys.executable, "-c", _PROBE, "scan", "--format", "json", *args, str(tmp / "m")],
                       capture_output=True, text=True, env=env, timeout=120)
    doc: dict[str, object] = json.loads(p.stderr.strip().splitlines()[-1])
    doc["out"] = json.loads(p.stdout)
    return doc


def test_warm_rescan_imports_no_rule_parser_or_pool(tmp_path: Path) -> None:
    """Everything served from the cache: no rule module, program model, tree-sitter or process pool."""
    assert registry.table_is_fresh(), (
        f"src/leakhunter/source/rule_table.py is stale (rule sources changed): run `{registry.FIX_COMMAND}`"
    )
    m = tmp_path / "m"
    m.mkdir()
    (m / "go.mod").write_text("module example.com/m\n\ngo 1.22\n")
    (m / "main.go").write_text(LEAKY)
    old = 1_600_000_000
    os.utime(m / "main.go", (old, old))
    first = _probe(tmp_path)
    assert first["rc"] == 1 and first["heavy"], first  # a real scan: the rules ran and found the leak
    warm = _probe(tmp_path)
    assert warm["rc"] == 1
    assert warm["heavy"] == [], f"a warm re-scan imported {warm['heavy']}"
    out = warm["out"]
    assert isinstance(out, dict) and out["cached_files"] == 1
    assert out["findings"] == first["out"]["findings"]  # type: ignore[index]


def test_digest_follows_metadata_lines_not_logic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rule helpers edit rule logic all the time: that must not stale the table; a severity change must."""
    import shutil

    src = Path(registry.__file__).parent
    (tmp_path / "rules").mkdir()
    shutil.copy(src / "rule.py", tmp_path / "rule.py")
    for p in (src / "rules").glob("*.py"):
        shutil.copy(p, tmp_path / "rules" / p.name)
    monkeypatch.setattr(registry, "_SOURCE", tmp_path)
    d0 = registry.sources_digest()
    rule = tmp_path / "rules" / "lh101_blocked_send.py"
    text = rule.read_text()
    rule.write_text(text + "\n\ndef _helper(x: int) -> int:\n    y = x + 1\n    return y\n")
    assert registry.sources_digest() == d0
    rule.write_text(text.replace('severity = "error"', 'severity = "warning"', 1))
    assert registry.sources_digest() != d0
    rule.write_text(text)
    (tmp_path / "rules" / "lh999_new.py").write_text("x = 1\n")
    assert registry.sources_digest() != d0  # a new rule module
