"""The leak lab itself: every service builds and passes `go vet`, the manifest matches the
code, and `leakhunter scan` names each service's catalog rule at its `// LEAK:` lines and
nowhere in its fixed code.

go vet: no lab leak shape is a vet finding (vet's lostcancel/httpresponse do not fire on
them: the unclosed body in bodyleak is not vet's httpresponse case, which is a Close
*before* the error check), so `go vet ./...` must pass on both modules as a whole.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from golab import LAB, go_env, go_exe
from soaklab import build_service, manifest, toolchain_for

M = manifest()


def _vet(module_dir: str, go: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([go, "vet", "./..."], cwd=module_dir, env=go_env(),
                          capture_output=True, text=True, timeout=600)


def test_go_vet_passes_on_the_lab() -> None:
    res = _vet(str(LAB), go_exe())
    assert res.returncode == 0, res.stderr


def test_go_vet_passes_on_the_go122_module() -> None:
    res = _vet(str(LAB / "go122"), go_exe())
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("svc", M.services + M.controls, ids=lambda s: s.name)
def test_service_builds(svc) -> None:  # type: ignore[no-untyped-def]
    if toolchain_for(svc) is None:
        pytest.skip(f"needs a Go toolchain <= {svc.max_go}")
    exe = build_service(svc)
    assert exe.exists() and exe.stat().st_size > 0


def test_manifest_matches_the_lab() -> None:
    """Every lab/cmd service is in the manifest (or is another helper's fixture), and every
    leaking service serves /leak and /fixed and marks its leaking lines."""
    for svc in M.services:
        src = svc.source.read_text()
        assert '"/leak"' in src and '"/fixed"' in src, svc.name
        assert svc.leak_lines(), f"{svc.name}: no // LEAK: line"
        assert all(svc.rule in line for line in src.splitlines() if "// LEAK:" in line), svc.name
        assert svc.kind in ("heap-leak", "goroutine-leak", "non-heap-growth"), svc.name
    for c in M.controls:
        assert c.source.exists(), c.name
        assert "// LEAK:" not in c.source.read_text(), c.name
    rules = [s.rule for s in M.services]
    assert len(rules) == len(set(rules))
    want = {"LH101", "LH102", "LH103", "LH104", "LH105", "LH106", "LH301", "LH401", "LH402",
            "LH404", "LH501", "LH502", "LH503", "LH504", "LH112", "LH113"}
    assert set(rules) == want


def _functions(src: str) -> list[tuple[str, int, int]]:
    """(name, first line, last line) of each top-level func in a gofmt'ed file."""
    lines = src.splitlines()
    out = []
    for i, text in enumerate(lines, 1):
        m = re.match(r"func (?:\([^)]*\) )?(\w+)", text)
        if m:
            end = next(j for j in range(i, len(lines) + 1) if lines[j - 1] == "}")
            out.append((m.group(1), i, end))
    return out


def test_scan_names_every_lab_leak_and_nothing_in_the_fixed_code() -> None:
    dirs = [str(s.source_dir) for s in M.services]
    # Every rule, including the ones off by default for precision (LH105, LH405, LH501, LH502, LH113, ...).
    from leakhunter.source.registry import rule_infos

    off = ",".join(r.id for r in rule_infos() if not r.enabled_by_default)
    res = subprocess.run([sys.executable, "-m", "leakhunter", "scan", "--format", "json",
                          "--enable", off, "--show-info", *dirs],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode in (0, 1), res.stderr
    findings = json.loads(res.stdout)["findings"]
    for svc in M.services:
        mine = [f for f in findings
                if f["file"].endswith(f"cmd/{svc.name}/main.go") and f["rule"] == svc.rule]
        assert any(f["line"] in svc.leak_lines() for f in mine), (
            f"{svc.name}: scan does not report {svc.rule} at a // LEAK: line "
            f"{sorted(svc.leak_lines())}; got {[(f['rule'], f['line']) for f in mine]}")
        funcs = _functions(svc.source.read_text())
        for f in mine:
            owner = next((n for n, a, b in funcs if a <= f["line"] <= b), "")
            assert "Fixed" not in owner, f"{svc.name}: {svc.rule} reported in fixed code {owner}"


def test_scan_finds_no_catalog_leak_in_the_controls() -> None:
    dirs = [str(c.source_dir) for c in M.controls]
    res = subprocess.run([sys.executable, "-m", "leakhunter", "scan", "--format", "json",
                          "--fail-on", "warning", *dirs],
                         capture_output=True, text=True, timeout=300)
    findings = json.loads(res.stdout)["findings"]
    serious = [f for f in findings if f["severity"] != "info"]
    assert not serious, serious
    assert res.returncode == 0


def _heap_after_gc(svc_proc) -> int:  # type: ignore[no-untyped-def]
    text = svc_proc.get("/debug/pprof/heap?gc=1&debug=1").decode()
    return int(re.search(r"# HeapAlloc = (\d+)", text).group(1))  # type: ignore[union-attr]


def _ticker_growth(exe) -> int:  # type: ignore[no-untyped-def]
    from golab import LabProcess

    with LabProcess(exe) as p:
        before = _heap_after_gc(p)
        for _ in range(100):
            p.get("/leak?n=100")  # 10,000 unstopped one-hour tickers
        return _heap_after_gc(p) - before


def test_lh301_leaks_only_where_the_go_directive_still_selects_old_timers() -> None:
    """lab/README.md's table: go 1.22 directive + Go <= 1.26 keeps every unstopped ticker
    (~266 B each); Go 1.27 removed asynctimerchan, so the same program collects them."""
    svc = M.get("tickerleak")
    old = toolchain_for(svc)
    if old is None:
        pytest.skip("needs a Go toolchain <= 1.26")
    grown_old = _ticker_growth(build_service(svc))
    assert grown_old > 10_000 * 150, grown_old
    from golab import build, go_version

    if go_version() >= (1, 27):
        grown_new = _ticker_growth(build("tickerleak", module_dir=LAB / "go122"))
        assert grown_new < grown_old / 10, (grown_new, grown_old)
