"""The `leakhunter` command line: parses arguments, wires the layers, sets the exit code.

Each subcommand is a module in `leakhunter.commands` exposing `NAME`, `HELP`,
`add_arguments(parser)` and `run(args) -> int`; they are discovered, not listed, so a
new command is one new file. Command modules import their heavy dependencies inside
`run`, which keeps `leakhunter --help` fast.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, NoReturn

from leakhunter import __version__
from leakhunter.errors import LeakhunterError, UsageError


def _command_modules(only: str | None = None) -> list[ModuleType]:
    """Import the command modules; with `only`, just that one (start-up time is a feature)."""
    import leakhunter.commands as pkg

    mods = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_") or (only is not None and info.name != only):
            continue
        mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
        if hasattr(mod, "run") and hasattr(mod, "NAME"):
            mods.append(mod)
    mods.sort(key=lambda m: (getattr(m, "ORDER", 50), m.NAME))
    return mods


def _is_command(name: str) -> bool:
    import leakhunter.commands as pkg

    return any(
        info.name == name and not name.startswith("_") for info in pkgutil.iter_modules(pkg.__path__)
    )


class _ArgumentError(Exception):
    """argparse found a usage error; `main` prints it as the one error line."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors like every later error: one line, exit 2.

    Stock argparse prints the whole usage block and `leakhunter top: error: ...`;
    a script reading stderr then sees two shapes of failure. Raising instead of
    exiting lets `main` print the single `leakhunter: error: ...` line."""

    def error(self, message: str) -> NoReturn:
        raise _ArgumentError(message, self.prog)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="leakhunter",
        description="Find memory and goroutine leaks in Go services.",
        epilog="Exit status: 0 nothing found, 1 a leak or finding, 2 usage error or "
               "unreadable input (one 'leakhunter: error:' line on stderr).",
    )
    parser.add_argument("--version", action="version", version=f"leakhunter {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for mod in _command_modules(only):
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP))
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def _hint(prog: str) -> str:
    return f"see '{prog} --help'"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code (0 nothing found, 1 leak, 2 could not).

    Every failure ends in exit 2 and one `leakhunter: error:` line on stderr: usage
    errors, whether argparse or the command finds them, end with a hint naming the
    command's --help (on the same line, so the first line of stderr is the whole story);
    an unexpected exception writes its traceback to a file and names that file, because
    exit 1 would read as "leak found". Output that cannot be written (a closed pipe, a
    full disk) is also exit 2: the result did not reach its reader. A closed pipe
    (`| head -1`) is quiet, since the reader left on purpose; a full disk says so. A
    closed stderr costs only the progress and notes: the command runs to its result.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    # A command module is named for its command: when the first word names one, import
    # only it; anything else (help, typos) builds the full parser with every command.
    first = argv[0] if argv else ""
    only = first if first.isidentifier() and _is_command(first) else None
    command = f"leakhunter {only}" if only else "leakhunter"
    watched = _watch_stdout()
    _guard_stderr()
    try:
        parser = build_parser(only)
        try:
            args = parser.parse_args(argv)
        except _ArgumentError as exc:
            # Leftover words are reported by the top parser; the hint names the command.
            prog = command if exc.prog == "leakhunter" else exc.prog
            _error_line(f"{_readable(str(exc), argv)}; {_hint(prog)}")
            return 2
        except SystemExit as exc:  # --help, --version: argparse exits 0 after printing
            _flush_stdout()
            return int(exc.code or 0) if isinstance(exc.code, int) else 2
        if not getattr(args, "_run", None):
            _error_line(f"no command given; {_hint('leakhunter')}")
            return 2
        command = f"leakhunter {args.command}"
        code: int = args._run(args)
        _flush_stdout()
        return code
    except UsageError as exc:
        _error_line(f"{_first_line(str(exc))}; {_hint(command)}")
        return exc.exit_code
    except LeakhunterError as exc:
        _error_line(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _error_line("interrupted")
        return 130
    except MemoryError:
        _error_line("out of memory reading input (try --max-bytes to bound it)")
        return 2
    except OSError as exc:
        failed = watched.failure if watched is not None else None
        if isinstance(exc, BrokenPipeError) and (watched is None or failed is not None):
            # `leakhunter top big.pb.gz | head -1`: the reader left. Quiet, but exit 2
            # and not 0: the output was cut short, and 0 would read as "nothing found".
            _silence_stdout()
            return 2
        if failed is not None:
            _silence_stdout()
            _error_line(f"cannot write output: {failed.strerror or failed}")
            return 2
        return _internal_error(command, exc)
    except Exception as exc:  # the last line of defence: never exit 1
        return _internal_error(command, exc)


def _readable(message: str, argv: list[str]) -> str:
    """argparse reads `--duration -5s` as an option missing its value (a word starting
    with '-' that is not a plain negative number looks like an option); say what it is."""
    import re

    m = re.match(r"argument (\S+?)(?:/(\S+))?: expected one argument$", message)
    if m:
        names = {n for n in m.groups() if n}
        for i, word in enumerate(argv[:-1]):
            nxt = argv[i + 1]
            if word in names and re.match(r"-\.?\d", nxt):
                return f"argument {m.group(0).split(':')[0].split(' ', 1)[1]}: must not be negative: {nxt!r}"
    return message


def _first_line(msg: str) -> str:
    return msg.strip().splitlines()[0] if msg.strip() else "error"


def _flush_stdout() -> None:
    """Flush inside `main`, so a write error surfaces here rather than at interpreter exit."""
    sys.stdout.flush()


class _WatchedStdout(io.FileIO):
    """fd 1, remembering whether a write to it failed.

    An OSError reaching `main` may come from anywhere (a socket, a file the command
    writes); only one raised while writing stdout means "the output did not reach its
    reader" rather than a bug, and this is how `main` tells the two apart."""

    failure: OSError | None = None

    def write(self, b: Any) -> int:
        try:
            return super().write(b)
        except OSError as exc:
            self.failure = exc
            raise


