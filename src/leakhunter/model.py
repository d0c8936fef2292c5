"""The one model shared by every command (DESIGN.md: one model per concept).

Profiles, goroutine dumps, static findings and verdicts all speak of code through
`Frame` and `Stack`, so a runtime suspect and a source finding at the same
file:line can be joined without translation. Everything here is plain data:
no parsing, no I/O, no rendering.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class Frame:
    """One call site: the function and the source position executing in it."""

    function: str
    file: str = ""
    line: int = 0
    mapping: str = field(default="", compare=False)
    """The object file (binary) the code was mapped from, when a pprof profile says so.
    Not part of equality: a frame from a profile and the same frame from a text dump are equal."""
    address: int = field(default=0, compare=False)
    """Set only for an unsymbolized pprof location (no function known); `function` is then
    `0x<address>` (or empty when the location has no address either)."""
    start_line: int = field(default=0, compare=False)
    """pprof: the first line of the function (Function.start_line), when the profile has it."""
    inlined: bool = field(default=False, compare=False)
    """pprof: this frame was inlined into the next (caller) frame of the stack, i.e. both
    come from one Location. Kept so a re-encoded profile groups them the same way."""

    @property
    def symbolized(self) -> bool:
        """False for a pprof location that only has an address (no function name)."""
        return not self.address and bool(self.function)

    @property
    def package(self) -> str:
        """The import path part of `function` (`net/http.(*conn).serve` -> `net/http`)."""
        fn = self.function
        slash = fn.rfind("/")
        dot = fn.find(".", slash + 1)
        return fn[:dot] if dot > 0 else fn

    @property
    def is_runtime(self) -> bool:
        """True for frames of the Go runtime and standard library plumbing a user rarely edits."""
        pkg = self.package
        return pkg in _RUNTIME_PACKAGES or pkg.startswith(("runtime", "internal/"))


# Packages whose frames are the "how" of blocking, not the "where" in user code.
_RUNTIME_PACKAGES = frozenset(
    {"runtime", "sync", "time", "internal/poll", "syscall", "context", "sync/atomic"}
)

Stack = tuple[Frame, ...]
"""Frames of one stack, leaf (innermost call) first, as pprof stores them."""


@dataclass(frozen=True, slots=True)
class SampleType:
    """What a column of sample values measures (`inuse_space`, `bytes`)."""

    type: str
    unit: str


@dataclass(slots=True)
class Sample:
    """One pprof sample: a stack and one value per sample type."""

    stack: Stack
    values: tuple[int, ...]
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    num_labels: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass(slots=True)
class Profile:
    """A decoded pprof profile (binary or legacy text), independent of its wire format."""

    sample_types: list[SampleType]
    samples: list[Sample]
    default_sample_type: str = ""
    period_type: SampleType | None = None
    period: int = 0
    time_nanos: int = 0
    duration_nanos: int = 0
    comments: list[str] = field(default_factory=list)
    drop_frames: str = ""
    keep_frames: str = ""
    columns: object = field(default=None, repr=False, compare=False)
    """A columnar copy of `samples` (profiles.columns.Columns) the decoder may attach so
    aggregation runs vectorized; a cache: set it to None after changing `samples`."""

    def sample_index(self, name_or_index: str | int | None = None) -> int:
        """Resolve `--sample-index` the way `go tool pprof` does (name, number, or the default)."""
        from leakhunter.errors import UsageError

        names = [st.type for st in self.sample_types]
        if name_or_index is None or name_or_index == "":
            if self.default_sample_type and self.default_sample_type in names:
                return names.index(self.default_sample_type)
            return len(names) - 1
        if isinstance(name_or_index, int) or str(name_or_index).isdigit():
            i = int(name_or_index)
            if 0 <= i < len(names):
                return i
        elif name_or_index in names:
            return names.index(str(name_or_index))
        raise UsageError(
            f"sample index {name_or_index!r} not in profile (has: {', '.join(names) or 'none'})"
        )


GoroutineState = str
"""The runtime's wait reason as printed in dumps: `chan send`, `select`, `IO wait`, `running` ..."""


