"""Which code grew: heap allocation sites and goroutine groups, first vs latest snapshot.

The series say *that* something grows; the snapshots kept by the watcher say *where*.
For the latest process of a target:

- heap: in-use bytes per allocation site (the innermost frame outside the runtime, so
  `make([]byte)` in `main.grow` is charged to `main.grow`, not `runtime.makeslice`),
  latest snapshot minus the first;
- goroutines: goroutine count per (state, innermost user frame), latest minus first
  (`chan send` at handler.go:42: +12,000);
- leaked: the groups in the latest `goroutineleak` profile — the runtime itself proved
  those goroutines can never run again.

Snapshots are decoded with the shared readers (`leakhunter.profiles`), so a suspect's
function/file/line is the same `Frame` a `scan` finding is joined on.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import TypeVar

from leakhunter.collect.store import SnapshotRow, Store
from leakhunter.model import Finding, Frame, GoroutineDump, Profile, Stack, Suspect, Verdict

TOP = 10
K = TypeVar("K")


def _is_user(fr: Frame) -> bool:
    """Code the user owns: package main, or a module path with a domain (`x.dev/...`).

    Standard-library packages (`compress/flate`, `net/http`) have no dot in their first
    path element; an allocation inside them is charged to the user code that called."""
    pkg = fr.package
    return pkg == "main" or "." in pkg.split("/", 1)[0]


_PROFILER_PACKAGES = ("net/http/pprof", "runtime/pprof", "internal/profile",
                      "internal/profilerecord")
_PROFILER_FUNCS = ("expvar.Handler", "expvar.expvarHandler", "expvar.(*Map).String")


def is_profiler_stack(stack: Stack) -> bool:
    """True for what serving the profiler costs: a stack through net/http/pprof or
    runtime/pprof (the profile's own encoding and its gzip, compress/flate, sit under
    them) or the expvar handler leakhunter reads. Those allocations exist because
    leakhunter asks; they are never a suspect and never a row of a growth table.
    Shared by `watch`/`soak`/`report` suspects and the `diff` of live profiles."""
    for fr in stack:
        pkg = fr.package
        if pkg in _PROFILER_PACKAGES or fr.function.startswith(_PROFILER_FUNCS):
            return True
    return False


def without_profiler(profile: Profile) -> Profile:
    """A copy of `profile` without the profiler's own samples (see is_profiler_stack)."""
    keep = [s for s in profile.samples if not is_profiler_stack(s.stack)]
    if len(keep) == len(profile.samples):
        return profile
    return replace(profile, samples=keep, columns=None)


def user_site(stack: Stack) -> tuple[Frame | None, tuple[Frame, ...]]:
    """(the place, the path): the innermost frame in the user's code, and the library
    and runtime frames below it (`runtime.mallocgc`, `bufio.NewReaderSize`,
    `encoding/json` internals) that led from it to the allocation. Without a user frame:
    the innermost non-runtime frame (`net/http` connection buffers), else the leaf."""
    for i, fr in enumerate(stack):
        if _is_user(fr):
            return fr, tuple(stack[:i])
    # No user frame (net/http's own connection buffers): the innermost frame of a package
    # that does something a user can name (net/http), not the helper it called to allocate
    # (`bufio.NewWriterSize` headed the demo's growing sites; a user can act on connections,
    # not on bufio).
    for i, fr in enumerate(stack):
        if not fr.is_runtime and fr.package.split("/", 1)[0] not in _HELPER_ROOTS:
            return fr, tuple(stack[:i])
    for i, fr in enumerate(stack):
        if not fr.is_runtime:
            return fr, tuple(stack[:i])
    # All runtime: name what the runtime allocated for (`runtime.malg`, a new goroutine's
    # descriptor), not the allocator every stack starts in (`runtime.mallocgc`, which told
    # a user nothing as the subslice lab's second suspect).
    for i, fr in enumerate(stack):
        if fr.function not in _ALLOCATORS:
            return fr, tuple(stack[:i])
    return (stack[0] if stack else None), ()


_HELPER_ROOTS = frozenset({
    "bufio", "bytes", "strings", "strconv", "fmt", "encoding", "compress", "io", "sync",
    "reflect", "sort", "slices", "maps", "unicode", "internal", "container", "math", "errors",
})
"""Standard packages that allocate on behalf of their caller: the path, never the place."""

