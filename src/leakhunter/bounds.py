"""Bounds for untrusted input, shared by every reader: files, numbers, JSON, regexes.

Profiles, dumps, logs, baselines and configs come from production incidents and may
be truncated, huge, or hostile. Each helper here turns one way such input can hurt us
into a clear `InputError` line instead of a traceback or a hang:

- `open_regular` refuses FIFOs, sockets and devices (a FIFO without a writer blocks
  `open` forever; `/dev/zero` never ends), checked on the opened descriptor, so a
  path swapped between check and open changes nothing;
- `read_regular` reads a regular file under a byte bound;
- `to_int` parses a decimal field with a digit limit and a range (Python refuses
  `int()` of more than 4,300 digits with a ValueError that would become a traceback);
- `finite` rejects NaN and infinities before they are stored or summed;
- `loads_json` refuses NaN/Infinity/1e400 and words too-deep nesting as one line;
- `compile_linear` compiles a regex that comes *from* an input with RE2 (linear time,
  the same syntax as Go's regexp, which wrote it) and refuses what RE2 cannot run.

This module sits beside `errors` and `model`: every layer may import it.
"""

from __future__ import annotations

import json
import math
import os
import stat
from typing import Any, BinaryIO, cast

from leakhunter.errors import CorruptInputError, InputError, InputTooLargeError

MAX_DIGITS = 20
"""Decimal digits of the largest number any field may hold (uint64 has 20)."""


def open_regular(path: str, what: str = "") -> BinaryIO:
    """Open `path` for binary reading if it is a regular file; InputError otherwise."""
    name = what or path
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory, not a file") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{name}: is a directory, not a file")
        if not stat.S_ISREG(st.st_mode):
            kind = (
                "a FIFO" if stat.S_ISFIFO(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "not a regular file"
            )
            raise InputError(
                f"{name}: is {kind}; give a regular file, '-' for stdin, or a URL"
            )
        os.set_blocking(fd, True)
        return cast(BinaryIO, os.fdopen(fd, "rb"))
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str, max_bytes: int, what: str = "") -> bytes:
    """All bytes of regular file `path`, refusing more than `max_bytes`."""
    name = what or path
    with open_regular(path, name) as f:
        try:
            data = f.read(max_bytes + 1)
        except OSError as exc:
            raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise InputTooLargeError(f"{name}: larger than {max_bytes} bytes")
    return data


def to_int(
    text: bytes | str,
    what: str,
    *,
    lo: int = 0,
    hi: int = (1 << 64) - 1,
    base: int = 10,
) -> int:
    """Parse a number field of untrusted text within [lo, hi]; CorruptInputError otherwise."""
    digits = len(text) - (1 if text[:1] in (b"-", "-", b"+", "+") else 0)
    limit = MAX_DIGITS if base == 10 else 18 if base == 16 else 66  # hex may carry 0x
    if digits > limit:
        raise CorruptInputError(f"{what}: number with {digits} digits is out of range")
    try:
        n = int(text, base)
    except ValueError:
        raise CorruptInputError(f"{what}: not a number: {_show(text)}") from None
    if not lo <= n <= hi:
        raise CorruptInputError(f"{what}: {n} is out of range ({lo}..{hi})")
    return n


def finite(value: float, what: str) -> float:
    """`value` if it is a finite float; CorruptInputError for NaN and infinities."""
    if not math.isfinite(value):
        raise CorruptInputError(f"{what}: {value} is not a finite number")
    return value


def _show(text: bytes | str) -> str:
    s = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return repr(s[:40] + ("..." if len(s) > 40 else ""))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise ValueError(f"number {text[:40]} is out of range")
    return v


def loads_json(data: bytes | str, what: str) -> Any:
    """`json.loads` for untrusted input: finite numbers only, depth bounded, one error line.

    The C scanner counts its nesting against the interpreter's recursion limit and
    raises RecursionError past it (about 1,000 levels): that bound is kept, and worded."""
    try:
        return json.loads(data, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:
        raise CorruptInputError(f"{what}: JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptInputError(f"{what}: not valid JSON: {str(exc)[:200]}") from None


def compile_linear(pattern: str, what: str) -> Any:
    """Compile a regex taken from an input with RE2 (linear time); refuse what it cannot run.

    Go's regexp is RE2, so patterns Go programs write (pprof's drop_frames) mean the
    same here; a pattern RE2 cannot compile could not have come from Go either."""
    import re2  # type: ignore[import-untyped]

    opts = re2.Options()
    opts.log_errors = False
    opts.max_mem = 8 << 20
    try:
        return re2.compile(pattern, options=opts)
    except re2.error as exc:
        msg = exc.args[0] if exc.args else exc
        if isinstance(msg, bytes):
            msg = msg.decode("utf-8", "replace")
        raise CorruptInputError(f"{what}: regexp refused: {str(msg)[:200]}") from None
