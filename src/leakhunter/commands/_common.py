"""Argument helpers shared by several subcommands, so options read the same everywhere."""

from __future__ import annotations

import argparse
import math
import sys

DEFAULT_MAX_BYTES = 1 << 30


def parse_size(text: str) -> int:
    """Parse `1GiB`, `512M`, `1000` into bytes for --max-bytes / --limit."""
    units = {
        "": 1, "b": 1,
        "k": 1000, "kb": 1000, "kib": 1024,
        "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
        "g": 1000**3, "gb": 1000**3, "gib": 1024**3,
        "t": 1000**4, "tb": 1000**4, "tib": 1024**4,
    }
    s = text.strip().lower()
    num = s.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = s[len(num):]
    try:
        if unit not in units or not num:
            raise ValueError
        value = float(num) * units[unit]
        if not math.isfinite(value):
            raise ValueError
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 512MiB, 1GiB)") from None


# Sane ceilings: past these a value is a typo (an extra zero, a pasted
# timestamp), and accepting it would make a run hang or allocate for ages
# instead of failing in the first millisecond with a line that names it.
MAX_INT = 1_000_000_000
MAX_FLOAT = 1e9
MAX_DURATION_S = 366 * 86400.0
MAX_SIZE = 1 << 50  # 1 PiB


def _number(text: str, kind: type[int] | type[float]) -> float:
    s = text.strip()
    try:
        value: float = int(s, 10) if kind is int else float(s)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _bounded(value: float, text: str, *, zero_ok: bool, maximum: float, shown: str = "") -> None:
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    if value == 0 and not zero_ok:
        raise argparse.ArgumentTypeError(f"must be greater than zero: {text!r}")
    if value > maximum:
        raise argparse.ArgumentTypeError(f"too large: {text!r} (at most {shown or f'{maximum:,.0f}'})")


def positive_int(text: str) -> int:
    """Counts where zero means nothing useful (--top, --concurrency)."""
    value = int(_number(text, int))
    _bounded(value, text, zero_ok=False, maximum=MAX_INT)
    return value


def nonneg_int(text: str) -> int:
    """Counts where zero is meaningful (e.g. "no retries")."""
    value = int(_number(text, int))
    _bounded(value, text, zero_ok=True, maximum=MAX_INT)
    return value


def positive_float(text: str) -> float:
    value = _number(text, float)
    _bounded(value, text, zero_ok=False, maximum=MAX_FLOAT)
    return value


def nonneg_float(text: str) -> float:
    value = _number(text, float)
    _bounded(value, text, zero_ok=True, maximum=MAX_FLOAT)
    return value


def positive_duration(text: str) -> float:
    """Seconds from `10s`, `1m30s`, `90`; zero refused, more than a year refused."""
    from leakhunter.commands._duration import duration_seconds

    value = duration_seconds(text)
    _bounded(value, text, zero_ok=False, maximum=MAX_DURATION_S, shown="366d")
    return value


def nonneg_duration(text: str) -> float:
    """Seconds, where `0` means "none" (e.g. --warmup 0)."""
    from leakhunter.commands._duration import duration_seconds

    value = duration_seconds(text)
    _bounded(value, text, zero_ok=True, maximum=MAX_DURATION_S, shown="366d")
    return value


def nonempty_text(text: str) -> str:
    """A word the user must actually give (an empty `""` is a slip, not "everything")."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def positive_size(text: str) -> int:
    """Bytes from `512MiB`, `1GiB`, `1000`; zero and negatives refused."""
    if text.strip().startswith("-"):
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    value = parse_size(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than zero: {text!r}")
    if value > MAX_SIZE:
        raise argparse.ArgumentTypeError(f"too large: {text!r} (at most 1PiB)")
    return value


def check_output_path(path: str | None, option: str) -> None:
    """Refuse an output path that cannot be written, before any work is done."""
    if not path:
        return
    import os

    from leakhunter.errors import UsageError

    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"{option} {path}: is a directory")
    if not os.path.isdir(parent):
        raise UsageError(f"{option} {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"{option} {path}: directory {parent} is not writable")


def add_format(parser: argparse.ArgumentParser, choices: tuple[str, ...] = ("text", "json")) -> None:
    parser.add_argument("--format", choices=choices, default="text", help="output format (default: text)")


class _MaxBytes(argparse.Action):
    """--max-bytes, remembering that the user gave it (see `unpack_limit`)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)
        namespace.max_bytes_given = True


def add_max_bytes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-bytes", type=positive_size, default=DEFAULT_MAX_BYTES, metavar="SIZE",
        action=_MaxBytes,
        help="refuse inputs larger than this (default: 1GiB as read or streamed, and 256MiB "
             "for a gzipped input decompressed into memory, so a gzip bomb stops there; a "
             "value given here bounds both)",
    )


def unpack_limit(args: argparse.Namespace) -> int:
    """How many bytes a gzipped input may decompress to in memory.

    --max-bytes given: that. Otherwise the smaller of its default and
    `decompress.DEFAULT_MAX_UNPACKED` (256 MiB): the default read bound (1 GiB) is
    there for plain text dumps streamed from a file, but decompressed bytes are held
    whole, so a gzip bomb would cost the process the full 1 GiB before it was refused
    (the acceptance audit measured 1.07 GB peak RSS)."""
    from leakhunter.profiles.decompress import DEFAULT_MAX_UNPACKED

    limit: int = args.max_bytes
    if getattr(args, "max_bytes_given", False):
        return limit
    return min(limit, DEFAULT_MAX_UNPACKED)


def input_name(spec: str) -> str:
    """How an error line names an input: its path or URL, `stdin` for `-`."""
    return "stdin" if spec == "-" else spec


def add_expect_growth(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--expect-growth", action="append", default=[], metavar="RE",
        help="heap growth, or goroutines parked, at sites whose function (or a frame of their stack) "
        "matches this RE2 regexp are expected, e.g. a raft log kept until its next snapshot, a mail "
        "queue's per-message senders up to its bound: when such sites hold most of the growth and "
        "the rest stays under the relevance bar, the heap (or goroutine) verdict is inconclusive "
        "instead of a leak (repeatable)")


def use_color(stream: object = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set."""
    import os

    s = stream or sys.stdout
    return bool(getattr(s, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")
