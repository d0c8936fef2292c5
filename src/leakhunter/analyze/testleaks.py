"""Goroutines a package's tests left behind -> leaks attributed to a test, a line and a fix.

The dump the check writes after the tests (debug=2) gives, for each goroutine still
alive, its own stack, its pprof labels (the check labels every test's goroutine with the
test's full name, and goroutines inherit labels from the goroutine that starts them), and,
when taken with `GODEBUG=tracebackancestors`, the stacks of the goroutines that created
it, at the moment they did. From these:

- the **test**: the label; without one, the function the testing package's `tRunner` was
  running in the nearest ancestor (`TestParent.func1` is a subtest of TestParent); a
  goroutine created outside any test but under TestMain is TestMain's;
- where it **blocks**: the innermost user-code frame of its own stack;
- where it was **created**: the `go` statement (`created by`), or, when the standard
  library started it for the user (an httptest server), the innermost user-code frame of
  the creating stack;
- **proven**: the dump is the goroutineleak profile written by the runtime, and the
  runtime marked the goroutine `(leaked)`: unreachable, so it can never run again.

Goroutines that are the testing package's or os/signal's own, the check itself, and those
the user chose to ignore are not leaks (the mirror of the Go side's `leakhunterInteresting`:
keep the two in step, or the settle loop and this verdict disagree).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from leakhunter.analyze.goroutines import StdClassifier
from leakhunter.model import Finding, Frame, GoroutineGroup, Stack, Suspect

_TEST_TOPS = frozenset(
    {"testing.RunTests", "testing.(*T).Run", "testing.(*T).Parallel", "testing.runFuzzing",
     "testing.runFuzzTests"}
)
_BENIGN_TOPS = frozenset({"os/signal.signal_recv", "os/signal.loop", "runtime/pprof.profileWriter"})
_BENIGN_ANY = frozenset({"runtime.ensureSigM", "runtime/trace.Start.func1"})
_RUNNERS = frozenset({"testing.tRunner", "testing.(*B).runN", "testing.runExample", "testing.fRunner"})
_USER_MAIN = "leakhunterUserTestMain"
_BLOCK_START = re.compile(rb"(?m)^goroutine \d+")
_ANCESTOR = re.compile(rb"(?m)^\[originating from goroutine (\d+)\]:\n")
TEST_LABEL = "leakhunter.test"
"""The pprof label the check gives each test's goroutine: the test's full name."""
# Go 1.27: `goroutine 7 [select] {k: v, "k 2": "v 2"}:`; Go 1.26: `goroutine 7 [select
# labels:{"k": "v"}]:`. Go 1.27 prints a key or value bare when it is [A-Za-z0-9./_]*
# only; quoted strings have \n \r \t \\ \" \xNN \uNNNN escapes (runtime.printquoted).
_HEADER_LABELS = re.compile(rb"(?:\] \{(.*)\}|( labels:\{(.*)\})\]):[ \t]*$")
_LABEL_PAIR = re.compile(rb'(?:"((?:[^"\\]|\\.)*)"|([\w./]*)): (?:"((?:[^"\\]|\\.)*)"|([\w./]*))(?:, |$)')


def header_labels(header: bytes) -> tuple[dict[str, str], bytes]:
    """The pprof labels printed in a goroutine header (GODEBUG=tracebacklabels=1), and
    the header without them."""
    m = _HEADER_LABELS.search(header)
    if m is None:
        return {}, header
    text = m.group(1) if m.group(1) is not None else m.group(3)
    bare = header[: m.start()] + b"]:" if m.group(1) is not None else header[: m.start(2)] + b"]:"
    out: dict[str, str] = {}
    for km in _LABEL_PAIR.finditer(text):
        key = _unescape(km.group(1)) if km.group(1) is not None else km.group(2).decode("ascii", "replace")
        value = _unescape(km.group(3)) if km.group(3) is not None else km.group(4).decode("ascii", "replace")
        out[key] = value
    return out, bare


def _unescape(quoted: bytes) -> str:
    try:
        return quoted.decode("ascii").encode("latin-1").decode("unicode_escape")
    except (UnicodeError, ValueError):
        return quoted.decode("utf-8", "replace")


@dataclass(slots=True)
class TestLeak:
    """Goroutines of one package, started by one test, blocked at one line, created at one line."""

    package: str
    test: str
    count: int
    state: str
    function: str
    file: str
    line: int
    created_file: str = ""
    created_line: int = 0
    created_function: str = ""
    proven: bool = False
    finding: Finding | None = None
    subtest: bool = False
    """Started in a subtest closure (`TestParent.func1`): the name is the parent's."""
    attributed: bool = True
    """False when the dump had no creation stacks (ancestry off, or the leak did not come
    back in the rerun with them) and no test was found: `test` is then unknown, not none."""
    timer: bool = False
    """Started by a timer's function (time.AfterFunc: `created by time.goFunc`): the
    runtime runs it from no test's goroutine, so neither labels nor creation stacks
    name its test."""
    stack: Stack = ()
    callers: tuple[Frame, ...] = field(default=())
    """User-code frames around the leak (its stack, then the creating stacks), for the join."""


