"""Run the rules over many Go files, on every core, and gather the findings.

tree-sitter holds the GIL while it parses, so threads would not help: the scan
uses a pool of processes. The parent only lists files (it never reads them);
workers receive chunks of paths, read, parse, run every rule, apply the file's
suppressions, fingerprint the findings and send back small `FileOutcome`s. No tree
ever leaves a worker or outlives its file, so memory stays flat however large the
tree is. Small inputs are scanned in-process: starting workers would cost more
than it saves.

What a worker decides about each file, in this order (each is reported once as
skipped, with the reason, and the scan goes on):
- larger than the size limit: generated files are recognised from their first
  64 KiB and skipped as generated; anything else is skipped as too large;
- unreadable (permissions, vanished, a FIFO slipping in, I/O error);
- generated (`// Code generated ... DO NOT EDIT.` before the package clause);
- never built: a build constraint false for every Go release the module's `go` directive allows
  (`// +build !go1.11` beside its replacement; buildtags.py);
- not valid UTF-8 (Go source must be);
- syntax errors. tree-sitter recovers; tree-sitter-go lags the language, and
  parse.py rewrites what valid Go it rejects (grammarfix.py), so an ERROR left in the
  tree is code the scanner truly cannot read. The file is still scanned, but findings
  inside any top-level declaration that holds an error are dropped (precision
  first); the file is listed as skipped with the first error's position. A file
  where most declarations fail, or without a package clause, is not Go and is
  skipped whole.

Whatever Go code is not analysed (a declaration with a syntax error, or a whole
file skipped for any reason but being generated) is also listed in
`ScanResult.unanalysed`, one entry per function or file, so the command can say so
and refuse to exit 0 as if everything had been read.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leakhunter.model import Finding
from leakhunter.source.config import ScanConfig, selected_rules
from leakhunter.source.testcode import is_test_file
from leakhunter.source.unreached import production_never_reaches
from leakhunter.source.walker import SourceFile, collect_files

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

    from tree_sitter import Node, Tree

    from leakhunter.source.cache import ResultCache
    from leakhunter.source.rule import Rule

GENERATED_RE = re.compile(rb"^// Code generated .* DO NOT EDIT\.$")
HEAD_BYTES = 64 * 1024
_TIME_RULES = os.environ.get("LEAKHUNTER_TIME_RULES", "") not in ("", "0")
IN_PROCESS_BYTES = 2 * 1024 * 1024
"""Below this much source, a pool costs more than it saves."""


@dataclass(frozen=True, slots=True)
class Unanalysed:
    """Go code the scan could not analyse: one function (or declaration), or a whole file (line 0)."""

    file: str
    line: int
    function: str
    reason: str
    end_line: int = 0


@dataclass
class ScanResult:
    """What a scan found, how much it read, and what it could not read."""

    findings: list[Finding]
    files_scanned: int
    skipped: list[tuple[str, str]]
    duration_s: float
    bytes_scanned: int = 0
    rule_errors: list[tuple[str, str, str]] = field(default_factory=list)
    """(file, rule id, error) for a rule that raised on a file; the other rules still ran."""
    suppressed: int = 0
    """Findings silenced by `//leakhunter:ignore` / `//nolint` comments."""
    rule_seconds: dict[str, float] = field(default_factory=dict)
    """CPU seconds spent in each rule, summed over workers (for benchmarks; only with
    LEAKHUNTER_TIME_RULES=1 set: reading a thread's CPU clock is a system call, and two per
    rule per file cost about 2% of a scan of std)."""
    parse_seconds: float = 0.0
    """CPU seconds spent in tree-sitter's parser, summed over workers."""
    unanalysed: list[Unanalysed] = field(default_factory=list)
    """Functions, declarations and whole files whose code no rule saw (see the module docstring)."""
    cached_files: int = 0
    """Files whose outcome came from the result cache (cache.py) instead of a fresh scan."""
    worker_peak_rss_kb: int = 0
    """Largest peak RSS of any process that scanned files (a pool worker, or this process)."""
    test_code: set[str] = field(default_factory=set)
    """Display paths of the files with findings that are test code (`testcode.py`: `_test.go` files
    and test support), whose findings `scan` hides unless asked (`--tests`)."""
    code_paths: dict[str, Path] = field(default_factory=dict)
    """Display path -> path of the ordinary files with findings (or unanalysed places). `in_test_code`
    asks `unreached.py` of them whether production code reaches a finding's function (only tests do, or
    nothing: hidden with `test_code` unless asked, `--tests`); `in_command_code` asks whether a file is a
    command-line program's own code, in a program that does not serve (`program/oneshot.
    command_program_of`: hidden unless `--commands`). Asked per finding a caller shows, not per
    finding: reading a package's reach costs tens of ms, and the `info` findings a default scan hides
    never need it (a cached re-scan of net/http/... spent a third of its time there)."""
    _commands: dict[str, bool] = field(default_factory=dict, repr=False)

    def in_test_code(self, f: Finding) -> bool:
        """`f` is in test code: a test file or test support, or a function production never reaches."""
        if f.file in self.test_code:
            return True
        path = self.code_paths.get(f.file)
        return path is not None and production_never_reaches(path, f.line)

    def in_command_code(self, file: str) -> bool:
        """`file` (a display path with findings) is a one-shot command-line program's own code."""
        got = self._commands.get(file)
        if got is None:
            path = self.code_paths.get(file)
            got = self._commands[file] = path is not None and _command_code(path)
        return got


