"""An unaliased import binds the imported package's clause, not its path's last element.

`go.etcd.io/etcd/client/v3` declares `clientv3`, `github.com/hashicorp/golang-lru` declares `lru`,
`k8s.io/api/core/v1` declares `v1`. The program model read the name from the path alone, so a file
writing `lru.New(1024)` or `clientv3.New(cfg)` named no import: its calls and types went unresolved
(gs.imports kept `golang_lru`, `client`). The fixture module tests/fixtures/clausenames takes its
dependencies through `replace` (a stand-in for golang-lru, and example.com/kit/client declaring
`kitclient`), so the toolchain checks it is valid Go and the scan reads the clauses from disk.
"""

from __future__ import annotations

from pathlib import Path

from scanfixtures import FIXTURES, compare, vet_module

from leakhunter.source.program.index import package_clause

CLAUSENAMES = FIXTURES.parent / "clausenames"


def test_calls_through_an_unaliased_import_resolve_by_its_package_clause() -> None:
    vet_module(CLAUSENAMES)
    # kitclient.Open is a dependency's wrapper that hands back a response: found only once resolved.
    assert compare("fetch", ["LH401"], root=CLAUSENAMES) == []
    # lru.New(1024) cannot fail; the twin with a caller's size is still reported.
    assert compare("store", ["LH402"], root=CLAUSENAMES) == []


def test_the_clause_is_read_past_comments_and_generators(tmp_path: Path) -> None:
    (tmp_path / "gen.go").write_text("//go:build ignore\n\npackage main\n")
    (tmp_path / "lib.go").write_text(
        "/*\npackage wrong is prose in a licence block\n*/\n\n// Package right ...\npackage right\n")
    (tmp_path / "lib_test.go").write_text("package right_test\n")
    assert package_clause(tmp_path) == "right"
    assert package_clause(tmp_path / "missing") is None
