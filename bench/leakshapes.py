"""Recall of the goroutine rules per leak shape on the Go toolchain's leak corpus.

The runtime is the judge of what leaks: every scenario of
`$(go env GOROOT)/src/runtime/testdata/testgoroutineleakprofile` (and its goker/) is
built and run (as runtime/goroutineleakprofile_test.go runs them, flaky ones several
times), and each goroutine the runtime marks `(leaked)` is one *site*: its innermost
corpus frame (file:line where it blocks). Sites are classified by shape from the dump
and the source line, mechanically (no hand labels):

- mutex: blocked in sync.Mutex/RWMutex Lock/RLock;  cond: in sync.Cond.Wait;
- interprocedural: the blocking frame is one or more calls below the function the
  goroutine starts in (more than one corpus frame);
- field channel: the blocking operation's channel is a selector (`x.ch`), for a select
  any of its channels;
- select: blocked in a select (with cases); local channel: any other channel / WaitGroup
  wait in the goroutine's own body.

A shape set per site (a site can be interprocedural and field channel). A site is
*found* when a rule reports a finding on one of the goroutine's corpus frames (the
blocking line or a call line on the way to it) or on the `go` statement that created it.

    python bench/leakshapes.py [--rules LH101,...] [--markdown FILE] [--reps 2]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from golab import go_env, go_exe  # noqa: E402
from leakcorpus import goroot, parse_cases  # noqa: E402

SHAPES = ("local channel", "field channel", "interprocedural", "select", "mutex", "cond")
_HEADER = re.compile(r"^goroutine \d+ \[(?P<state>[^\]]*?)(?:, \d+ minutes)?\s*\(leaked\)\]:$")
_FRAME = re.compile(r"^\t(?P<file>/\S+\.go):(?P<line>\d+)")
_CREATED = re.compile(r"^created by .* in goroutine \d+$|^created by ")


@dataclass
class Site:
    file: str
    line: int
    state: str
    frames: list[tuple[str, int]] = field(default_factory=list)
    created: tuple[str, int] | None = None
    scenarios: set[str] = field(default_factory=set)
    shapes: set[str] = field(default_factory=set)


def leaked_sites(out: str, root: Path) -> list[Site]:
    lines = out.splitlines()
    sites = []
    for i, text in enumerate(lines):
        m = _HEADER.match(text)
        if not m:
            continue
        frames: list[tuple[str, int]] = []
        created = None
        j = i + 1
        while j < len(lines) and lines[j].strip():
            fm = _FRAME.match(lines[j])
            if fm and Path(fm["file"]).is_relative_to(root):
                loc = (str(Path(fm["file"]).relative_to(root)), int(fm["line"]))
                if lines[j - 1].startswith("created by "):
                    created = loc
                else:
                    frames.append(loc)
            j += 1
        if frames:
            sites.append(Site(frames[0][0], frames[0][1], m["state"].strip(), frames, created))
    return sites


_FIELD_OP = re.compile(r"(<-\s*[\w\]\[.()]*\.\w+\s*$|<-\s*[\w\]\[.()]*\.\w+[^\w(]|"
                       r"[\w\]\[)]\.\w+\s*<-|range\s+[\w\]\[.()]*\.\w+\s*\{)")


def classify(site: Site, root: Path) -> set[str]:
    st = site.state
    if "Mutex" in st:
        return {"mutex"}
    if "Cond" in st:
        return {"cond"}
    shapes: set[str] = set()
    if len(site.frames) > 1:
        shapes.add("interprocedural")
    src = (root / site.file).read_text().splitlines()
    text = src[site.line - 1]
    block = [text]
    if st.startswith("select") and "no cases" not in st:
        shapes.add("select")
        # the select's cases: lines after the blocking `select {` up to its closing brace
        indent = len(text) - len(text.lstrip("\t"))
        for t in src[site.line:]:
            if t.strip() == "}" and len(t) - len(t.lstrip("\t")) == indent:
                break
            if t.lstrip().startswith("case "):
                block.append(t)
    if any(_FIELD_OP.search(b) for b in block):
        shapes.add("field channel")
    elif "select" not in shapes:
        shapes.add("local channel")
    return shapes


def run_corpus(reps: int) -> tuple[Path, dict[tuple[str, int], Site]]:
    rt = goroot()
    src = rt / "src/runtime/testdata/testgoroutineleakprofile"
    tmp = Path(tempfile.mkdtemp(prefix="lh-shapes-"))
    root = tmp / "corpus"
    shutil.copytree(src, root)
    (root / "go.mod").write_text("module leakcorpus\n\ngo 1.24\n")
    exes = {}
    for name, pkg in (("main", "."), ("goker", "./goker")):
        exe = tmp / name
        subprocess.run([go_exe(), "build", "-o", str(exe), pkg], cwd=root, env=go_env(),
                       check=True, capture_output=True, timeout=900)
        exes[pkg] = exe
    cases = parse_cases((rt / "src/runtime/goroutineleakprofile_test.go").read_text())
    sites: dict[tuple[str, int], Site] = {}
    for c in cases:
        exe = exes["./goker" if c.program.endswith("goker") else "."]
        env = {**go_env(), "GODEBUG": "asyncpreemptoff=1"}
        if c.simple:
            env["GOMAXPROCS"] = "1"
        for _ in range(max(reps, c.reps)):
            res = subprocess.run([str(exe), c.name], capture_output=True, text=True, env=env,
                                 timeout=60, check=False)
            for s in leaked_sites(res.stdout, root):
                key = (s.file, s.line)
                have = sites.setdefault(key, s)
                have.scenarios.add(c.name)
    for s in sites.values():
        s.shapes = classify(s, root)
    return root, sites


def findings(root: Path, rules: list[str] | None, *, shown: bool = False) -> set[tuple[str, int]]:
    """Lines the LH1xx rules report; `shown`: only what `scan` shows with no option (rules on by
    default, severity above info), the README's "shown by default" column."""
    from scanfixtures import run_rules

    from leakhunter.source.registry import all_rules

    ids = rules or [r.id for r in all_rules() if r.id.startswith("LH1") and (r.enabled_by_default or not shown)]
    out: set[tuple[str, int]] = set()
    for p in sorted([*root.glob("*.go"), *root.glob("goker/*.go")]):
        rel = str(p.relative_to(root))
        out |= {(rel, f.line) for f in run_rules(p, ids) if not (shown and f.severity == "info")}
    return out