@dataclass
class FileOutcome:
    """One file's result, as a worker sends it back (small and picklable: no tree)."""

    display: str
    scanned: bool
    size: int = 0
    findings: list[Finding] = field(default_factory=list)
    skip_reason: str = ""
    rule_errors: list[tuple[str, str]] = field(default_factory=list)
    suppressed: int = 0
    rule_seconds: dict[str, float] = field(default_factory=dict)
    parse_seconds: float = 0.0
    unanalysed: list[tuple[int, int, str, str]] = field(default_factory=list)
    """(line, end line, function, reason) of declarations no rule saw; line 0: the whole file."""
    cacheable: bool = False
    """Set by scan_file when the outcome depends only on the file, its package and the rules."""
    peak_rss_kb: int = 0
    """Peak RSS of the worker process that scanned this chunk (set on a chunk's last outcome)."""
    looked_up: tuple[tuple[str, str], ...] = ()
    """Other packages' files the rules may have read to judge this file (program/importers.py
    lookups: (kind, import path)): the cache stores their digest beside the outcome."""


# --------------------------------------------------------------------------- file checks


def is_generated(head: bytes) -> bool:
    """True if a `// Code generated ... DO NOT EDIT.` line comes before the package clause."""
    for raw in head.split(b"\n"):
        line = raw.rstrip(b"\r")
        if line.startswith(b"package ") or line.startswith(b"package\t"):
            return False
        if GENERATED_RE.match(line):
            return True
    return False


def not_built(reason: str) -> bool:
    """A skip that loses nothing: the file is generated or never built, so it is not the user's code
    to analyse (not listed as unanalysed, not a failure to read)."""
    return reason.startswith(("generated file", "never built"))


def human_size(n: int) -> str:
    """`512 bytes`, `3.2 KiB`, `11.0 MiB`: sizes in messages users read."""
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1024 * 1024):.1f} MiB"


def utf8_error(data: bytes) -> str | None:
    """None if `data` is valid UTF-8, else where the first bad byte is (line and column)."""
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError as exc:
        pos = exc.start
        line = data.count(b"\n", 0, pos) + 1
        col = pos - (data.rfind(b"\n", 0, pos) + 1) + 1
        return f"not valid UTF-8 (byte 0x{data[pos]:02x} at line {line}, column {col})"


def first_error(tree: Tree) -> Node | None:
    """The first ERROR or MISSING node of a tree, in source order."""
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        if n.type == "ERROR" or n.is_missing:
            return n
        if n.has_error:
            stack.extend(reversed(n.children))
    return None


def _decl_label(node: Node, source: bytes) -> str:
    """`Recv.Name` for a method, `Name` for a function, else what kind of declaration it is."""
    def text(n: Node | None) -> str:
        return source[n.start_byte : n.end_byte].decode("utf-8", "replace") if n is not None else ""

    name = text(node.child_by_field_name("name"))
    if node.type == "function_declaration" and name:
        return name
    if node.type == "method_declaration" and name:
        recv = re.sub(r"\[.*\]", "", text(node.child_by_field_name("receiver")).strip("()"))
        typ = recv.split()[-1].lstrip("*") if recv.split() else ""
        return f"{typ}.{name}" if typ else name
    if node.type in ("var_declaration", "const_declaration", "type_declaration", "import_declaration"):
        return f"({node.type.split('_')[0]} declaration)"
    names = [
        (f"{r.decode('utf-8', 'replace')}." if r else "") + n.decode("utf-8", "replace")
        for r, n in _FUNC_HEAD.findall(source[node.start_byte : node.end_byte])
    ]
    return ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")


