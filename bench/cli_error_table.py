"""Every command x bad-option class, with the single error line it gets (the README's table).

Generated, not written by hand, so it stays true: the commands and their options are
read from the live argparse parser (`leakhunter.cli.build_parser`), and every row is the
real output of `leakhunter.cli.main` on that command line. Classes:

- usage: no command, an unknown command, an unknown option, a missing argument, a bad
  `--format`;
- numeric: for every option whose value is a number, a size or a duration —
  negative, zero (where zero means nothing), absurd (beyond any sane value), not a
  number, and not finite (nan/inf) — only the values the option refuses are run (a value
  the option accepts would start the command's real work; those are listed as accepted);
- later: errors found after parsing (a missing input file, an unknown rule, both
  inputs on stdin, a store that does not exist).

    python bench/cli_error_table.py            # Markdown table on stdout
    python bench/cli_error_table.py --check    # exit 1 unless every row is one line, exit 2

tests/test_cli_errors.py runs `rows()` and `check()`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from leakhunter import cli
from leakhunter.commands import _common

NUMERIC = {
    _common.positive_int: ("-1", "0", "10000000000", "abc", None),
    _common.nonneg_int: ("-1", None, "10000000000", "abc", None),
    _common.positive_float: ("-1", "0", "1e12", "abc", "nan"),
    _common.nonneg_float: ("-1", None, "1e12", "abc", "inf"),
    _common.positive_duration: ("-5s", "0", "400d", "abc", None),
    _common.nonneg_duration: ("-5s", None, "400d", "abc", None),
    _common.positive_size: ("-5", "0", "5PiB", "abc", "inf"),
}
CLASSES = ("negative", "zero", "absurd", "not a number", "not finite")
# Numeric options with a validator of their own, by the validator's name: the values
# tried for each class (every value is first given to the validator itself; one it
# accepts is listed as accepted, never run, since the command would start real work).
OTHER = {
    "_fraction": ("-0.1", None, "2", "abc", "nan"),
    "_port": ("-1", "0", "70000", "abc", None),
    "_step": ("-5s", "0", "400d", "abc", None),
}


def _values(typ: object) -> tuple[str | None, ...] | None:
    if typ in NUMERIC:
        return NUMERIC[typ]  # type: ignore[index]
    return OTHER.get(getattr(typ, "__name__", ""))


def _refuses(typ: Callable[[str], object], value: str) -> bool:
    try:
        typ(value)
    except (argparse.ArgumentTypeError, ValueError, TypeError):
        return True
    return False


@dataclass
class Row:
    command: str
    klass: str
    argv: list[str]
    code: int
    stderr: str
    stdout: str = ""

    @property
    def line(self) -> str:
        return self.stderr.strip().splitlines()[0] if self.stderr.strip() else ""


def run(argv: list[str]) -> tuple[int, str, str]:
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = cli.main(argv)
    return code, err.getvalue(), out.getvalue()


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            return dict(a.choices)
    return {}


def numeric_options(p: argparse.ArgumentParser) -> list[tuple[str, Callable[[str], object]]]:
    out = []
    for a in p._actions:
        if a.option_strings and a.type is not None and _values(a.type) is not None:
            out.append((max(a.option_strings, key=len), a.type))  # type: ignore[arg-type]
    return out


def unvalidated(p: argparse.ArgumentParser) -> list[str]:
    """Options taking a bare int/float/str-number: values nobody checks."""
    return [max(a.option_strings or [a.dest], key=len) for a in p._actions
            if a.type in (int, float)]


def rows(tmp: Path | None = None) -> list[Row]:
    out: list[Row] = []

    def add(cmd: str, klass: str, argv: list[str]) -> None:
        code, err, so = run(argv)
        out.append(Row(cmd, klass, argv, code, err, so))

    add("(none)", "no command", [])
    add("(none)", "unknown command", ["frobnicate"])
    for name, p in sorted(_subparsers().items()):
        # A command line missing something the parser itself demands (never a command
        # whose arguments are optional: `scan` alone scans the current directory).
        required = [a for a in p._actions
                    if (a.option_strings and a.required)
                    or (not a.option_strings and (a.nargs in (None, "+") or isinstance(a.nargs, int)))]
        # The unknown option comes with everything required, so it is what is reported.
        filled: list[str] = []
        for a in required:
            value = "http://127.0.0.1:1" if a.option_strings else "x"
            filled += [a.option_strings[0], value] if a.option_strings else [value]
        add(name, "unknown option", [name, *filled, "--no-such-option"])
        if required:
            add(name, "missing argument", [name])
        if any("--format" in a.option_strings for a in p._actions):
            add(name, "bad --format", [name, "--format", "xml"])
        for opt, typ in numeric_options(p):
            for klass, value in zip(CLASSES, _values(typ) or (), strict=True):
                if value is None or not _refuses(typ, value):
                    continue
                add(name, f"{opt} {klass}", [name, opt, value])
    missing = str((tmp or Path("/nonexistent-dir")) / "no-such-file")
    later = [
        ("top", "input missing", ["top", missing]),
        ("diff", "both on stdin", ["diff", "-", "-"]),
        ("list", "input missing", ["list", missing, "main"]),
        ("goroutines", "input missing", ["goroutines", missing]),
        ("gctrace", "input missing", ["gctrace", missing]),
        ("rules", "unknown rule", ["rules", "LH999"]),
        ("rules", "empty rule", ["rules", ""]),
        ("report", "store missing", ["report", "--db", missing, "-o", missing + ".html"]),
        ("scan", "path missing", ["scan", missing]),
    ]
    subs = _subparsers()
    for cmd, klass, argv in later:
        if cmd in subs:
            add(cmd, klass, argv)
    return out


def accepted() -> list[tuple[str, str, str]]:
    """(command, option, class) where the option takes the class's value: zero where it
    means none or all (nonneg_*), and anything another validator lets through."""
    acc = []
    for name, p in sorted(_subparsers().items()):
        for opt, typ in numeric_options(p):
            for klass, value in zip(CLASSES, _values(typ) or (), strict=True):
                if value is None and klass == "zero":
                    acc.append((name, opt, "zero (0 means none or all)"))
                elif value is not None and not _refuses(typ, value):
                    acc.append((name, opt, f"{klass} ({value!r} accepted)"))
    return acc


def check(rs: list[Row]) -> list[str]:
    """Problems: anything but exit 2 with exactly one `leakhunter: error:` line."""
    bad = []
    for r in rs:
        lines = r.stderr.strip().splitlines()
        if r.code != 2 or len(lines) != 1 or not lines[0].startswith("leakhunter: error: ") \
                or "Traceback" in r.stderr:
            bad.append(f"{' '.join(r.argv) or '(no args)'}: exit {r.code}: {r.stderr!r}")
    return bad


def markdown(rs: list[Row]) -> str:
    out = ["| command | bad input | command line | exit | the one stderr line |",
           "|---|---|---|---|---|"]
    for r in rs:
        argv = " ".join(repr(a) if a in ("", ) else a for a in r.argv)
        line = r.line.replace("|", "\\|")
        out.append(f"| {r.command} | {r.klass} | `leakhunter {argv}` | {r.code} | `{line}` |")
    acc = accepted()
    if acc:
        out += ["", "Accepted, so not run here: " +
                "; ".join(f"`{c} {o}` {what}" for c, o, what in acc) + "."]
    return "\n".join(out) + "\n"


def main() -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        rs = rows(Path(d))
    if "--check" in sys.argv:
        bad = check(rs)
        for b in bad:
            print(b)
        print(f"{len(rs)} command lines, {len(bad)} not one line + exit 2")
        return 1 if bad else 0
    sys.stdout.write(markdown(rs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
