"""Process-ending paths that reach the end of main (program/exits.py, issue #8's "process end" family).

A caller's error branch that returns from a function which ends the process when it returns (`main`,
a `run() int` whose status goes straight to `os.Exit`) ends the process as surely as `log.Fatal`:
discordgo's airhorn example prints the loader's error and returns from main (held-out 12). A bare
`return` under `if err != nil` of a function with a named `err error` result hands that error back,
and urfave/cli's default action may be assigned (`app.Action = func(c *cli.Context) error {...}`):
croc's `send` helpers (held-out 9). The fixture tests/fixtures/scan/lh404_mainreturn is real Go
(vetted here); beside each excused leak is a twin whose caller goes on (an HTTP handler, a per-file
loop, a deferred closure that may clear the error) and stays reported, for the resource rules and
the goroutine rules alike.
"""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest
from golab import go_exe
from scanfixtures import FIXTURES, compare, found

from leakhunter.source import gosyntax as gs
from leakhunter.source.parse import parse
from leakhunter.source.program import exits
from leakhunter.source.rule import FileContext

if TYPE_CHECKING:
    from tree_sitter import Node


def test_fixture_vets() -> None:
    res = subprocess.run([go_exe(), "vet", "./lh404_mainreturn/..."], cwd=FIXTURES, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("pkg", ["lh404_mainreturn/bot", "lh404_mainreturn/tool", "lh404_mainreturn/croc"])
def test_a_return_that_ends_main_excuses_only_its_own_callee(pkg: str) -> None:
    """Excused: the loader whose error main prints before `return` (also from main's loop that returns on
    the first error), the probe goroutine stranded on that path, set-up whose failure is `return 1` to
    `os.Exit(run())`, croc's temp file left open on a bare return to `send`. Reported: the same loader and
    probe behind an HTTP handler, the same check behind a per-file loop that goes on, the same temp file
    behind an upload handler or under a deferred `err = nil`."""
    assert compare(pkg, ["LH404", "LH101"]) == []


def test_the_excused_paths_do_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the exits every error path of the fixture is a leak: it is main's return that excuses them."""
    import leakhunter.source.rules._resource as res

    monkeypatch.setattr(res, "drop_process_ending", lambda *a: None)
    assert {ln for _, ln in found(FIXTURES / "lh404_mainreturn/bot/main.go", ["LH404"])} == {54, 72, 91}
    assert {ln for _, ln in found(FIXTURES / "lh404_mainreturn/tool/main.go", ["LH404"])} == {37, 58}
    monkeypatch.undo()
    monkeypatch.setattr(exits, "return_ends_process", lambda *a: False)
    assert {ln for _, ln in found(FIXTURES / "lh404_mainreturn/bot/main.go", ["LH101"])} == {116, 134}
    assert {ln for _, ln in found(FIXTURES / "lh404_mainreturn/croc/main.go", ["LH404"])} == {69, 93, 111}


def _fn(ctx: FileContext, name: str) -> Node:
    return next(f for f in gs.walk(ctx.tree.root_node, ("function_declaration", "method_declaration"))
                if ctx.text(f.child_by_field_name("name")) == name)


def test_bare_returns_and_an_assigned_default_action() -> None:
    path = FIXTURES / "lh404_mainreturn/croc/main.go"
    src = path.read_bytes()
    ctx = FileContext(path=path, display_path=str(path), source=src, tree=parse(src))

    def failures(name: str) -> list[bool]:
        fn = _fn(ctx, name)
        return [exits.returns_failure(ctx, fn, r) for r in gs.walk(fn, "return_statement")]

    # under `if err != nil` a bare return is a failure; the last one (err from f.Close() was nil) is not
    assert failures("getStdin") == [True, True, True, False]
    assert failures("copyIn") == [True, True, True, False]
    assert failures("spool") == [False] * 4  # the deferred closure may set err = nil
    lit = next(n for n in gs.walk(ctx.tree.root_node, "func_literal")
               if n.parent is not None and n.parent.type == "expression_list")
    assert exits.ends_on_return(ctx, lit)  # `app.Action = func(c *cli.Context) error {...}` runs once
    assert exits.ends_on_return(ctx, _fn(ctx, "send"))  # a command's Action, and the default action's tail call
