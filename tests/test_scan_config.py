"""`.leakhunter.toml` (found walking up), CLI precedence, and the go.mod `go` directive."""

from __future__ import annotations

from pathlib import Path

from scanfix import LEAK, TICK, module, rules_of, scan_json

from leakhunter.source.gomod import module_for_dir, parse_go_mod


def test_config_found_walking_up_disables_a_rule(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"pkg/a.go": LEAK, "pkg/t.go": TICK})
    code, doc, _ = scan_json(str(root / "pkg"))
    assert code == 1 and {r for r, _, _ in rules_of(doc)} == {"LH201", "LH302"}
    (root / ".leakhunter.toml").write_text('[rules]\ndisable = ["LH201"]\n')
    code, doc, _ = scan_json(str(root / "pkg"))
    assert {r for r, _, _ in rules_of(doc)} == {"LH302"}
    # The command line wins over the file.
    code, doc, _ = scan_json(str(root / "pkg"), "--enable", "lost-cancel")
    assert {r for r, _, _ in rules_of(doc)} == {"LH201", "LH302"}
    code, doc, _ = scan_json(str(root / "pkg"), "--disable", "LH302,LH201")
    assert code == 0 and doc["findings"] == []


def test_severity_override_changes_output_and_exit_code(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"a.go": LEAK})
    code, doc, _ = scan_json(str(root), "--fail-on", "error")
    assert code == 1 and doc["findings"][0]["severity"] == "error"
    (root / ".leakhunter.toml").write_text('[rules.severity]\nLH201 = "info"\n')
    code, doc, _ = scan_json(str(root), "--fail-on", "warning")
    assert code == 0 and doc["findings"] == [] and doc["hidden_below_min_severity"] == 1
    code, doc, _ = scan_json(str(root), "--fail-on", "warning", "--show-info")
    assert code == 0 and doc["findings"][0]["severity"] == "info"


def test_config_exclude_paths_are_relative_to_the_config(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"a.go": LEAK, "gen/b.go": LEAK, "gen/sub/c.go": LEAK})
    (root / ".leakhunter.toml").write_text('[scan]\nexclude = ["gen"]\n')
    _code, doc, _ = scan_json(str(root))
    assert rules_of(doc) == [("LH201", "a.go", 6)]
    assert doc["files_scanned"] == 1


def test_explicit_config_file(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"a.go": LEAK})
    cfg = tmp_path / "strict.toml"
    cfg.write_text('[rules]\ndisable = ["lost-cancel"]\n')
    code, doc, _ = scan_json(str(root), "--config", str(cfg))
    assert code == 0 and doc["findings"] == []


def test_bad_configs_are_one_line_exit_2(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"a.go": LEAK})
    cases = {
        "[rules\n": "invalid TOML",
        '[rules]\ndisable = ["LH999"]\n': "unknown rule 'LH999'",
        '[rules.severity]\nLH201 = "fatal"\n': "expected info, warning or error",
        "[rulez]\n": "unknown section 'rulez'",
        "[scan]\nexclude = 3\n": "scan.exclude must be a list",
    }
    for text, msg in cases.items():
        (root / ".leakhunter.toml").write_text(text)
        code, _doc, err = scan_json(str(root))
        assert code == 2, text
        assert err.startswith("leakhunter: error: ") and msg in err, (text, err)
        assert err.count("\n") == 1 and "Traceback" not in err


def test_go_mod_parsing_and_nearest_lookup(tmp_path: Path) -> None:
    assert parse_go_mod(b"module a.b/c\n\ngo 1.22.3\n") == ("a.b/c", (1, 22))
    assert parse_go_mod(b'module "q/r"\ngo 1.23rc1\ntoolchain go1.24.0\n') == ("q/r", (1, 23))
    assert parse_go_mod(b"module x\n") == ("x", None)
    outer = module(tmp_path / "outer", {"a.go": LEAK}, go="1.21", name="ex.com/outer")
    inner = module(outer / "inner", {"b.go": LEAK}, go="1.24", name="ex.com/inner")
    (inner / "deep" / "er").mkdir(parents=True)
    assert module_for_dir(inner / "deep" / "er").go_version == (1, 24)
    assert module_for_dir(outer.absolute()).module == "ex.com/outer"


def test_go_directive_changes_timer_rule_severity(tmp_path: Path) -> None:
    old = module(tmp_path / "old", {"t.go": TICK}, go="1.22")
    new = module(tmp_path / "new", {"t.go": TICK}, go="1.23")
    _, d_old, _ = scan_json(str(old))
    _, d_new, _ = scan_json(str(new), "--show-info")
    assert [(f["rule"], f["severity"]) for f in d_old["findings"]] == [("LH302", "warning")]
    assert [(f["rule"], f["severity"]) for f in d_new["findings"]] == [("LH302", "info")]
    assert "go 1.22" in d_old["findings"][0]["message"]
