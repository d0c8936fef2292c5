"""Decide what a blob of (already decompressed) bytes is, from the bytes alone.

The kind never comes from a file name or a Content-Type: the same URL serves pprof
protobuf or text depending on `?debug=`, and users rename files.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["pprof", "goroutine-text", "heap-text", "empty", "unknown"]

# A goroutine header anywhere, as in a crash log with noise before the dump.
_GOROUTINE_LINE = re.compile(rb"^goroutine \d+ \[", re.MULTILINE)
_GOROUTINE_HEADERS = (b"goroutine profile: total ", b"goroutineleak profile: total ")


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the window is still text.
        return exc.start >= len(head) - 3
    return True


def sniff(data: bytes) -> Kind:
    """Classify decompressed profile bytes."""
    if not data.strip():
        return "empty"
    head = data[:4096]
    if _looks_like_text(head):
        text = head.lstrip()
        if text.startswith(_GOROUTINE_HEADERS):
            return "goroutine-text"
        if text.startswith(b"heap profile:"):
            return "heap-text"
        if _GOROUTINE_LINE.search(data):
            return "goroutine-text"
        # A small protobuf whose bytes happen to be printable ASCII (short varints, no
        # zero byte) is still a profile: fall through to the tag check below.
    # Binary: a pprof Profile starts with a field tag of profile.proto (1..14, any wire type
    # that field can take). Anything else is not worth handing to the protobuf parser.
    tag = data[0]
    field, wire = tag >> 3, tag & 7
    if 1 <= field <= 14 and wire in (0, 2):
        return "pprof"
    return "unknown"