_IDENT = rb"[A-Za-z_\x80-\xff][\w\x80-\xff]*"
_FUNC_HEAD = re.compile(rb"(?m)^func\s*(?:\(\s*(?:" + _IDENT + rb"\s+)?\*?\s*(" + _IDENT + rb")[^)]*\)\s*)?("
                        + _IDENT + rb")")


def _first_error_in(node: Node) -> Node:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "ERROR" or n.is_missing:
            return n
        if n.has_error:
            stack.extend(reversed(n.children))
    return node


def _unanalysed_decls(tree: Tree, source: bytes) -> list[tuple[int, int, str, str]]:
    """(line, end line, function, reason) of each top-level declaration holding a syntax error."""
    out: list[tuple[int, int, str, str]] = []
    for child in tree.root_node.children:
        if child.type == "comment" or not (child.type == "ERROR" or child.has_error or child.is_missing):
            continue
        err = _first_error_in(child)
        lead = len(source[child.start_byte : child.end_byte]) - len(source[child.start_byte : child.end_byte].lstrip())
        out.append((
            child.start_point[0] + 1 + source.count(b"\n", child.start_byte, child.start_byte + lead),
            child.end_point[0] + 1,
            _decl_label(child, source),
            f"syntax error at line {err.start_point[0] + 1}, column {err.start_point[1] + 1} "
            "(not valid Go, or syntax tree-sitter-go cannot parse)",
        ))
    return out


def _error_ranges(tree: Tree) -> tuple[list[tuple[int, int]], int, bool]:
    """(line ranges of top-level declarations holding errors, number of declarations, has package)."""
    bad: list[tuple[int, int]] = []
    total = 0
    has_pkg = False
    for child in tree.root_node.children:
        if child.type == "comment":
            continue
        if child.type == "package_clause" and not child.has_error:
            has_pkg = True
        total += 1
        if child.type == "ERROR" or child.has_error or child.is_missing:
            bad.append((child.start_point[0] + 1, child.end_point[0] + 1))
    return bad, total, has_pkg


# --------------------------------------------------------------------------- one file

_RULES: dict[tuple[str, ...], list[Rule]] = {}


def _instantiate(rule_ids: tuple[str, ...]) -> list[Rule]:
    got = _RULES.get(rule_ids)
    if got is None:
        from leakhunter.source.registry import rules_for

        got = [cls() for cls in rules_for(rule_ids)]
        _RULES[rule_ids] = got
    return got


def scan_file(sf: SourceFile, rule_ids: tuple[str, ...], max_file_size: int) -> FileOutcome:
    """Read, check, parse and run the rules on one file (see the module docstring)."""
    return _scan_file(sf, rule_ids, max_file_size)


