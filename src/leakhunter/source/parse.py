"""The tree-sitter-go parser, built once per process (workers each build their own)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Parser, Tree


@cache
def parser() -> Parser:
    import tree_sitter_go
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_go.language()))


def parse(source: bytes) -> Tree:
    return parser().parse(source)
