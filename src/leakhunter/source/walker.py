"""Which files a scan reads: the go tool's idea of a source tree, plus user excludes.

`leakhunter scan` accepts what Go users type: `.`, `./...`, `dir/...`, a directory
or a single file. Directories are always walked recursively (the `...` suffix is
accepted and means the same). Like `go build ./...`, the walk skips `vendor/`,
`testdata/`, and directories whose names start with `.` or `_`; it never enters
those below a root, but a root the user names explicitly is always walked.

Symlinked directories inside the scanned tree are followed (monorepos link packages
in), but a link back to a directory already on the walk (a symlink loop) is
reported once and not followed, a real directory is walked only once however many
links reach it, and a link that leaves the tree (to `/`, to $HOME) is reported and
not followed.
Files that cannot be read as regular files (FIFOs, dangling links, permission
problems, link loops) are reported as skipped with the reason, never opened: a
FIFO would block the scan forever.

What is inside a file (generated header, size, UTF-8, syntax) is decided by the
scanner worker that reads it, so the parent process never reads file contents.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from leakhunter.errors import InputError

SKIP_DIR_NAMES: frozenset[str] = frozenset({"vendor", "testdata"})


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A Go file to scan: where it is, how to print it, and its size."""

    path: Path
    display: str
    size: int
    is_test: bool


