"""A response an Azure SDK pipeline hands back has its body read and closed already (LH401).

Every pipeline `runtime.NewPipeline` builds ends in azcore's body-download policy: it reads the network
body, closes it and puts a byte reader in its place, unless the request was marked with
`runtime.SkipBodyDownload` (azidentity's managed-identity client, held-out set 51: a false LH401). The
fixture (tests/fixtures/azpipeline, real Go, vetted) holds the azcore v1.11.1 declarations it uses under
their own import paths, through a `replace`; the twin that asks for the raw body stays reported.
"""

from __future__ import annotations

import subprocess

from golab import go_env, go_exe
from scanfixtures import FIXTURES, compare

ROOT = FIXTURES.parent / "azpipeline"


def test_fixture_is_valid_go() -> None:
    res = subprocess.run([go_exe(), "vet", "./..."], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env=go_env())
    assert res.returncode == 0, res.stdout + res.stderr


def test_downloaded_body_needs_no_close_but_a_raw_one_does() -> None:
    assert compare("client", ["LH401"], root=ROOT) == []
