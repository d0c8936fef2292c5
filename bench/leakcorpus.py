"""The Go toolchain's own goroutine-leak corpus, through leakhunter.

`$(go env GOROOT)/src/runtime/testdata/testgoroutineleakprofile/` (simple, common
patterns, goker: real code with known leaks) lists its expected leaks as regular
expressions in `src/runtime/goroutineleakprofile_test.go`. This script runs each program
the way that test does (GODEBUG=asyncpreemptoff=1, GOMAXPROCS=1 for the simple ones,
repeated), keeps the runtime's goroutineleak dump each prints, and for every expected
leak reports:

- runtime: the runtime marked it `(leaked)` (the test's own extraction, reimplemented);
- goroutines: `leakhunter goroutines --format json` on the same dump has a leaked group
  whose outermost frame and state match the expected leak;
- scan: `leakhunter scan --format json` on the program's source reports a finding inside
  the top-level function the leaking goroutine belongs to.

Then the variants the runtime cannot see (bench/leakcorpus_variants: the blocked
goroutine's channel/WaitGroup reachable from a global; a sleeping goroutine): runtime,
scan, and `leakhunter soak` on the variant served under load (growth, not reachability).

    python bench/leakcorpus.py [--markdown FILE] [--reps 2] [--no-soak]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from golab import go_env, go_exe  # noqa: E402

VARIANTS = ROOT / "bench" / "leakcorpus_variants"


@dataclass
class Case:
    name: str
    program: str  # "testgoroutineleakprofile" or ".../goker"
    simple: bool
    flaky: bool
    reps: int
    leaks: list[str] = field(default_factory=list)


def goroot() -> Path:
    out = subprocess.run([go_exe(), "env", "GOROOT"], capture_output=True, text=True,
                         env=go_env(), check=True).stdout.strip()
    return Path(out)


def parse_cases(test_go: str) -> list[Case]:
    """makeTest / makeFlakyTest calls of goroutineleakprofile_test.go, per list."""
    cases: list[Case] = []
    lists = {"microTests": "testgoroutineleakprofile", "stressTestCases": "testgoroutineleakprofile",
             "patternTestCases": "testgoroutineleakprofile",
             "gokerTestCases": "testgoroutineleakprofile/goker"}
    for lst, program in lists.items():
        m = re.search(lst + r" := \[\]testCase\{(.*?)\n\t\}\n", test_go, re.S)
        if not m:
            continue
        body = re.sub(r"^\s*//.*$", "", m.group(1), flags=re.M)
        calls = list(re.finditer(r"(makeTest|makeFlakyTest)\(\"(\w+)\"", body))
        for i, call in enumerate(calls):
            kind, name = call.groups()
            chunk = body[call.end(): calls[i + 1].start() if i + 1 < len(calls) else len(body)]
            leaks = re.findall(r"`([^`]*)`", chunk)
            flaky = kind == "makeFlakyTest"
            cases.append(Case(name, program, simple=not flaky, flaky=flaky,
                              reps=4 if flaky else 2, leaks=leaks))
    return cases


_HEADER = re.compile(r"goroutine \d+ \[")


def runtime_leaks(output: str) -> list[str]:
    """The test's extractLeaks: `func(...) [wait reason]` per leaked goroutine."""
    leaks = []
    for stack in output.split("\n\ngoroutine"):
        lines = stack.split("\n")
        if len(lines) < 5 or "(leaked)" not in lines[0]:
            continue
        wait = _HEADER.sub("[", lines[0]).replace(" (leaked)", "")
        wait = wait[wait.index("["):] if "[" in wait else wait
        wait = wait.rstrip(":")
        fn = ""
        for i in range(len(lines) - 1, -1, -1):
            if "created by" in lines[i] and i >= 2:
                fn = lines[i - 2].removeprefix("main.")
                break
        if fn:
            leaks.append(f"{fn} {wait}")
    return leaks