def _scan_file(sf: SourceFile, rule_ids: tuple[str, ...], max_file_size: int) -> FileOutcome:
    from leakhunter.source import deadcode, gosyntax, suppress
    from leakhunter.source.baseline import fingerprints
    from leakhunter.source.buildtags import DEFAULT_GO, never_built
    from leakhunter.source.gomod import module_for_file
    from leakhunter.source.gopackage import cached_context
    from leakhunter.source.parse import parse
    from leakhunter.source.rule import FileContext

    out = FileOutcome(sf.display, scanned=False, size=sf.size)
    try:
        if sf.size > max_file_size:
            with sf.path.open("rb") as fh:
                head = fh.read(HEAD_BYTES)
            if is_generated(head):
                out.skip_reason = "generated file (Code generated ... DO NOT EDIT)"
            else:
                out.skip_reason = (
                    f"file too large ({human_size(sf.size)} > {human_size(max_file_size)} limit; "
                    "raise it with --max-file-size)"
                )
            return out
        data = sf.path.read_bytes()
    except OSError as exc:
        out.skip_reason = f"cannot read: {exc.strerror or exc}"
        return out
    out.size = len(data)
    if is_generated(data[:HEAD_BYTES]):
        out.skip_reason = "generated file (Code generated ... DO NOT EDIT)"
        out.cacheable = True
        return out
    mod = module_for_file(sf.path)
    constraint = never_built(data[:HEAD_BYTES], mod.go_version)
    if constraint:
        since = (f"{mod.go_version[0]}.{mod.go_version[1]} (the module's go directive)" if mod.go_version
                 else f"{DEFAULT_GO[0]}.{DEFAULT_GO[1]} (no go directive: what the go command assumes)")
        out.skip_reason = f"never built: `{constraint}` is false for every Go release from {since}"
        out.cacheable = True
        return out
    if data.startswith(b"\xef\xbb\xbf"):
        data = b"   " + data[3:]  # the go tool ignores a leading BOM; keep byte offsets
    bad_utf8 = utf8_error(data)
    if bad_utf8:
        out.skip_reason = bad_utf8
        out.cacheable = True
        return out
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        out.skip_reason = f"not Go source (NUL byte at line {line})"
        out.cacheable = True
        return out

    # The package view of an earlier file of this directory may have parsed this one already.
    shared = cached_context(sf.path, data)
    if shared is not None:
        tree = shared.tree
    else:
        t0 = time.thread_time()
        tree = parse(data)
        out.parse_seconds = time.thread_time() - t0
    bad_ranges: list[tuple[int, int]] = []
    if tree.root_node.has_error:
        err = first_error(tree)
        where = f"line {err.start_point[0] + 1}, column {err.start_point[1] + 1}" if err else "unknown position"
        bad_ranges, total, has_pkg = _error_ranges(tree)
        if not has_pkg or len(bad_ranges) * 2 > max(total, 1):
            out.skip_reason = f"syntax error at {where}; not scanned"
            out.cacheable = True
            return out
        if bad_ranges:  # else every declaration parsed whole: the error lies between them, nothing is lost
            out.skip_reason = (
                f"syntax error at {where}; {len(bad_ranges)} of {total} declarations not scanned"
            )
            out.unanalysed = _unanalysed_decls(tree, data)

    ctx = FileContext(
        path=sf.path,
        display_path=sf.display,
        source=data,
        tree=tree,
        go_version=mod.go_version,
        is_test=sf.is_test,
    )
    if shared is not None and shared.go_version == ctx.go_version and shared.is_test == ctx.is_test:
        ctx.cache = shared.cache  # same tree: its memoised index, functions, imports stay valid
    found: list[Finding] = []
    timed = _TIME_RULES
    for rule in _instantiate(rule_ids):
        t1 = time.thread_time() if timed else 0.0
        try:
            found.extend(rule.check(ctx))
        except Exception as exc:  # a rule bug must not end the scan
            out.rule_errors.append((rule.id, f"{type(exc).__name__}: {exc}"))
        if timed:
            out.rule_seconds[rule.id] = out.rule_seconds.get(rule.id, 0.0) + time.thread_time() - t1
    out.scanned = True
    out.cacheable = not out.rule_errors
    if mod.root is not None:
        from leakhunter.source.program.importers import consulted

        out.looked_up = tuple(sorted(consulted(mod.root)))
    if not found:
        return out
    if bad_ranges:
        found = [f for f in found if not any(a <= f.line <= b for a, b in bad_ranges)]
    found = [f for f in found if not deadcode.is_dead(ctx, f.line - 1, max(f.column - 1, 0))]
    comments = gosyntax.nodes_of_type(ctx, "comment")
    sup = suppress.collect(tree, data, comments)
    if sup:
        kept = [f for f in found if not sup.covers(f)]
        out.suppressed = len(found) - len(kept)
        found = kept
    # Name the enclosing function (for messages, JSON and fingerprints) when the rule did not.
    named: list[Finding] = []
    for f in found:
        if not f.function:
            node = tree.root_node.descendant_for_point_range(
                (f.line - 1, max(f.column - 1, 0)), (f.line - 1, max(f.column - 1, 0))
            )
            fn = gosyntax.function_name(ctx, node) if node is not None else ""
            if fn:
                f = dataclasses.replace(f, function=fn)
        named.append(f)
    if mod.root is not None:
        try:
            rel = sf.path.absolute().relative_to(mod.root).as_posix()
            file_key = f"{mod.module}/{rel}" if mod.module else rel
        except ValueError:
            file_key = sf.display
    else:
        file_key = sf.display
    fps = fingerprints(named, data, file_key)
    out.findings = [dataclasses.replace(f, fingerprint=fp) for f, fp in zip(named, fps, strict=True)]
    return out


