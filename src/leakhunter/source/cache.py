"""The scan result cache: a file's outcome is replayed while nothing it depends on changed.

A re-scan of an unchanged tree should cost what reading and hashing it costs, as a warm
`go vet` costs what its build cache lookups cost. A file's outcome (findings, suppressed
count, skip reason, unanalysed declarations) is stored under a key that hashes
everything the rules may read when they check it:

- the file's bytes and its absolute path;
- its package: every `.go` file of its directory (the package view, gopackage.py,
  reads the siblings; a changed sibling must invalidate);
- the packages of the same module it imports, transitively (the program model reads
  declarations across the module), each by the content of its non-test `.go` files
  (another package's `_test.go` files are invisible to it, and to every reader here);
- the packages of the module that import its package, and those importing them, three
  levels up (program/exits.py reads a function's callers there, and their callers:
  whether every caller exits on an error decides some findings);
- what lies outside the module: go.mod, go.sum, vendor/modules.txt, go.work, the
  `.go` files of local `replace` directories (by size and mtime) and the Go toolchain
  on PATH (GOROOT's VERSION, GOROOT/GOPATH/GOMODCACHE/GOFLAGS); the module cache is
  immutable and go.sum pins what is read from it;
- the rule set, the file size limit, leakhunter's version and the hash of its own
  `source/` code and model (a development edit to a rule invalidates everything).

Contents are hashed. To spare re-reading an unchanged tree, a file's digest (and imports)
is remembered with its (size, mtime, ctime, inode) and reused while all four are
unchanged, only for files last written more than two seconds before the run that hashed
them (git's rule against "racy" writes in the same clock tick). Storage is one SQLite database in WAL mode
in the user cache directory ($LEAKHUNTER_CACHE_DIR, else $XDG_CACHE_HOME/leakhunter,
else ~/.cache/leakhunter): concurrent scans read and write it safely, a crash mid-write
loses at most that run's new entries. Entries that do not decode are ignored (and
rewritten); a database file that is not one is moved aside and the scan runs without
it. Only the parent process touches the cache; workers never see it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from leakhunter.model import Finding

SCHEMA = 1
ENV_DIR = "LEAKHUNTER_CACHE_DIR"
DB_NAME = f"scan-v{SCHEMA}.sqlite3"
MAX_ENTRIES = 300_000
"""Above this many entries the least recently used are dropped (a few hundred MB at most)."""
IMPORTER_LEVELS = 3
"""Levels of importing packages a file's key covers (program/exits.py reads callers three deep)."""
_PKG_FILE_LIMIT = 4 << 20
"""Same bound as gopackage.py: larger siblings are not parsed there, so size+mtime stand for them."""

_IMPORT_BLOCK = re.compile(rb"(?m)^import\s*(?:\((.*?)\)|([^\n]*))", re.DOTALL)
_QUOTED = re.compile(rb'"([^"\n]+)"|`([^`\n]+)`')
_PACKAGE = re.compile(rb"(?m)^package\s")


def default_dir() -> Path:
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "leakhunter"


def _h(*parts: bytes | str) -> str:
    buf = bytearray()
    for p in parts:
        b = p.encode() if isinstance(p, str) else p
        buf += len(b).to_bytes(8, "little")
        buf += b
    return hashlib.blake2b(buf, digest_size=20).hexdigest()


@cache
def tool_digest() -> str:
    """leakhunter's version and the bytes of the code that decides findings."""
    import leakhunter
    from leakhunter import __version__

    pkg = Path(leakhunter.__file__).parent
    parts: list[bytes | str] = [__version__, str(SCHEMA)]
    for p in sorted([*(pkg / "source").rglob("*.py"), pkg / "model.py"]):
        try:
            parts += [p.relative_to(pkg).as_posix(), p.read_bytes()]
        except OSError:
            parts.append(p.name)
    return _h(*parts)