_ALLOCATORS = frozenset({
    "runtime.mallocgc", "runtime.newobject", "runtime.newarray", "runtime.makeslice",
    "runtime.makeslicecopy", "runtime.growslice", "runtime.makemap", "runtime.makemap_small",
    "runtime.makechan", "runtime.rawstring", "runtime.rawbyteslice", "runtime.rawruneslice",
    "runtime.mallocgcSmallNoscan", "runtime.mallocgcSmallScanNoHeader",
    "runtime.mallocgcSmallScanHeader", "runtime.mallocgcLarge", "runtime.mallocgcTiny",
})
"""The allocator's own entry points: every heap stack starts in one of them."""


def _site(stack: Stack) -> Frame | None:
    """The innermost user frame; else the innermost non-runtime frame; else the leaf."""
    return user_site(stack)[0]


CUT_DEPTH = 128
"""The runtime's recorded stack depth (GODEBUG=profstackdepth's default since Go 1.23; inlined frames
can add a few): a stack this deep was cut. Older toolchains cut at 32, where ordinary server stacks
end too (Alertmanager's API: 35 frames through 10 middleware layers), so those are not judged."""
CUT_MIN_REPEATS = 8


def cut_recursion(stack: Stack) -> tuple[str, int] | None:
    """(function, times) when `stack` is a recursion the profile cut off: CUT_DEPTH frames or more, one
    function repeated CUT_MIN_REPEATS times or more. Its caller, the code that deepens the recursion or
    the wrapper chain, is above the cut and on no stack (Alertmanager v0.30.0's tracing transport
    wrapped once more per notification, real leaks set 4)."""
    if len(stack) < CUT_DEPTH:
        return None
    fn, times = Counter(fr.function for fr in stack).most_common(1)[0]
    return (fn, times) if times >= CUT_MIN_REPEATS else None


def heap_by_site(profile: Profile, callers: dict[Frame, Stack] | None = None,
                 paths: dict[Frame, Stack] | None = None,
                 cut: dict[Frame, tuple[int, str, int]] | None = None,
                 what: str = "inuse_space") -> Counter[Frame]:
    """In-use bytes (or another sample type, `what`) per allocation site (innermost non-runtime frame).

    With `callers`, also records for each site the user frames above it in the
    heaviest stack seen (for joining a finding at the call site); with `cut`, the bytes of
    each site's stacks that are a recursion cut off by the profile, with the function and
    its most repeats (`cut_recursion`)."""
    idx = profile.sample_index(what)
    out: Counter[Frame] = Counter()
    heaviest: dict[Frame, int] = {}
    for s in profile.samples:
        if is_profiler_stack(s.stack):
            continue
        fr, path = user_site(s.stack)
        v = s.values[idx]
        if fr is not None and v:
            out[fr] += v
            rec = cut_recursion(s.stack) if cut is not None else None
            if cut is not None and rec is not None:
                had = cut.get(fr, (0, rec[0], 0))
                cut[fr] = (had[0] + v, rec[0], max(had[2], rec[1]))
            if callers is not None and v > heaviest.get(fr, -1):
                heaviest[fr] = v
                pos = s.stack.index(fr)
                callers[fr] = tuple(f for f in s.stack[pos + 1:] if _is_user(f))[:8]
                if paths is not None:
                    paths[fr] = path[-6:]
    return out


def goroutines_by_site(
    dump: GoroutineDump, callers: dict[tuple[str, Frame], Stack] | None = None
) -> Counter[tuple[str, Frame]]:
    """Goroutine count per (state, innermost user frame)."""
    from leakhunter.profiles.waitreason import infer_state

    out: Counter[tuple[str, Frame]] = Counter()
    for g in dump.groups:
        if is_profiler_stack(g.stack):
            continue
        fr = g.user_frame
        if fr is not None:
            # debug=1 dumps carry no state line; the blocking runtime frame tells it.
            state = g.state or infer_state(g.stack, runtime_hidden=True) or "?"
            out[(state, fr)] += g.count
            if callers is not None and (state, fr) not in callers:
                pos = g.stack.index(fr)
                up = tuple(f for f in g.stack[pos + 1:] if not f.is_runtime)
                if g.created_by is not None and not g.created_by.is_runtime:
                    up = (*up, g.created_by)
                callers[(state, fr)] = up[:8]
    return out