@dataclass(slots=True)
class GoroutineGroup:
    """Goroutines with the same state and the same stack (arguments ignored), counted."""

    count: int
    state: GoroutineState
    stack: Stack
    wait_minutes: int = 0
    """The longest wait of any goroutine in the group, in minutes (0 if not shown)."""
    leaked: bool = False
    """The runtime marked these goroutines leaked (`goroutineleak` profile, `(leaked)`)."""
    created_by: Frame | None = None
    locked: bool = False
    ids: list[int] = field(default_factory=list)
    inferred_state: GoroutineState = ""
    """For forms that print no state (debug=1, binary pprof): the blocking operation read
    from the stack (`chan send`, `sync.Mutex.Lock` ...), or "" when the stack does not say."""
    elided: bool = False
    """The runtime elided frames in the middle of this stack (very deep recursion)."""

    @property
    def user_frame(self) -> Frame | None:
        """The innermost frame in user code: where to look, past runtime/sync plumbing."""
        for fr in self.stack:
            if not fr.is_runtime:
                return fr
        return self.stack[0] if self.stack else None


DumpKind = Literal["goroutine", "goroutineleak"]


@dataclass(slots=True)
class GoroutineDump:
    """All goroutines of one process at one moment, already grouped."""

    total: int
    groups: list[GoroutineGroup]
    kind: DumpKind = "goroutine"
    form: str = ""
    """Which wire form it was read from: `debug=1`, `debug=2` or `pb` (binary pprof)."""
    warnings: list[str] = field(default_factory=list)
    """Problems that did not stop reading (a truncated last goroutine); shown on stderr."""


Severity = Literal["info", "warning", "error"]
SEVERITY_ORDER: Mapping[str, int] = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """A catalog pattern found in Go source, with where it is and how to fix it."""

    rule: str
    name: str
    severity: Severity
    file: str
    line: int
    column: int
    message: str
    fix: str
    function: str = ""
    end_line: int = 0
    fingerprint: str = ""
    parks_in: str = ""
    """`Type.method` whose goroutines this leak strands, when they wait somewhere else than the finding's
    line (LH113: orphaned where a value is swapped out, parked in its `run`): runtime groups parked there
    join the finding. Empty for most rules, and then left out of JSON."""


VerdictKind = Literal[
    "heap-leak", "goroutine-leak", "non-heap-growth", "plateau", "no-leak", "inconclusive"
]
LEAK_KINDS: frozenset[str] = frozenset({"heap-leak", "goroutine-leak", "non-heap-growth"})


@dataclass(slots=True)
class Suspect:
    """A code location that grew, optionally explained by a source finding at the same place."""

    function: str
    file: str
    line: int
    growth: float
    unit: str = ""
    finding: Finding | None = None
    detail: str = ""
    """What grew there, in words (`chan send`, `leaked`, `inuse_space`); optional."""
    callers: tuple[Frame, ...] = ()
    """User-code frames that led here (innermost first), from one representative stack:
    a finding at a caller (`history[id] = record()`) explains an allocation in the callee."""
    path: tuple[Frame, ...] = ()
    """The library and runtime frames between the allocation and the user's line (innermost
    first: `runtime.makeslice`, `bytes.growSlice` ...): how the user's line got there."""
    created_by: Frame | None = None
    """For a goroutine group: the `go` statement its goroutines were started at (the most common
    `created by` of a full dump's goroutines parked at this site), often the line a fix changes."""


@dataclass(slots=True)
class Verdict:
    """The decision for one series of one target, with the numbers that support it."""

    kind: VerdictKind
    confidence: float
    slope_per_min: float = 0.0
    unit: str = ""
    evidence: list[str] = field(default_factory=list)
    suspects: list[Suspect] = field(default_factory=list)
    series: str = ""
    watch_more_s: float | None = None
    """For `inconclusive`: about how many more seconds of watching would decide."""
    forecast_s: float | None = None
    """For a memory leak with a known limit: seconds until the limit at this rate."""
    forecast_low_s: float | None = None
    """The early end of `forecast_s`'s interval (the slope's upper 95% bound)."""
    forecast_high_s: float | None = None
    """The late end (the slope's lower 95% bound; None when that bound is not above zero)."""
    limit_bytes: int | None = None
    """The memory limit the forecast is against (`--limit`, cgroup memory.max, GOMEMLIMIT)."""
    limit_source: str = ""
    """Where `limit_bytes` came from: `--limit`, `cgroup memory.max`, `GOMEMLIMIT`."""
    limit_crossed: bool = False
    """The process's memory is already at or above `limit_bytes`."""
    current_bytes: float | None = None
    """The memory compared with the limit (RSS when known, else the live heap)."""

    @property
    def is_leak(self) -> bool:
        return self.kind in LEAK_KINDS


__all__ = [
    "LEAK_KINDS",
    "SEVERITY_ORDER",
    "DumpKind",
    "Finding",
    "Frame",
    "GoroutineDump",
    "GoroutineGroup",
    "Profile",
    "Sample",
    "SampleType",
    "Severity",
    "Stack",
    "Suspect",
    "Verdict",
    "VerdictKind",
]
