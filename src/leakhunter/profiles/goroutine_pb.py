"""The binary goroutine / goroutineleak pprof profile -> GoroutineDump.

`/debug/pprof/goroutine` (no `?debug=`) is a pprof profile with one sample type,
`goroutine/count`: one sample per distinct stack, its value the number of goroutines
on it. `/debug/pprof/goroutineleak` is the same with `goroutineleak/count`, holding only
goroutines the runtime proved leaked. Neither records a wait state, so the state is left
empty and the blocking operation is inferred from the (complete) stack instead.
"""

from __future__ import annotations

from leakhunter.errors import WrongKindError
from leakhunter.model import DumpKind, Frame, GoroutineDump, GoroutineGroup, Profile
from leakhunter.profiles.waitreason import infer_state

_KINDS: dict[str, DumpKind] = {"goroutine": "goroutine", "goroutineleak": "goroutineleak"}


def dump_from_profile(p: Profile) -> GoroutineDump:
    """Group a goroutine profile's samples by stack; refuse any other kind of profile."""
    types = [(st.type, st.unit) for st in p.sample_types]
    if len(types) != 1 or types[0][0] not in _KINDS or types[0][1] != "count":
        raise WrongKindError(f"{describe(p)}, not a goroutine profile (goroutine/count)")
    kind = _KINDS[types[0][0]]
    groups: dict[tuple[Frame, ...], GoroutineGroup] = {}
    total = 0
    for smp in p.samples:
        n = smp.values[0]
        stack = smp.stack
        # runtime.goexit is the bottom of every goroutine; dumps never print it.
        while stack and stack[-1].function == "runtime.goexit":
            stack = stack[:-1]
        total += n
        g = groups.get(stack)
        if g is None:
            groups[stack] = GoroutineGroup(
                count=n, state="", stack=stack, leaked=kind == "goroutineleak",
                inferred_state=infer_state(stack),
            )
        else:
            g.count += n
    ordered = sorted(groups.values(), key=lambda g: -g.count)
    return GoroutineDump(total=total, groups=ordered, kind=kind, form="pb")


def describe(p: Profile) -> str:
    """Name a profile's kind the way a Go engineer would (`a CPU profile (...)`)."""
    names = {st.type for st in p.sample_types}
    period = p.period_type.type if p.period_type else ""
    listing = ", ".join(f"{st.type}/{st.unit}" for st in p.sample_types) or "no sample types"
    if "cpu" in names or period == "cpu":
        what = "a CPU profile"
    elif names & {"inuse_space", "alloc_space", "inuse_objects", "alloc_objects"}:
        what = "a heap profile"
    elif names & {"contentions", "delay"}:
        what = "a block or mutex profile"
    elif "threadcreate" in names:
        what = "a threadcreate profile"
    else:
        what = "a pprof profile"
    return f"this is {what} ({listing})"