@dataclass(slots=True)
class _Goroutine:
    own: bytes
    ancestors: list[bytes]
    ids: list[str] = field(default_factory=list)
    """Goroutine ids: its own, then each ancestor's (the order of `ancestors`)."""
    label: str = ""
    """Its TEST_LABEL: the full name of the test whose goroutine started it (or its own)."""


def _split(dump: bytes) -> list[_Goroutine]:
    """Goroutine blocks of a debug=2 dump, each cut into its own part and its ancestors."""
    starts = [m.start() for m in _BLOCK_START.finditer(dump)]
    out = []
    for i, s in enumerate(starts):
        block = dump[s : starts[i + 1] if i + 1 < len(starts) else len(dump)].strip(b"\n")
        parts = _ANCESTOR.split(block)
        # split gives [own, gid1, body1, gid2, body2, ...]
        own = parts[0]
        ancestors = [
            b"goroutine " + parts[k] + b" [running]:\n" + parts[k + 1].strip(b"\n")
            for k in range(1, len(parts) - 1, 2)
        ]
        own_id = own.split(b" ", 2)[1].decode("ascii", "replace") if own.count(b" ") >= 2 else ""
        ids = [own_id, *(parts[k].decode("ascii", "replace") for k in range(1, len(parts) - 1, 2))]
        label = ""
        if b"] {" in own or b" labels:{" in own:
            header, nl, rest = own.partition(b"\n")
            labels, header = header_labels(header)
            label = labels.get(TEST_LABEL, "")
            own = header + nl + rest
        out.append(_Goroutine(own, ancestors, ids, label))
    return out


def _parse_one(block: bytes) -> GoroutineGroup | None:
    from leakhunter.errors import CorruptInputError
    from leakhunter.profiles import goroutine_text

    try:
        dump = goroutine_text.parse(block + b"\n")
    except CorruptInputError:
        return None
    return dump.groups[0] if dump.groups else None


def _ignored(function: str, ignore: Iterable[str]) -> bool:
    return any(function == ig or function.startswith(ig + ".") for ig in ignore)


def benign(g: GoroutineGroup, ignore: Sequence[str] = ()) -> bool:
    """Not a leak: the testing package's waiting goroutines, os/signal, the check, --ignore."""
    funcs = [fr.function for fr in g.stack]
    if not funcs:
        return True
    top = funcs[0]
    if top in _TEST_TOPS and g.state.startswith("chan receive"):
        return True
    if top in _BENIGN_TOPS or (top == "runtime.goexit" and g.state.startswith("syscall")):
        return True
    for f in funcs:
        if f.endswith(".leakhunterCheck") or f in _BENIGN_ANY or _ignored(f, ignore):
            return True
    return False


def _test_of(stack: Stack) -> tuple[str, bool] | None:
    """(test name, subtest?) when this stack runs inside a test; None otherwise. The
    check's own wrappers between the runner and the test (the label setters) are skipped."""
    for i in range(len(stack) - 1):
        if stack[i + 1].function in _RUNNERS:
            j = i
            while j > 0 and _is_ours(stack[j].function):
                j -= 1
            return _test_name(stack[j].function)
    return None


def _is_ours(function: str) -> bool:
    """A function of the check's generated files (all named leakhunter…)."""
    _, _, name = function.rsplit("/", 1)[-1].partition(".")
    return name.startswith("leakhunter") and not name.startswith(_USER_MAIN)


def _test_name(function: str) -> tuple[str, bool]:
    tail = function.rsplit("/", 1)[-1]
    parts = tail.split(".")[1:]  # drop the package name
    if not parts:
        return tail, False
    name = parts[0].strip("()*")
    if name == _USER_MAIN:
        name = "TestMain"
    sub = any(p.startswith("func") and p[4:].isdigit() for p in parts[1:])
    return name, sub


_TEST_LIKE = re.compile(r"(?:Test|Benchmark|Example|Fuzz)(?![a-z])")
"""A name go test runs as a top-level test (TestMain included; `Testify` is not one)."""

_RUN_NAME = re.compile(r"""\.Run\(\s*(?:"((?:[^"\\]|\\.)*)"|`([^`]*)`)""")


