"""Which Go files are test code: `_test.go` files and the test support kept in ordinary files.

`scan` hides findings in test code by default (`--tests` shows them), because what a reviewer must
act on is what runs in production, and because the data said so. Held-out sets 1-6, triaged before
any rule was tuned on them: findings in `_test.go` files were 28% true; findings in test support
outside `_test.go` files (e2e harnesses, `testutil` packages, exported conformance suites such as
go-mysql-server's `enginetest`, mocks) were 21 of 55 true, and **every one of the 21 was "harmless
but real"** (a test helper's unclosed body, a fixture's file): not one leak that matters in a
service. Goroutine leaks there are what `leakhunter test` proves at run time.

A file is test support when, outside `_test.go`:
- it imports a test framework before its first function (`testing`, testify, ginkgo, gomega,
  gotest.tools, gocheck, quicktest, ...: `_TEST_IMPORT`): production code has no use for `*testing.T`, unless, by fact, production code of
  another package of its module names one of its exported declarations (a runner that takes an
  optional `*testing.T`, called with nil by the program: HttpRunner, held-out set 78); or
- a directory of its path *inside its module* is one that by convention only tests use (`test`,
  `tests`, `testing`, `testutil`, `e2e`, `endtoend`, `acceptance`, `mocks`, ...). Inside the module,
  so a checkout under `~/test/` does not make a service test code; whole names only, so `latest/`, `attest/` or
  tailscale's `net/speedtest` (a feature) stay production; whole words of a hyphenated name count
  (`cmd/sharded-test-server`); or
- its package follows Go's `xxxtest` convention for test helpers (`net/http/httptest`, `testing/fstest`)
  by fact, not by name alone: its directory's name ends in `test`, and inside its module only `_test.go`
  files import it (u-root's `pkg/uefivars/vartest`, held-out set 18, whose file is `test.go` and imports
  no test framework). `latest/`, `attest/` or `speedtest/` that production code imports stay production; or
- its file name says test in a whole word (`test_passthrough_proxy.go`, `mock_store.go`) and, by fact, no
  production code of its module names what it declares (enterprise-certificate-proxy's proxy for its tests,
  held-out set 25).
"""

from __future__ import annotations

import re
from pathlib import Path

from leakhunter.source import gomod

_TEST_DIRS = frozenset({
    "test", "tests", "testing", "testutil", "testutils", "testhelper", "testhelpers", "testenv",
    "e2e", "endtoend", "acceptance", "mock", "mocks", "fake", "fakes", "t",
})
"""Directory names that hold only test code by Go convention (k8s `fake` clientsets, mockery `mocks`),
`acceptance` suites and their helpers (epinio's `acceptance/helpers`, held-out set 49; gophercloud's
`acceptance`, the only other one in the module caches of sets 41-50), and `t`, the test harness
directory of git's tradition (git-lfs's `t/cmd/lfstest-*` helper servers, held-out set 23)."""

_TEST_WORDS = frozenset({"test", "tests", "testing", "e2e", "testutil", "testutils", "testhelper", "testhelpers"})
"""Words that make a hyphenated or underscored directory name a test program's (kcp's
`cmd/sharded-test-server`, a test-environment harness, held-out set 23; `integration-tests/`) or test
support (go-fil-markets' `shared_testutil`, its mocks for the module's tests, held-out set 59): whole words
only, so `latest-release/` or `speedtest/` stay production."""

_TEST_IMPORT = re.compile(
    rb'"(?:testing|github\.com/stretchr/testify(?:/[^"]*)?|github\.com/(?:onsi|bsm)/(?:ginkgo|gomega)(?:/[^"]*)?'
    rb'|gotest\.tools(?:/[^"]*)?|gopkg\.in/check\.v1|github\.com/go-check/check|github\.com/frankban/quicktest'
    rb'|github\.com/smartystreets/goconvey/convey|github\.com/matryer/is|github\.com/maxatome/go-testdeep(?:/[^"]*)?'
    rb'|go\.uber\.org/goleak)"'
)
"""Imports that only test code has a use for: `testing` and the test frameworks (testify, ginkgo/gomega,
gotest.tools; gocheck and quicktest, whose `*check.C` / `*qt.C` stand in for `*testing.T`: Juju's
`testing/httptesting` and `qthttptest`, request helpers for its tests kept in ordinary files, held-out sets 128
and 130, four false findings; goconvey, is, go-testdeep; goleak)."""


def is_test_file(path: Path) -> bool:
    """`path` (absolute or relative to the working directory) is test code (module docstring)."""
    if path.name.endswith("_test.go") or _in_test_directory(path):
        return True
    try:
        with path.open("rb") as fh:
            source = fh.read(64 << 10)
    except OSError:
        return False
    if _imports_test_framework(source):
        return not _production_calls(path, source)
    return _test_helper_package(path) or _test_named_file(path, source)


