"""Join runtime suspects with `scan` findings at the same code: "LH101 at x.go:42 explains ...".

Only rules that produce the suspect's kind of growth can explain it (`_EXPLAINS`).
A heap site or goroutine group names a Frame (function, absolute build path, line); a
finding names a file (relative to the scanned directory), a line and usually the
enclosing function. They match when the files are the same (one path ends with the
other, compared by whole path components) and either the lines are within
`LINE_SLACK` of each other, or the finding's function is the suspect's function (the
runtime line is where the goroutine blocks or allocates, the finding's line is where
the pattern starts: `go func()` a few lines earlier).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import PurePosixPath

from leakhunter.model import Finding, Frame, Suspect
from leakhunter.units import human_amount

LINE_SLACK = 3

# Which catalog rules can explain which kind of growth (LEAK_CATALOG.md "signature"
# column): a `time.After` in the same function must not be credited with goroutines
# blocked on a send, nor a blocked send with heap bytes.
_EXPLAINS: dict[str, tuple[str, ...]] = {
    "goroutines": ("LH1", "LH2", "LH401", "LH402", "LH403", "LH505"),
    # LH401-LH403: an unclosed body/rows/tx keeps its connection and the connection's
    # buffers (lab/cmd/rowsleak: heap grows at the driver's buffer under db.Query).
    "bytes": ("LH3", "LH5", "LH201", "LH405", "LH1", "LH401", "LH402", "LH403"),
    "fds": ("LH401", "LH404", "LH405"),
}


def can_explain(s: Suspect, f: Finding) -> bool:
    """True when the finding's rule produces the kind of growth the suspect shows."""
    prefixes = _EXPLAINS.get(s.unit)
    return prefixes is None or f.rule.startswith(prefixes)


def scan_findings(source_dir: str) -> list[Finding]:
    """Findings of the source scanner for `--source DIR` ([] when the scanner is absent).

    Every rule runs here, including those off by default in `scan` for precision
    (LH405, LH501): a finding is only shown when a measured growth at the same code
    backs it, which is the evidence their syntax alone lacks.
    """
    try:
        from leakhunter.source.registry import all_rules
        from leakhunter.source.scanner import scan_paths
    except ImportError:
        return []
    return list(scan_paths([source_dir], rules=[r.id for r in all_rules()]).findings)


def _same_file(a: str, b: str) -> bool:
    if not a or not b:
        return False
    pa, pb = PurePosixPath(a.replace("\\", "/")).parts, PurePosixPath(b.replace("\\", "/")).parts
    pa = tuple(p for p in pa if p not in ("/", "."))
    pb = tuple(p for p in pb if p not in ("/", "."))
    k = min(len(pa), len(pb))
    return k > 0 and pa[-k:] == pb[-k:]


def _name_parts(fn: str) -> list[str]:
    """`x/cmd/x.(*T).leakSend.func1` → `["T", "leakSend"]`: the names after the package, closures dropped."""
    parts = fn.rsplit("/", 1)[-1].split(".")
    return [p.strip("()*") for p in parts[1:] if not p.startswith("func") or not p[4:].isdigit()]


def _func_tail(fn: str) -> str:
    """`leakhunter.dev/lab/cmd/x.leakSend.func1` → `leakSend` (what a finding calls it)."""
    parts = _name_parts(fn)
    return parts[-1] if parts else fn.rsplit("/", 1)[-1]


def _same_function(suspect_fn: str, finding_fn: str) -> bool:
    if not finding_fn:
        return False
    a = _func_tail(suspect_fn)
    b = finding_fn.rsplit(".", 1)[-1].strip("()*")
    return a == b


def _match_frame(function: str, file: str, line: int, f: Finding) -> bool:
    if not _same_file(file, f.file):
        return False
    lo, hi = f.line, max(f.end_line, f.line)
    if lo - LINE_SLACK <= line <= hi + LINE_SLACK:
        return True
    return _same_function(function, f.function)


def _method_tail(fn: str) -> str:
    """`github.com/x/dispatch.(*aggrGroup).run` -> `aggrGroup.run` ('' for a plain function)."""
    parts = _name_parts(fn)
    return ".".join(parts[-2:]) if len(parts) >= 2 else ""


