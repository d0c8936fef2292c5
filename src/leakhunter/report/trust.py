"""What the held-out triage says of a rule: how often its default output was true on unseen code.

The figures are measured, not claimed (`measured.py`, generated from bench/precision/), and they
are low for most rules: a user weighing a finding should know that LH107 was right three times
in four on modules nobody had tuned it on and LH108 once in fifteen. `leakhunter rules` prints
them; SARIF gives each rule the `precision` code-scanning tools sort and filter by, in CodeQL's
words (very-high, high, medium, low).
"""

from __future__ import annotations

from leakhunter.report.measured import MEASURED, SETS

__all__ = ["LOW", "MEASURED", "SETS", "describe", "measured", "precision_label", "short", "wrong_more_than_right"]

MIN_TRIAGED = 5
"""Fewer triaged findings than this give no precision word: 2 of 2 is not "very high"."""
LOW = 0.5
"""A rule true for less than this share of its findings on unseen code (over MIN_TRIAGED or more) is
off by default in `scan`: a reviewer who is wrong-footed more often than helped stops reading the
output. The rule stays available (`--enable`), and `watch`/`soak` run it beside measured growth."""


def measured(rule_id: str) -> tuple[int, int] | None:
    """(true, triaged) for the rule, or None when its default output was never triaged on unseen code."""
    return MEASURED.get(rule_id)


def wrong_more_than_right(rule_id: str) -> bool:
    """The measured record says the rule belongs off by default (the LOW policy)."""
    got = measured(rule_id)
    return got is not None and got[1] >= MIN_TRIAGED and got[0] / got[1] < LOW


def precision_label(rule_id: str) -> str | None:
    """CodeQL's precision word for the measured share, or None with too few findings to say."""
    got = measured(rule_id)
    if got is None or got[1] < MIN_TRIAGED:
        return None
    share = got[0] / got[1]
    if share >= 0.9:
        return "very-high"
    if share >= 0.75:
        return "high"
    if share >= LOW:
        return "medium"
    return "low"


def describe(rule_id: str) -> str:
    """One sentence for `leakhunter rules ID`."""
    got = measured(rule_id)
    if got is None:
        return (f"Measured: none of its findings were shown by default on the held-out modules "
                f"(sets {SETS}), so its precision on unseen code is unknown.")
    t, n = got
    return (f"Measured: {t} of {n} findings it showed by default on modules nobody had tuned it on "
            f"were true ({t / n:.0%}; held-out sets {SETS}, strict triage at first contact).")


def short(rule_id: str) -> str:
    """`23/39` or `-` for the rules table."""
    got = measured(rule_id)
    return f"{got[0]}/{got[1]}" if got else "-"
