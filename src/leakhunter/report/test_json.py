"""`leakhunter test --format json`: the DESIGN.md contract.

    {"packages": [{"package", "ok", "tests_failed"}],
     "leaks": [{"package", "test", "count", "state", "function", "file", "line",
                "created_file", "created_line", "proven", "finding"}]}

`finding` is null or {"rule", "name", "file", "line", "message", "fix"}. Additions, never
renames: a package's `checked`, `build_failed`, `note`, `proof`; a leak's `subtest` and
`created_function`, `attributed`; top-level `go_version`, `evidence`, `proof_available`,
`settle_s`, `ancestry`, `rerun_packages`, `not_reproduced`.
"""

from __future__ import annotations

import json
from typing import Any

from leakhunter.analyze.testleaks import PackageOutcome, TestLeak, TestReport


def package_dict(p: PackageOutcome) -> dict[str, Any]:
    return {
        "package": p.package,
        "ok": p.ok,
        "tests_failed": list(p.tests_failed),
        "checked": p.checked,
        "build_failed": p.build_failed,
        "proof": p.proof,
        "note": p.note,
    }


def leak_dict(lk: TestLeak) -> dict[str, Any]:
    f = lk.finding
    return {
        "package": lk.package,
        "test": lk.test,
        "count": lk.count,
        "state": lk.state,
        "function": lk.function,
        "file": lk.file,
        "line": lk.line,
        "created_file": lk.created_file,
        "created_line": lk.created_line,
        "proven": lk.proven,
        "finding": None if f is None else {
            "rule": f.rule, "name": f.name, "file": f.file, "line": f.line,
            "message": f.message, "fix": f.fix,
        },
        "subtest": lk.subtest,
        "created_function": lk.created_function,
        "attributed": lk.attributed,
    }


def document(report: TestReport) -> dict[str, Any]:
    return {
        "packages": [package_dict(p) for p in report.packages if p.has_tests],
        "leaks": [leak_dict(lk) for lk in report.leaks],
        "go_version": report.go_version,
        "evidence": report.evidence,
        "proof_available": report.proof_available,
        "settle_s": report.settle_s,
        "ancestry": report.ancestry,
        "rerun_packages": list(report.rerun),
        "not_reproduced": list(report.not_reproduced),
    }


def render(report: TestReport) -> str:
    return json.dumps(document(report), indent=2) + "\n"