def _parked_in(s: Suspect, f: Finding) -> bool:
    """A goroutine group parked in the method the finding says its leak strands (LH113's `T.run`), in the
    finding's package: the goroutines wait there, the finding is where they were orphaned."""
    if not f.parks_in or s.unit != "goroutines" or _method_tail(s.function) != f.parks_in:
        return False
    return _same_file(str(PurePosixPath(s.file).parent), str(PurePosixPath(f.file).parent)) or not \
        PurePosixPath(f.file).parent.parts


def match(s: Suspect, f: Finding) -> bool:
    """The finding is at the suspect's site, or at one of the user frames that called it, or names
    the method the suspect's goroutines are parked in; and its rule is one that produces this kind of
    growth."""
    if not can_explain(s, f):
        return False
    if _match_frame(s.function, s.file, s.line, f) or _parked_in(s, f):
        return True
    return any(_match_frame(c.function, c.file, c.line, f) for c in s.callers)


def join(suspects: Sequence[Suspect], findings: Sequence[Finding]) -> None:
    """Set `suspect.finding` to the closest matching finding, in place."""
    for s in suspects:
        best: tuple[int, Finding] | None = None
        for f in findings:
            if match(s, f):
                d = abs(f.line - s.line)
                if best is None or d < best[0]:
                    best = (d, f)
        if best is not None:
            s.finding = best[1]


# The catalog's runtime signatures whose stacks hold no user frame (LEAK_CATALOG.md, last
# column): goroutines a library started for the user's resource. An unclosed response body
# parks its connection's two goroutines in net/http's transport; the goroutine that made
# the request has long returned, so no stack names the user's line. `scan` does.
SIGNATURES: dict[str, str] = {
    "net/http.(*persistConn).readLoop": "LH401",
    "net/http.(*persistConn).writeLoop": "LH401",
    # a sourcegraph/conc pool never waited for: its workers range over the task channel for good,
    # started by the pool's Go (OpenFGA v1.4.1, real leaks set 2: the only frames were conc's)
    "github.com/sourcegraph/conc/pool.(*Pool).worker": "LH112",
}

_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


def candidates(findings: Sequence[Finding], rules: Sequence[str]) -> list[Finding]:
    """The findings of `rules`, most severe first, then by place (a stable choice)."""
    cands = [f for f in findings if f.rule in rules]
    return sorted(cands, key=lambda f: (_SEVERITY_RANK.get(f.severity, 3), f.file, f.line))


def by_signature(suspects: Sequence[Suspect], findings: Sequence[Finding]) -> list[Suspect]:
    """Suspects inside a library whose catalog signature names a rule, moved to the user's
    line `scan` found for that rule; the library frame becomes the path.

    Only a suspect nothing else explains moves, and only to a finding of that rule: with
    several such findings the first (most severe) is the place and the detail says how
    many candidates the source holds, since the runtime evidence cannot tell them apart.
    """
    out: list[Suspect] = []
    for s in suspects:
        rule = SIGNATURES.get(s.function)
        cands = candidates(findings, (rule,)) if rule and s.finding is None else []
        if not cands:
            out.append(s)
            continue
        f = cands[0]
        states = ", ".join(d for d in s.detail.split(", ") if d and d != "?")
        note = f"parked in {s.function}: {rule}'s runtime signature, no user frame on the stack"
        if len(cands) > 1:
            note += f"; 1 of {len(cands)} {rule} findings in the source"
        out.append(replace(
            s, function=f.function or s.function, file=f.file, line=f.line, finding=f,
            path=(Frame(s.function, s.file, s.line), *s.path),
            detail="; ".join(d for d in (states, note) if d),
        ))
    return out


RETAINERS = ("LH504",)
"""Rules whose leak keeps alive what was allocated elsewhere: a finalizer or cleanup cycle pins its
object and everything the object reaches, wherever those were made. A heap profile names where the
growing memory was allocated, never what keeps it, so no stack of theirs holds the leak's line:
OPA v1.18.0 (real leaks set 3) was called in 9 of 9 runs with the fix's `runtime.AddCleanup` line in
none of the suspect lists, which named the parser and compiler that allocated the pinned policies."""


_RETAINS = "keeps alive what it reaches"


