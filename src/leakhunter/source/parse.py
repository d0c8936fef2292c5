"""The tree-sitter-go parser, built once per process (workers each build their own)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Language, Parser, Query, Tree


@cache
def language() -> Language:
    import tree_sitter_go
    from tree_sitter import Language

    return Language(tree_sitter_go.language())


@cache
def parser() -> Parser:
    from tree_sitter import Parser

    return Parser(language())


def parse(source: bytes) -> Tree:
    return parser().parse(source)


@cache
def query(source: str) -> Query:
    """A compiled tree-sitter query, memoised per process (compiling costs ~1 ms)."""
    from tree_sitter import Query

    return Query(language(), source)
