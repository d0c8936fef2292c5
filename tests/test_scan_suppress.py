"""In-source suppressions: `//leakhunter:ignore` and golangci-lint's `//nolint` forms."""

from __future__ import annotations

from pathlib import Path

import pytest
from scanfix import module

from leakhunter.source.scanner import scan_paths
from leakhunter.source.suppress import ALL, parse_directive

FUNC = """
func Lost{n}(parent context.Context) context.Context {{
{above}	ctx, _ := context.WithCancel(parent){trailing}
	return ctx
}}
"""


def src(*funcs: str) -> str:
    return "package demo\n\nimport \"context\"\n" + "".join(funcs)


def lost(n: int, *, above: str = "", trailing: str = "") -> str:
    return FUNC.format(n=n, above=f"\t{above}\n" if above else "", trailing=f" {trailing}" if trailing else "")


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("//leakhunter:ignore LH201 the parent is short-lived", {"LH201"}),
        ("//leakhunter:ignore LH201,LH101 reason", {"LH201", "LH101"}),
        ("//leakhunter:ignore lost-cancel reason", {"lost-cancel"}),
        ("//leakhunter:ignore", {ALL}),
        ("//leakhunter:ignore because I say so", {ALL}),
        ("//nolint", {ALL}),
        ("//nolint:all", {ALL}),
        ("//nolint:leakhunter", {ALL}),
        ("//nolint:leakhunter,errcheck // reason", {ALL}),
        ("//nolint:errcheck,leakhunter", {ALL}),
        ("// nolint:leakhunter", {ALL}),
        ("//nolint:errcheck", None),
        ("//nolint:errcheck // leakhunter is fine", None),
        ("// just a comment mentioning nolint", None),
    ],
)
def test_parse_directive(comment: str, expected: set[str] | None) -> None:
    assert parse_directive(comment) == expected


def test_each_form_suppresses_only_what_it_names(tmp_path: Path) -> None:
    text = src(
        lost(1),  # reported
        lost(2, trailing="//leakhunter:ignore LH201 parent is request-scoped"),
        lost(3, above="//leakhunter:ignore LH201 reviewed"),
        lost(4, trailing="//nolint:leakhunter"),
        lost(5, above="//nolint:all"),
        lost(6, trailing="//nolint:leakhunter,errcheck // reviewed"),
        lost(7, trailing="//nolint"),
        lost(8, trailing="//nolint:errcheck"),  # another linter: still reported
        lost(9, trailing="//leakhunter:ignore LH101 wrong rule"),  # still reported
    )
    root = module(tmp_path / "m", {"a.go": text})
    res = scan_paths([str(root)], jobs=1)
    reported = sorted(f.function for f in res.findings if f.rule == "LH201")
    assert reported == ["Lost1", "Lost8", "Lost9"]
    assert res.suppressed == 6


def test_directive_above_a_function_covers_the_whole_function(tmp_path: Path) -> None:
    body = lost(1).replace("func Lost1", "//nolint:leakhunter // legacy, tracked in #12\nfunc Lost1")
    root = module(tmp_path / "m", {"a.go": src(body, lost(2))})
    res = scan_paths([str(root)], jobs=1)
    assert [f.function for f in res.findings] == ["Lost2"]


def test_directive_two_lines_above_does_not_count(tmp_path: Path) -> None:
    body = lost(1, above="//leakhunter:ignore LH201 too far\n\t_ = 0")
    root = module(tmp_path / "m", {"a.go": src(body)})
    res = scan_paths([str(root)], jobs=1)
    assert [f.function for f in res.findings] == ["Lost1"] and res.suppressed == 0