def _subtest_name(parent: str, stacks: Sequence[Stack]) -> str:
    """`TestParent/child` when the `t.Run` call that started the subtest names it literally,
    as `go test` prints it; else `TestParent/…`.

    The closure's own frame is exact, while ancestor frames carry return addresses (the
    line after a call); so the call is found from the closure's line upwards: the nearest
    `.Run("name"` before it, within the enclosing top-level function.
    """
    for stack in stacks:
        for i, fr in enumerate(stack[:-1]):
            if stack[i + 1].function in _RUNNERS:
                name = _run_literal_above(fr.file, fr.line)
                if name is not None:
                    return f"{parent}/{name.replace(' ', '_')}"
                return f"{parent}/…"
    return f"{parent}/…"


def _run_literal_above(file: str, line: int) -> str | None:
    try:
        with open(file, encoding="utf-8", errors="replace") as fh:
            lines = fh.readlines()[: max(line, 0)]
    except OSError:
        return None
    for text in reversed(lines):
        m = _RUN_NAME.search(text)
        if m is not None:
            return m.group(1) if m.group(1) is not None else m.group(2)
        if text.startswith("func "):
            return None
    return None


def _in_testmain(stack: Stack) -> bool:
    return any(
        fr.function.endswith((".TestMain", "." + _USER_MAIN)) for fr in stack
    )


def _display_function(fn: str) -> str:
    return fn.replace(_USER_MAIN, "TestMain")


def attribute(
    package: str, dump: bytes, *, proof: bool, ignore: Sequence[str] = (),
    subtests: Mapping[str, str] | None = None,
) -> list[TestLeak]:
    """The leaks in one package's after-tests dump, grouped by test, state and lines.

    `subtests` maps a goroutine id to the full name of the subtest that ran on it (noted
    by the check's overlay in subtests with a non-literal name): a leak whose ancestry
    passes through that goroutine gets that name.
    """
    gs: list[tuple[GoroutineGroup, list[GoroutineGroup], list[str], str]] = []
    for gr in _split(dump):
        own = _parse_one(gr.own)
        if own is None or benign(own, ignore):
            continue
        pairs = [(a, i) for a, i in zip((_parse_one(b) for b in gr.ancestors), gr.ids[1:], strict=False)
                 if a is not None]
        gs.append((own, [a for a, _ in pairs], [gr.ids[0] if gr.ids else "", *(i for _, i in pairs)],
                   gr.label))
    frames: list[Frame] = []
    for own, anc, _, _ in gs:
        frames.extend(own.stack)
        for a in anc:
            frames.extend(a.stack)
    std = StdClassifier(frames)

    def user(stack: Iterable[Frame]) -> list[Frame]:
        return [fr for fr in stack if not std.is_std(fr) and fr.function != "main.main"]

    leaks: dict[tuple[object, ...], TestLeak] = {}
    names = subtests or {}
    for own, anc, ids, label in gs:
        found: tuple[str, bool] | None = None
        runner_id = ""
        parent = ""
        for stack, gid in zip([own.stack, *(a.stack for a in anc)], ids, strict=False):
            t = _test_of(stack)
            if t is None:
                continue
            if found is None:
                found, runner_id = t, gid
            if _TEST_LIKE.match(t[0]):
                parent = t[0] if t is not found else ""
                break
        if found is None and (any(_in_testmain(a.stack) for a in anc) or (
                own.created_by is not None and _in_testmain((own.created_by,)))):
            found = ("TestMain", False)
        test, sub = found if found is not None else ("", False)
        timer = own.created_by is not None and own.created_by.function == "time.goFunc"
        if timer:
            label = ""  # the labels of whatever goroutine the thread was running, if any
        if label:
            test, sub = label, "/" in label
        elif runner_id in names:
            test, sub = names[runner_id], "/" in names[runner_id]
        elif parent:
            # A subtest run from a function value (t.Run(name, helper)) that was not noted:
            # `helper` is not the test; the test that called t.Run is.
            test, sub = f"{parent}/…", True
        elif sub:
            test = _subtest_name(test, [own.stack, *(a.stack for a in anc)])
        own_user = user(own.stack)
        blocking = own_user[0] if own_user else None
        created: Frame | None = None
        if own.created_by is not None and not std.is_std(own.created_by):
            created = own.created_by
        else:
            for a in anc:
                au = user(a.stack)
                if au:
                    created = au[0]
                    break
        if blocking is None:
            blocking = created or (own.stack[0] if own.stack else Frame("?"))
        creator_chain = [fr for a in anc for fr in user(a.stack)]
        callers = tuple(own_user[1:] + ([created] if created else []) + creator_chain)
        state = own.state or own.inferred_state
        proven = proof and own.leaked
        key = (test, state, blocking.function, blocking.file, blocking.line,
               created.file if created else "", created.line if created else 0, proven)
        hit = leaks.get(key)
        if hit is not None:
            hit.count += own.count
            continue
        leaks[key] = TestLeak(
            package=package, test=test, count=own.count, state=state,
            function=_display_function(blocking.function), file=blocking.file, line=blocking.line,
            created_file=created.file if created else "", created_line=created.line if created else 0,
            created_function=_display_function(created.function) if created else "",
            proven=proven, subtest=sub, stack=own.stack, callers=callers,
            timer=timer,
        )
    return sorted(leaks.values(), key=lambda lk: (lk.package, lk.file, lk.line, lk.test))


