"""A response an Azure SDK pipeline hands back has its body read and closed already (LH401).

Every pipeline `runtime.NewPipeline` builds ends in azcore's body-download policy: it reads the network
body, closes it and puts a byte reader in its place, unless the request was marked with
`runtime.SkipBodyDownload` (azidentity's managed-identity client, held-out set 51: a false LH401). The
fixture (tests/fixtures/azpipeline, real Go, vetted) holds the azcore v1.11.1 declarations it uses under
their own import paths, through a `replace`; the twin that asks for the raw body stays reported.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, vet_module

ROOT = FIXTURES.parent / "azpipeline"


def test_fixture_is_valid_go() -> None:
    vet_module(ROOT)


def test_downloaded_body_needs_no_close_but_a_raw_one_does() -> None:
    assert compare("client", ["LH401"], root=ROOT) == []
