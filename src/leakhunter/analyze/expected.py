r"""Growth the user expects: a heap that grows where they said it may is not called a leak.

Some structures grow for longer than any soak: etcd's raft log until its next snapshot
(`--snapshot-count`, about 45 minutes away under a steady write load), a cache whose bound lies
far above what a test reaches. Over three minutes the live heap is a real ramp and the verdict
calls it a leak (bench/RESULTS-realservices.md, case 3); the suspects name the structure, the
verdict cannot know its bound. A user who knows it says so with `--expect-growth RE` (the
equivalent of goleak's `IgnoreTopFunction` and `leakhunter test --ignore`), and soak stays a CI
gate for everything else:

- a heap suspect is expected when RE (RE2, searched like Go's `MatchString`) matches its
  function or a frame of its path or callers (`go.etcd.io/raft` matches the raft log's
  `MemoryStorage.Append` under etcd's own caller);
- a `heap-leak` whose expected suspects hold most (`SHARE`) of the attributed growth, and
  whose other suspects together grew less than the series' relevance bar, becomes
  `inconclusive`, with a line that says so and names the sites; otherwise it stays a leak,
  with a line saying how much of it was expected, so a leak beside the raft log is still called.

The suspects come from two heap profiles (sampled: one 512 KiB sample at Go's default rate), so the
share is an estimate: the bar on the rest, not the share, keeps a real leak elsewhere from hiding
behind an expected one (a leak elsewhere above the bar stays called). On the four 180 s soaks of
a healthy etcd 3.4 (bench/RESULTS-realservices.md), `go\.etcd\.io/etcd/(raft|etcdserver)` holds
74-100% of the attributed growth (the raft log's entries and their marshalled requests); the rest is
a sampling artefact under the bar (one 512 KiB regexp buffer of the Prometheus process collector).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from leakhunter.model import Suspect, Verdict
from leakhunter.units import human_amount

SHARE = 0.5
"""Part of the attributed heap growth the expected sites must hold for the verdict to yield: more
than any rest, which must also stay under the relevance bar."""


def compile_expected(patterns: Sequence[str]) -> list[Any]:
    """RE2 patterns from the command line (an error line and exit 2 for one RE2 refuses)."""
    from leakhunter.bounds import compile_linear

    return [compile_linear(p, f"--expect-growth {p!r}") for p in patterns]


def _expected(s: Suspect, res: Sequence[Any]) -> bool:
    names = [s.function] + [f.function for f in s.path] + [f.function for f in s.callers]
    return any(r.search(n) for r in res for n in names if n)


_WHAT = {"heap-leak": ("heap", "bytes"), "goroutine-leak": ("goroutine", "goroutines")}
"""The verdicts a user's expected growth can answer, and what grows in each: a bounded fill holds heap,
and often a goroutine per item too (chasquid's queue, real-services set 6: one `SendLoop` parked per
queued message up to its 200-item bound, the exit 1 of a 240 s soak that the heap answer alone left)."""


def _answers(v: Verdict) -> bool:
    """A fill is growth in what it holds: a heap or goroutine leak counted in bytes or goroutines,
    not a cost that grows per request (`alloc_per_request`, which no bound of a structure explains)."""
    return v.kind in _WHAT and v.unit == _WHAT[v.kind][1]


def _amount(kind: str, n: float) -> str:
    return human_amount(n, _WHAT[kind][1])


def apply_expected(verdicts: Sequence[Verdict], res: Sequence[Any], bars: Mapping[str, float]) -> None:
    """Turn a heap or goroutine leak held by expected growth into `inconclusive` (module docstring).
    `bars`: each verdict kind's relevance bar (bytes, goroutines)."""
    if not res:
        return
    for v in verdicts:
        if not _answers(v) or v.kind not in bars or not v.suspects:
            continue
        kind = v.kind
        what, bar = _WHAT[kind][0], bars[kind]
        grown = [s for s in v.suspects if s.growth > 0]
        total = sum(s.growth for s in grown)
        if total <= 0:
            continue
        hits = [s for s in grown if _expected(s, res)]
        expected = sum(s.growth for s in hits)
        rest = total - expected
        if not hits:
            v.evidence.append("none of the growing sites matches --expect-growth")
            continue
        share = expected / total
        names = ", ".join(f"{s.function} (+{_amount(kind, s.growth)})" for s in hits[:3])
        if share > SHARE and rest < bar:
            v.kind = "inconclusive"
            v.evidence.insert(0, (
                f"growth you expect (--expect-growth): {share:.0%} of the attributed {what} growth is at "
                f"{names}; the rest grew {_amount(kind, rest)}, under the {_amount(kind, bar)} bar: not "
                "called a leak (a bounded structure whose bound lies beyond this window)"))
        else:
            v.evidence.append(
                f"{share:.0%} of the attributed {what} growth is at sites you expect to grow ({names}); "
                f"the other {_amount(kind, rest)} is not: still a leak")


def hint_expected(verdicts: Sequence[Verdict], res: Sequence[Any] = ()) -> None:
    """Tell the user of a heap or goroutine leak how to say that it is a bounded fill, in the words they would type.

    Why: a fill whose bound lies beyond the window (etcd's raft log, set 2's InfluxDB cache, set 5's
    garagemq backlog) reads exactly like a leak of the same rate; only the service's configuration
    knows the bound, so the verdict stays a leak (real-services sets 1-5), and the one answer is the
    user's `--expect-growth`. The line names the pattern for the site that grew most among those the
    user's patterns (`res`) do not match yet (garagemq's backlog is two: badger's memtable arena, then
    the queued frames), so the answer is one copy away. Not when a scan finding explains that site
    (the code itself says nothing bounds it)."""
    for v in verdicts:
        if not _answers(v) or not v.suspects:
            continue
        left = [s for s in v.suspects if s.growth > 0 and not _expected(s, res)]
        if not left:
            continue
        top = max(left, key=lambda s: s.growth)
        if top.finding is not None or not top.function:
            continue
        v.evidence.append(
            f"if {top.function}'s growth stops at a bound you configured (a cache's size, a log kept until "
            f"its snapshot), it is a fill, not a leak: --expect-growth '{_literal(top.function)}' says so, "
            f"and the rest of the {_WHAT[v.kind][0]} growth is still judged")


def _literal(name: str) -> str:
    """`name` as an RE2 pattern matching it literally, escaping only what RE2 reads as syntax (Python's
    re.escape also escapes `-`, which RE2 accepts but a user would not type: `dgraph\\-io`)."""
    import re

    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", name)
