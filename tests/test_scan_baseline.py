"""Baselines: only new findings are reported, and identity survives unrelated line shifts."""

from __future__ import annotations

import json
from pathlib import Path

from scanfix import LEAK, module, rules_of, scan_json

from leakhunter.source.scanner import scan_paths

BLOCK = """	{
		c, _ := context.WithCancel(parent)
		_ = c
	}
"""
TWO = f"""package demo

import "context"

func Twice(parent context.Context) {{
{BLOCK}{BLOCK}}}
"""


def test_write_then_check_reports_only_new_findings(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"a.go": LEAK})
    base = tmp_path / "baseline.json"
    code, _, err = scan_json(str(root), "--write-baseline", str(base))
    assert code == 0 and "wrote 1 finding" in err
    recorded = json.loads(base.read_text())
    assert recorded["tool"] == "leakhunter" and len(recorded["findings"]) == 1

    code, doc, _ = scan_json(str(root), "--baseline", str(base))
    assert code == 0 and doc["findings"] == [] and doc["baseline_hidden"] == 1

    # Unrelated edits that shift the finding down and reformat it keep its identity.
    shifted = LEAK.replace('import "context"', '// a header comment\n\nimport (\n\t"context"\n)\n\nvar _ = 1')
    shifted = shifted.replace("ctx, _ := context.WithCancel(parent)", "ctx, _ :=   context.WithCancel( parent )")
    (root / "a.go").write_text(shifted)
    code, doc, _ = scan_json(str(root), "--baseline", str(base))
    assert code == 0 and doc["findings"] == []

    # A new leak elsewhere is reported, and only it.
    (root / "b.go").write_text(LEAK.replace("func Lost", "func Other"))
    code, doc, _ = scan_json(str(root), "--baseline", str(base))
    assert code == 1 and rules_of(doc) == [("LH201", "b.go", 6)]


def test_fingerprint_does_not_depend_on_how_the_path_was_given(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"pkg/a.go": LEAK})
    absolute = scan_paths([str(root)], jobs=1).findings
    _, rel_doc, _ = scan_json("./...", cwd=root)
    _, sub_doc, _ = scan_json(".", cwd=root / "pkg")
    assert len(absolute) == 1
    assert absolute[0].fingerprint == rel_doc["findings"][0]["fingerprint"] == sub_doc["findings"][0]["fingerprint"]
    assert rel_doc["findings"][0]["file"] == "pkg/a.go"


def test_identical_lines_in_one_function_are_distinct_findings(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"two.go": TWO})
    res = scan_paths([str(root)], jobs=1)
    fps = [f.fingerprint for f in res.findings if f.rule == "LH201"]
    assert len(fps) == 2 and len(set(fps)) == 2
    # Baseline one of them: the other (a copy added later) still counts as new.
    base = tmp_path / "b.json"
    one = module(tmp_path / "m1", {"two.go": TWO.replace(BLOCK + BLOCK, BLOCK)})
    code, _, _ = scan_json(str(one), "--write-baseline", str(base))
    (one / "two.go").write_text(TWO)
    code, doc, _ = scan_json(str(one), "--baseline", str(base))
    assert code == 1 and [f["line"] for f in doc["findings"]] == [11]


def test_editing_the_flagged_line_or_renaming_the_function_makes_it_new(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"a.go": LEAK})
    base = tmp_path / "b.json"
    scan_json(str(root), "--write-baseline", str(base))
    (root / "a.go").write_text(LEAK.replace("func Lost", "func Renamed"))
    code, doc, _ = scan_json(str(root), "--baseline", str(base))
    assert code == 1 and len(doc["findings"]) == 1


def test_unusable_baseline_is_exit_2(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"a.go": LEAK})
    bad = tmp_path / "bad.json"
    for content, msg in [
        ("{not json", "invalid JSON"),
        ('{"findings": []}', "not a leakhunter baseline"),
        ('{"tool": "leakhunter", "version": 99, "findings": []}', "version 99"),
    ]:
        bad.write_text(content)
        code, _, err = scan_json(str(root), "--baseline", str(bad))
        assert code == 2 and msg in err and err.count("\n") == 1
    code, _, err = scan_json(str(root), "--baseline", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read baseline" in err