def _significant(grown: list[tuple[K, int]], floor: float) -> list[tuple[K, int]]:
    """Drop the noise under the real movers: below 5% of the top growth or under `floor`."""
    if not grown:
        return grown
    top = grown[0][1]
    return [(k, g) for k, g in grown if g >= max(0.05 * top, floor)]


def _pair(store: Store, target: str, kind: str, process_id: int) -> tuple[SnapshotRow, SnapshotRow] | None:
    snaps = store.snapshots(target, kind, process_id)
    if len(snaps) < 2:
        return None
    return snaps[0], snaps[-1]


def _profile(store: Store, snap: SnapshotRow) -> Profile | None:
    from leakhunter.errors import InputError
    from leakhunter.profiles import read_profile

    try:
        return read_profile(store.snapshot_data(snap.id), max_bytes=1 << 30)
    except InputError:
        return None


def _dump(store: Store, snap: SnapshotRow) -> GoroutineDump | None:
    from leakhunter.errors import InputError
    from leakhunter.profiles import read

    try:
        got = read(store.snapshot_data(snap.id), max_bytes=1 << 30)
    except InputError:
        return None
    return got if isinstance(got, GoroutineDump) else None


def heap_suspects(store: Store, target: str, process_id: int) -> list[Suspect]:
    pair = _pair(store, target, "heap", process_id)
    if pair is None:
        return []
    a, b = (_profile(store, s) for s in pair)
    if a is None or b is None:
        return []
    callers: dict[Frame, Stack] = {}
    paths: dict[Frame, Stack] = {}
    cut: dict[Frame, tuple[int, str, int]] = {}
    latest = heap_by_site(b, callers, paths, cut)
    diff = Counter(latest)
    diff.subtract(heap_by_site(a))
    return _site_suspects(list(diff.items()), "bytes", latest, callers, paths, cut, "inuse_space")


def alloc_suspects(store: Store, target: str, process_id: int) -> list[Suspect]:
    """Sites whose allocation per request of the driving load grew: alloc_space per request over
    the first third of the kept heap profiles against the last third (the `alloc_per_request`
    verdict's own measure, site by site). A chain walked per request shows as the sites each link
    allocates at; when the profile cut the chain's stacks, `heap_detail` says so."""
    load = {p.ts: p.value for p in store.series(target, "load_requests") if p.process_id == process_id}
    snaps = [s for s in store.snapshots(target, "heap", process_id) if s.ts in load]
    if len(snaps) < 4:
        return []
    k = len(snaps) // 3
    marks = (snaps[0], snaps[k], snaps[-1 - k], snaps[-1])
    done = [load[s.ts] for s in marks]
    profs = [p for p in (_profile(store, s) for s in marks) if p is not None]
    if len(profs) < 4 or done[1] <= done[0] or done[3] <= done[2]:
        return []
    callers: dict[Frame, Stack] = {}
    paths: dict[Frame, Stack] = {}
    cut: dict[Frame, tuple[int, str, int]] = {}
    by = [heap_by_site(p, what="alloc_space") for p in profs[:3]]
    latest = heap_by_site(profs[3], callers, paths, cut, what="alloc_space")
    early, late = done[1] - done[0], done[3] - done[2]
    grew = [(fr, round((latest[fr] - by[2][fr]) / late - (by[1][fr] - by[0][fr]) / early))
            for fr in latest]
    sites = _site_suspects(grew, "bytes/request", latest, callers, paths, cut, "alloc_space")
    chains = {held[1] for fr, held in cut.items() if any(s.function == fr.function for s in sites)}
    return _chain_builders(profs[0], profs[3], done[3] - done[0], chains) + sites


