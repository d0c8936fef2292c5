"""The tree-sitter-go parser, built once per process (workers each build their own).

`parse` is the one entry point every layer uses, so the grammar workaround of
grammarfix.py (Go 1.26 `new(expr)`, Go 1.27 generic methods) applies to every file the
scanner and the package view read. The tree may then have been built from rewritten
bytes of the same length: read node text through `FileContext.text` (the original
bytes), not `Node.text`, where it matters.
"""

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
    """The syntax tree of `source`; where the grammar lags Go, of its equal-length rewrite."""
    tree = parser().parse(source)
    if not tree.root_node.has_error:
        return tree
    from leakhunter.source.grammarfix import rewrite

    fixed = rewrite(source)
    if fixed == source:
        return tree
    tree2 = parser().parse(fixed)
    return tree2 if _bad_declarations(tree2) <= _bad_declarations(tree) else tree


def _bad_declarations(tree: Tree) -> int:
    root = tree.root_node
    if not root.has_error:
        return 0
    return sum(1 for c in root.children if c.type == "ERROR" or c.has_error or c.is_missing) + (
        1000 if root.type == "ERROR" else 0
    )


@cache
def query(source: str) -> Query:
    """A compiled tree-sitter query, memoised per process (compiling costs ~1 ms)."""
    from tree_sitter import Query

    return Query(language(), source)
