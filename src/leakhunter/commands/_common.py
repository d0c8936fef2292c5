"""Argument helpers shared by several subcommands, so options read the same everywhere."""

from __future__ import annotations

import argparse
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
        if unit not in units:
            raise ValueError
        return int(float(num) * units[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 512MiB, 1GiB)") from None


def add_format(parser: argparse.ArgumentParser, choices: tuple[str, ...] = ("text", "json")) -> None:
    parser.add_argument("--format", choices=choices, default="text", help="output format (default: text)")


def add_max_bytes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-bytes", type=parse_size, default=DEFAULT_MAX_BYTES, metavar="SIZE",
        help="refuse inputs larger than this once decompressed (default: 1GiB)",
    )


def use_color(stream: object = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set."""
    import os

    s = stream or sys.stdout
    return bool(getattr(s, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")
