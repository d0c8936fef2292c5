"""Resources released by their owner or by the end of the process (issue #8, session 5 classes).

Each class comes from held-out set 3's false positives, in a general form, on real Go (vetted here):
- LH401: a response whose request carries the incoming server request's context (`r.Context()`,
  handed down through callers, exported ones across packages included): net/http cancels it when
  the handler returns and the transport closes the connection then; likewise a gRPC server method's
  or server stream's context, an errgroup's context
  (done when Wait returns) and contexts captured by closures from a function that cancels them;
- LH402: rows of a database/sql transaction, closed when it commits or rolls back;
- LH403: a database/sql transaction begun with a context that ends with the request (an exported store
  method every caller in the module gives its HTTP request's context; held-out set 9, bytebase):
  database/sql rolls it back then; its twin is also called by a background runner; `os.Rename` in the
  module is no call of the store's `Rename`;
- LH301: a ticker owned by a background job started once per process run (from a CLI command's
  `RunE`/`PersistentPreRun`, another package's hook named as `PreRunE: servenv.CobraPreRunE`, across
  packages and exported methods; calls from test support and from functions only tests reach are not the
  production process: vitess's `PurgeLogs`, session 22), beside twins started per query or per request;
- LH404: a deadline set on a connection just dialled (it fails only on a closed connection), and a
  batch program under `hack/` whose leaks of every kind (loop, overwrite, end) end with it.
Each quiet case has a reported twin that keeps the rule honest (a context that lives on, a request
the function sends itself, a Tx that is not database/sql's, a setsockopt that can fail, a library).
"""

from __future__ import annotations

import subprocess

import pytest
from golab import go_env, go_exe
from scanfixtures import FIXTURES, compare, run_rules

PACKAGES = [
    ("lh301_once/tabletserver", "LH301"),
    ("lh301_once/logutil", "LH301"),
    ("lh401_grpc/server", "LH401"),
    ("lh401_serverctx/identity", "LH401"),
    ("lh401_serverctx/routing", "LH401"),
    ("lh402", "LH402"),
    ("lh403_reqctx/store", "LH403"),
    ("lh404", "LH404"),
    ("lh404_oneshot/hack/swagger", "LH404"),
    ("lh404_oneshot/lib", "LH404"),
    ("lh404_cli/cmd/storagetool", "LH404"),
    ("lh404_cli/cmd/swaggertool", "LH404"),
    ("lh404_cli/cmd/plaintool", "LH404"),
]


def test_fixtures_vet() -> None:
    res = subprocess.run([go_exe(), "vet", "./lh401_serverctx/...", "./lh401_grpc/...", "./lh301_once/...", "./lh404_oneshot/...", "./lh404_cli/...", "./lh402", "./lh404", "./lh403_reqctx/..."],
                         cwd=FIXTURES, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr


ERRGROUP = FIXTURES.parent / "errgroupctx"


def test_errgroup_fixture_vets() -> None:
    """Its own module: it needs golang.org/x/sync (from the module cache or the proxy)."""
    got = subprocess.run([go_exe(), "mod", "download", "golang.org/x/sync"], cwd=ERRGROUP, capture_output=True,
                         text=True, timeout=300, env=go_env())
    if got.returncode != 0:
        pytest.skip(f"golang.org/x/sync is neither in the module cache nor served: {got.stderr.strip()[:200]}")
    res = subprocess.run([go_exe(), "vet", "./..."], cwd=ERRGROUP, capture_output=True, text=True, timeout=300,
                         env=go_env())
    assert res.returncode == 0, res.stdout + res.stderr


def test_captured_contexts_end_with_the_function() -> None:
    """An errgroup's context (done when Wait returns) and a deferred cancel's, captured by the closures
    that send; a group never waited for and a caller's context stay reported."""
    assert compare("errgroupctx", ["LH401"], root=FIXTURES.parent) == []


@pytest.mark.parametrize(("package", "rule"), PACKAGES)
def test_markers_match(package: str, rule: str) -> None:
    assert compare(package, [rule]) == []


def test_server_context_through_callers_is_the_reason() -> None:
    """The identity package's quiet lookups leak if a caller passes a context that lives on: only
    `Publish` and `Revalidate`, which a background loop also calls, are reported (Publish with its
    status return); `Validate` hands its context to a client method beside the request, and so does
    `Probe` with its own context whose cancel it defers (`ProbeDetached`, which never cancels it, is
    reported)."""
    path = FIXTURES / "lh401_serverctx/identity/identity.go"
    found = run_rules(path, ["LH401"])
    assert [f.function for f in found] == ["Publish", "Revalidate", "ProbeDetached"]
    text = path.read_text().splitlines()
    ret = next(i for i, t in enumerate(text, 1) if 'errors.New("bind failed")' in t)
    assert f"the return at line {ret}" in found[0].message


def test_dial_deadline_is_impossible_but_keepalive_is_not() -> None:
    """dialTCP's SetReadDeadline branch cannot run; its SetKeepAlive branch can, and is the one named."""
    path = FIXTURES / "lh404/impossible.go"
    text = path.read_text().splitlines()
    acq = next(i for i, t in enumerate(text, 1) if "net.DialTCP(" in t)
    ret = next(i for i, t in enumerate(text, 1) if "// the only leaking path" in t)
    f = next(x for x in run_rules(path, ["LH404"]) if x.line == acq)
    assert f.message.endswith(f"on the return at line {ret}"), f.message


def test_generator_twin_is_reported() -> None:
    """The library twin of the hack/ program is reported (the overwritten file, the file per loop
    iteration); the program's own copies are not."""
    assert {f.function for f in run_rules(FIXTURES / "lh404_oneshot/lib/lib.go", ["LH404"])} == {"Kubeify", "Merge"}
    assert run_rules(FIXTURES / "lh404_oneshot/hack/swagger/main.go", ["LH404"]) == []


def test_marshalling_plain_data_cannot_fail() -> None:
    """json.Marshal of strings, integers, byte slices, string-keyed maps, times and structs of those
    cannot fail, so a file left open only on its error branch strands nothing (regclient's ocidir
    writeIndex, held-out set 20); a float (NaN), an interface field, or a MarshalText of its own can
    fail, and those stay reported, naming the Marshal error's return."""
    path = FIXTURES / "lh404/impossible.go"
    found = {f.function for f in run_rules(path, ["LH404"]) if f.function.startswith("write")}
    assert found == {"writeReportStderr", "writeSample", "writePayload", "writeCredentials"}