def retainers(sites: Sequence[Suspect], findings: Sequence[Finding]) -> list[Suspect]:
    """Suspects for a growing heap that no site explains: the user's lines of the retaining rules
    `scan` found (warning and error only), each offered as what may keep the sites' allocations
    alive. The growth they are given is what no finding explains; the detail says it is a lead the
    profile cannot prove, and the largest unexplained site becomes their path."""
    loose = _unexplained(sites)
    if loose is None:
        return []
    growth, top, allocated = loose
    joined = _joined(sites)
    cands = [f for f in candidates(findings, RETAINERS)
             if f.severity in ("error", "warning") and (f.file, f.line, f.rule) not in joined]
    detail = f"{_RETAINS}, allocated elsewhere: {allocated}, never what holds it"
    if len(cands) > 1:
        detail += f"; 1 of {len(cands)} such findings in the source"
    return [Suspect(f.function or "", f.file, f.line, growth, "bytes", finding=f, detail=detail, path=(top,))
            for f in cands]


def _unexplained(sites: Sequence[Suspect]) -> tuple[float, Frame, str] | None:
    """(growth, frame of the largest site, "the heap profile names where the growth was allocated
    (f at x.go:N)") over the heap sites no finding explains; None when every site is explained."""
    loose = [s for s in sites if s.finding is None and s.unit == "bytes"]
    if not loose:
        return None
    top = max(loose, key=lambda s: s.growth)
    where = f"{PurePosixPath(top.file).name}:{top.line}" if top.file else top.function
    return (sum(s.growth for s in loose), Frame(top.function, top.file, top.line),
            f"the heap profile names where the growth was allocated ({_func_tail(top.function)} at {where})")


def _joined(sites: Sequence[Suspect]) -> set[tuple[str, int, str]]:
    """(file, line, rule) of the findings already joined to a site: not offered again."""
    return {(s.finding.file, s.finding.line, s.finding.rule) for s in sites if s.finding is not None}


_HELD = "held by the goroutines leaking beside it"


def held_by_goroutines(sites: Sequence[Suspect], groups: Sequence[Suspect]) -> list[Suspect]:
    """Suspects for a growing heap that no site explains while goroutines leak too: a leaked goroutine
    keeps its stack and all it references, so memory allocated elsewhere for its sake (net/http's or
    grpc's per-connection buffers, allocated in the library's own frames) grows with it. The leaked
    groups' findings are offered, "may explain", with the largest unexplained site as their path.
    GoBGP v3.7.0 (real leaks set 2): the heap grew in grpc's connection buffers, no frame of GoBGP's,
    while the goroutines parked in the handler the fix changed."""
    loose = _unexplained(sites)
    if loose is None:
        return []
    growth, top, allocated = loose
    taken = _joined(sites)
    detail = f"{_HELD}, which keep what they reference: {allocated}, not who holds it"
    out: list[Suspect] = []
    for g in groups:
        f = g.finding
        if f is None or (f.file, f.line, f.rule) in taken:
            continue
        taken.add((f.file, f.line, f.rule))
        out.append(Suspect(g.function, g.file, g.line, growth, "bytes", finding=f, detail=detail, path=(top,)))
    return out


def from_findings(findings: Sequence[Finding], rules: Sequence[str], growth: float,
                  unit: str, why: str) -> list[Suspect]:
    """Suspects for growth that carries no stack at all (open files): the user's lines of
    the rules that produce it, from `scan`. `growth` is the whole measured growth: no
    profile can split it between the sites, and `why` says so."""
    cands = candidates(findings, rules)
    detail = why if len(cands) <= 1 else f"{why}; shared by {len(cands)} candidate sites"
    return [Suspect(f.function or "", f.file, f.line, growth, unit, finding=f, detail=detail)
            for f in cands]


def explain(suspects: Sequence[Suspect]) -> list[str]:
    """One sentence per joined suspect, for the verdict's evidence."""
    out = []
    for s in suspects:
        f = s.finding
        if f is None:
            continue
        what = human_amount(s.growth, s.unit, sign=True)
        where = f"{PurePosixPath(f.file).name}:{f.line}"
        # A state (`chan send`) reads "in chan send"; a sentence (no stack, a signature) follows a colon.
        detail = "" if not s.detail else f": {s.detail}" if ":" in s.detail else f" in {s.detail}"
        verb = "may explain" if s.detail.startswith((_RETAINS, _HELD)) else "explains"  # a lead, not a proof
        out.append(f"{f.rule} at {where} {verb} {what}{detail} ({s.function})")
    return out
