"""Shapes of session 34's held-out sets (123-125), on real Go, vetted:

- LH405 (tests/fixtures/scan/lh405_polling): a `defer` in a loop paced by the clock (go-cs-bouncer's metrics
  `Run` defers `cancel()` on every tick; kitex-contrib/registry-etcd's `keepRegister` after every
  `time.After(delay)`, forever by default) holds one more deferred call every period for as long as the
  service lives: a leak that grows without bound, seen at triage of set 123 but not shown, since LH405 was
  off by default (its findings are mostly bounded costs). That shape is now a warning of a rule on by
  default; the rest of LH405 stays `info`, hidden by default. Twins, `info`: a counted loop whose clock case
  is a timeout, and a loop paced by its work channel with an idle timeout beside it.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet

from leakhunter.source.registry import all_rules


def test_a_defer_in_a_loop_paced_by_the_clock_is_a_warning_shown_by_default() -> None:
    vet("lh405_polling")
    assert compare("lh405_polling", ["LH405"]) == []
    path = FIXTURES / "lh405_polling" / "polling.go"
    paced = {no for no, text in enumerate(path.read_text().splitlines(), 1) if "want LH405 (paced)" in text}
    got = {(f.line, f.severity) for f in run_rules(path, ["LH405"])}
    assert {line for line, sev in got if sev == "warning"} == paced
    assert {sev for line, sev in got if line not in paced} == {"info"}
    assert next(r for r in all_rules() if r.id == "LH405").enabled_by_default