@cache
def toolchain_digest() -> str:
    """The Go toolchain the program model may read the standard library from."""
    parts: list[bytes | str] = [os.environ.get(k, "") for k in ("GOROOT", "GOPATH", "GOMODCACHE", "GOFLAGS")]
    go = shutil.which("go")
    if go:
        real = Path(os.path.realpath(go))
        parts.append(str(real))
        for candidate in (real.parent.parent / "VERSION", real.parent.parent / "go.env"):
            try:
                parts.append(candidate.read_bytes()[:4096])
            except OSError:
                parts.append(b"")
    return _h(*parts)


_LOCAL_REPLACE = re.compile(rb"=>\s*(\.{1,2}/[^\s]*|/[^\s]*)\s*$", re.MULTILINE)


def _replaced_dirs_digest(root: Path, gomod: bytes) -> str:
    """Name, size and mtime of the .go files of go.mod's local `replace` directories.

    The program model reads declarations there; those trees are other modules, often
    large, so they are stat-ed, not read (an edit changes size or mtime).
    """
    parts: list[bytes | str] = []
    for m in _LOCAL_REPLACE.finditer(gomod):
        target = (root / m.group(1).decode("utf-8", "replace")).resolve()
        for dirpath, dirnames, filenames in os.walk(target):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")) and d not in ("testdata",))
            for name in sorted(filenames):
                if name.endswith(".go"):
                    try:
                        st = os.stat(os.path.join(dirpath, name))
                    except OSError:
                        continue
                    parts.append(f"{dirpath}/{name}:{st.st_size}:{st.st_mtime_ns}")
    return _h(*parts)


def _is(entry: os.DirEntry[str], *, dirs: bool) -> bool:
    """`entry.is_dir()` / `entry.is_file()`, False for what cannot be stat-ed (a symlink loop raises ELOOP)."""
    try:
        return entry.is_dir() if dirs else entry.is_file()
    except OSError:
        return False


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _decode_imports(text: str) -> list[str] | None:
    """Imports stored in the file table; None if the row is damaged.

    Stored one per line after a `\n` marker (a warm run decodes thousands of rows; a
    split is far cheaper than JSON); rows written as a JSON list are still read."""
    if text.startswith("\n"):
        return text[1:].split("\n") if len(text) > 1 else []
    try:
        imps = json.loads(text)
    except ValueError:
        return None
    if isinstance(imps, list) and all(isinstance(i, str) for i in imps):
        return imps
    return None


def _encode_imports(imports: list[str]) -> str:
    return "\n" + "\n".join(i for i in imports if "\n" not in i)


_FIRST_DECL = re.compile(rb"(?m)^(?:func|type|var|const)\b")


def imports_of(source: bytes) -> list[str]:
    """Import paths of a Go file, read from its import declarations (no parse needed)."""
    out: list[str] = []
    m = _PACKAGE.search(source)
    start = m.end() if m else 0
    decl = _FIRST_DECL.search(source, start)
    head = source[: decl.start()] if decl else source
    for blk in _IMPORT_BLOCK.finditer(head, start):
        body = blk.group(1) if blk.group(1) is not None else blk.group(2)
        for q in _QUOTED.finditer(body or b""):
            out.append((q.group(1) or q.group(2)).decode("utf-8", "replace"))
    return out


@dataclass
class _Pkg:
    digest: str
    """Of the non-test files (what other packages can see)."""
    imports: set[str] = field(default_factory=set)
    """Imports of the package's non-test files: the graph other packages reach it through."""
    test_imports: set[str] = field(default_factory=set)
    full: str = ""
    """Of every file, tests included (set by KeyBuilder._full, for scanned directories only)."""
    tests: list[tuple[str, os.DirEntry[str]]] = field(default_factory=list)