def _chain_builders(before: Profile, after: Profile, requests: float, chains: set[str]) -> list[Suspect]:
    """Where a chain the requests walk gets its links: for a chain cut in `pkg.(*T).M`, the first frame
    outside `pkg` above a call of T's constructor (`pkg.NewT`, `pkg.newT`) that allocated between
    `before` and `after`. The chain's own sites say what each link costs; this says who adds links
    while the service runs (Alertmanager v0.30.0: `otelhttp.NewTransport` from `tracing.Transport`,
    called by `notify.request` at util.go:81, the line its fix removed, real leaks set 4)."""
    import re

    ctors: dict[str, tuple[str, str]] = {}
    for fn in chains:
        pkg = Frame(fn).package
        m = re.match(r"\(?\*?(\w+)\)?\.\w+$", fn[len(pkg) + 1:])
        if m:
            for name in (f"{pkg}.New{m.group(1)}", f"{pkg}.new{m.group(1)}"):
                ctors[name] = (pkg, m.group(1))
    if not ctors:
        return []
    callers: dict[Frame, Stack] = {}
    made: dict[Frame, tuple[str, str, str]] = {}

    def builders(profile: Profile, keep: bool) -> Counter[Frame]:
        idx = profile.sample_index("alloc_space")
        out: Counter[Frame] = Counter()
        for smp in profile.samples:
            at = next((i for i, f in enumerate(smp.stack) if f.function in ctors), None)
            if at is None:
                continue
            pkg, typ = ctors[smp.stack[at].function]
            up = next((j for j in range(at + 1, len(smp.stack))
                       if not smp.stack[j].function.startswith(pkg + ".")), None)
            if up is None:
                continue
            via = ""
            if smp.stack[up].function.rsplit(".", 1)[-1] in (typ, f"New{typ}", f"new{typ}") and up + 1 < len(smp.stack):
                # a constructor of its own, named for the type (Alertmanager's tracing.Transport wraps
                # otelhttp.NewTransport): what adds the links is the code that calls it, a frame up
                via = f" through {_short(smp.stack[up])}"
                up += 1
            fr = smp.stack[up]
            out[fr] += smp.values[idx]
            if keep and fr not in callers:
                callers[fr] = tuple(f for f in smp.stack[up + 1:] if _is_user(f))[:8]
                made[fr] = (pkg.rsplit("/", 1)[-1], typ, smp.stack[at].function.rsplit(".", 1)[-1] + via)
        return out

    late = builders(after, True)
    late.subtract(builders(before, False))

    def called_by(fr: Frame) -> str:
        up = callers.get(fr, ())
        return f", called by {_short(up[0])}" if up else ""

    return [Suspect(fr.function, fr.file, fr.line, float(round(g / requests)), "bytes/request",
                    detail=f"adds a link to the {made[fr][0]}.{made[fr][1]} chain the requests walk "
                           f"({made[fr][2]} called here while the service ran{called_by(fr)}): build it once, at setup",
                    callers=callers.get(fr, ()))
            for fr, g in late.most_common(2) if g > 0]


def _short(fr: Frame) -> str:
    """`pkg.Func file.go:12`, for a frame named inside a sentence."""
    return f"{fr.function.rsplit('/', 1)[-1]} {fr.file.rsplit('/', 1)[-1]}:{fr.line}"


def _site_suspects(diff: list[tuple[Frame, int]], unit: str, latest: Counter[Frame],
                   callers: dict[Frame, Stack], paths: dict[Frame, Stack],
                   cut: dict[Frame, tuple[int, str, int]], what: str) -> list[Suspect]:
    """The sites that grew, largest first, as suspects."""
    grown = sorted(((fr, g) for fr, g in diff if g > 0), key=lambda t: -t[1])
    grown = _significant(grown, 0)
    # The user's lines first: a site with no user frame at all (the HTTP server's
    # per-connection buffers) stays only when it is a large share of the growth.
    top_user = max((g for fr, g in grown if _is_user(fr)), default=0)
    if top_user:
        grown = [(fr, g) for fr, g in grown if _is_user(fr) or g >= 0.5 * top_user]
    grown.sort(key=lambda t: (not _is_user(t[0]), -t[1]))
    return [Suspect(fr.function, fr.file, fr.line, float(g), unit, detail=heap_detail(fr, latest, cut, what),
                    callers=callers.get(fr, ()), path=paths.get(fr, ()))
            for fr, g in grown[:TOP]]


def heap_detail(fr: Frame, latest: Counter[Frame], cut: dict[Frame, tuple[int, str, int]],
                what: str = "inuse_space") -> str:
    """`what` (the sample type), and when most of the site's bytes sit under a recursion the profile cut
    off, that: the suspect is then the bottom of a chain whose cause is above the cut, not a line to fix.
    `watch`/`soak` and `fleet` say it alike."""
    held = cut.get(fr)
    if held is None or held[0] < 0.5 * latest.get(fr, 0):
        return what
    fn = held[1].rsplit("/", 1)[-1]
    return (f"{what}; stacks cut at the profile's depth inside {fn} (x{held[2]}): a recursion or "
            "wrapper chain that deepens with use; what deepens it is above the cut")


