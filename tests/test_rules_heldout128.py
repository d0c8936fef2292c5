"""Shapes of session 35's held-out sets (128, 129: modules found through Debian's golang-*-dev packages), on
real Go, vetted:

- LH404 (tests/fixtures/scan/lh404_reflectvalue): voxelbrain/goptions' `fileValueParser` opens the file a flag
  names and returns `reflect.ValueOf(f), e`; the options struct keeps it. A `reflect.Value` holds what it is
  handed, so the return hands the file over. Twins, reported: a `reflect.Value` of the file's size with the
  file dropped, and `reflect.ValueOf(f).Kind()`, which returns a kind read out of the value and not the file.
"""

from __future__ import annotations

from scanfixtures import compare, vet


def test_a_file_returned_inside_a_reflect_value_is_handed_over() -> None:
    vet("lh404_reflectvalue")
    assert compare("lh404_reflectvalue", ["LH404"]) == []