def _peak_rss_kb() -> int:
    try:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    except (ImportError, OSError):
        return 0


def _scan_chunk(chunk: list[SourceFile], rule_ids: tuple[str, ...], max_file_size: int) -> list[FileOutcome]:
    out = [scan_file(sf, rule_ids, max_file_size) for sf in chunk]
    if out:
        out[-1].peak_rss_kb = _peak_rss_kb()
    return out


# --------------------------------------------------------------------------- many files


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _by_directory(files: list[SourceFile]) -> list[list[SourceFile]]:
    """Files grouped by directory, non-test files before test files within each.

    Rules that need the whole package (gopackage.py) memoise per directory and
    package, so a directory's files must reach the same worker one after another.
    """
    groups: dict[Path, list[SourceFile]] = {}
    for f in files:
        groups.setdefault(f.path.parent, []).append(f)
    return [sorted(g, key=lambda f: (f.is_test, f.path.name)) for g in groups.values()]


_PACKAGE_CLAUSE = re.compile(rb"^package[ \t]+(\w+)", re.MULTILINE)


def _package_clause(sf: SourceFile) -> bytes:
    """The package name of a file from its first 8 KiB (b"" when unreadable or not found there)."""
    try:
        with open(sf.path, "rb") as fh:
            m = _PACKAGE_CLAUSE.search(fh.read(8192))
    except OSError:
        return b""
    return m.group(1) if m else b""


def _split_packages(group: list[SourceFile]) -> list[list[SourceFile]]:
    """A directory's package files, its in-package tests and its external (`_test`) tests as groups.

    Each has a package view of its own (gopackage.py: a test file's view holds its own
    package clause's files), so they can go to different workers; an in-package test
    group parses the package files again, cheap next to running the rules. It lets one
    directory that is most of a tree keep every worker busy: net/http is 82% of
    net/http/..., and its three groups cost about 1.0, 1.3 and 1.7 s of one core.
    Only the grouping depends on the package clause read here: the findings do not.
    """
    by_kind: dict[bytes, list[SourceFile]] = {b"": []}
    for f in group:
        key = (_package_clause(f) or b"?") if f.is_test else b""
        by_kind.setdefault(key, []).append(f)
    return [g for g in by_kind.values() if g]


def _chunks(files: list[SourceFile], jobs: int) -> list[list[SourceFile]]:
    """Chunks of whole directories, many more than workers, largest first (load balance).

    A directory larger than a chunk goes as one chunk per package view (_split_packages).
    """
    total = sum(f.size for f in files) or 1
    target = max(total // (jobs * 12), 256 * 1024)
    groups: list[list[SourceFile]] = []
    for g in _by_directory(files):
        groups.extend(_split_packages(g) if sum(f.size for f in g) > target else [g])
    groups.sort(key=lambda g: -sum(f.size for f in g))
    chunks: list[list[SourceFile]] = []
    cur: list[SourceFile] = []
    cur_bytes = 0
    for g in groups:
        cur.extend(g)
        cur_bytes += sum(f.size for f in g)
        if cur_bytes >= target:
            chunks.append(cur)
            cur, cur_bytes = [], 0
    if cur:
        chunks.append(cur)
    return chunks


def _outcomes(
    files: list[SourceFile], rule_ids: tuple[str, ...], max_file_size: int, jobs: int
) -> Iterator[FileOutcome]:
    total = sum(f.size for f in files)
    if jobs <= 1 or total < IN_PROCESS_BYTES or len(files) < 8:
        for group in _by_directory(files):
            for sf in group:
                yield scan_file(sf, rule_ids, max_file_size)
        return
    # The pool is imported only here: a re-scan served from the cache never needs it.
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool
    from multiprocessing import get_context

    # Import the rules, and ask `go env` once, before forking: every worker inherits both.
    _instantiate(rule_ids)
    from leakhunter.source.program.index import go_env

    go_env()
    mp = get_context("fork")
    retry: list[SourceFile] = []
    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp) as pool:
        futures = {pool.submit(_scan_chunk, chunk, rule_ids, max_file_size): chunk for chunk in _chunks(files, jobs)}
        for fut in as_completed(futures):  # stream: each chunk's outcomes as it finishes
            try:
                outcomes = fut.result()
            except BrokenProcessPool:
                # A worker died (a crash, or killed for memory). Which file did it is
                # unknown, and the pool is gone: every unfinished chunk is retried below.
                retry.extend(futures[fut])
                continue
            except Exception as exc:  # a bug outside the per-rule guard: report, go on
                yield from (
                    FileOutcome(sf.display, False, sf.size, skip_reason=f"internal error: {type(exc).__name__}: {exc}")
                    for sf in futures[fut]
                )
                continue
            yield from outcomes
    if retry:
        yield from _isolated(retry, rule_ids, max_file_size, mp)


