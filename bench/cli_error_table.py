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
  inputs on stdin, a store that does not exist);
- bad content: inputs that exist but are empty, truncated, a gzip bomb, another kind
  or not a profile at all, for each input of top, diff, list, goroutines, gctrace and
  report: the line names the input (path, `stdin`, or URL).

    python bench/cli_error_table.py            # Markdown table on stdout
    python bench/cli_error_table.py --check    # exit 1 unless every row is one line, exit 2

tests/test_cli_errors.py runs `rows()` and `check()`.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import sys
import zlib
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
    if tmp is not None:
        later += _bad_content(tmp)
    subs = _subparsers()
    for cmd, klass, argv in later:
        if cmd in subs:
            add(cmd, klass, argv)
    return out


# Classes of input (not usage) errors: their line names the input, without the --help hint.
INPUT_CLASSES = frozenset({
    "input missing", "store missing", "path missing", "input empty", "input not a profile",
    "input text", "input truncated gzip", "input gzip bomb", "BASE truncated gzip",
    "NEW not a profile", "NEW gzip bomb", "input a heap profile", "--diff BASE not a dump",
    "input without GC lines", "store corrupt",
})


def _tiny_profile() -> bytes:
    """A valid one-sample heap-style pprof, so a bad NEW can be shown after a good BASE."""
    from leakhunter.profiles.proto import profile_pb2

    p = profile_pb2.Profile()
    p.string_table.extend(["", "inuse_space", "bytes", "main.f", "main.go"])
    st = p.sample_type.add()
    st.type, st.unit = 1, 2
    fn = p.function.add()
    fn.id, fn.name, fn.filename = 1, 3, 4
    loc = p.location.add()
    loc.id = 1
    ln = loc.line.add()
    ln.function_id, ln.line = 1, 7
    s = p.sample.add()
    s.location_id.append(1)
    s.value.append(4096)
    return gzip.compress(p.SerializeToString(), mtime=0)


def _bad_content(tmp: Path) -> list[tuple[str, str, list[str]]]:
    """Inputs that exist but are not what they claim: each error line must name its input
    (with `diff A B` the user must know which one is bad)."""
    files = {
        "good.pb.gz": _tiny_profile(),
        "heap.pb.gz": _tiny_profile(),
        "empty.pb.gz": b"",
        "junk.bin": b"\xff" + bytes(range(256)) * 16,
        "cut.pb.gz": gzip.compress(b"x" * 100_000, mtime=0)[:40],
        "notes.txt": b"listening on :8080\n",
        "dump.txt": b"goroutine 1 [running]:\nmain.main()\n\t/src/main.go:5 +0x1d\n",
        "bad.db": b"\xff" * 4096,
    }
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(tmp / "bomb.pb.gz", "wb") as f:  # 64 MiB of zeros in 64 KiB
        for _ in range(64):
            f.write(c.compress(b"\0" * (1 << 20)))
        f.write(c.flush())
    t = {name: str(tmp / name) for name in [*files, "bomb.pb.gz"]}
    return [
        ("top", "input empty", ["top", t["empty.pb.gz"]]),
        ("top", "input not a profile", ["top", t["junk.bin"]]),
        ("top", "input text", ["top", t["notes.txt"]]),
        ("top", "input truncated gzip", ["top", t["cut.pb.gz"]]),
        ("top", "input gzip bomb", ["top", "--max-bytes", "16MiB", t["bomb.pb.gz"]]),
        ("diff", "BASE truncated gzip", ["diff", t["cut.pb.gz"], t["good.pb.gz"]]),
        ("diff", "NEW not a profile", ["diff", t["good.pb.gz"], t["junk.bin"]]),
        ("diff", "NEW gzip bomb", ["diff", "--max-bytes", "16MiB", t["good.pb.gz"],
                                   t["bomb.pb.gz"]]),
        ("list", "input truncated gzip", ["list", t["cut.pb.gz"], "main"]),
        ("goroutines", "input empty", ["goroutines", t["empty.pb.gz"]]),
        ("goroutines", "input a heap profile", ["goroutines", t["heap.pb.gz"]]),
        ("goroutines", "--diff BASE not a dump", ["goroutines", t["dump.txt"], "--diff",
                                                  t["junk.bin"]]),
        ("gctrace", "input without GC lines", ["gctrace", t["notes.txt"]]),
        ("report", "store corrupt", ["report", "--db", t["bad.db"], "-o",
                                     str(tmp / "r.html")]),
    ]


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


def markdown(rs: list[Row], tmp: Path | None = None) -> str:
    """The table; `tmp`, the directory the input files were made in, is shown as /tmp/x."""
    def shown(text: str) -> str:
        return text.replace(str(tmp), "/tmp/x") if tmp is not None else text

    out = ["| command | bad input | command line | exit | the one stderr line |",
           "|---|---|---|---|---|"]
    for r in rs:
        argv = shown(" ".join(repr(a) if a in ("", ) else a for a in r.argv))
        line = shown(r.line).replace("|", "\\|")
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
        sys.stdout.write(markdown(rs, Path(d)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