class KeyBuilder:
    """Cache keys for the files of one scan (see the module docstring for what goes in)."""

    def __init__(self, rule_ids: Sequence[str], max_file_size: int, store: ResultCache | None = None) -> None:
        self.run = _h(tool_digest(), toolchain_digest(), ",".join(sorted(rule_ids)), str(max_file_size))
        self.store = store
        self._digests: dict[str, bytes] = {}
        self._imports: dict[str, list[str]] = {}
        self._known: dict[str, dict[str, tuple[str, bytes, str]]] = {}
        self.new_files: list[tuple[str, str, tuple[int, ...], bytes, list[str]]] = []
        self._settled = time.time_ns() - 2_000_000_000
        self._pkgs: dict[str, _Pkg] = {}
        self._closure: dict[str, frozenset[str]] = {}
        self._edges_memo: dict[str, list[str]] = {}
        self._rev: dict[str, dict[str, set[str]]] = {}
        self._code_dirs: dict[str, list[str]] = {}
        self._lookups: dict[str, dict[tuple[str, str], str]] = {}
        self._prefetched: set[str] = set()
        self._deps_digest: dict[str, str] = {}
        self._module: dict[str, tuple[str, str, str]] = {}
        self._local: dict[tuple[str, str], str | None] = {}

    def _module_of(self, directory: str) -> tuple[str, str, str]:
        """(module root or "", module path, digest of go.mod/go.sum/vendor/modules.txt/go.work)."""
        got = self._module.get(directory)
        if got is None:
            from leakhunter.source.gomod import module_for_dir

            info = module_for_dir(Path(directory))
            if info.root is None:
                got = ("", "", "")
            else:
                root = str(info.root)
                got = self._module.get("\x00" + root)  # one digest per module, not per directory
                if got is None:
                    files = [_read(info.root / n) or b"" for n in ("go.mod", "go.sum", "vendor/modules.txt", "go.work")]
                    got = (root, info.module, _h(*files, _replaced_dirs_digest(info.root, files[0])))
                    self._module["\x00" + root] = got
            self._module[directory] = got
        return got

    def _pkg(self, directory: str, listing: list[os.DirEntry[str]] | None = None) -> _Pkg:
        """A package as other packages see it: digest and imports of its non-test files.

        Another package's `_test.go` files are invisible to Go code and to every reader of
        the program model (declarations, callers and callees are non-test files), so only
        the scanned directory's own tests are stat-ed and hashed (`_full`)."""
        got = self._pkgs.get(directory)
        if got is not None:
            return got
        parts: list[bytes | str] = [directory]
        got = _Pkg("")
        if listing is None:
            try:
                with os.scandir(directory) as it:
                    listing = list(it)
            except OSError:
                listing = []
        entries = sorted(
            (e.name, e) for e in listing
            if e.name.endswith(".go") and not e.name.startswith((".", "_")) and _is(e, dirs=False)
        )
        for name, entry in entries:
            if name.endswith("_test.go"):
                got.tests.append((name, entry))
                continue
            self._add(directory, name, entry, parts, got.imports)
        got.digest = _h(*parts)
        self._pkgs[directory] = got
        return got

    def _full(self, directory: str) -> _Pkg:
        """`_pkg` plus the directory's test files (digest in `full`, imports in `test_imports`)."""
        got = self._pkg(directory)
        if not got.full:
            parts: list[bytes | str] = [got.digest]
            for name, entry in got.tests:
                self._add(directory, name, entry, parts, got.test_imports)
            got.full = _h(*parts)
        return got

    def _add(self, directory: str, name: str, entry: os.DirEntry[str], parts: list[bytes | str],
             imports: set[str]) -> None:
        try:
            st = entry.stat()
        except OSError:
            return
        if st.st_size > _PKG_FILE_LIMIT:
            parts += [name, f"{st.st_size}:{st.st_mtime_ns}"]
            return
        known = self._file(directory, name, st)
        if known is None:
            return
        parts += [name, known[0]]
        imports.update(known[1])

    def _file(self, directory: str, name: str, st: os.stat_result) -> tuple[bytes, list[str]] | None:
        """(content digest, imports) of one file: from the file table while its stat is unchanged.

        The table trusts (size, mtime, ctime, inode) only for files last changed more than
        two seconds before the run (git's "racy" rule: a write within the same clock tick
        after hashing would not show in the stat); anything else is read and hashed.
        """
        path = f"{directory}/{name}" if directory != "/" else f"/{name}"
        got = self._digests.get(path)
        if got is not None:
            return got, self._imports[path]
        sig = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        table = self._known.get(directory)
        if table is None:
            table = self._known[directory] = self._rows_of(directory)
        hit = table.get(name)
        imports: list[str] | None = None
        if hit is not None and hit[0] == f"{sig[0]}:{sig[1]}:{sig[2]}:{sig[3]}":
            digest = hit[1]
            imports = _decode_imports(hit[2])
        if imports is None:
            data = _read(Path(path))
            if data is None:
                return None
            digest = hashlib.blake2b(data, digest_size=20).digest()
            imports = imports_of(data[:65536])
            if max(st.st_mtime_ns, st.st_ctime_ns) < self._settled:
                self.new_files.append((directory, name, sig, digest, imports))
        self._digests[path] = digest
        self._imports[path] = imports
        return digest, imports

    def _local_dir(self, directory: str, imp: str) -> str | None:
        """The directory of a package of the same module, or None for one outside it."""
        root, module, _ = self._module_of(directory)
        k = (root, imp)
        if k in self._local:
            return self._local[k]
        out: str | None = None
        if root:
            if module == "std":
                if "." not in imp.split("/", 1)[0]:
                    out = os.path.join(root, imp)
            elif imp == module:
                out = root
            elif module and imp.startswith(module + "/"):
                out = os.path.join(root, imp[len(module) + 1:])
        if out is not None and not os.path.isdir(out):
            out = None
        self._local[k] = out
        return out

    def _edges(self, d: str) -> list[str]:
        """Module-local packages imported by `d`'s non-test files."""
        got = self._edges_memo.get(d)
        if got is not None:
            return got
        out: list[str] = []
        for imp in self._pkg(d).imports:
            local = self._local_dir(d, imp)
            if local is not None:
                out.append(local)
        self._edges_memo[d] = out
        return out

    def _reach(self, directory: str) -> frozenset[str]:
        """Module-local packages reachable from `directory`'s non-test files (itself included).

        Tarjan's strongly connected components over the import graph, so every package
        met on the way gets its closure too (each import edge is followed once per run),
        and the answer does not depend on the order directories are visited in, even where
        the crude import reading (build-tagged generator files) sees a cycle.
        """
        got = self._closure.get(directory)
        if got is not None:
            return got
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        on_stack: set[str] = set()
        stack: list[str] = []
        work: list[tuple[str, list[str], int]] = [(directory, self._edges(directory), 0)]
        index[directory] = low[directory] = 0
        stack.append(directory)
        on_stack.add(directory)
        while work:
            v, edges, i = work[-1]
            if i < len(edges):
                work[-1] = (v, edges, i + 1)
                w = edges[i]
                if w in self._closure:
                    continue
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, self._edges(w), 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
            if low[v] == index[v]:
                members: list[str] = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    members.append(w)
                    if w == v:
                        break
                acc: set[str] = set(members)
                for m in members:
                    for w in self._edges_memo[m]:
                        if w not in acc:
                            acc |= self._closure[w]
                closure = frozenset(acc)
                for m in members:
                    self._closure[m] = closure
        return self._closure[directory]

    def _deps(self, directory: str) -> str:
        """Digest of the module-local packages `directory` imports (test files' imports too), transitively."""
        got = self._deps_digest.get(directory)
        if got is not None:
            return got
        pkg = self._full(directory)
        acc: set[str] = set(self._reach(directory))
        for imp in pkg.test_imports:
            local = self._local_dir(directory, imp)
            if local is not None and local not in acc:
                acc |= self._reach(local)
        acc |= self._importers(directory)
        acc.discard(directory)
        # Each package digest already hashes its directory's path: sorted digests suffice.
        got = hashlib.blake2b("".join(sorted(self._pkgs[d].digest for d in acc)).encode(), digest_size=20).hexdigest()
        self._deps_digest[directory] = got
        return got

    def _rows_of(self, directory: str) -> dict[str, tuple[str, bytes, str]]:
        """The file table's rows for a directory: read for its whole module at once (one query, not one per directory)."""
        if self.store is None:
            return {}
        root, _, _ = self._module_of(directory)
        if root:
            if root not in self._prefetched:
                self._prefetched.add(root)
                for d, rows in self.store.files_under(root).items():
                    self._known.setdefault(d, rows)
            if directory == root or directory.startswith(root.rstrip("/") + "/"):
                return self._known.get(directory) or {}
        return self.store.files_in(directory)

    def _import_paths(self, directory: str) -> list[str]:
        """How other packages spell `directory` in their imports (std's own packages have no module prefix)."""
        root, module, _ = self._module_of(directory)
        rel = os.path.relpath(directory, root).replace(os.sep, "/") if root else ""
        if not module:
            return []
        paths = [module if rel == "." else f"{module}/{rel}"]
        if module == "std" and rel != ".":
            paths.append(rel)
        return paths

    def _reverse(self, root: str) -> dict[str, set[str]]:
        """Import path -> directories under the module root whose non-test files import it.

        The same walk as program/exits.py, which reads the callers of a function in the
        packages importing it (and in those importing them): a finding there depends on
        code that imports the file's package, not only on what the package imports."""
        got = self._rev.get(root)
        if got is not None:
            return got
        got = {}
        code_dirs: list[str] = []
        stack = [root]
        while stack:  # os.walk's order and pruning, listing each directory once
            d = stack.pop()
            try:
                with os.scandir(d) as it:
                    listing = list(it)
            except OSError:
                continue
            has_go = False
            subdirs: list[str] = []
            for e in listing:
                n = e.name
                if _is(e, dirs=True):
                    if not n.startswith((".", "_")) and n not in ("vendor", "testdata") and not e.is_symlink():
                        subdirs.append(e.path)
                elif n.endswith(".go") and not n.endswith("_test.go"):
                    has_go = True
            stack.extend(reversed(subdirs))
            if has_go:
                code_dirs.append(d)
                for imp in self._pkg(d, listing).imports:
                    got.setdefault(imp, set()).add(d)
        self._rev[root] = got
        self._code_dirs[root] = code_dirs
        return got

    def _test_reverse(self, root: str) -> dict[str, set[str]]:
        """Import path -> directories under the module root whose `_test.go` files import it
        (program/testfail.py reads the tests of the packages importing a test-support helper)."""
        key = "\x00tests\x00" + root
        got = self._rev.get(key)
        if got is not None:
            return got
        got = {}
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith((".", "_")) and d not in ("vendor", "testdata")]
            if any(f.endswith("_test.go") for f in filenames):
                for imp in self._full(dirpath).test_imports:
                    got.setdefault(imp, set()).add(dirpath)
        self._rev[key] = got
        return got

    def _lookup_digest(self, root: str, kind: str, path: str) -> str:
        """Digest of the files a program/importers.py lookup (kind, import path) returns."""
        memo = self._lookups.setdefault(root, {})
        got = memo.get((kind, path))
        if got is None:
            got = memo[(kind, path)] = self._lookup_digest_of(root, kind, path)
        return got

    def _lookup_digest_of(self, root: str, kind: str, path: str) -> str:
        if kind == "tests":
            dirs = self._test_reverse(root).get(path, set())
            return _h(*sorted(self._full(d).full for d in dirs))
        # path "": every non-test file of the module (exits.py, for exported methods)
        dirs = self._reverse(root).get(path, set()) if path else set(self._dirs_with_code(root))
        return _h(*sorted(self._pkg(d).digest for d in dirs))

    def _dirs_with_code(self, root: str) -> list[str]:
        """Directories of the module with non-test `.go` files (those importing nothing too)."""
        self._reverse(root)
        return self._code_dirs.get(root, [])

    def lookup_digests(self, path: Path, looked_up: Iterable[tuple[str, str]]) -> dict[str, str]:
        """`{kind\0import path: digest}` of what the rules looked up while checking `path`."""
        root, _, _ = self._module_of(str(path.absolute().parent))
        if not root:
            return {}
        return {f"{kind}\0{imp}": self._lookup_digest(root, kind, imp) for kind, imp in looked_up}

    def lookups_unchanged(self, path: Path, stored: Any) -> bool:
        """Whether every lookup recorded with a cached outcome still finds the same files."""
        if not isinstance(stored, dict):
            return False
        root, _, _ = self._module_of(str(path.absolute().parent))
        if not root:
            return False
        for k, digest in stored.items():
            kind, _, imp = str(k).partition("\0")
            if self._lookup_digest(root, kind, imp) != digest:
                return False
        return True

    def _importers(self, directory: str) -> set[str]:
        """Directories importing `directory`'s package, transitively up to IMPORTER_LEVELS.

        exits.py follows callers of callers (depth 0..2 of `_every_caller_exits`), each
        found among the importers of the previous caller's package."""
        root, _, _ = self._module_of(directory)
        if not root:
            return set()
        rev = self._reverse(root)
        acc: set[str] = set()
        frontier = {directory}
        for _ in range(IMPORTER_LEVELS):
            nxt: set[str] = set()
            for d in frontier:
                for path in self._import_paths(d):
                    nxt |= rev.get(path, set())
            frontier = nxt - acc
            acc |= nxt
            if not frontier:
                break
        return acc

    def keys(self, files: Iterable[tuple[Path, int]], max_file_size: int) -> dict[Path, str]:
        """Key per (path, size) of a file; files too large or unreadable get none (always scanned)."""
        out: dict[Path, str] = {}
        for p, size in files:
            if size > max_file_size:
                continue
            ap = os.path.abspath(p)
            d = os.path.dirname(ap)
            pkg = self._full(d)
            digest = self._digests.get(ap)
            if digest is None:  # not a sibling the package scan saw (a _-prefixed name given explicitly)
                try:
                    known = self._file(d, os.path.basename(ap), os.stat(ap))
                except OSError:
                    known = None
                if known is None:
                    continue
                digest = known[0]
            _, _, mod_digest = self._module_of(d)
            out[p] = _h(self.run, ap, digest, pkg.full, self._deps(d), mod_digest)
        if self.store is not None and self.new_files:
            self.store.put_files(self.new_files)
        return out


