"""The program-model goroutine rules LH108-LH111 on their Go fixtures, and the package facts.

Fixtures are real Go (tests/fixtures/scan/lh108..lh111 compile and pass `go vet`, checked
here). Every goroutine rule runs on every goroutine package, so a new rule firing on an
old rule's fixture (or the reverse) fails. The runtime-judged recall on the Go
toolchain's leak corpus is tests/test_rules_goroutines_corpus.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from golab import go_env, go_exe
from scanfixtures import FIXTURES, compare, fixture_files, run_rules, wanted

from leakhunter.source.parse import parse
from leakhunter.source.program.concurrency import concurrency
from leakhunter.source.registry import get_rule
from leakhunter.source.rule import FileContext

NEW = ["LH108", "LH109", "LH110", "LH111"]
ALL = ["LH101", "LH102", "LH103", "LH104", "LH105", "LH106", "LH107", *NEW]


@pytest.mark.parametrize("rule", NEW)
def test_new_rule_reports_exactly_the_wanted_lines(rule: str) -> None:
    problems = []
    for pkg in ALL:
        problems += compare(pkg.lower(), [rule])
    assert problems == []


@pytest.mark.parametrize("pkg", ["lh101", "lh107"])
def test_false_positive_shapes_stay_silent(pkg: str) -> None:
    """Issue 8 shapes 1, 2 and 8 (failed tests, exclusive sends, cleanup contexts)."""
    assert compare(pkg, ALL) == []


@pytest.mark.parametrize("rule", NEW)
def test_fixtures_have_leaks_and_negatives(rule: str) -> None:
    files = fixture_files(rule.lower())
    assert any(wanted(f, [rule]) for f in files), "no leaking case"
    fixed = [f for f in files if f.name.startswith("fixed")]
    assert fixed and not any(wanted(f, [rule]) for f in fixed), "no negative file"


@pytest.mark.parametrize("rule", NEW)
def test_rule_is_documented(rule: str) -> None:
    cls = get_rule(rule)
    assert cls is not None
    assert cls.__doc__ and "fix" in cls.__doc__.lower()
    assert cls.leaking_example and cls.fixed_example and cls.fix


def test_fixtures_compile_and_vet() -> None:
    pkgs = ["./lh101/", "./lh107/", *(f"./{r.lower()}/" for r in NEW)]
    res = subprocess.run([go_exe(), "vet", *pkgs], cwd=FIXTURES, env=go_env(),
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr


def _ctx(path: Path) -> FileContext:
    src = path.read_bytes()
    return FileContext(path=path, display_path=str(path), source=src, tree=parse(src))


def test_facts_see_the_field_protocol_across_methods() -> None:
    cc = concurrency(_ctx(FIXTURES / "lh108" / "leak.go"))
    ops = {(o.op, o.func) for o in cc.ops["node.status"]}
    assert ("send", "node.Status") in ops and ("recv", "node.run") in ops
    assert cc.known("node.status") and cc.unbuffered("node.status")
    assert "feed.c" in cc.opaque  # handed out by C(): partners may be anywhere
    # `go p.wait()` reaches the receive two calls down
    chains = {tuple(chain) for site, chain in cc.goroutine_ops().values()}
    assert ("pump.wait", "pump.block") in chains


def test_messages_name_the_goroutine_and_the_receiver() -> None:
    by_line = {f.line: f for f in run_rules(FIXTURES / "lh108" / "leak.go", ["LH108"])}
    status = next(f for f in by_line.values() if "node.status" in f.message)
    assert "leak.go:44" in status.message and "run" in status.message
    block = next(f for f in by_line.values() if "pump.ready" in f.message)
    assert "pump.wait -> pump.block" in block.message
    slots = {f.message.split("once ")[1] for f in by_line.values() if "once its" in f.message}
    assert slots == {"its 10 slots are full every send blocks forever", "its 1 slot is full every send blocks forever"}