def table(sites: dict[tuple[str, int], Site], found: set[tuple[str, int]]) -> list[str]:
    rows = ["| shape | leaked sites | found |", "|---|---:|---:|"]
    for shape in SHAPES:
        ss = [s for s in sites.values() if shape in s.shapes]
        hit = [s for s in ss if is_found(s, found)]
        rows.append(f"| {shape} | {len(ss)} | {len(hit)} |")
    hit_all = [s for s in sites.values() if is_found(s, found)]
    rows.append(f"| **all sites** | {len(sites)} | {len(hit_all)} |")
    return rows


def is_found(s: Site, found: set[tuple[str, int]]) -> bool:
    return any(f in found for f in s.frames) or (s.created is not None and s.created in found)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rules", help="comma-separated rule ids (default: every LH1xx rule)")
    ap.add_argument("--markdown")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--sites", action="store_true", help="list every site with its shapes")
    ap.add_argument("--shown", action="store_true",
                    help="only what scan shows with no option (rules on by default, no info)")
    args = ap.parse_args()
    root, sites = run_corpus(args.reps)
    found = findings(root, args.rules.split(",") if args.rules else None, shown=args.shown)
    out = table(sites, found)
    if args.sites:
        out.append("")
        for key in sorted(sites):
            s = sites[key]
            out.append(f"{'FOUND' if is_found(s, found) else 'miss '} {s.file}:{s.line} "
                       f"[{s.state}] {','.join(sorted(s.shapes))} depth={len(s.frames)} "
                       f"{','.join(sorted(s.scenarios))}")
    text = "\n".join(out) + "\n"
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)


if __name__ == "__main__":
    main()
