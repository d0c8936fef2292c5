#!/usr/bin/env python3
"""Candidate modules for a new held-out set, found through Debian's golang-*-dev packages.

By session 35 the usual sources of unseen Go code (the module proxy's exact versions named by go.mod files
that earlier helpers read, go-partial.tsv, the code index) were spent: nearly every program they lead to is
in a HELDOUT table. Debian packages ~1,900 Go libraries and programs chosen by people outside this project,
with a homepage naming the repository and a version naming an upstream tag, so it is a source of module
paths no round has drawn from. This lists the packages whose repository is in no HELDOUT*.md table (major
versions folded), nor named as `owner/repo` anywhere in this repository's text (src, tests, bench, README:
a project a fixture or a HELDOUT header names was looked at); a helper still reads the hits of the bare
repository name (a fixture may say "shaped after snapd"; `log` or `tree` mean nothing), drops forks and copies,
and asks the proxy for an exact version.

    python bench/precision/debian_candidates.py > /tmp/candidates.tsv   # package, Debian version, module, tag
    python bench/precision/debian_candidates.py --programs              # Go programs Debian ships, not -dev

Session 35's third round drew from `--programs`: the -dev packages were spent by then, and programs (exporters,
daemons, agents) are the long-running code leaks matter in.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

HERE = Path(__file__).resolve().parent


def seen_modules() -> set[str]:
    """Module paths (lower case, `/vN` folded) in the tables of every HELDOUT*.md."""
    seen: set[str] = set()
    for f in HERE.glob("HELDOUT*.md"):
        for line in f.read_text().splitlines():
            m = re.match(r"^\|\s*`?([\w.~-]+\.[\w.~-]+(?:/[\w./~-]+)?)`?\s*\|", line)
            if m:
                seen.add(re.sub(r"/v\d+$", "", m.group(1).lower()))
    return seen


def _fail(why: str) -> NoReturn:
    """One line on stderr and exit 2, as the project's commands do on bad input or a missing tool."""
    print(f"debian_candidates: {why}", file=sys.stderr)
    raise SystemExit(2)


def named_repositories() -> set[str]:
    """Every `owner/repo`-shaped word of this repository's tracked text, lower case."""
    root = HERE.parent.parent
    res = subprocess.run(["git", "grep", "-I", "-h", "-o", "-i", "-E", r"[a-z0-9_.-]+/[a-z0-9_.-]+", "--",
                          "src", "tests", "bench", "README.md"], cwd=root, capture_output=True, text=True)
    if res.returncode not in (0, 1):  # 1: no match; anything else would silently drop the exclusion
        _fail(f"git grep failed in {root}: {res.stderr.strip()[:200]}")
    return set(res.stdout.lower().split())


def debian_packages(programs: bool = False) -> list[tuple[str, str, str]]:
    """(package, version, homepage) of every golang-*-dev package apt knows; with `programs`, of every
    other package built with Go instead (a `Built-Using:` line naming golang: exporters, daemons, CLIs)."""
    if programs:
        show = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=True).stdout
    else:
        names = subprocess.run(["apt-cache", "search", "--names-only", "^golang-.*-dev$"], capture_output=True,
                               text=True, check=True).stdout.split("\n")
        pkgs = [n.split(" ", 1)[0] for n in names if n.strip()]
        show = subprocess.run(["apt-cache", "show", *pkgs], capture_output=True, text=True).stdout
    out: list[tuple[str, str, str]] = []
    for stanza in show.split("\n\n"):
        fields = dict(line.partition(": ")[::2] for line in stanza.splitlines() if ": " in line)
        pkg, ver, home = fields.get("Package", ""), fields.get("Version", ""), fields.get("Homepage", "").strip()
        if not pkg or not home:
            continue
        if programs and (pkg.endswith("-dev") or "golang" not in fields.get("Built-Using", "")):
            continue
        out.append((pkg, ver, home))
    return sorted(set(out))


def upstream_tag(version: str) -> str:
    """The tag a Debian version names (`1:2.3.0-1` -> v2.3.0); '' for a git snapshot (`0.0~git2021...`)."""
    up = version.split(":")[-1].rsplit("-", 1)[0]
    if "~git" in up or "+git" in up or not re.match(r"^\d+\.\d+", up):
        return ""
    return "v" + re.sub(r"\+(ds|dfsg)\d*$", "", up)


def main() -> None:
    try:
        pkgs = debian_packages(programs="--programs" in sys.argv[1:])
    except (OSError, subprocess.CalledProcessError) as e:
        _fail(f"apt-cache failed: {e}")
    seen, named = seen_modules(), named_repositories()
    for pkg, ver, home in pkgs:
        path = re.sub(r"^https?://", "", home).rstrip("/").removesuffix(".git").lower()
        parts = path.split("/")
        if parts[0] not in ("github.com", "gitlab.com") or len(parts) < 3:
            continue
        mod = "/".join(parts[:3])
        if re.sub(r"/v\d+$", "", mod) in seen or "/".join(parts[1:3]) in named:
            continue
        print(f"{pkg}\t{ver}\t{mod}\t{upstream_tag(ver)}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