def goroutine_suspects(store: Store, target: str, process_id: int) -> list[Suspect]:
    pair = _pair(store, target, "goroutine", process_id)
    if pair is None:
        return []
    a, b = (_dump(store, s) for s in pair)
    if a is None or b is None:
        return []
    callers: dict[tuple[str, Frame], Stack] = {}
    diff = goroutines_by_site(b, callers)
    diff.subtract(goroutines_by_site(a))
    grown = sorted(((k, g) for k, g in diff.items() if g > 0), key=lambda t: -t[1])
    return merge_sites([Suspect(fr.function, fr.file, fr.line, float(g), "goroutines",
                                detail=state, callers=callers.get((state, fr), ()))
                        for (state, fr), g in _significant(grown, 2)])[:TOP]


def creators(store: Store, target: str, process_id: int) -> dict[tuple[str, str, int], Frame]:
    """Where the goroutines parked at each site were started: the most common user-code `created
    by` per (function, file, line) in the process's latest full dump (`goroutine_stacks`, debug=2,
    which the watcher fetches only once goroutines grew). {} without one."""
    snaps = store.snapshots(target, "goroutine_stacks", process_id)
    dump = _dump(store, snaps[-1]) if snaps else None
    if dump is None:
        return {}
    seen: dict[tuple[str, str, int], Counter[Frame]] = {}
    for g in dump.groups:
        fr, by = g.user_frame, g.created_by
        if fr is None or by is None or by.is_runtime or is_profiler_stack(g.stack):
            continue
        seen.setdefault((fr.function, fr.file, fr.line), Counter())[by] += g.count
    return {site: c.most_common(1)[0][0] for site, c in seen.items()}


def with_creators(suspects: list[Suspect], by_site: dict[tuple[str, str, int], Frame]) -> list[Suspect]:
    """Each goroutine suspect with the `go` statement that started its goroutines, also as its last
    caller, so a `scan` finding at that statement (LH101's `go func`) joins it."""
    out = []
    for s in suspects:
        by = by_site.get((s.function, s.file, s.line))
        if by is None:
            out.append(s)
            continue
        callers = s.callers if by in s.callers else (*s.callers, by)
        out.append(replace(s, created_by=by, callers=callers))
    return out


def leaked_suspects(store: Store, target: str, process_id: int) -> list[Suspect]:
    snaps = store.snapshots(target, "goroutineleak", process_id)
    if not snaps:
        return []
    dump = _dump(store, snaps[-1])
    if dump is None:
        return []
    callers: dict[tuple[str, Frame], Stack] = {}
    counts = goroutines_by_site(dump, callers)
    return merge_sites([Suspect(fr.function, fr.file, fr.line, float(n), "goroutines",
                                detail=f"leaked ({state})", callers=callers.get((state, fr), ()))
                        for (state, fr), n in counts.most_common()])[:TOP]


def merge_sites(suspects: Sequence[Suspect]) -> list[Suspect]:
    """One suspect per code site (function, file, line), largest growth first.

    Goroutine groups are counted per (state, site), and one site shows up under several
    states: the same blocked send is `chan send` in one dump and `chan send (leaked)`
    once the runtime's leak detector has marked it, or `select` vs `select (no cases)`.
    People read a suspect as a line of code, so those are one suspect: the growths add
    up, the states are listed together, and the callers of the largest group are kept.
    """
    merged: dict[tuple[str, str, int], Suspect] = {}
    for s in suspects:
        key = (s.function, s.file, s.line)
        m = merged.get(key)
        if m is None:
            merged[key] = replace(s)
            continue
        states = [d for d in (m.detail, s.detail) if d]
        detail = ", ".join(dict.fromkeys(", ".join(states).split(", ")))
        big = m if m.growth >= s.growth else s
        merged[key] = replace(big, growth=m.growth + s.growth, detail=detail)
    return sorted(merged.values(), key=lambda s: -s.growth)


