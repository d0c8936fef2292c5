"""A goroutine that delivers what package-level `http.ListenAndServe` returns serves for the life of the
process (LH101; tests/fixtures/scan/lh101_serveforever, real Go, vetted).

any-sync's metrics server (held-out set 59): `errCh <- http.ListenAndServe(addr, nil)` next to a 200 ms
start-up window. That server has no handle, so nothing can shut it down: after it starts serving, the
send is never reached. The twin, `srv.ListenAndServe()` on a Server value that is shut down, returns then
and blocks on the send nobody receives: reported (snowflake's listener, held-out set 37, true).
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_fixture_is_valid_go() -> None:
    vet("lh101_serveforever")


def test_a_send_after_an_unstoppable_server_is_not_reported() -> None:
    assert compare("lh101_serveforever", ["LH101"]) == []
    found = run_rules(FIXTURES / "lh101_serveforever" / "serve.go", ["LH101"])
    assert [f.function for f in found] == ["listener.startServer.func1"]