# --------------------------------------------------------------------------- storage


def encode(outcome: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(outcome, separators=(",", ":")).encode(), 1)


def decode(blob: bytes) -> dict[str, Any] | None:
    """The stored outcome, or None if the entry is damaged or from another schema."""
    try:
        doc = json.loads(zlib.decompress(blob))
    except (zlib.error, ValueError, TypeError):
        return None
    if not isinstance(doc, dict) or doc.get("v") != SCHEMA:
        return None
    return doc


def finding_to_json(f: Finding) -> dict[str, Any]:
    return asdict(f)


def finding_from_json(d: Any) -> Finding:
    if not isinstance(d, dict):
        raise TypeError("finding is not an object")
    return Finding(**d)


class ResultCache:
    """The SQLite store. Every failure degrades to "no cache" with a note, never a failed scan."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_dir()
        self.path = self.directory / DB_NAME
        self.note = ""
        self._db: sqlite3.Connection | None = None
        try:
            self._db = self._open_when_free()
        except (OSError, sqlite3.Error) as exc:
            # A file that is not a database (or a damaged one): move it aside, start afresh once.
            if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
                self.note = f"result cache at {self.path} stayed locked by another scan; scanned without it"
                return
            try:
                if self.path.exists():
                    self.path.replace(self.path.with_name(f"{DB_NAME}.broken-{os.getpid()}"))
                self._db = self._open()
                self.note = f"result cache at {self.path} was unreadable ({exc}); started a new one"
            except (OSError, sqlite3.Error) as exc2:
                self._db = None
                self.note = f"result cache disabled: {self.path}: {exc2}"

    def _open_when_free(self) -> sqlite3.Connection:
        """`_open`, waiting out another scan that holds the database (two scans started together
        both create it; switching a new database to WAL takes a lock SQLite's busy timeout does not
        wait for). A lock is not damage: moving the file aside then deleted the other scan's tables
        ("no such table: results", tests/test_scan_cache.py, 4 of 12 concurrent fresh starts)."""
        deadline = time.monotonic() + 10.0
        while True:
            try:
                return self._open()
            except sqlite3.OperationalError as exc:
                text = str(exc).lower()
                if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _open(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value BLOB NOT NULL, used INTEGER)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS files (dir TEXT NOT NULL, name TEXT NOT NULL, stat TEXT NOT NULL, "
                "digest BLOB NOT NULL, imports TEXT NOT NULL, PRIMARY KEY (dir, name))"
            )
            db.execute("SELECT count(*) FROM results WHERE key = ''").fetchone()
        except sqlite3.Error:
            db.close()
            raise
        return db

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Decoded entries for the keys found; damaged entries are left out (they will be rewritten)."""
        if self._db is None:
            return {}
        out: dict[str, dict[str, Any]] = {}
        stale: list[str] = []
        day_ago = int(time.time()) - 86400
        ks = list(dict.fromkeys(keys))
        try:
            for i in range(0, len(ks), 500):
                batch = ks[i : i + 500]
                rows = self._db.execute(
                    f"SELECT key, value, used FROM results WHERE key IN ({','.join('?' * len(batch))})", batch
                ).fetchall()
                for k, v, used in rows:
                    doc = decode(v) if isinstance(v, bytes) else None
                    if doc is not None:
                        out[k] = doc
                        if not isinstance(used, int) or used < day_ago:
                            stale.append(k)
            if stale:
                now = int(time.time())
                self._db.executemany("UPDATE results SET used = ? WHERE key = ?", [(now, k) for k in stale])
        except sqlite3.Error as exc:
            self.note = f"result cache read failed ({exc}); scanned without it"
            return {}
        return out

    def files_in(self, directory: str) -> dict[str, tuple[str, bytes, str]]:
        """name -> (stat signature `size:mtime:ctime:inode`, content digest, imports as stored).

        Left undecoded: most rows are only compared (a warm run of a large tree reads
        thousands); `_decode_imports` reads the imports of the rows that match."""
        if self._db is None:
            return {}
        try:
            rows = self._db.execute("SELECT name, stat, digest, imports FROM files WHERE dir = ?", (directory,))
            return {
                str(name): (str(stat), digest, str(imports)) for name, stat, digest, imports in rows
                if isinstance(digest, bytes)
            }
        except sqlite3.Error:
            return {}

    def files_under(self, root: str) -> dict[str, dict[str, tuple[str, bytes, str]]]:
        """`files_in` for every directory at or below `root`, in one query."""
        if self._db is None:
            return {}
        out: dict[str, dict[str, tuple[str, bytes, str]]] = {}
        try:
            rows = self._db.execute(
                "SELECT dir, name, stat, digest, imports FROM files WHERE dir = ? OR (dir >= ? AND dir < ?)",
                (root, root + "/", root + "0"),  # "0" sorts right after "/"
            )
            for d, name, stat, digest, imports in rows:
                if isinstance(digest, bytes):
                    out.setdefault(str(d), {})[str(name)] = (str(stat), digest, str(imports))
        except sqlite3.Error:
            return {}
        return out

    def put_files(self, rows: Sequence[tuple[str, str, tuple[int, ...], bytes, list[str]]]) -> None:
        if self._db is None or not rows:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO files (dir, name, stat, digest, imports) VALUES (?, ?, ?, ?, ?)",
                [(d, n, ":".join(map(str, sig)), dg, _encode_imports(imps)) for d, n, sig, dg, imps in rows],
            )
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            self.note = f"result cache write failed ({exc}); results not stored"

    def put_many(self, items: Sequence[tuple[str, dict[str, Any]]]) -> None:
        if self._db is None or not items:
            return
        now = int(time.time())
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO results (key, value, used) VALUES (?, ?, ?)",
                [(k, encode({**v, "v": SCHEMA}), now) for k, v in items],
            )
            (count,) = self._db.execute("SELECT count(*) FROM results").fetchone()
            if count > MAX_ENTRIES:
                self._db.execute(
                    "DELETE FROM results WHERE key IN (SELECT key FROM results ORDER BY used LIMIT ?)",
                    (count - MAX_ENTRIES,),
                )
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            self.note = f"result cache write failed ({exc}); results not stored"

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
