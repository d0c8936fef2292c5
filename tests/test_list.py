"""`leakhunter list` equals `go tool pprof -list` on real profiles from a real Go process.

The lab service `chanleak` runs with every allocation recorded (-memprofilerate 1);
a heap profile is taken before and after it leaks a map and blocked goroutines. Each
case runs pprof and leakhunter in the same directory on the same file and compares
every routine: function, file, flat/cum sums, and every source line's number, flat,
cum and text. pprof prints exact integers with -unit=B.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from golab import LAB, go_env, go_exe, run_lab

Routine = tuple[str, str, int, int, list[tuple[int, int, int, str]]]


@pytest.fixture(scope="module")
def profiles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("list")
    out: dict[str, Path] = {}
    with run_lab("chanleak", "-memprofilerate", "1") as svc:
        (d / "heap0.pb.gz").write_bytes(svc.get("/debug/pprof/heap"))
        (d / "goroutine0.pb.gz").write_bytes(svc.get("/debug/pprof/goroutine"))
        svc.get("/leak/map?n=3000&size=4096")
        svc.get("/leak/send?n=40")
        svc.get("/leak/map?n=200&size=100000")
        for name in ("heap", "goroutine"):
            (d / f"{name}.pb.gz").write_bytes(svc.get(f"/debug/pprof/{name}"))
    for p in d.iterdir():
        out[p.name.split(".")[0]] = p
    out["dir"] = d
    return out


def leakhunter(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """The CLI in a chosen directory (source files are looked up from the working directory)."""
    return subprocess.run([sys.executable, "-m", "leakhunter", *args], capture_output=True,
                          cwd=cwd, timeout=120)


def go_tool_pprof(*args: str, cwd: Path) -> str:
    res = subprocess.run([go_exe(), "tool", "pprof", *args], capture_output=True, text=True,
                         env=go_env(), cwd=cwd, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


def _num(tok: str) -> int:
    if tok in (".", "0"):
        return 0
    m = re.fullmatch(r"(-?\d+)B?", tok)
    assert m, f"not an exact value: {tok!r}"
    return int(m.group(1))


def parse_pprof_list(text: str) -> tuple[int, list[Routine]]:
    total = None
    routines: list[Routine] = []
    cur: list[tuple[int, int, int, str]] | None = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        ln = lines[i]
        m = re.match(r"Total: (\S+)$", ln)
        if m:
            total = _num(m.group(1))
        m = re.match(r"ROUTINE =+ (.+) in (.+)$", ln)
        if m:
            sums = lines[i + 1].split()
            cur = []
            routines.append((m.group(1), m.group(2), _num(sums[0]), _num(sums[1]), cur))
            i += 2
            continue
        m = re.match(r"\s*(\S+)\s+(\S+)\s+(\d+):(.*)$", ln)
        if m and cur is not None:
            cur.append((int(m.group(3)), _num(m.group(1)), _num(m.group(2)), m.group(4)))
        i += 1
    assert total is not None, text
    return total, routines


def ours(cwd: Path, *args: str) -> tuple[int, list[Routine], dict[str, object]]:
    res = leakhunter("list", "--format", "json", *args, cwd=cwd)
    assert res.returncode == 0, res.stderr.decode()
    doc = json.loads(res.stdout)
    rs: list[Routine] = [
        (r["function"], r["file"], r["flat"], r["cum"],
         [(x["line"], x["flat"], x["cum"], x["text"]) for x in r["lines"]])
        for r in doc["routines"]
    ]
    return int(doc["total"]), rs, doc


def theirs(cwd: Path, *args: str) -> tuple[int, list[Routine]]:
    return parse_pprof_list(go_tool_pprof(*args, cwd=cwd))


CASES = [
    # (profile, regex, sample index or "", base)
    ("heap", r"main\.", "alloc_space", ""),
    ("heap", r"main\.grow", "inuse_space", ""),
    ("heap", r"main\.", "inuse_objects", ""),
    ("heap", r"net/http\.\(\*conn\)\.serve$", "alloc_space", ""),  # Go's own source, in GOROOT
    ("goroutine", r"main\.|runtime\.gopark$", "", ""),
    ("heap", r"main\.", "inuse_space", "heap0"),
    ("goroutine", r"main\.", "", "goroutine0"),
]


@pytest.mark.parametrize(("kind", "regex", "index", "base"), CASES)
def test_list_equals_pprof(profiles: dict[str, Path], kind: str, regex: str, index: str,
                           base: str) -> None:
    cwd = profiles["dir"]
    path = str(profiles[kind])
    p_args = ["-list", regex]
    l_args = [path, regex]
    if index:
        p_args.append(f"-sample_index={index}")
        l_args += ["--sample-index", index]
    if base:
        p_args += ["-base", str(profiles[base])]
        l_args += ["--base", str(profiles[base])]
    p_total, p_routines = theirs(cwd, *p_args, "-unit=B", path)
    l_total, l_routines, doc = ours(cwd, *l_args)
    assert p_routines, "pprof listed nothing: the case proves nothing"
    assert l_total == p_total
    assert [r[:4] for r in l_routines] == [r[:4] for r in p_routines]
    for mine, pp in zip(l_routines, p_routines, strict=True):
        assert mine[4] == pp[4], mine[0]
    assert any(v for r in l_routines for _, v, _, _ in r[4]) or any(
        c for r in l_routines for _, _, c, _ in r[4])
    # DESIGN.md's single object is the first routine.
    assert (doc["function"], doc["file"]) == l_routines[0][:2]


def test_the_leaking_line_carries_the_growth(profiles: dict[str, Path]) -> None:
    cwd = profiles["dir"]
    _, routines, _ = ours(cwd, str(profiles["heap"]), r"^main\.grow$", "--base",
                          str(profiles["heap0"]), "--sample-index", "alloc_space")
    (_fn, _file, flat, _cum, lines), = routines
    hot = max(lines, key=lambda t: t[1])
    # A heap profile is as of the last GC, so not every request is in it yet; what is
    # there grew at the leaking line and nowhere else in the function.
    assert "make([]byte, size)" in hot[3] and hot[1] == flat > 1 << 20


def test_source_path_finds_a_moved_checkout(profiles: dict[str, Path], tmp_path: Path) -> None:
    """Profiles record the build machine's paths; --source-path finds the same files in a
    checkout elsewhere, as pprof's -source_path does (same heuristic, same answer)."""
    moved = tmp_path / "elsewhere" / "lab"
    shutil.copytree(LAB / "cmd" / "chanleak", moved / "cmd" / "chanleak")
    src = moved / "cmd" / "chanleak" / "main.go"
    src.write_text(src.read_text().replace("make([]byte, size)", "make([]byte, size) // moved"))
    path = str(profiles["heap"])
    # The absolute path in the profile must not be readable, or it would win (pprof too).
    p_total, p_routines = theirs(tmp_path, "-list", r"main\.grow", "-source_path", str(moved),
                                 "-unit=B", path)
    l_total, l_routines, _ = ours(tmp_path, path, r"main\.grow", "--source-path", str(moved))
    text = [t for r in l_routines for _, _, _, t in r[4]]
    assert any("// moved" in t for t in text), text
    assert (l_total, l_routines) == (p_total, p_routines)


def test_text_output_reads_like_pprof(profiles: dict[str, Path]) -> None:
    cwd = profiles["dir"]
    path = str(profiles["heap"])
    res = leakhunter("list", path, r"main\.", cwd=cwd)
    assert res.returncode == 0, res.stderr
    mine = res.stdout.decode().splitlines()
    pp = go_tool_pprof("-list", r"main\.", path, cwd=cwd).splitlines()
    norm = [re.sub(r"\s+", " ", ln).strip() for ln in pp]
    assert [re.sub(r"\s+", " ", ln).strip() for ln in mine] == norm


def test_no_match_and_bad_regex_are_one_line(profiles: dict[str, Path]) -> None:
    path = str(profiles["heap"])
    for args, frag in (([path, "nosuchfunction"], "no matches"),
                       ([path, "("], "regular expression"),
                       ([path, ""], "must not be empty")):
        res = leakhunter("list", *args)
        err = res.stderr.decode().strip().splitlines()
        assert res.returncode == 2 and len(err) == 1, res.stderr
        assert err[0].startswith("leakhunter: error: ") and frag in err[0], err
