"""`leakhunter rules [ID]`: list the catalog's rules, or explain one with examples."""

from __future__ import annotations

import argparse
import inspect
import json
import sys

from leakhunter.commands._common import add_format, nonempty_text
from leakhunter.errors import UsageError

NAME = "rules"
ORDER = 11
HELP = "list the scan rules, or explain one (leakhunter rules LH101)"
DESCRIPTION = (
    "Without an argument, list every rule: id, name, default severity and whether it runs by default. "
    "With a rule id or name, print its documentation, the fix, and a leaking and a fixed example. "
    "Findings at severity info (a cost, not a leak) are counted but not shown by `scan` unless "
    "--show-info; rules off by default run with --enable."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("rule", nargs="?", type=nonempty_text, metavar="ID", help="rule id or name (LH101, blocked-send)")
    add_format(p)


def run(args: argparse.Namespace) -> int:
    from leakhunter.report import trust
    from leakhunter.source.registry import all_rules, get_rule

    if args.rule:
        rule = get_rule(args.rule)
        if rule is None:
            raise UsageError(f"unknown rule {args.rule!r} (see `leakhunter rules`)")
        doc = inspect.cleandoc(rule.__doc__ or "")
        if args.format == "json":
            out = {
                "id": rule.id, "name": rule.name, "severity": rule.severity,
                "enabled_by_default": rule.enabled_by_default, "doc": doc, "fix": rule.fix,
                "leaking_example": rule.leaking_example, "fixed_example": rule.fixed_example,
                "measured": _measured_json(rule.id),
            }
            print(json.dumps(out, indent=2))
            return 0
        default = "on by default" if rule.enabled_by_default else "off by default (--enable to run it)"
        lines = [f"{rule.id} {rule.name} ({rule.severity}, {default})", "", doc, "", f"Fix: {rule.fix}", "",
                 trust.describe(rule.id)]
        if rule.leaking_example:
            lines += ["", "Leaking:", "", _indent(rule.leaking_example)]
        if rule.fixed_example:
            lines += ["", "Fixed:", "", _indent(rule.fixed_example)]
        sys.stdout.write("\n".join(lines).rstrip() + "\n")
        return 0

    rules = all_rules()
    if args.format == "json":
        print(json.dumps([
            {"id": r.id, "name": r.name, "severity": r.severity, "enabled_by_default": r.enabled_by_default,
             "measured": _measured_json(r.id)}
            for r in rules
        ], indent=2))
        return 0
    width = max((len(r.name) for r in rules), default=4)
    print(f"{'ID':<6} {'NAME':<{width}} {'SEVERITY':<8} {'DEFAULT':<7} TRUE ON UNSEEN CODE")
    for r in rules:
        got = trust.measured(r.id)
        share = f"{trust.short(r.id):>6} {got[0] / got[1]:4.0%}" if got else f"{'-':>6}"
        print(f"{r.id:<6} {r.name:<{width}} {r.severity:<8} {'on' if r.enabled_by_default else 'off':<7} {share}")
    print(f"\n(true / triaged findings of the default output on held-out modules, sets {trust.SETS}: "
          "strict triage at first contact; `leakhunter rules ID` says more)")
    return 0


def _measured_json(rule_id: str) -> dict[str, object] | None:
    from leakhunter.report import trust

    got = trust.measured(rule_id)
    if got is None:
        return None
    return {"true": got[0], "triaged": got[1], "precision": trust.precision_label(rule_id), "sets": trust.SETS}


def _indent(code: str) -> str:
    text = inspect.cleandoc(code) if code.startswith("\n") else code.strip("\n")
    return "\n".join(("    " + ln) if ln.strip() else "" for ln in text.splitlines())