def leakhunter_leaks(dump: Path) -> list[str]:
    """The same strings from `leakhunter goroutines --format json` (leaked groups only)."""
    res = subprocess.run([sys.executable, "-m", "leakhunter", "goroutines", "--format", "json",
                          str(dump)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    if res.returncode not in (0, 1) or not res.stdout.strip():
        return []
    out = []
    for g in json.loads(res.stdout).get("groups", []):
        if not g.get("leaked") or not g.get("frames"):
            continue
        fn = g["frames"][-1]["function"].removeprefix("main.")
        out.extend([f"{fn}(...) [{g['state']}]"] * max(1, int(g.get("count", 1))))
    return out


def top_function(pattern: str) -> str:
    """`\\(\\*Stopper_x\\)\\.RunWorker\\.func1\\(.* \\[chan send\\]` -> `RunWorker`;
    `NilRecv\\.func1\\(...` -> `NilRecv` (the declared function the goroutine starts in)."""
    p = pattern.split(r"\(.*", 1)[0].split("(.*", 1)[0]
    p = p.replace("\\", "")
    p = re.sub(r"^\(\*?[\w]+\)\.", "", p)  # method receiver
    return re.split(r"\.(?:func\d+|gowrap\d+)", p, maxsplit=1)[0].split(".")[0]


def func_ranges(src_dir: Path) -> dict[str, tuple[str, int, int]]:
    """Top-level func/method name -> (file, first line, last line), gofmt'ed sources."""
    out: dict[str, tuple[str, int, int]] = {}
    for f in sorted(src_dir.glob("*.go")):
        lines = f.read_text(errors="replace").splitlines()
        for i, text in enumerate(lines, 1):
            m = re.match(r"func (?:\([^)]*\) )?(\w+)", text)
            if m:
                end = next((j for j in range(i, len(lines) + 1) if lines[j - 1] == "}"), i)
                out.setdefault(m.group(1), (f.name, i, end))
    return out


def scan(src_dir: Path) -> list[dict[str, object]]:
    res = subprocess.run([sys.executable, "-m", "leakhunter", "scan", "--format", "json",
                          str(src_dir)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    if not res.stdout.strip():
        return []
    findings: list[dict[str, object]] = json.loads(res.stdout)["findings"]
    return findings


def build(src: Path, tmp: Path, name: str) -> Path:
    work = tmp / name
    shutil.copytree(src, work, ignore=shutil.ignore_patterns("*_test.go"))
    for d in work.iterdir():  # goker has only files; the parent has goker/ which we skip
        if d.is_dir():
            shutil.rmtree(d)
    if not (work / "go.mod").exists():
        (work / "go.mod").write_text("module corpus\n\ngo 1.26\n")
    exe = tmp / f"{name}.exe"
    env = go_env()
    subprocess.run([go_exe(), "build", "-o", str(exe), "."], cwd=work, env=env, check=True,
                   capture_output=True, timeout=600)
    return exe


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--markdown")
    ap.add_argument("--no-soak", action="store_true")
    args = ap.parse_args()
    t_start = time.monotonic()
    root = goroot()
    test_go = (root / "src/runtime/goroutineleakprofile_test.go").read_text()
    cases = parse_cases(test_go)
    tmp = Path(tempfile.mkdtemp(prefix="lh-corpus-"))
    base = root / "src/runtime/testdata"
    exes = {p: build(base / p, tmp, p.replace("/", "-"))
            for p in sorted({c.program for c in cases})}
    sources = {p: base / p for p in exes}
    findings = {p: scan(sources[p]) for p in exes}
    ranges = {p: func_ranges(sources[p]) for p in exes}
    rows = []
    t_run = time.monotonic()
    for c in cases:
        env = dict(os.environ, GODEBUG="asyncpreemptoff=1")
        if c.simple:
            env["GOMAXPROCS"] = "1"
        rt: list[str] = []
        lh: list[str] = []
        for i in range(c.reps):
            res = subprocess.run([str(exes[c.program]), c.name], capture_output=True, text=True,
                                 env=env, timeout=60)
            dump = tmp / f"{c.name}-{i}.txt"
            dump.write_text(res.stdout)
            rt += runtime_leaks(res.stdout)
            lh += leakhunter_leaks(dump)
        for pat in c.leaks or [""]:
            if not pat:
                rng = ranges[c.program].get(c.name)
                fp = next((str(f["rule"]) for f in findings[c.program] if rng
                           and str(f["file"]).endswith(rng[0])
                           and rng[1] <= int(str(f["line"])) <= rng[2]), "")
                rows.append((c, "(no leak expected)", not rt, not lh, not fp, fp))
                continue
            rx = re.compile(pat)
            fn = top_function(pat)
            rng = ranges[c.program].get(fn)
            hit = ""
            if rng:
                for f in findings[c.program]:
                    if str(f["file"]).endswith(rng[0]) and rng[1] <= int(str(f["line"])) <= rng[2]:
                        hit = f"{f['rule']}"
                        break
            rows.append((c, pat, any(rx.search(x) for x in rt), any(rx.search(x) for x in lh),
                         bool(hit), hit))
    run_s = time.monotonic() - t_run

    lines = ["# The Go toolchain's goroutine-leak corpus (bench/leakcorpus.py)", "",
             f"Go {subprocess.run([go_exe(), 'version'], capture_output=True, text=True).stdout.split()[2]}: "
             f"{len(cases)} programs of `src/runtime/testdata/testgoroutineleakprofile` (simple, "
             "patterns, goker), run as `goroutineleakprofile_test.go` runs them (flaky ones 4 times, "
             "others twice). *runtime*: marked `(leaked)` in the dump; *goroutines*: `leakhunter "
             "goroutines` reports a leaked group with that function and state in the same dump; "
             "*scan*: `leakhunter scan` has a finding inside the function the goroutine starts in.",
             "", "| program | expected leak | flaky | runtime | goroutines | scan |",
             "|---|---|---|---|---|---|"]
    yes = {True: "yes", False: "**no**", None: "-"}
    for c, pat, r, g, s, rule in rows:
        if pat == "(no leak expected)":
            ok = {True: "none reported (right)", False: "**reported a leak**"}
            lines.append(f"| {c.name} | (no leak expected) | | {ok[bool(r)]} | {ok[bool(g)]} | "
                         f"{'none reported (right)' if s else f'**{rule}**'} |")
            continue
        lines.append(f"| {c.name} | `{pat}` | {'yes' if c.flaky else ''} | {yes[r]} | {yes[g]} | "
                     f"{rule if s else yes[s]} |")
    exp = [x for x in rows if x[1] != "(no leak expected)"]
    stable = [x for x in exp if not x[0].flaky]
    def frac(xs: list[tuple[object, ...]], i: int) -> str:
        return f"{sum(1 for x in xs if x[i])}/{len(xs)}"
    lines += ["", f"Expected leaks: {len(exp)} ({len(stable)} not flaky). Runtime marked "
              f"{frac(exp, 2)} ({frac(stable, 2)} of the stable ones); `leakhunter goroutines` "
              f"named {frac(exp, 3)} ({frac(stable, 3)}); `leakhunter scan` named {frac(exp, 4)}; "
              f"scan or goroutines: {sum(1 for x in exp if x[3] or x[4])}/{len(exp)}. "
              f"Programs ran in {run_s:.0f} s."]
    lines += variant_rows(tmp, not args.no_soak)
    lines.append(f"\n(total {time.monotonic() - t_start:.0f} s)")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)


def variant_rows(tmp: Path, soak: bool) -> list[str]:
    exe = tmp / "variants.exe"
    subprocess.run([go_exe(), "build", "-o", str(exe), "."], cwd=VARIANTS, env=go_env(),
                   check=True, capture_output=True, timeout=600)
    findings = scan(VARIANTS)
    ranges = func_ranges(VARIANTS)
    out = ["", "Variants the runtime cannot see (bench/leakcorpus_variants):", "",
           "| variant | runtime marked | scan | `leakhunter soak` (growth under load) |",
           "|---|---|---|---|"]
    for name in ("GlobalChanSend", "GlobalChanRecv", "GlobalWaitGroup", "Sleeping"):
        res = subprocess.run([str(exe), name], capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, GODEBUG="asyncpreemptoff=1", GOMAXPROCS="1"))
        marked = bool(runtime_leaks(res.stdout))
        rng = ranges[name]
        hit = next((str(f["rule"]) for f in findings if rng[1] <= int(str(f["line"])) <= rng[2]),
                   "")
        verdict = "-"
        if soak:
            import socket

            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            b = f"http://127.0.0.1:{port}"
            r = subprocess.run(
                [sys.executable, "-m", "leakhunter", "soak", "--cmd",
                 f"{exe} -serve -addr 127.0.0.1:{port} {name}", "--pprof", b, "--load",
                 f"{b}/leak", "--rate", "50", "--warmup", "1s", "--duration", "20s",
                 "--interval", "0.5s", "--fail-fast", "--format", "json"],
                capture_output=True, text=True, timeout=180, cwd=ROOT)
            kinds = []
            if r.stdout.strip():
                doc = json.loads(r.stdout)
                kinds = [v["kind"] for t in doc["targets"] for v in t["verdicts"]
                         if v["kind"] in ("goroutine-leak", "heap-leak", "non-heap-growth")]
            verdict = f"exit {r.returncode}: {', '.join(kinds) or 'no leak'}"
        out.append(f"| {name} | {'yes' if marked else 'no'} | {hit or '**no**'} | {verdict} |")
    return out


if __name__ == "__main__":
    main()
