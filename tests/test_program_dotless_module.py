"""The program model in a module named without a dot (`module myservice`, common in a company's services),
on real Go, vetted (tests/fixtures/dotless):

- `types.lookup` reads the module's own packages (`myservice/client`) as it reads a dotted module's: only
  an import path that `ModuleMap.standard` calls the standard library is refused.
- A method called on another package's value (`a.c.Raw(req)`) is judged by the package that declares the
  receiver's type, even when the calling package spells no resource type itself: before, such a package
  was screened out whole, and the open response the module's own client hands back was missed in dotted
  and dotless modules alike. Twin: the client's `Do`, which closes the body, stays silent.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet_module

DOTLESS = FIXTURES.parent / "dotless"


def test_fixture_is_valid_go() -> None:
    vet_module(DOTLESS)


def test_the_module_clients_open_response_is_found_in_a_dotless_module() -> None:
    assert compare("svc", ["LH401"], root=DOTLESS) == []
    found = run_rules(DOTLESS / "svc" / "svc.go", ["LH401"])
    assert [f.function for f in found] == ["API.Status"]


def test_the_type_index_reads_a_dotless_modules_own_package() -> None:
    from leakhunter.source.program import types as ty
    from leakhunter.source.program.exits import parsed_file

    ctx = parsed_file((DOTLESS / "svc" / "svc.go").absolute())
    assert ctx is not None
    decls = ty.lookup(ctx, "myservice/client")
    assert decls is not None and ("Client", "Raw") in decls.methods
    assert ty.lookup(ctx, "nosuchstd/pkg") is None
