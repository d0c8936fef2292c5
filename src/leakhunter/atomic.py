"""Write an output file whole or not at all: FILE.tmp, then rename over FILE.

A report, a flame graph or a diff profile written in place and cut short (a full
disk, Ctrl-C) leaves a truncated FILE that looks valid until it is opened. Writing
FILE.tmp and renaming it keeps the old FILE until the new one is complete; and on any
failure the .tmp is removed, so a full disk leaves nothing behind (the acceptance
audit found `report -o FILE` on a full disk left FILE.tmp).

Only a regular file is replaced so. A FILE that is a device, a FIFO or a socket (`-o /dev/null`,
`-o /dev/stdout`, a pipe a CI step reads) is written in place: the rename made `/dev/null` a
regular file holding the output, for every program of the machine (session 32, run as root). A
symlink is followed: the file it names is replaced, the link stays.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write `data` (text as UTF-8) to `path` through `path`.tmp and a rename.

    Raises OSError as the write raised it (the caller words the one error line); the
    .tmp is gone whatever happened, KeyboardInterrupt included.
    """
    out = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if out.exists() and not out.is_file():
        with open(out, "wb") as f:
            f.write(raw)
        return
    if out.is_symlink():
        out = Path(os.path.realpath(out))
    tmp = out.with_name(out.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(raw)
            f.flush()
            # A full disk can surface only at close or fsync (delayed allocation).
            os.fsync(f.fileno())
        tmp.replace(out)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
