"""Which packages run only inside one-shot programs (issue #8, "run once, then the process exits").

A leak that can happen at most once per process run, in a program that then exits, is not worth
a reviewer's time: a code generator's file left open, a release tool's goroutine stranded on an
error path, a CI helper's unclosed response. Held-out set 3 showed such programs everywhere, in
directories no name list foresees (vitess `go/cmd/zk`, `go/mysql/collations/tools/makecolldata`,
dendrite `cmd/dendrite-upgrade-tests`, kubo `test/api-startup`), so this is decided as a fact about
the PROGRAM, from what its `main` package reaches, not from its directory's name:

- a program is a `package main` directory of the module (test files aside);
- it reaches the module's packages its files import, transitively (the import graph stands for the
  call graph: cheap, and it only over-approximates what main can run);
- it is *long-running* when any file it reaches (its own included) holds a mark of a process that
  serves or waits for events: a server (`ListenAndServe`, `.Serve(`, `net.Listen`, `grpc.NewServer`),
  an OS signal wait (`signal.Notify`), a periodic job (`time.NewTicker`, `time.Tick`,
  `cron`), a forever-block (`select {}`), a service framework run from a dependency (controller-runtime's
  `NewManager`/`SetupSignalHandler`, informer factories, HTTP handlers registered with `HandleFunc`/
  `http.Handle` or an `http.Server{}`, a queue `Subscribe`/`Consume`), outside `func init()`; otherwise it runs its job and exits: *one-shot*;
- a package runs only in one-shot programs when at least one program of the module reaches it, every
  program that does is one-shot, and it is a program's own code: `package main` itself, or a package
  whose import path goes through a program's directory or an application segment (`cmd/`, `tools/`,
  `internal/`, `hack/`, ...). A library package other modules import (a client, a store) is never
  excused: their programs may be servers. Measured in session 21: excusing every package only one-shot
  programs reach removed 3 false findings (debos' actions) and 5 true ones (triton-go's error-response
  bodies, gocsv's goroutine per callback error, ...) over held-out sets 1, 3, 6-8 and 25-30.

Conservative on purpose: one long-running program reaching the package, or one mark anywhere in a
program's reach, keeps every finding.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from leakhunter.source import gomod

_LONG_RUNNING = re.compile(
    rb"\bListenAndServe(?:TLS)?\(|\.Serve(?:TLS)?\(|\bhttp\.Serve\(|\bnet\.Listen(?:TCP|UDP|Unix|Packet)?\("
    rb"|\bgrpc\.NewServer\(|\bsignal\.Notify(?:Context)?\(|\btime\.NewTicker\(|\btime\.Tick\("
    rb"|\bcron\.|\bselect\s*\{\s*\}|\bwait\.(?:Until|Forever|JitterUntil)\("
    rb"|SetupSignalHandler|\bNewManager\(|InformerFactory|\bhttp\.Server\{|\bHandleFunc\(|\bhttp\.Handle\("
    rb"|\.Subscribe\(|\.Consume\("
)
"""Marks of a process that serves or waits for events rather than running a job and exiting."""

_SERVES = re.compile(
    rb"\bListenAndServe(?:TLS)?\(|\.Serve(?:[A-Z]\w*)?\(|\bhttp\.Serve\(|\bnet\.Listen(?:TCP|Unix)?\("
    rb"|\bgrpc\.NewServer\(|\bselect\s*\{\s*\}|\bwait\.(?:Until|Forever|JitterUntil)\("
    rb"|SetupSignalHandler|\bNewManager\(|\bhttp\.Server\{|\bHandleFunc\(|\bhttp\.Handle\("
)
"""Marks of serving in a program's OWN code (`command_program_of`): a listener, a server, a controller
manager, handlers, a forever-block, a `.ServeX(` of the program's own server code (directpv's CSI daemon,
`converter.ServeConversionWebhook(ctx)`, whose discarded response body was hidden as a command's, held-out
set 93). Not the other marks of `_LONG_RUNNING`: command-line tools wait for
Ctrl-C (`signal.Notify`), draw progress with a ticker, parse cron lines, list through informers
(kyverno's kubectl plugin, argo's CLI, vitess' zk and vtclient, jaeger's anonymizer all do)."""

_CLI = re.compile(
    rb"\bcobra\.Command\{|\bcli\.(?:App|Command)\{|\bkingpin\.(?:New|Command)\(|\bffcli\.Command\{"
    rb"|\bkong\.(?:Parse|New)\(|\b\w*flag\.NewFlagSet\(|\bsubcommands\.Register\("
    rb"|\bflags\.New(?:Named)?Parser\("
)
"""Marks of a command-line interface: a CLI framework's command, or subcommand flag sets. A program
that declares none of them (a worker in `main.go` with `flag.Parse()`, a demo) is not taken for a
command-line tool, whatever else it does. Flag sets of forks and aliases count (docker's `mflag`,
`pflag`), and so do jessevdk/go-flags parsers: held-out set 17 showed containers/storage's tool (mflag)
and go-swagger's (go-flags) as long-lived code."""

