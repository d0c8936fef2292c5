"""Output formats of `leakhunter scan`: text (go vet shape), JSON contract, SARIF 2.1.0, GitHub."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
from scanfix import LEAK, TICK, module, scan_json

from leakhunter.model import Finding
from leakhunter.report import github
from leakhunter.source.registry import all_rules

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leakhunter", "scan", *args], capture_output=True, text=True, timeout=300, cwd=cwd,
        env={**os.environ, "NO_COLOR": ""},
    )


def test_text_is_go_vet_shaped_with_a_fix_line_and_no_colour_off_a_tty(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"a.go": LEAK, "t.go": TICK})
    res = run(".", cwd=root)
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert len(lines) == 4
    assert re.fullmatch(r"a\.go:6:7: LH201 lost-cancel: .+", lines[0])
    assert lines[1].startswith("    fix: ") and "cancel" in lines[1]
    assert re.fullmatch(r"t\.go:6:12: LH302 time-tick: .+", lines[2])
    assert "\x1b[" not in res.stdout
    assert re.search(r"leakhunter: 2 findings .* in 2 files", res.stderr)


def test_text_is_coloured_on_a_terminal(tmp_path: Path) -> None:
    import pty

    root = module(tmp_path / "m", {"a.go": LEAK})
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "leakhunter", "scan", "."], stdout=slave, stderr=subprocess.DEVNULL, cwd=root, env=env
    )
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=60)
    os.close(master)
    assert proc.returncode == 1
    assert b"\x1b[31mLH201 lost-cancel:" in out


def test_json_has_the_design_contract_keys(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"a.go": LEAK})
    code, doc, _ = scan_json(".", cwd=root)
    assert code == 1
    assert {"findings", "files_scanned", "duration_s", "skipped"} <= set(doc)
    f = doc["findings"][0]
    assert {"rule", "name", "severity", "file", "line", "column", "message", "fix"} <= set(f)
    assert (f["rule"], f["name"], f["severity"], f["file"], f["line"], f["column"]) == (
        "LH201", "lost-cancel", "error", "a.go", 6, 7,
    )
    assert f["function"] == "Lost" and len(f["fingerprint"]) == 32
    assert doc["files_scanned"] == 1 and isinstance(doc["duration_s"], float)


def test_sarif_is_valid_against_the_official_schema(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"pkg/a.go": LEAK, "pkg/t.go": TICK, "bad.go": b"package x\n\xff\n"})
    res = run("--format", "sarif", ".", cwd=root)
    assert res.returncode == 1
    log = json.loads(res.stdout)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(log, schema, cls=jsonschema.Draft7Validator, format_checker=jsonschema.FormatChecker())

    run0 = log["runs"][0]
    rules = run0["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in all_rules() if r.enabled_by_default]
    lh201 = next(r for r in rules if r["id"] == "LH201")
    assert "Fix:" in lh201["help"]["text"] and "```go" in lh201["help"]["markdown"]
    # each rule's precision as measured on held-out modules (report/trust.py), where there is one
    from leakhunter.report import trust

    for r in rules:
        assert r["properties"].get("precision") == trust.precision_label(r["id"]), r["id"]
    assert rules[0]["properties"]["leakhunterMeasured"]["triaged"] == (trust.measured(rules[0]["id"]) or (0, 0))[1]
    results = run0["results"]
    assert [r["ruleId"] for r in results] == ["LH201", "LH302"]
    loc = results[0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "pkg/a.go", "uriBaseId": "%SRCROOT%"}
    assert loc["region"]["startLine"] == 6 and loc["region"]["startColumn"] == 7
    assert rules[results[0]["ruleIndex"]]["id"] == "LH201"
    assert len(results[0]["partialFingerprints"]["leakhunterFingerprint/v1"]) == 32
    assert run0["originalUriBaseIds"]["%SRCROOT%"]["uri"] == root.resolve().as_uri() + "/"
    notes = run0["invocations"][0]["toolExecutionNotifications"]
    assert len(notes) == 1 and "not valid UTF-8" in notes[0]["message"]["text"]


def test_sarif_with_no_findings_is_still_valid(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"a.go": "package demo\n"})
    res = run("--format", "sarif", ".", cwd=root)
    assert res.returncode == 0
    log = json.loads(res.stdout)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()), cls=jsonschema.Draft7Validator)
    assert log["runs"][0]["results"] == []


def test_github_annotations(tmp_path: Path) -> None:
    root = module(tmp_path / "m", {"a.go": LEAK, "t.go": TICK})
    res = run("--format", "github", ".", cwd=root)
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"::error file=a\.go,line=6,col=7,endLine=6,title=LH201 lost-cancel::.+%0Afix: .+", lines[0])
    assert lines[1].startswith("::warning file=t.go,line=6,col=12,")


def test_github_escapes_what_would_break_the_command() -> None:
    f = Finding(
        rule="LH101", name="blocked-send", severity="info", file="a,b:c.go", line=3, column=1,
        message="50% of\nsends", fix="",
    )
    line = github.annotation(f)
    assert line == "::notice file=a%2Cb%3Ac.go,line=3,col=1,title=LH101 blocked-send::50%25 of%0Asends"


def test_info_findings_are_hidden_in_every_format_unless_asked_for(tmp_path: Path) -> None:
    # go 1.23: time.Tick is collected, so LH302 is info (a cost); the lost cancel is an error.
    root = module(tmp_path / "m", {"a.go": LEAK, "t.go": TICK}, go="1.23")
    for fmt in ("text", "json", "sarif", "github"):
        default = run(".", "--format", fmt, cwd=root)
        shown = run(".", "--format", fmt, "--show-info", cwd=root)
        assert default.returncode == shown.returncode == 1, fmt
        if fmt == "sarif":  # every rule is described in tool.driver.rules: look at the results
            ids = [[r["ruleId"] for r in json.loads(p.stdout)["runs"][0]["results"]] for p in (default, shown)]
            assert ids == [["LH201"], ["LH201", "LH302"]]
        else:
            assert "LH201" in default.stdout and "LH302" not in default.stdout, fmt
            assert "LH201" in shown.stdout and "LH302" in shown.stdout, fmt
        assert "1 info hidden (--show-info shows them)" in default.stderr.splitlines()[-1], fmt
        assert "hidden" not in shown.stderr, fmt
    sarif = json.loads(run(".", "--format", "sarif", cwd=root).stdout)
    assert sarif["runs"][0]["invocations"][0]["properties"]["hiddenBelowMinSeverity"] == 1
    # --min-severity error hides warnings too; --min-severity info equals --show-info.
    code, doc, _ = scan_json(str(root), "--min-severity", "error")
    assert code == 1 and [f["rule"] for f in doc["findings"]] == ["LH201"] and doc["min_severity"] == "error"
    code, doc, _ = scan_json(str(root), "--min-severity", "info")
    assert code == 1
    assert sorted(f["rule"] for f in doc["findings"]) == ["LH201", "LH302"]
    assert doc["hidden_below_min_severity"] == 0