def rerun_plan(leaks: Iterable[TestLeak]) -> list[str] | None:
    """Which tests to run again with creation stacks (GODEBUG=tracebackancestors): None
    when no leak lacks what they give; the top-level tests of the leaks whose creating
    line is not in user code (the standard library started them for the user: an
    httptest server's goroutines); [] (the whole package) when some leak has no test
    (its goroutine's labels were replaced by the code under test, or it started outside
    any test). A timer's goroutine is left out: creation stacks would not name its test
    either."""
    need = [lk for lk in leaks if (not lk.test or not lk.created_file) and not lk.timer]
    if not need:
        return None
    tops = {lk.test.split("/", 1)[0] for lk in need}
    if "" in tops or "TestMain" in tops:
        return []
    return sorted(tops)


def merge_rerun(first: Sequence[TestLeak], again: Sequence[TestLeak], tests: Sequence[str]) -> list[TestLeak] | None:
    """The first run's leaks with those of `tests` (top-level names) replaced by the
    rerun's, which have creation stacks; None when the rerun left fewer of those tests'
    goroutines than the first run (a leak that depends on timing)."""
    chosen = set(tests)

    def mine(lk: TestLeak) -> bool:
        return lk.test.split("/", 1)[0] in chosen

    redo = [lk for lk in again if mine(lk)]
    if sum(lk.count for lk in redo) < sum(lk.count for lk in first if mine(lk)):
        return None
    kept = [lk for lk in first if not mine(lk)]
    return sorted([*kept, *redo], key=lambda lk: (lk.package, lk.file, lk.line, lk.test))


def join_findings(leaks: Sequence[TestLeak], findings: Sequence[Finding]) -> None:
    """Set each leak's `finding`: the scan rule at its blocking or creating line (analyze.join)."""
    from leakhunter.analyze.join import join

    for lk in leaks:
        s = Suspect(lk.function, lk.file, lk.line, float(lk.count), unit="goroutines",
                    callers=lk.callers)
        join([s], findings)
        lk.finding = s.finding


def files_to_scan(leaks: Sequence[TestLeak]) -> list[str]:
    """The source files the leaks point at (blocking, creating, and caller lines)."""
    import os

    seen: dict[str, None] = {}
    for lk in leaks:
        for f in (lk.file, lk.created_file, *(c.file for c in lk.callers)):
            if f and f.endswith(".go") and os.path.isfile(f):
                seen.setdefault(f, None)
    return list(seen)


@dataclass(slots=True)
class PackageOutcome:
    """One package as the report shows it: did its tests pass, did the check run."""

    package: str
    ok: bool
    tests_failed: list[str] = field(default_factory=list)
    checked: bool = False
    """The leak check ran after this package's tests and left its note."""
    build_failed: bool = False
    has_tests: bool = True
    note: str = ""
    proof: str = ""
    """`written` (the goroutineleak profile was written), `not-needed`, `unavailable`, `failed`."""


@dataclass(slots=True)
class TestReport:
    packages: list[PackageOutcome]
    leaks: list[TestLeak]
    go_version: str = ""
    evidence: str = ""
    """Which evidence this toolchain gives, in words (proof, or liveness only)."""
    proof_available: bool = False
    settle_s: float = 0.0
    ancestry: str = "rerun"
    rerun: list[str] = field(default_factory=list)
    """Packages whose tests ran again with GODEBUG=tracebackancestors to name the tests."""
    rerun_s: float = 0.0
    not_reproduced: list[str] = field(default_factory=list)
    """Packages whose leaks did not come back in that rerun (first run's counts, tests unnamed)."""

    @property
    def leaked_goroutines(self) -> int:
        return sum(lk.count for lk in self.leaks)

    @property
    def unchecked(self) -> list[PackageOutcome]:
        return [p for p in self.packages if p.has_tests and not p.checked]