def target_suspects(
    store: Store, target: str, *, findings: Sequence[Finding] | None = None,
) -> tuple[list[Suspect], list[Suspect]]:
    """(growing heap sites, growing or leaked goroutine groups) of the target's latest
    process, joined with `findings` when given."""
    from leakhunter.analyze.join import join

    proc = store.last_process(target)
    if proc is None:
        return [], []
    sites = heap_suspects(store, target, proc.id)
    leaked = leaked_suspects(store, target, proc.id)
    grown = goroutine_suspects(store, target, proc.id)
    # The runtime's proof wins: a site it reports leaked is not listed again as merely grown.
    seen = {(s.function, s.file, s.line) for s in leaked}
    groups = leaked + [s for s in grown if (s.function, s.file, s.line) not in seen]
    if groups:
        groups = with_creators(groups, creators(store, target, proc.id))
    if findings:
        join(sites, findings)
        join(groups, findings)
    return sites, groups


# Which rules leave files open, per fd series: files the GC closed (finalizers of *os.File)
# can only be files the code dropped unclosed; the raw fd count also holds connections.
_FILE_RULES: dict[str, tuple[str, ...]] = {
    "fds_gc_closed": ("LH404",),
    "fds": ("LH404", "LH401", "LH405"),
}


def _fd_growth(store: Store, target: str, series: str) -> float:
    """Files left open over the latest process's window, or the raw count's last minus first.

    For `fds_gc_closed` it is the verdict's estimate, not the sum of the GC pairs: half the
    forced scrapes are shams whose GC follows their counts (so the GC pairs see about half
    the files the GCs closed), and a busy service's own short-lived files make every pair
    lose a few (node-exporter); what the GCs closed beyond that is the pairs' mean minus the
    shams', times every forced GC. A store from before the shams has only GC pairs: their sum."""
    proc = store.last_process(target)

    def values(name: str) -> list[float]:
        return [p.value for p in store.series(target, name) if proc is None or p.process_id == proc.id]

    pts = values(series)
    if not pts:
        return 0.0
    if series != "fds_gc_closed":
        return pts[-1] - pts[0]
    shams = values("fds_sham_closed")
    if not shams:
        return float(sum(pts))
    return max(0.0, (statistics.fmean(pts) - statistics.fmean(shams)) * (len(pts) + len(shams)))


def suspects_for(
    store: Store, target: str, verdicts: Sequence[Verdict], *,
    findings: Sequence[Finding] | None = None,
) -> None:
    """Attach suspects (and their explanations) to every verdict that is not `no-leak`:
    heap sites to heap verdicts, goroutine groups to the goroutine verdict and to a
    `non-heap-growth` one (stacks); suspects are built once per site (`merge_sites`)."""
    from leakhunter.analyze.join import (
        by_signature,
        explain,
        from_findings,
        held_by_goroutines,
        retainers,
    )

    if all(v.kind == "no-leak" for v in verdicts):
        return
    sites, groups = target_suspects(store, target, findings=findings)
    if findings:
        groups = merge_sites(by_signature(groups, findings))
    for v in verdicts:
        if v.kind == "no-leak":
            continue
        if v.series in ("heap_live", "gc_live_heap"):
            # the sites a finding explains first (the code and the runtime agree, and the finding says
            # how to fix it), then what may hold the others (a cleanup cycle, goroutines leaking beside
            # the heap), then those others
            kept = retainers(sites, findings) if findings and v.kind == "heap-leak" else []
            if findings and v.kind == "heap-leak" and any(o.kind == "goroutine-leak" for o in verdicts):
                kept += held_by_goroutines(sites + kept, groups)
            v.suspects = [s for s in sites if s.finding is not None] + kept + [s for s in sites if s.finding is None]
        elif v.series == "alloc_per_request":
            proc = store.last_process(target)
            v.suspects = alloc_suspects(store, target, proc.id) if proc is not None else []
        elif v.series == "goroutines" or (v.series == "nonheap" and v.kind == "non-heap-growth"):
            # Goroutine stacks explain memory outside the heap only once that growth is
            # established; an unsettled non-heap series would just repeat the groups.
            v.suspects = list(groups)
        elif v.series in _FILE_RULES and findings and v.kind != "inconclusive":
            v.suspects = from_findings(
                findings, _FILE_RULES[v.series], _fd_growth(store, target, v.series), "fds",
                "open files carry no stack: the line is scan's finding",
            )
        if findings and v.suspects and v.kind != "inconclusive":
            v.evidence.extend(explain(v.suspects))