def _imports_test_framework(source: bytes) -> bool:
    """The file imports `testing` or a test framework before its first function."""
    head = source[: i] if (i := source.find(b"\nfunc ")) >= 0 else source
    return _TEST_IMPORT.search(head) is not None


def _declared_names(source: bytes) -> set[bytes]:
    """The file's top-level functions, types, variables and constants (not `_`, `init`, `main`)."""
    return {m.group(1) for m in _TOP_LEVEL.finditer(source)} - {b"_", b"init", b"main"}


def _importing_files(directory: Path) -> list[Path] | None:
    """Ordinary files of other packages of the module that import the package in `directory`; None
    outside a module, where nobody can say who does."""
    place = _import_path(directory)
    if place is None:
        return None
    from leakhunter.source.program.importers import importers

    root, ip = place
    return [f for f in importers(root).code.get(ip) or [] if f.parent != directory]


def _production_calls(path: Path, source: bytes) -> bool:
    """A file that imports `testing` (or a test framework) whose exported functions or types production code
    of its module names (`pkg.Name`, in a file that is not test code itself): it is the program's, and takes
    an optional `*testing.T` (HttpRunner's `hrp.NewRunner(t)`, called with nil by its `hrp run` command:
    six goroutine leaks there were hidden as test support, held-out set 78)."""
    exported = sorted(n for n in _declared_names(source) if n[:1].isupper())
    users = _importing_files(path.absolute().parent) if exported else None
    if not users:
        return False
    used = re.compile(rb"\.(?:" + b"|".join(re.escape(n) for n in exported) + rb")\b")
    for f in users:
        if f.name.endswith("_test.go") or _in_test_directory(f):
            continue
        try:
            data = f.read_bytes()
        except OSError:
            continue
        if not _imports_test_framework(data) and used.search(data):
            return True
    return False


_FILE_TEST_WORDS = frozenset({
    "test", "tests", "testing", "testutil", "testutils", "testhelper", "testhelpers", "e2e",
    "mock", "mocks", "fake", "fakes",
})
"""Whole words of a file's name (split at `_`, `-`, `.`) that name it test support: `test_passthrough_proxy.go`,
`mock_store.go`, `fake-signer.go`; `latest.go`, `contest.go` or `speedtest.go` have none."""

_TOP_LEVEL = re.compile(rb"^(?:func|type|var|const)\s+([A-Za-z_]\w*)", re.MULTILINE)


def _test_named_file(path: Path, source: bytes) -> bool:
    """A file whose name says test (`http_proxy/test_passthrough_proxy.go`, enterprise-certificate-proxy's
    proxy for its tests, held-out set 25) and, by fact, that no production code of its module uses: none
    of its top-level functions, types, variables or constants is named by a non-test file of its package
    or of a package of the module that imports it. A test-named file that the program calls stays
    production."""
    if not _FILE_TEST_WORDS.intersection(re.split(r"[-_.]", path.name[: -len(".go")].lower())):
        return False
    names = _declared_names(source)
    if not names:
        return False
    directory = path.absolute().parent
    users = [f for f in directory.glob("*.go") if f.name != path.name and not f.name.endswith("_test.go")]
    if any(n[:1].isupper() for n in names):
        others = _importing_files(directory)
        if others is None:
            return False  # outside a module nobody can say who calls its exported names
        users += others
    used = re.compile(rb"\b(?:" + b"|".join(re.escape(n) for n in sorted(names)) + rb")\b")
    for f in users:
        try:
            if used.search(f.read_bytes()):
                return False
        except OSError:
            return False
    return True


def _test_helper_package(path: Path) -> bool:
    """An `xxxtest` package that only `_test.go` files of its module import (module docstring)."""
    directory = path.absolute().parent
    if not directory.name.endswith("test") or directory.name == "test":
        return False
    place = _import_path(directory)
    if place is None or place[0] == directory:
        return False  # not in a module, or the module's root package
    from leakhunter.source.program.importers import importers

    root, ip = place
    imp = importers(root)
    users = [p for p in imp.code.get(ip) or [] if p.parent != directory]
    return bool(imp.tests.get(ip)) and not users


def _import_path(directory: Path) -> tuple[Path, str] | None:
    """(module root, import path) of the package in `directory`; None outside a module."""
    info = gomod.module_for_dir(directory)
    if info.root is None or not info.module:
        return None
    root = Path(info.root)
    try:
        rel = directory.relative_to(root).as_posix()
    except ValueError:
        return None
    return root, info.module if rel == "." else f"{info.module}/{rel}"


def _in_test_directory(path: Path) -> bool:
    directory = path.absolute().parent
    root = gomod.module_for_dir(directory).root
    try:
        parts = directory.relative_to(root).parts if root is not None else ()
    except ValueError:
        parts = ()
    return any(p in _TEST_DIRS or _TEST_WORDS.intersection(re.split(r"[-_.]", p)) for p in parts)
