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
from pathlib import PurePosixPath

from leakhunter.model import Finding, Suspect
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


def _func_tail(fn: str) -> str:
    """`leakhunter.dev/lab/cmd/x.leakSend.func1` → `leakSend` (what a finding calls it)."""
    tail = fn.rsplit("/", 1)[-1]
    parts = tail.split(".")
    parts = [p for p in parts[1:] if not p.startswith("func") or not p[4:].isdigit()]
    parts = [p.strip("()*") for p in parts]
    return parts[-1] if parts else tail


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


def match(s: Suspect, f: Finding) -> bool:
    """The finding is at the suspect's site, or at one of the user frames that called it,
    and its rule is one that produces this kind of growth."""
    if not can_explain(s, f):
        return False
    if _match_frame(s.function, s.file, s.line, f):
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


def explain(suspects: Sequence[Suspect]) -> list[str]:
    """One sentence per joined suspect, for the verdict's evidence."""
    out = []
    for s in suspects:
        f = s.finding
        if f is None:
            continue
        what = human_amount(s.growth, s.unit, sign=True)
        where = f"{PurePosixPath(f.file).name}:{f.line}"
        detail = f" in {s.detail}" if s.detail else ""
        out.append(f"{f.rule} at {where} explains {what}{detail} ({s.function})")
    return out
