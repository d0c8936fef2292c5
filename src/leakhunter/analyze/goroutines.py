"""Goroutine groups -> what a person should look at: suspects, user code, growth.

A dump of a healthy service is full of blocked goroutines (idle connections, worker
pools), so the analysis does not call every blocked goroutine a leak. It marks as
*suspects* the groups parked on the operations that leaks are made of — a channel
send/receive or select nobody will complete, a lock or WaitGroup never released, a sleep
— *in user code* (a group that is all standard library, like an idle HTTP listener, is
plumbing). The runtime's own `(leaked)` verdict is always a suspect. For each group the
innermost user-code frame is the line to read; `--diff` says which groups grew.

A *stuck* group is a leak a user wants to hear about even when the runtime cannot prove
it (the channel is reachable from a global, the goroutine sleeps): at least
`STUCK_COUNT` goroutines parked at one user-code line on a leak-shaped operation for at
least `STUCK_MINUTES`. Both, because each alone is normal: a worker pool of 64 idles for
hours at its `range jobs`, and a burst of 5,000 handlers waits on a channel for
milliseconds. The runtime's own proof (`leaked`) stays a separate, stronger mark.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from leakhunter.model import Finding, Frame, GoroutineDump, GoroutineGroup, Suspect
from leakhunter.profiles.waitreason import HIDDEN_RUNTIME

SUSPECT_STATES = frozenset(
    {
        "chan send",
        "chan receive",
        "chan send (nil chan)",
        "chan receive (nil chan)",
        "select",
        "select (no cases)",
        "semacquire",
        "sync.Cond.Wait",
        "sync.Mutex.Lock",
        "sync.RWMutex.Lock",
        "sync.RWMutex.RLock",
        "sync.WaitGroup.Wait",
        "sleep",
        HIDDEN_RUNTIME,
    }
)

STUCK_COUNT = 100
"""Goroutines at one line before a long wait there is called stuck (a leak). Idle worker
pools are sized in tens (GOMAXPROCS x a small factor); leaks under load pile up
thousands (the issue's dump: 8,334 at one send)."""
STUCK_MINUTES = 5
"""Minutes parked (the dump's `, N minutes`) before a large group is called stuck: no
request handler waits that long on a channel it will be answered on."""


@dataclass(slots=True)
class GroupView:
    """One group with what the analysis concluded about it (reports render these)."""

    group: GoroutineGroup
    blocked_on: str
    """The state the runtime printed, else the one inferred from the stack, else ""."""
    user_frame: Frame | None
    suspect: bool
    std: tuple[bool, ...]
    """Per frame of the stack: True for standard-library / runtime frames (shown dimmed)."""
    base_count: int = 0
    growth: int = 0
    new: bool = False
    stuck: bool = False
    """Many goroutines parked long at one user-code line (module docstring)."""
    finding: Finding | None = None
    """The `scan` finding at this group's user-code line (`--source`)."""


@dataclass(slots=True)
class GoroutineAnalysis:
    """A dump's groups (filtered, largest first) and the totals around them."""

    total: int
    groups: list[GroupView]
    kind: str
    form: str
    goroot: str = ""
    shown: int = 0
    """Goroutines in the groups kept by the filters."""
    base_total: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def suspects(self) -> list[GroupView]:
        return [v for v in self.groups if v.suspect]

    @property
    def leaked(self) -> int:
        return sum(v.group.count for v in self.groups if v.group.leaked)

    @property
    def stuck(self) -> int:
        """Goroutines in stuck groups that the runtime did not already prove leaked."""
        return sum(v.group.count for v in self.groups if v.stuck and not v.group.leaked)

    def to_suspects(self) -> list[Suspect]:
        """The suspect groups as model `Suspect`s at their user-code line (for verdicts and
        for joining with `scan` findings at the same file:line). Growth is the group's
        growth under `diff`, else its size; groups on one line add up."""
        by_line: dict[tuple[str, str, int], Suspect] = {}
        for v in self.groups:
            if not v.suspect or v.user_frame is None:
                continue
            fr = v.user_frame
            amount = float(v.growth if self.base_total is not None else v.group.count)
            key = (fr.function, fr.file, fr.line)
            if key in by_line:
                by_line[key].growth += amount
            else:
                by_line[key] = Suspect(fr.function, fr.file, fr.line, amount, unit="goroutines")
        return sorted(by_line.values(), key=lambda s: -s.growth)


class StdClassifier:
    """Tells standard-library frames from user code.

    Where the dump's own paths show GOROOT (`.../src/runtime/proc.go`), a frame is std
    exactly when its file is under `GOROOT/src`: that is right even for user modules
    with dotless paths. Without paths, std packages are those whose first path element
    has no dot (`net/http`), except `main`.
    """

    def __init__(self, frames: Iterable[Frame]) -> None:
        self.goroot = _find_goroot(frames)
        self._src = self.goroot + "/src/" if self.goroot else ""
        self._cache: dict[Frame, bool] = {}

    def is_std(self, fr: Frame) -> bool:
        hit = self._cache.get(fr)
        if hit is None:
            if self._src and fr.file:
                hit = fr.file.startswith(self._src)
            else:
                hit = _std_by_name(fr.function)
            self._cache[fr] = hit
        return hit


_ROOT_PKGS = frozenset({"runtime", "sync", "time", "syscall", "os", "net"})
_ROOT_PREFIXES = ("runtime/", "internal/", "sync/", "net/")


def _find_goroot(frames: Iterable[Frame]) -> str:
    for fr in frames:
        pkg = fr.package
        if not fr.file or not (pkg in _ROOT_PKGS or pkg.startswith(_ROOT_PREFIXES)):
            continue
        marker = f"/src/{pkg}/"
        i = fr.file.rfind(marker)
        if i > 0:
            return fr.file[:i]
    return ""


def _std_by_name(function: str) -> bool:
    if not function or function.startswith("0x"):
        return True  # unsymbolized: nothing a user could open, so not "user code"
    slash = function.rfind("/")
    first = function.split("/", 1)[0] if slash >= 0 else function.split(".", 1)[0]
    return "." not in first and first != "main"


def _all_frames(dumps: Iterable[GoroutineDump]) -> Iterable[Frame]:
    for d in dumps:
        for g in d.groups:
            yield from g.stack
            if g.created_by:
                yield g.created_by


def view(g: GoroutineGroup, std: StdClassifier) -> GroupView:
    flags = tuple(std.is_std(fr) for fr in g.stack)
    user = next((fr for fr, s in zip(g.stack, flags, strict=True) if not s), None)
    blocked = g.state or g.inferred_state
    suspect = g.leaked or (user is not None and blocked in SUSPECT_STATES)
    return GroupView(g, blocked, user, suspect, flags)


def mark_stuck(views: Iterable[GroupView], *, min_count: int = STUCK_COUNT,
               min_minutes: int = STUCK_MINUTES) -> None:
    """Set `stuck` on the suspect groups of at least `min_count` goroutines parked at least
    `min_minutes` at one user-code line. Counts at one line add up across groups (the
    same send reached from two callers is one leak)."""
    views = list(views)
    per_line: dict[Frame, int] = {}
    for v in views:
        if v.suspect and v.user_frame is not None and v.group.wait_minutes >= min_minutes:
            per_line[v.user_frame] = per_line.get(v.user_frame, 0) + v.group.count
    for v in views:
        v.stuck = bool(v.suspect and v.user_frame is not None
                       and v.group.wait_minutes >= min_minutes
                       and per_line.get(v.user_frame, 0) >= min_count)


def attach_findings(a: GoroutineAnalysis, findings: Iterable[Finding]) -> None:
    """Join each suspect group's user-code line to a `scan` finding there (as `watch`)."""
    from leakhunter.analyze.join import join

    findings = list(findings)
    for v in a.groups:
        if not v.suspect or v.user_frame is None:
            continue
        fr = v.user_frame
        s = Suspect(fr.function, fr.file, fr.line, float(v.group.count), unit="goroutines",
                    detail=v.blocked_on)
        join([s], findings)
        v.finding = s.finding


def analyze(
    dump: GoroutineDump, *, min_count: int = 1, state: re.Pattern[str] | None = None,
    stuck_count: int = STUCK_COUNT, stuck_minutes: int = STUCK_MINUTES,
) -> GoroutineAnalysis:
    """Views of the groups that pass `--min-count` and `--state`, largest first."""
    std = StdClassifier(_all_frames([dump]))
    all_views = [view(g, std) for g in dump.groups]
    mark_stuck(all_views, min_count=stuck_count, min_minutes=stuck_minutes)
    views = [v for v in all_views if v.group.count >= min_count]
    if state is not None:
        views = [v for v in views if state.search(v.blocked_on)]
    views.sort(key=_order)
    return GoroutineAnalysis(
        total=dump.total, groups=views, kind=dump.kind, form=dump.form, goroot=std.goroot,
        shown=sum(v.group.count for v in views), warnings=list(dump.warnings),
    )


def _order(v: GroupView) -> tuple[int, int, str, str]:
    lead = v.user_frame or (v.group.stack[0] if v.group.stack else Frame(""))
    return (-v.group.count, -v.growth, v.blocked_on, lead.function)


def match_key(v: GroupView) -> tuple[object, ...]:
    """What makes a group "the same" in two dumps, even of different forms.

    debug=1 hides runtime frames that debug=2 and pprof show, and only debug=2 has a
    state; the user-code frames, leaked flag aside, are what all three forms agree on.
    """
    user = tuple(fr for fr, s in zip(v.group.stack, v.std, strict=True) if not s)
    if user:
        return ("user", user)
    return ("std", tuple(fr for fr in v.group.stack if not fr.function.startswith("runtime.")))


def diff(
    base: GoroutineDump,
    new: GoroutineDump,
    *,
    min_count: int = 1,
    state: re.Pattern[str] | None = None,
    stuck_count: int = STUCK_COUNT,
    stuck_minutes: int = STUCK_MINUTES,
) -> GoroutineAnalysis:
    """Groups of `new` that grew since `base`, by how much, largest growth first.

    `--min-count` applies to the growth. Groups that shrank or vanished are left out:
    the question a diff answers is "what is piling up".
    """
    std = StdClassifier(_all_frames([base, new]))
    base_counts: dict[tuple[object, ...], int] = {}
    for g in base.groups:
        k = match_key(view(g, std))
        base_counts[k] = base_counts.get(k, 0) + g.count
    merged: dict[tuple[object, ...], GroupView] = {}
    for g in new.groups:
        v = view(g, std)
        k = match_key(v)
        if k in merged:
            # Several new groups (say, two states) share one user stack: count them together.
            first = merged[k]
            first.group = _merge(first.group, g)
            first.suspect = first.suspect or v.suspect
        else:
            merged[k] = v
    mark_stuck(merged.values(), min_count=stuck_count, min_minutes=stuck_minutes)
    out: list[GroupView] = []
    for k, v in merged.items():
        before = base_counts.get(k, 0)
        v.base_count = before
        v.growth = v.group.count - before
        v.new = before == 0
        if v.growth >= max(1, min_count) and (state is None or state.search(v.blocked_on)):
            out.append(v)
    out.sort(key=lambda v: (-v.growth, *_order(v)))
    return GoroutineAnalysis(
        total=new.total, groups=out, kind=new.kind, form=new.form, goroot=std.goroot,
        shown=sum(v.growth for v in out), base_total=base.total,
        warnings=[*base.warnings, *new.warnings],
    )


def _merge(a: GoroutineGroup, b: GoroutineGroup) -> GoroutineGroup:
    return GoroutineGroup(
        count=a.count + b.count, state=a.state if a.state == b.state else a.state or b.state,
        stack=a.stack, wait_minutes=max(a.wait_minutes, b.wait_minutes),
        leaked=a.leaked or b.leaked, created_by=a.created_by or b.created_by,
        locked=a.locked or b.locked, inferred_state=a.inferred_state or b.inferred_state,
        elided=a.elided or b.elided,
    )