def _isolated(
    files: list[SourceFile], rule_ids: tuple[str, ...], max_file_size: int, mp: BaseContext
) -> Iterator[FileOutcome]:
    """Scan files one at a time in a worker, so a file that kills its worker costs only itself."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(max_workers=1, mp_context=mp)
    try:
        for sf in files:
            try:
                yield from pool.submit(_scan_chunk, [sf], rule_ids, max_file_size).result()
            except BrokenProcessPool:
                pool.shutdown(wait=False)
                pool = ProcessPoolExecutor(max_workers=1, mp_context=mp)
                yield FileOutcome(
                    sf.display, False, sf.size, skip_reason="scanner worker died on this file (crash or out of memory)"
                )
    finally:
        pool.shutdown(wait=True)


def _finding_key(f: Finding) -> tuple[str, int, int, str, str]:
    return (f.file, f.line, f.column, f.rule, f.message)


def _outcome_doc(oc: FileOutcome) -> dict[str, Any]:
    """A cacheable outcome as plain JSON data (cache.py stores it)."""
    from leakhunter.source.cache import finding_to_json

    return {
        "display": oc.display, "scanned": oc.scanned, "size": oc.size,
        "findings": [finding_to_json(f) for f in oc.findings], "skip_reason": oc.skip_reason,
        "rule_errors": [list(e) for e in oc.rule_errors], "suppressed": oc.suppressed,
        "unanalysed": [list(u) for u in oc.unanalysed],
    }


def _outcome_from_doc(doc: dict[str, Any], sf: SourceFile) -> FileOutcome | None:
    """The outcome stored for `sf`, shown under its current display path; None if malformed."""
    from leakhunter.source.cache import finding_from_json

    try:
        old = str(doc["display"])
        findings = []
        for d in doc["findings"]:
            f = finding_from_json(d)
            findings.append(dataclasses.replace(f, file=sf.display) if f.file == old else f)
        return FileOutcome(
            sf.display, bool(doc["scanned"]), int(doc["size"]), findings, str(doc["skip_reason"]),
            [(str(a), str(b)) for a, b in doc["rule_errors"]], int(doc["suppressed"]),
            unanalysed=[(int(a), int(b), str(c), str(d)) for a, b, c, d in doc["unanalysed"]],
        )
    except (KeyError, TypeError, ValueError):
        return None


def _with_cache(
    files: list[SourceFile], rule_ids: tuple[str, ...], max_file_size: int, jobs: int, store: ResultCache,
    result: ScanResult,
) -> Iterator[FileOutcome]:
    """Cached outcomes for unchanged files, fresh ones (then stored) for the rest."""
    from leakhunter.source.cache import KeyBuilder

    kb = KeyBuilder(rule_ids, max_file_size, store)
    keys = kb.keys(((f.path, f.size) for f in files), max_file_size)
    hits = store.get_many(keys.values())
    todo: list[SourceFile] = []
    for sf in files:
        k = keys.get(sf.path)
        doc = hits.get(k) if k is not None else None
        oc = _outcome_from_doc(doc, sf) if doc is not None else None
        # An outcome judged from other packages' files holds only while they are unchanged.
        if oc is None or (doc and doc.get("looked_up") and not kb.lookups_unchanged(sf.path, doc["looked_up"])):
            todo.append(sf)
            continue
        result.cached_files += 1
        yield oc
    by_display = {sf.display: sf for sf in todo}
    fresh: list[tuple[str, dict[str, Any]]] = []
    for oc in _outcomes(todo, rule_ids, max_file_size, jobs):
        sf_done = by_display.get(oc.display)
        k = keys.get(sf_done.path) if sf_done is not None else None
        if k is not None and sf_done is not None and oc.cacheable:
            doc = _outcome_doc(oc)
            if oc.looked_up:
                doc["looked_up"] = kb.lookup_digests(sf_done.path, oc.looked_up)
            fresh.append((k, doc))
        yield oc
    store.put_many(fresh)


def _command_code(path: Path) -> bool:
    from leakhunter.source.program.oneshot import command_program_of

    try:
        return command_program_of(path.absolute().parent) is not None
    except (OSError, ValueError):
        return False


def scan_paths(
    paths: Sequence[str],
    *,
    config: ScanConfig | None = None,
    rules: Sequence[str] | None = None,
    jobs: int | None = None,
    cache: ResultCache | None = None,
) -> ScanResult:
    """Scan the Go files under `paths` with the rule ids in `rules` (default: config's selection).

    Raises InputError for a path that does not exist. Findings are sorted by file,
    line, column and rule, deduplicated, with the config's severity overrides applied.
    With `cache`, unchanged files replay their stored outcome (cache.py).
    """
    start = time.perf_counter()
    cfg = config or ScanConfig()
    rule_ids = tuple(sorted(rules if rules is not None else selected_rules(cfg)))
    for name in ("leakhunter.source.program.importers", "leakhunter.source.program.implementations",
                 "leakhunter.source.unreached"):
        loaded = sys.modules.get(name)
        if loaded is not None:  # an earlier scan in this process walked a tree that may have changed
            loaded.reset()
    walked = collect_files(
        paths,
        exclude=cfg.cli_exclude,
        exclude_tests=cfg.exclude_tests,
        config_root=cfg.root,
        config_exclude=cfg.exclude,
    )
    result = ScanResult(findings=[], files_scanned=0, skipped=list(walked.skipped), duration_s=0.0)
    seen: set[tuple[str, int, int, str, str]] = set()
    n_jobs = jobs if jobs and jobs > 0 else default_jobs()
    stream = (
        _with_cache(walked.files, rule_ids, cfg.max_file_size, n_jobs, cache, result)
        if cache is not None and cache.enabled
        else _outcomes(walked.files, rule_ids, cfg.max_file_size, n_jobs)
    )
    for oc in stream:
        if oc.scanned:
            result.files_scanned += 1
            result.bytes_scanned += oc.size
        if oc.skip_reason:
            result.skipped.append((oc.display, oc.skip_reason))
        result.suppressed += oc.suppressed
        result.worker_peak_rss_kb = max(result.worker_peak_rss_kb, oc.peak_rss_kb)
        result.parse_seconds += oc.parse_seconds
        for rid, secs in oc.rule_seconds.items():
            result.rule_seconds[rid] = result.rule_seconds.get(rid, 0.0) + secs
        for rid, err in oc.rule_errors:
            result.rule_errors.append((oc.display, rid, err))
        for line, end, fn, why in oc.unanalysed:
            result.unanalysed.append(Unanalysed(oc.display, line, fn, why, end))
        if not oc.scanned and oc.skip_reason and not not_built(oc.skip_reason):
            result.unanalysed.append(Unanalysed(oc.display, 0, "", oc.skip_reason))
        for f in oc.findings:
            k = _finding_key(f)
            if k in seen:
                continue
            seen.add(k)
            sev = cfg.severity.get(f.rule)
            result.findings.append(dataclasses.replace(f, severity=sev) if sev and sev != f.severity else f)
    result.findings.sort(key=_finding_key)
    # (Unanalysed places too: code whose findings are hidden cannot fail the run by being unread.)
    with_findings = {f.file for f in result.findings} | {u.file for u in result.unanalysed}
    result.test_code = {sf.display for sf in walked.files
                        if sf.display in with_findings and (sf.is_test or is_test_file(sf.path))}
    result.code_paths = {sf.display: sf.path for sf in walked.files
                         if sf.display in with_findings and sf.display not in result.test_code}
    result.skipped.sort()
    result.unanalysed.sort(key=lambda u: (u.file, u.line))
    if result.files_scanned and not result.worker_peak_rss_kb:
        result.worker_peak_rss_kb = _peak_rss_kb()  # scanned in-process (or all from the cache)
    result.duration_s = time.perf_counter() - start
    return result


def display_root(paths: Sequence[str]) -> Path:
    """Where to start looking for `.leakhunter.toml`: the first path given (default `.`)."""
    from leakhunter.source.walker import normalize_arg

    first = normalize_arg(paths[0]) if paths else "."
    return Path(first)