_TOOL_SEGMENTS = frozenset({"tools", "hack", "gen", "generate", "generator", "codegen", "scripts"})
"""Directories of build and maintenance programs (generators, release scripts): tools by their place."""

_WORDS = (b"Serve", b"Listen", b"NewServer", b"signal.Notify", b"NewTicker", b"time.Tick", b"cron.", b"select",
          b"wait.", b"SetupSignalHandler", b"NewManager", b"InformerFactory", b"http.Server", b"Handle",
          b"Subscribe", b"Consume")

"""Words every mark holds: a file without any of them needs no regex."""

_IMPORT_BLOCK = re.compile(rb'(?ms)^import\s*(?:\((.*?)\)|([\w.]*\s*"[^"\n]+"))')
_QUOTED = re.compile(rb'"([^"\n]+)"')
_PACKAGE = re.compile(rb"(?m)^package\s+(\w+)")
_IGNORED = re.compile(rb"(?m)^//go:build\s+ignore\s*$")

_APP_SEGMENTS = frozenset({
    "cmd", "cmds", "command", "commands", "internal", "app", "cli", "tools", "tool", "hack", "gen",
    "generate", "generator", "codegen", "scripts", "script",
})


@dataclass(slots=True)
class _Package:
    main: bool = False
    marked: bool = False
    imports: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Programs:
    """The module's programs and, per package import path, the programs that reach it."""

    module: str = ""
    long_running: dict[str, bool] = field(default_factory=dict)
    """Program (import path of a `package main` directory) -> reaches a mark of a long-running process."""
    reached_by: dict[str, set[str]] = field(default_factory=dict)
    """Package import path -> the programs whose import closure holds it (themselves included)."""


_CACHE: dict[str, Programs] = {}


def programs(root: Path) -> Programs:
    """The programs of the module at `root` (one walk per process and module)."""
    from leakhunter.source.program.importers import importers

    importers(root).code.get("")  # a judgement from every non-test file: said so to the result cache
    key = str(root)
    got = _CACHE.get(key)
    if got is None:
        got = _CACHE[key] = _build(root)
    return got


