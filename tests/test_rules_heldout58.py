"""A key file left open only if marshalling a key the function just generated fails (LH404;
tests/fixtures/scan/lh404_genkey, real Go, vetted).

Go's generate_cert.go, as certificate helpers copy it (multicloud-operators-subscription's
GenerateServerCerts, held-out set 58): `x509.MarshalPKCS8PrivateKey(priv)` of a key from
rsa/ecdsa (named curve)/ed25519 GenerateKey cannot fail, so its error return is an impossible path.
Twins: a key the caller hands in, and an ecdsa key on a curve the caller chose, stay reported.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_fixture_is_valid_go() -> None:
    vet("lh404_genkey")


def test_marshalling_a_generated_key_cannot_fail() -> None:
    assert compare("lh404_genkey", ["LH404"]) == []
    found = run_rules(FIXTURES / "lh404_genkey" / "cert.go", ["LH404"])
    assert sorted(f.function for f in found) == ["writeCurveKey", "writeGivenKey"]
