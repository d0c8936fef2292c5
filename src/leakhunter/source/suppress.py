"""In-source suppressions: `//leakhunter:ignore` and golangci-lint's `//nolint`.

A team that reviewed a finding and decided it is fine needs to say so next to the
code, where the next reader sees the reason. Both spellings users already know work:

    resp, err := client.Do(req) //leakhunter:ignore LH401 body handed to the caller
    //leakhunter:ignore LH101,LH104 the receiver always drains
    go produce(ch)
    x := f() //nolint:leakhunter // reason
    //nolint:all
    //nolint:leakhunter,errcheck

A directive at the end of a line covers that line. A directive on a line of its own
covers the line below and, as golangci-lint does, the whole statement or
declaration that starts there (a `//nolint` above a `func` covers the function).
`//leakhunter:ignore` without ids, bare `//nolint` and `//nolint:all` cover every
rule; `//nolint:errcheck` (another linter only) covers nothing here. Ids may be
rule ids or names (`LH101`, `blocked-send`), separated by commas or spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

    from leakhunter.model import Finding

ALL = "*"

_IGNORE = re.compile(r"^//\s*leakhunter:ignore\b(.*)$", re.DOTALL)
_NOLINT = re.compile(r"^//\s?nolint(?::([\w,\- ]+?))?(?=\s|//|$)")
_RULE_TOKEN = re.compile(r"^(?:[Ll][Hh]\d{3}|[a-z]+(?:-[a-z]+)+)$")


@dataclass
class Suppressions:
    """Line -> rule ids (or ALL) suppressed on that line, for one file."""

    by_line: dict[int, set[str]] = field(default_factory=dict)

    def add(self, first: int, last: int, ids: set[str]) -> None:
        for line in range(first, last + 1):
            self.by_line.setdefault(line, set()).update(ids)

    def covers(self, finding: Finding) -> bool:
        ids = self.by_line.get(finding.line)
        if not ids:
            return False
        return ALL in ids or finding.rule in ids or finding.name in ids

    def __bool__(self) -> bool:
        return bool(self.by_line)


def parse_directive(text: str) -> set[str] | None:
    """The rule ids a comment suppresses ({ALL} for all), or None if it is no directive for us."""
    t = text.strip()
    m = _IGNORE.match(t)
    if m:
        ids: set[str] = set()
        # Ids come first; the free-text reason follows. Stop at the first non-id word.
        for tok in re.split(r"[\s,]+", m.group(1).strip()):
            if not tok:
                continue
            if _RULE_TOKEN.match(tok):
                ids.add(tok.upper() if tok[:2].upper() == "LH" else tok)
            else:
                break
        return ids or {ALL}
    m = _NOLINT.match(t)
    if m:
        linters = m.group(1)
        if linters is None:
            return {ALL}
        names = {x.strip() for x in linters.split(",") if x.strip()}
        if "all" in names or "leakhunter" in names:
            return {ALL}
        ids = {x.upper() for x in names if re.fullmatch(r"(?i)lh\d{3}", x)}
        return ids or None
    return None


def _quick_filter(source: bytes) -> bool:
    return b"leakhunter:ignore" in source or b"nolint" in source


def collect(tree: Tree, source: bytes, comments: list[Node] | None = None) -> Suppressions:
    """All suppressions of one file (cheap when the file has none: a byte search)."""
    sup = Suppressions()
    if not _quick_filter(source):
        return sup
    if comments is None:
        comments = []
        stack = [tree.root_node]
        while stack:
            n = stack.pop()
            if n.type == "comment":
                comments.append(n)
            else:
                stack.extend(n.children)
    lines = source.split(b"\n")
    for c in comments:
        text = source[c.start_byte : c.end_byte].decode("utf-8", "replace")
        if "nolint" not in text and "leakhunter:ignore" not in text:
            continue
        ids = parse_directive(text)
        if ids is None:
            continue
        row = c.start_point[0]
        line_no = row + 1
        before = lines[row][: c.start_point[1]] if row < len(lines) else b""
        if before.strip():
            sup.add(line_no, line_no, ids)  # trailing: this line only
            continue
        # Own line: the next line, and the whole statement/declaration starting there.
        last = line_no + 1
        nxt = c.next_named_sibling
        while nxt is not None and nxt.type in ("comment", "statement_list"):
            # A comment opening a block is a sibling of the block's statement_list: the
            # statement it annotates is that list's first one, not the whole list.
            nxt = nxt.named_children[0] if nxt.type == "statement_list" and nxt.named_children else (
                nxt.next_named_sibling
            )
        if nxt is not None and nxt.start_point[0] == row + 1:
            last = max(last, nxt.end_point[0] + 1)
        sup.add(line_no, last, ids)
    return sup
