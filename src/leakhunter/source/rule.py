"""What a static rule is: an id, a name, a severity, a fix, and a check over one parsed file.

Each catalog rule is one small module in `leakhunter.source.rules` holding one
`Rule` subclass; its class docstring is the rule's documentation (the pattern, why
it leaks, the fix) shown by `leakhunter rules ID`. The registry finds the
subclasses, so adding a rule is adding a file (bandit's plugin shape).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from leakhunter.model import Finding, Severity

if TYPE_CHECKING:
    from tree_sitter import Node, Tree


@dataclass
class FileContext:
    """One parsed Go file and what rules may need to know about its surroundings."""

    path: Path
    display_path: str
    source: bytes
    tree: Tree
    go_version: tuple[int, int] | None = None
    """The `go` directive of the nearest go.mod (None: unknown, assume current Go)."""
    is_test: bool = False
    cache: dict[str, object] = field(default_factory=dict)
    """Per-file memo shared by rules (e.g. the list of functions), so work is done once."""

    def text(self, node: Node | None) -> str:
        if node is None:
            return ""
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def import_name(self, path: str) -> str:
        """The name an unaliased import of `path` binds in this file: the imported package's clause
        (`go.etcd.io/etcd/client/v3` declares `clientv3`), which the program model reads from disk for
        the file's directory (program.index.package_name)."""
        from leakhunter.source.program.index import package_name

        return package_name(self.path.absolute().parent, path)


class Rule:
    """Base of every catalog rule; subclasses set the class attributes and implement `check`."""

    id: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = "warning"
    fix: ClassVar[str] = ""
    leaking_example: ClassVar[str] = ""
    fixed_example: ClassVar[str] = ""
    enabled_by_default: ClassVar[bool] = True

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        raise NotImplementedError

    def finding(
        self,
        ctx: FileContext,
        node: Node,
        message: str,
        *,
        severity: Severity | None = None,
        function: str = "",
        fix: str | None = None,
        parks_in: str = "",
    ) -> Finding:
        """Build a Finding at `node` (1-based line and column, as go vet prints them)."""
        row, col = node.start_point
        return Finding(
            rule=self.id,
            name=self.name,
            severity=severity or self.severity,
            file=ctx.display_path,
            line=row + 1,
            column=col + 1,
            message=message,
            fix=fix if fix is not None else self.fix,
            function=function,
            end_line=node.end_point[0] + 1,
            parks_in=parks_in,
        )