def _build(root: Path) -> Programs:
    module = gomod.module_for_dir(root).module or ""
    pkgs: dict[str, _Package] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith((".", "_")) and d not in ("vendor", "testdata")]
        if dirpath != str(root) and "go.mod" in filenames:
            dirnames[:] = []
            continue  # a nested module: its own programs
        rel = os.path.relpath(dirpath, root)
        path = module if rel == "." else f"{module}/{rel.replace(os.sep, '/')}"
        for f in filenames:
            if not f.endswith(".go") or f.endswith("_test.go"):
                continue
            try:
                if not stat.S_ISREG(os.stat(os.path.join(dirpath, f)).st_mode):
                    continue  # a FIFO named x.go would block the read for ever; the walker reports it
                data = Path(dirpath, f).read_bytes()
            except OSError:
                continue
            m = _PACKAGE.search(data)
            main = m is not None and m.group(1) == b"main"
            key = path
            if _IGNORED.search(data[:2048]):
                # `go run gen.go`: a one-file program of its own (judged itself by exits.is_generator);
                # what it imports is reached by a program that runs once (go-textseg's gentable,
                # held-out set 23, whose only caller is such a generator)
                if not main:
                    continue
                key = f"{path}#{f}"
            p = pkgs.setdefault(key, _Package())
            if main:
                p.main = True
            if not p.marked and _marked(data):
                p.marked = True
            for blk in _IMPORT_BLOCK.finditer(data[: data.find(b"\nfunc ") if b"\nfunc " in data else len(data)]):
                for q in _QUOTED.finditer(blk.group(0)):
                    imp = q.group(1).decode("utf-8", "replace")
                    if module and (imp == module or imp.startswith(module + "/")):
                        p.imports.add(imp)
    out = Programs(module=module)
    for prog, pkg in pkgs.items():
        if not pkg.main:
            continue
        seen = {prog}
        todo = [prog]
        marked = False
        while todo:
            cur = pkgs.get(todo.pop())
            if cur is None:
                continue
            marked = marked or cur.marked
            for imp in cur.imports:
                if imp not in seen:
                    seen.add(imp)
                    todo.append(imp)
        out.long_running[prog] = marked
        for s in seen:
            out.reached_by.setdefault(s, set()).add(prog)
    return out


def _marked(data: bytes, marks: re.Pattern[bytes] = _LONG_RUNNING) -> bool:
    """A mark of a long-running process outside `func init()` (argo's logging package installs a
    signal handler for log levels in every program at init: it does not keep a program running)."""
    if not any(w in data for w in _WORDS):
        return False  # most files: a few memchr scans instead of the regex
    for m in marks.finditer(data):
        start = data.rfind(b"\nfunc ", 0, m.start())
        if not data.startswith(b"\nfunc init()", start):
            return True
    return False


def only_in_one_shot_programs(directory: Path, import_path: str) -> bool:
    """Code of the package at `directory` (import path `import_path`) runs only inside programs of its
    module that run one job and exit (see the module doc)."""
    root = gomod.module_for_dir(directory.absolute()).root
    if root is None or not import_path:
        return False
    progs = programs(Path(root).absolute())
    reached = progs.reached_by.get(import_path)
    if not reached or any(progs.long_running.get(p, True) for p in reached):
        return False
    if import_path in reached:
        return True  # a one-shot program's own `package main`
    if any(import_path.startswith(p + "/") for p in reached if p != progs.module):
        return True  # a package inside a program's directory (`go/cmd/zk/internal/zkfs`)
    # Under a program at the module root every package is "inside" it: that alone says nothing
    # (credhub-cli's `main.go` at its root, its `credhub` package a client others import, held-out
    # set 48), as for `command_program_of`, whose root program owns only its own directory.
    rest = import_path.removeprefix(progs.module).strip("/")
    return bool(_APP_SEGMENTS & set(rest.split("/")))


def command_program_of(directory: Path) -> str | None:
    """The directory of the command-line program whose own code the package in `directory` is, or
    None. Decided from the few directories that can own it, not the whole module (`programs`): `scan`
    asks for every file with a finding, warm re-scans from the result cache included, and a walk of
    GOROOT/src (two modules) cost 3.4 s there. The owner is the
    nearest directory at or above `directory` holding a `package main` (the module root's owns only
    itself), else the `cmd/<name>` tree around it when no program lives in that tree; its own code is
    that directory's subtree, read for CLI and serving marks (the same definitions as `programs`)."""
    d = directory.absolute()
    info = gomod.module_for_dir(d)
    if info.root is None or not info.module:
        return None
    root = Path(info.root).absolute()
    parts = d.relative_to(root).parts
    owner: Path | None = None
    for i in range(len(parts), -1, -1):
        cand = root.joinpath(*parts[:i])
        if i == 0 and d != root:
            break  # the module root's program owns only its own directory
        if _dir_is_main(cand):
            owner = cand
            break
    tree_without_main = False
    if owner is None:
        if "cmd" not in parts or parts.index("cmd") + 1 >= len(parts):
            return None
        k = parts.index("cmd") + 2
        owner = root.joinpath(*parts[:k])
        tree_without_main = True
    key = str(owner)
    got = _OWN_TREES.get(key)
    if got is None:
        got = _OWN_TREES[key] = _own_tree_marks(owner, subtree=owner != root)
    cli, serves, has_main = got
    if tree_without_main and has_main:
        return None  # a cmd tree with a program of its own: its other packages are not that program's
    rel = owner.relative_to(root).parts
    cli = cli or bool(_TOOL_SEGMENTS & set(rel))
    if cli and serves and not tree_without_main and owner != root and d != owner:
        sub = _command_subtree(root, owner, d, info.module)
        return str(sub) if sub is not None else None
    return str(owner) if cli and not serves else None


