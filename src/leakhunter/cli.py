"""The `leakhunter` command line: parses arguments, wires the layers, sets the exit code.

Each subcommand is a module in `leakhunter.commands` exposing `NAME`, `HELP`,
`add_arguments(parser)` and `run(args) -> int`; they are discovered, not listed, so a
new command is one new file. Command modules import their heavy dependencies inside
`run`, which keeps `leakhunter --help` fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from leakhunter import __version__
from leakhunter.errors import LeakhunterError


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


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leakhunter",
        description="Find memory and goroutine leaks in Go services.",
    )
    parser.add_argument("--version", action="version", version=f"leakhunter {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _command_modules(only):
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP))
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser



def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # A command module is named for its command: when the first word names one, import
    # only it; anything else (help, typos) builds the full parser with every command.
    first = argv[0] if argv else ""
    only = first if first.isidentifier() and _is_command(first) else None
    parser = build_parser(only)
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        code: int = args._run(args)
        return code
    except LeakhunterError as exc:
        _error_line(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _error_line("interrupted")
        return 130
    except BrokenPipeError:
        # `leakhunter top big.pb.gz | head`: the reader left; that is not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except MemoryError:
        _error_line("out of memory reading input (try --max-bytes to bound it)")
        return 2


def _error_line(msg: str) -> None:
    first = msg.strip().splitlines()[0] if msg.strip() else "error"
    print(f"leakhunter: error: {first}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
