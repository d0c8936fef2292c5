"""Process-ending paths (program/exits.py): leaks that exist only while the process ends are not shown.

Issue #8's largest false-positive shape: a file left open on an error return whose every caller
`log.Fatal`s, exits 1, or returns non-zero from a CLI `Run`; code run after the shutdown signal.
The fixture module tests/fixtures/scan/lh404_exits is real Go (vetted here) with a library package
and a command calling it; leaks whose callers carry on after the error stay reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from golab import go_exe
from scanfixtures import FIXTURES, compare, found

from leakhunter.source import gosyntax as gs
from leakhunter.source.parse import parse
from leakhunter.source.program import exits
from leakhunter.source.rule import FileContext

PKGS = ["lh404_exits/internal/writer", "lh404_exits/lib", "lh404_exits/tool"]


def test_fixture_vets() -> None:
    res = subprocess.run([go_exe(), "vet", "./lh404_exits/..."], cwd=FIXTURES, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr


def test_only_leaks_that_outlive_the_error_are_reported() -> None:
    for pkg in PKGS:
        assert compare(pkg, ["LH404"]) == []


def test_without_the_callers_every_error_path_would_be_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture's quiet functions do leak on their error paths: it is the callers that excuse them."""
    import leakhunter.source.rules._resource as res

    monkeypatch.setattr(res, "drop_process_ending", lambda *a: None)
    lines = {ln for _, ln in found(FIXTURES / "lh404_exits/tool/main.go", ["LH404"])}
    assert len(lines) == 5
    assert len(found(FIXTURES / "lh404_exits/internal/writer/writer.go", ["LH404"])) == 2
    assert len(found(FIXTURES / "lh404_exits/tool/cobra.go", ["LH404"])) == 1


def _ctx(rel: str) -> FileContext:
    path = FIXTURES / rel
    src = path.read_bytes()
    return FileContext(path=path, display_path=rel, source=src, tree=parse(src))


def _call(ctx: FileContext, text: str) -> object:
    return next(c for c in gs.nodes_of_type(ctx, "call_expression") if ctx.text(c).startswith(text))


def test_helpers_for_other_rules() -> None:
    ctx = _ctx("lh404_exits/tool/main.go")
    assert exits.ends_process(ctx, _call(ctx, "log.Fatal(err)"))  # type: ignore[arg-type]
    assert exits.ends_process(ctx, _call(ctx, "os.Exit(1)"))  # type: ignore[arg-type]
    assert not exits.ends_process(ctx, _call(ctx, "log.Print(err)"))  # type: ignore[arg-type]
    # after main's `defer w.Close()` the process always ends (os.Exit); inside the loop it may go round
    assert exits.process_ends_after(ctx, _call(ctx, "w.Close()"))  # type: ignore[arg-type]
    assert not exits.process_ends_after(ctx, _call(ctx, "f.Close()"))  # type: ignore[arg-type]
    assert exits.after_shutdown_signal(ctx, _call(ctx, 'os.Create("shutdown.log")'))  # type: ignore[arg-type]
    assert not exits.after_shutdown_signal(ctx, _call(ctx, 'os.Open("tool.conf")'))  # type: ignore[arg-type]
    run = next(f for f in gs.nodes_of_type(ctx, "method_declaration"))
    assert exits.is_cli_run(ctx, run)



def test_scan_command_from_the_package_directory(tmp_path: Path) -> None:
    """Through `leakhunter scan` run inside the fixture (relative paths, as users run it)."""
    env = {**os.environ, "LEAKHUNTER_CACHE_DIR": str(tmp_path)}
    res = subprocess.run(
        [sys.executable, "-m", "leakhunter", "scan", "--format", "json", "--no-cache", "."],
        cwd=FIXTURES / "lh404_exits", capture_output=True, text=True, timeout=120, env=env,
    )
    assert res.returncode == 1, res.stderr
    got = {(f["file"], f["line"]) for f in json.loads(res.stdout)["findings"] if f["rule"] == "LH404"}
    assert got == {("internal/writer/writer.go", 28), ("lib/lib.go", 12), ("tool/main.go", 79)}