def _watch_stdout() -> _WatchedStdout | None:
    """Put a `_WatchedStdout` under sys.stdout when it is the process's real fd 1."""
    out = sys.stdout
    if type(out) is not io.TextIOWrapper:  # captured or replaced (tests, embedding)
        return None
    try:
        if out.fileno() != 1:
            return None
        out.flush()
    except (OSError, ValueError):
        return None
    raw = _WatchedStdout(1, "w", closefd=False)
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(raw), encoding=out.encoding, errors=out.errors,
        line_buffering=out.line_buffering, write_through=out.write_through,
    )
    return raw


class _DiagnosticStderr(io.FileIO):
    """fd 2, whose write errors are dropped.

    stderr carries progress and notes, never the result: a soak whose `2>&1 | tee` was
    closed, or a scan run by a harness that stopped reading, must still finish, write its
    result to stdout or -o and exit with its verdict, not die in the middle with a
    traceback and throw away what it collected."""

    def write(self, b: Any) -> int:
        try:
            return super().write(b)
        except OSError:
            return len(memoryview(b))


def _guard_stderr() -> None:
    """Put a `_DiagnosticStderr` under sys.stderr when it is the process's real fd 2."""
    err = sys.stderr
    if type(err) is not io.TextIOWrapper:  # captured or replaced (tests, embedding)
        return
    try:
        if err.fileno() != 2:
            return
        err.flush()
    except (OSError, ValueError):
        return
    sys.stderr = io.TextIOWrapper(
        io.BufferedWriter(_DiagnosticStderr(2, "w", closefd=False)), encoding=err.encoding,
        errors=err.errors, line_buffering=err.line_buffering, write_through=err.write_through,
    )


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _internal_error(command: str, exc: BaseException) -> int:
    """A bug: keep the traceback in a file, say where in one line, exit 2 (never 1)."""
    import tempfile
    import time
    import traceback

    text = "".join(traceback.format_exception(exc))
    where = "(could not save the traceback)"
    try:
        fd, path = tempfile.mkstemp(prefix=f"leakhunter-crash-{time.strftime('%Y%m%d-%H%M%S')}-",
                                    suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"{command} {' '.join(sys.argv[1:])}\nleakhunter {__version__}, "
                    f"Python {sys.version.split()[0]}\n\n{text}")
        where = f"traceback in {path}"
    except OSError:
        pass
    _error_line(f"internal error ({type(exc).__name__}: {_first_line(str(exc) or '-')}); "
                f"{where}; please report it")
    return 2


def _error_line(msg: str) -> None:
    print(f"leakhunter: error: {_first_line(msg)}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