@dataclass
class WalkResult:
    files: list[SourceFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(display path, reason) of files or directories that could not be read."""


def normalize_arg(arg: str) -> str:
    """`./...` -> `.`, `pkg/...` -> `pkg`, `...` -> `.`; other paths unchanged."""
    if arg in ("...", "./..."):
        return "."
    if arg.endswith("/..."):
        return arg[: -len("/...")] or "/"
    return arg


def _display(root_arg: str, rel: str) -> str:
    if not rel:
        return os.path.normpath(root_arg)
    if root_arg in (".", "./"):
        return rel
    return os.path.normpath(os.path.join(root_arg, rel))


def is_excluded(rel: str, patterns: Sequence[str]) -> bool:
    """True if the slash-separated relative path matches one of the globs.

    A glob matches the whole path (`internal/gen/*.go`), any trailing part of it
    (`*_gen.go`, `gen/*`), or a directory prefix (`gen` excludes `gen/a/b.go`);
    `**` is accepted and means the same as `*` (which already crosses `/`).
    """
    if not patterns or not rel:
        return False
    parts = rel.split("/")
    suffixes = ["/".join(parts[i:]) for i in range(len(parts))]
    for raw in patterns:
        pat = raw.replace("**/", "*").replace("**", "*").strip("/")
        if pat.startswith("./"):
            pat = pat[2:]
        if not pat:
            continue
        for s in suffixes:
            if fnmatch.fnmatchcase(s, pat) or fnmatch.fnmatchcase(s, pat + "/*"):
                return True
    return False


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "cannot read: symlink loop"
    if exc.errno == errno.ENOENT:
        return "cannot read: dangling symlink (target does not exist)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot read: permission denied"
    return f"cannot read: {exc.strerror or exc}"


class _Walker:
    def __init__(
        self,
        *,
        exclude: Sequence[str],
        exclude_tests: bool,
        config_root: Path | None,
        config_exclude: Sequence[str],
    ) -> None:
        self.exclude = list(exclude)
        self.exclude_tests = exclude_tests
        self.config_root = config_root
        self.config_exclude = list(config_exclude)
        self.result = WalkResult()
        self.seen_dirs: set[tuple[int, int]] = set()
        self.seen_files: set[tuple[int, int]] = set()

    def excluded(self, display: str, path: Path) -> bool:
        if self.exclude and is_excluded(display.replace(os.sep, "/").removeprefix("./"), self.exclude):
            return True
        if self.config_exclude and self.config_root is not None:
            try:
                rel = path.absolute().relative_to(self.config_root).as_posix()
            except ValueError:
                return False
            return is_excluded(rel, self.config_exclude)
        return False

    def add_file(self, path: Path, display: str, st: os.stat_result | None, explicit: bool) -> None:
        name = path.name
        is_test = name.endswith("_test.go")
        if is_test and self.exclude_tests:
            return
        if not explicit and self.excluded(display, path):
            return
        if st is None:
            try:
                st = path.stat()
            except OSError as exc:
                self.result.skipped.append((display, _reason(exc)))
                return
        if not stat.S_ISREG(st.st_mode):
            self.result.skipped.append((display, "not a regular file"))
            return
        key = (st.st_dev, st.st_ino)
        if key in self.seen_files:
            return
        self.seen_files.add(key)
        self.result.files.append(SourceFile(path, display, st.st_size, is_test))

    def walk_root(self, arg: str) -> None:
        root = Path(arg)
        try:
            st = root.stat()
        except OSError as exc:
            if exc.errno == errno.ENOENT and not root.is_symlink():
                raise InputError(f"{arg}: no such file or directory") from None
            raise InputError(f"{arg}: {_reason(exc)}") from None
        if not stat.S_ISDIR(st.st_mode):
            if not arg.endswith(".go"):
                raise InputError(f"{arg}: not a Go file or directory")
            self.add_file(root, os.path.normpath(arg), st, explicit=True)
            return
        self.walk_dir(root, arg, st)

    def walk_dir(self, root: Path, arg: str, root_st: os.stat_result) -> None:
        # Iterative DFS; `chain` holds the (dev, ino) of the directories above, to spot loops.
        stack: list[tuple[Path, str, tuple[tuple[int, int], ...]]] = []
        key = (root_st.st_dev, root_st.st_ino)
        if key in self.seen_dirs:
            return
        self.seen_dirs.add(key)
        real_root = os.path.realpath(root)
        stack.append((root, "", (key,)))
        while stack:
            d, rel, chain = stack.pop()
            try:
                with os.scandir(d) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                self.result.skipped.append((_display(arg, rel), _reason(exc)))
                continue
            subdirs: list[tuple[Path, str, tuple[tuple[int, int], ...]]] = []
            for e in entries:
                name = e.name
                erel = f"{rel}/{name}" if rel else name
                disp = _display(arg, erel)
                try:
                    is_dir = e.is_dir()  # follows symlinks
                except OSError:
                    is_dir = False
                if is_dir:
                    if name in SKIP_DIR_NAMES or name.startswith((".", "_")):
                        continue
                    path = Path(e.path)
                    if self.excluded(disp, path):
                        continue
                    try:
                        st = e.stat()
                    except OSError as exc:
                        self.result.skipped.append((disp, _reason(exc)))
                        continue
                    k = (st.st_dev, st.st_ino)
                    if k in chain:
                        self.result.skipped.append((disp, "symlink loop (links back to a parent directory)"))
                        continue
                    if k in self.seen_dirs:
                        continue  # reached again through another link: walk it once
                    if e.is_symlink():
                        real = os.path.realpath(e.path)
                        if os.path.commonpath([real, real_root]) != real_root:
                            # Never wander out of the tree the user named (a link to / or $HOME).
                            self.result.skipped.append((disp, "symlink to a directory outside the scanned tree: not followed"))
                            continue
                    self.seen_dirs.add(k)
                    subdirs.append((path, erel, (*chain, k)))
                elif name.endswith(".go"):
                    st2: os.stat_result | None
                    try:
                        st2 = e.stat()
                    except OSError as exc:
                        skip_test = self.exclude_tests and name.endswith("_test.go")
                        if not skip_test and not self.excluded(disp, Path(e.path)):
                            self.result.skipped.append((disp, _reason(exc)))
                        continue
                    self.add_file(Path(e.path), disp, st2, explicit=False)
            stack.extend(reversed(subdirs))


def collect_files(
    paths: Iterable[str],
    *,
    exclude: Sequence[str] = (),
    exclude_tests: bool = False,
    config_root: Path | None = None,
    config_exclude: Sequence[str] = (),
) -> WalkResult:
    """The Go files under `paths` (default `.`), in a stable order, and what could not be read.

    A path that does not exist raises InputError (exit 2): a typo must not look like
    a clean scan. A file named explicitly is scanned even if it would be excluded.
    """
    w = _Walker(
        exclude=exclude,
        exclude_tests=exclude_tests,
        config_root=config_root,
        config_exclude=config_exclude,
    )
    for raw in list(paths) or ["."]:
        w.walk_root(normalize_arg(raw))
    return w.result
