"""Held-out set 76's false shapes fixed after its measurement (tuning), on real Go, vetted:

- LH401 (tests/fixtures/sdkiface, the shape of ultradns-sdk-go v1.3.7 through a replace): external-dns's
  ultradns provider calls `p.client.RRSets.Create(...)`, a method of the SDK's interface `RRSetsService`
  whose one implementation, in the SDK's own package, goes to the client's `Do`, which defers the body's
  Close. The response it hands back is closed. Twin: `Zones.Export`, whose implementation hands the open
  body back, stays reported.
- LH402 (tests/fixtures/scan/lh402_txstmt): go-imap-sql's `tx.Stmt(m.parent.markedUids).Query(m.id)` left
  open on a Scan error x2, in `MoveMessages` (its own deferred Rollback) and `delMessages` (handed the
  caller's Tx through a local `stmt := tx.Stmt(...)`): a Tx's statement ties its rows to the transaction's
  context, so they are closed when it ends, as a Tx's own rows are. Twin: rows of the database's own
  statement stay reported.
- LH404 (tests/fixtures/scan/lh404_globallogger): gophish's `logger.Setup` hands the log file to the
  process's logger through a writer that wraps it (`mw := io.MultiWriter(os.Stderr, f); Logger.Out = mw`):
  a field of a package-level variable owns it as a package-level variable would. Twins: a local logger, and
  a local that shadows the package-level name, stay reported.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet, vet_module

SDKIFACE = FIXTURES.parent / "sdkiface"


def test_sdkiface_fixture_is_valid_go() -> None:
    vet_module(SDKIFACE, SDKIFACE / "third_party" / "dnssdk")


def test_a_dependency_interface_whose_implementations_close_the_body_hands_back_nothing_open() -> None:
    assert compare("dns", ["LH401"], root=SDKIFACE) == []


def test_txstmt_fixture_is_valid_go() -> None:
    vet("lh402_txstmt")


def test_rows_of_a_transactions_statement_end_with_the_transaction() -> None:
    assert compare("lh402_txstmt", ["LH402"]) == []
    found = run_rules(FIXTURES / "lh402_txstmt" / "marked.go", ["LH402"])
    assert [f.function for f in found] == ["Store.CountMarked"]


def test_globallogger_fixture_is_valid_go() -> None:
    vet("lh404_globallogger")


def test_a_file_wrapped_into_a_package_level_loggers_field_is_kept() -> None:
    assert compare("lh404_globallogger", ["LH404"]) == []
    found = run_rules(FIXTURES / "lh404_globallogger" / "logger.go", ["LH404"])
    assert sorted(f.function for f in found) == ["Banner", "Shadowed"]
