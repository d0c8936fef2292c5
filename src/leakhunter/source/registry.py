"""Finds every `Rule` subclass in `leakhunter.source.rules`, so rules are discovered, not listed."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from leakhunter.source.rule import Rule


@cache
def all_rules() -> tuple[type[Rule], ...]:
    import leakhunter.source.rules as pkg

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