_SUBTREES: dict[str, bool] = {}
"""Subtree directory -> it is a non-serving command's own code (`_command_subtree`), per process."""


def _command_subtree(root: Path, owner: Path, d: Path, module: str) -> Path | None:
    """The subcommand tree of a serving program that holds `d`: the directory right below the program's
    (`cmd/influxd/inspect` for `cmd/influxd/inspect/type_conflicts`) when it declares CLI commands,
    serves nothing, holds no program, and nothing of the program's tree but the program's own `package
    main` imports it (the serving code never calls into it). `influxd inspect merge-schema` runs in
    a process that runs that command and exits, whatever `influxd run` does (held-out set 1, tuning:
    its schema files read per input); `influxd run`'s own `launcher` tree serves and stays shown."""
    sub = owner / d.relative_to(owner).parts[0]
    key = str(sub)
    got = _SUBTREES.get(key)
    if got is None:
        cli, serves, has_main = _OWN_TREES.get(key) or _own_tree_marks(sub, subtree=True)
        got = cli and not serves and not has_main and not _imported_beside(owner, sub, module, root)
        _SUBTREES[key] = got
    return sub if got else None


def _imported_beside(owner: Path, sub: Path, module: str, root: Path) -> bool:
    """A package of the program's tree outside `sub`, other than the program's own directory, imports
    a package of `sub`."""
    prefix = f'"{module}/{sub.relative_to(root).as_posix()}'.encode()
    for dirpath, dirnames, _ in os.walk(owner):
        dirnames[:] = [x for x in dirnames if not x.startswith((".", "_")) and x not in ("vendor", "testdata")]
        here = Path(dirpath)
        if here == sub:
            dirnames[:] = []
            continue
        if here == owner:
            continue  # the program registers its commands
        for f in _go_files(here):
            try:
                data = f.read_bytes()
            except OSError:
                return True
            if prefix in data[: data.find(b"\nfunc ") if b"\nfunc " in data else len(data)]:
                return True
    return False


_OWN_TREES: dict[str, tuple[bool, bool, bool]] = {}
"""Owner directory -> (declares a CLI, serves, holds a package main), per process."""


def _go_files(d: Path) -> list[Path]:
    try:
        return [Path(e.path) for e in os.scandir(d)
                if e.name.endswith(".go") and not e.name.endswith("_test.go") and e.is_file()]
    except OSError:
        return []


def _dir_is_main(d: Path) -> bool:
    for f in _go_files(d):
        try:
            with f.open("rb") as fh:
                head = fh.read(4096)
        except OSError:
            continue
        if _IGNORED.search(head[:2048]):
            continue
        m = _PACKAGE.search(head)
        if m is not None:
            return m.group(1) == b"main"
    return False


def _own_tree_marks(owner: Path, *, subtree: bool) -> tuple[bool, bool, bool]:
    cli = serves = has_main = False
    for dirpath, dirnames, _ in os.walk(owner) if subtree else [(str(owner), [], [])]:
        dirnames[:] = [x for x in dirnames if not x.startswith((".", "_")) and x not in ("vendor", "testdata")]
        d = Path(dirpath)
        if d != owner and (d / "go.mod").exists():
            dirnames[:] = []
            continue
        for f in _go_files(d):
            try:
                data = f.read_bytes()
            except OSError:
                continue
            if _IGNORED.search(data[:2048]):
                continue
            m = _PACKAGE.search(data)
            has_main = has_main or (m is not None and m.group(1) == b"main")
            cli = cli or _CLI.search(data) is not None
            if not serves and _marked(data, _SERVES):
                serves = True
    return cli, serves, has_main
