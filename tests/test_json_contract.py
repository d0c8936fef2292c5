"""Every key a JSON renderer writes is named in docs/json.md.

Scripts are written against that page; a key added in code but not there is a contract
nobody can find. The renderers are read as syntax (every string key of a dict literal or
of `doc["key"] = ...` inside the functions that build the JSON), so a new key fails here
the moment it is written, with no Go program to run."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "leakhunter"
DOC = ROOT / "docs" / "json.md"

# (module, functions that build JSON; None = the whole module)
RENDERERS: list[tuple[str, set[str] | None]] = [
    ("report/scan_json.py", None),
    ("report/verdicts_json.py", None),
    ("report/goroutines_json.py", None),
    ("report/test_json.py", None),
    ("report/fleet_json.py", None),
    ("report/top_text.py", {"to_json"}),
    ("report/listing_text.py", {"_routine", "to_json"}),
    ("collect/loadgen.py", {"as_dict"}),
    ("commands/soak.py", {"_print_result"}),
    ("commands/fleet.py", {"run"}),
]


def _keys(tree: ast.AST) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            out |= {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Constant) and isinstance(t.slice.value, str):
                    out.add(t.slice.value)
    return out


def _renderer_keys(rel: str, funcs: set[str] | None) -> set[str]:
    tree = ast.parse((SRC / rel).read_text())
    if funcs is None:
        return _keys(tree)
    found: set[str] = set()
    seen: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in funcs:
            found |= _keys(node)
            seen.add(node.name)
    assert seen == funcs, f"{rel}: functions {sorted(funcs - seen)} are gone; update RENDERERS"
    return found


def test_every_json_key_is_documented() -> None:
    documented = set(re.findall(r"[`\"]([a-z_][a-z0-9_]*)[`\"]", DOC.read_text()))
    missing = {rel: sorted(_renderer_keys(rel, funcs) - documented) for rel, funcs in RENDERERS}
    missing = {k: v for k, v in missing.items() if v}
    assert not missing, f"keys written but not in docs/json.md: {missing}"


def test_the_check_sees_keys() -> None:
    """A renderer read as empty would make the test above pass with nothing checked."""
    assert {"findings", "fingerprint", "unanalysed"} <= _renderer_keys("report/scan_json.py", None)
    assert {"requests", "latency_ms"} <= _renderer_keys("collect/loadgen.py", {"as_dict"})
