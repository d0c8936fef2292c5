"""Finds every `Rule` subclass in `leakhunter.source.rules`, so rules are discovered, not listed.

Choosing rules (the defaults, `--enable`/`--disable`, `.leakhunter.toml`) needs only each
rule's id, name, severity and default; importing every rule module (and the program
model they pull in) to learn that costs more than a whole re-scan served from the
result cache. So that metadata also lives in a generated table, `rule_table.py`,
stamped with a digest of the lines of the rule sources that metadata is written in
(`rule.py`, and the class lines, metadata assignments and imports of every file of
`rules/`). The table is believed only while that digest matches the files on disk
(reading them costs about a millisecond); otherwise the modules are imported and the
classes asked. Editing a rule's logic leaves the table fresh; editing its metadata
stales it.
tests/test_scan_startup.py fails when the table is stale; regenerate it with

    python -m leakhunter.source.registry --write
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import pkgutil
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from leakhunter.model import Severity
    from leakhunter.source.rule import Rule

FIX_COMMAND = "python -m leakhunter.source.registry --write"
_SOURCE = Path(__file__).resolve().parent
_TABLE = _SOURCE / "rule_table.py"


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What choosing and naming a rule needs, without importing it."""

    id: str
    name: str
    severity: Severity
    enabled_by_default: bool
    module: str
    """The module of `leakhunter.source.rules` that defines the rule's class."""


@cache
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule class, by id (imports every rule module)."""
    import leakhunter.source.rules as pkg
    from leakhunter.source.rule import Rule

    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule and obj.id:
                if obj.id in found and found[obj.id] is not obj:
                    raise RuntimeError(f"two rules claim {obj.id}: {found[obj.id]} and {obj}")
                found[obj.id] = obj
    return tuple(found[k] for k in sorted(found))


def get_rule(rule_id: str) -> type[Rule] | None:
    for r in all_rules():
        if r.id.upper() == rule_id.upper() or r.name == rule_id:
            return r
    return None


_METADATA_LINE = re.compile(
    rb"^[ \t]*(?:class[ \t]|(?:id|name|severity|enabled_by_default)[ \t]*[:=]|from[ \t]|import[ \t]).*$", re.MULTILINE
)


def sources_digest() -> str:
    """Digest of what rule metadata is written in: rule.py whole, and in every .py file of rules/
    its name and each line that can set it (`class` lines, `id`/`name`/`severity`/
    `enabled_by_default` assignments, imports), so an edit of a rule's logic does not stale
    the table but an edit of its metadata does (tests/test_scan_startup.py compares the
    table with the classes themselves, which also covers metadata set any other way)."""
    h = hashlib.blake2b(digest_size=16)
    try:
        base = (_SOURCE / "rule.py").read_bytes()
    except OSError:
        base = b"\x00unreadable"
    h.update(len(base).to_bytes(8, "little") + base)
    for p in sorted((_SOURCE / "rules").glob("*.py")):
        try:
            data = b"\n".join(_METADATA_LINE.findall(p.read_bytes()))
        except OSError:
            data = b"\x00unreadable"
        h.update(p.name.encode() + b"\x00" + len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def infos_from_classes(rules: Iterable[type[Rule]]) -> tuple[RuleInfo, ...]:
    return tuple(
        RuleInfo(r.id, r.name, r.severity, bool(r.enabled_by_default), r.__module__.rsplit(".", 1)[-1])
        for r in rules
    )


def _table() -> tuple[str, tuple[RuleInfo, ...]] | None:
    """(digest, rules) of the generated table, or None when it is missing or malformed."""
    try:
        from leakhunter.source import rule_table
    except ImportError:
        return None
    try:
        rows = tuple(
            RuleInfo(str(i), str(n), cast("Severity", s), bool(d), str(m)) for i, n, s, d, m in rule_table.RULES
        )
        return str(rule_table.DIGEST), rows
    except (AttributeError, TypeError, ValueError):
        return None


@cache
def table_is_fresh() -> bool:
    """True when rule_table.py describes the rule sources on disk (so it can be believed)."""
    got = _table()
    return got is not None and got[0] == sources_digest()


@cache
def rule_infos() -> tuple[RuleInfo, ...]:
    """Metadata of every rule, sorted by id: from the table while fresh, else from the classes."""
    got = _table()
    if got is not None and table_is_fresh():
        return got[1]
    return infos_from_classes(all_rules())


def rule_info(rule_id: str) -> RuleInfo | None:
    """The rule with this id (any case) or name."""
    for r in rule_infos():
        if r.id.upper() == rule_id.upper() or r.name == rule_id:
            return r
    return None


def rules_for(ids: Sequence[str]) -> list[type[Rule]]:
    """The classes of the rules `ids`, in id order, importing only their modules when the table is fresh."""
    wanted = set(ids)
    if table_is_fresh():
        from leakhunter.source.rule import Rule

        mods = sorted({r.module for r in rule_infos() if r.id in wanted})
        found: dict[str, type[Rule]] = {}
        for name in mods:
            mod = importlib.import_module(f"leakhunter.source.rules.{name}")
            for obj in vars(mod).values():
                if isinstance(obj, type) and issubclass(obj, Rule) and obj.id in wanted:
                    found[obj.id] = obj
        if set(found) == wanted & {r.id for r in rule_infos()}:
            return [found[k] for k in sorted(found)]
    return [r for r in all_rules() if r.id in wanted]


def table_source(infos: Iterable[RuleInfo], digest: str) -> str:
    """The text of rule_table.py for these rules."""
    lines = [
        f'"""Rule metadata generated from the rule modules by `{FIX_COMMAND}`. DO NOT EDIT.',
        "",
        "registry.py reads it (only while DIGEST matches rule.py and rules/*.py) so that choosing",
        "rules does not import every rule module.",
        '"""',
        "",
        f'DIGEST = "{digest}"',
        "RULES: tuple[tuple[str, str, str, bool, str], ...] = (",
        "    # (id, name, severity, enabled by default, module)",
    ]
    for r in infos:
        cells = [json.dumps(r.id), json.dumps(r.name), json.dumps(r.severity), repr(r.enabled_by_default),
                 json.dumps(r.module)]
        lines.append(f"    ({', '.join(cells)}),")
    lines.append(")")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m leakhunter.source.registry",
                                 description="Regenerate (or check) the rule metadata table rule_table.py.")
    ap.add_argument("--write", action="store_true", help="rewrite rule_table.py from the rule modules")
    args = ap.parse_args(argv)
    text = table_source(infos_from_classes(all_rules()), sources_digest())
    current = _TABLE.read_text(encoding="utf-8") if _TABLE.exists() else ""
    if args.write:
        if current != text:
            _TABLE.write_text(text, encoding="utf-8")
            print(f"wrote {_TABLE}")
        else:
            print(f"{_TABLE} is up to date")
        return 0
    if current != text:
        print(f"{_TABLE} is stale; run: {FIX_COMMAND}", file=sys.stderr)
        return 1
    print(f"{_TABLE} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
