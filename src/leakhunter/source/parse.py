"""The tree-sitter-go parser, built once per process (workers each build their own).

`parse` is the one entry point every layer uses, so the grammar workaround of
grammarfix.py (Go 1.26 `new(expr)`, Go 1.27 generic methods) applies to every file the
scanner and the package view read, and so does the reading of a call with one explicit type
argument as a call (`_instantiations_blanked`). The tree may then have been built from rewritten
bytes of the same length (or one newline longer, after the end): read node text through `FileContext.text` (the original
bytes), not `Node.text`, where it matters.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Language, Node, Parser, Query, Tree


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
    """The syntax tree of `source`; where the grammar lags Go, of a rewrite that moves no byte (equal length,
    or one newline after the end)."""
    tree = parser().parse(source)
    text = source
    if tree.root_node.has_error and source and not source.endswith(b"\n"):
        # `type T int` as the file's last bytes: the grammar wants a terminator there (qiniu/qmgo's
        # options files, held-out set 124), where Go's automatic semicolon needs none. A newline after
        # the end moves no byte of the file.
        ended = parser().parse(source + b"\n")
        if not ended.root_node.has_error or _bad_declarations(ended) < _bad_declarations(tree):
            tree, text = ended, source + b"\n"
    if tree.root_node.has_error:
        from leakhunter.source.grammarfix import rewrite

        fixed = rewrite(text)
        if fixed != text:
            tree2 = parser().parse(fixed)
            if _bad_declarations(tree2) <= _bad_declarations(tree):
                tree, text = tree2, fixed
    calls = _instantiations_blanked(tree, text)
    return tree if calls is text else parser().parse(calls)


def _instantiations_blanked(tree: Tree, text: bytes) -> bytes:
    """`text` with the type arguments of every one-argument explicit instantiation blanked to spaces.

    tree-sitter-go reads `lru.New[string, int](128)` and `F[T](x)` as a conversion to a generic type
    (its `type_conversion_expression`), while `F[T]()` and `F[T](x, y)` are calls. Every rule looks for
    calls, so a generic constructor or wrapper called with one argument was invisible to all of them.
    With the type arguments blanked the same bytes read `lru.New            (128)`, an ordinary call;
    the program model ignores type arguments when it resolves a callee, and a true conversion to a
    generic type (`Set[int](m)`) reads as `Set(m)`, which is how tree-sitter-go already reads a
    conversion to a named type. The grammar reads `handlers[name](r)` the same way, so a lone
    lower-case identifier that is not a predeclared type is taken for an index and left alone, and
    so are type arguments that span lines (blanked, the line break would end the statement)."""
    spans: list[Node] = []
    at = text.find(b"](")  # gofmt's spelling; C-speed, and most files hold none
    while at >= 0:
        args = tree.root_node.descendant_for_byte_range(at, at + 1)
        args = args.parent if args is not None else None
        generic = args.parent if args is not None else None
        conv = generic.parent if generic is not None else None
        if (args is not None and args.type == "type_arguments" and conv is not None
                and conv.type == "type_conversion_expression" and conv.child_by_field_name("type") == generic
                and args.start_point.row == args.end_point.row
                and _type_list(args, text)):
            spans.append(args)
        at = text.find(b"](", at + 2)
    if not spans:
        return text
    out = bytearray(text)
    for n in spans:
        out[n.start_byte:n.end_byte] = b" " * (n.end_byte - n.start_byte)
    return bytes(out)


def _type_list(args: Node, text: bytes) -> bool:
    """The bracket holds type arguments, not an index: more than one element, or one that is not a
    lone identifier, or one naming a predeclared or exported type."""
    elems = args.named_children
    if len(elems) != 1:
        return len(elems) > 1
    base = args.parent.child_by_field_name("type") if args.parent is not None else None
    if base is not None and base.type == "qualified_type":
        return True
    inner = elems[0].named_children
    if len(inner) != 1 or inner[0].type != "type_identifier":
        return True
    name = text[inner[0].start_byte:inner[0].end_byte]
    return name[:1].isupper() or name in _PREDECLARED


_PREDECLARED = frozenset(
    b"any bool byte comparable complex64 complex128 error float32 float64 int int8 int16 int32 int64 "
    b"rune string uint uint8 uint16 uint32 uint64 uintptr".split()
)


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