# ---- lh404_exits2: a logger's fatal builder chain, a panic on the error, a select case that exits


def test_fixture2_vets() -> None:
    res = subprocess.run([go_exe(), "vet", "./lh404_exits2/..."], cwd=FIXTURES, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr


def test_fatal_chain_panic_and_exiting_select_case_excuse_only_their_own_leaks() -> None:
    """zerolog's `log.Fatal().Err(err).Msg(...)`/`logger.Fatal().Msgf(...)` callers, a `panic(err)` in a
    command's named function, a select case whose body is the fatal chain, every return of a one-shot
    CLI command (ffcli `Exec: f`, cobra `Run:` literal): excused. Next to each, the leaking variant stays
    (`zlog.Error()...Msg` carries on; a handler's panic is recovered by net/http; an `Exec` function
    also called in a loop; a `Run` field that is no command; a `PreRunE` whose success leads on to the
    command)."""
    assert compare("lh404_exits2/tool", ["LH404", "LH101"]) == []


def test_fixture2_would_report_every_path_without_the_exits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The excused leaks are real leaks on their paths: it is the exit that excuses them."""
    import leakhunter.source.rules._resource as res

    monkeypatch.setattr(res, "drop_process_ending", lambda *a: None)
    assert len(found(FIXTURES / "lh404_exits2/tool/main.go", ["LH404"])) == 5
    assert len(found(FIXTURES / "lh404_exits2/tool/commands.go", ["LH404"])) == 5
    monkeypatch.setattr(exits, "process_ends_after", lambda *a: False)
    assert len(found(FIXTURES / "lh404_exits2/tool/serve.go", ["LH101"])) == 4


def test_fatal_builder_helpers() -> None:
    ctx = _ctx("lh404_exits2/tool/main.go")
    assert exits.ends_process(ctx, _call(ctx, "zlog.Fatal().Err(err).Msg("))  # type: ignore[arg-type]
    assert exits.ends_process(ctx, _call(ctx, "logger.Fatal().Err(err).Msgf("))  # type: ignore[arg-type]
    assert not exits.ends_process(ctx, _call(ctx, "zlog.Error().Err(err).Msg("))  # type: ignore[arg-type]
    assert not exits.ends_process(ctx, _call(ctx, "panic(err)"))  # type: ignore[arg-type]  # run() is not main


_LOGGERS = b"""package main

func f(err error) {
	log.Fatal().Err(err).Msg("zerolog")
	logger.Fatal().Str("k", "v").Msgf("zerolog %d", 1)
	log.Fatal().Send()
	zap.L().Fatal("zap")
	logger.Fatal("zap")
	logrus.WithError(err).Fatal("logrus")
	log.Error().Err(err).Msg("zerolog error")
	log.Fatal().Err(err)
	logger.Info("x").Msg("not fatal")
}
"""


@pytest.mark.parametrize(("prefix", "ends"), [
    ('log.Fatal().Err(err).Msg("zerolog")', True), ('logger.Fatal().Str("k", "v").Msgf', True),
    ("log.Fatal().Send()", True), ('zap.L().Fatal("zap")', True), ('logger.Fatal("zap")', True),
    ('logrus.WithError(err).Fatal("logrus")', True), ("log.Error().Err(err).Msg", False),
    ('logger.Info("x").Msg', False),
])
def test_logger_fatal_forms(tmp_path: Path, prefix: str, ends: bool) -> None:
    """zerolog's event chains end the process once sent; zap's and logrus's Fatal methods at once."""
    path = tmp_path / "main.go"
    path.write_bytes(_LOGGERS)
    ctx = FileContext(path=path, display_path="main.go", source=_LOGGERS, tree=parse(_LOGGERS))
    call = next(c for c in gs.nodes_of_type(ctx, "call_expression")
                if ctx.text(c).startswith(prefix) and c.parent is not None and c.parent.type == "expression_statement")
    assert exits.ends_process(ctx, call) is ends
