"""A response discarded at a call of the module's own client whose Do reads and closes the body first
(LH401; tests/fixtures/scan/lh401_ownclient, real Go, vetted).

newrelic-client-go's API areas call `_, err = a.client.Do(req)` on its internal/http Client, whose
`innerDo` defers the body's Close and reads it whole (held-out set 62: four false findings); the method
of another package's type is now read as a function of another package is. A client whose Do hands back
the transport's open response stays reported when its response is discarded.

Also (retry.go): drone/runner-go's `retry` returns what its `do` returned, and `do` drains and closes the
body in a deferred literal under `if res != nil` (held-out set 67): a caller reading only the status of
`retry`'s response leaks nothing. A retry over a `do` that hands back the open response stays reported.

Also (policies.go, apiclient/, rest/): bluemix-go's own client (held-out set 68, 22 false findings) posts
through `SendRequest` to its `rest.Client.Do`, a method of another package's type that closes the body,
and hands back `new(http.Response)` when the transport gave none (a zero value, no body): a caller
reading the headers, or discarding the response, leaks nothing. Its `Get`, which hands back the
transport's response, stays reported.

Also (copyclient.go): actions-runner-controller's client (held-out set 78, 11 false findings) reads the body,
keeps the error of closing it (`err = resp.Body.Close()`) and hands back an in-memory copy: a Close whose
error is assigned at the top level counts as the one the summary looks for. A client that closes only on
a bad status stays reported.
"""

from __future__ import annotations

from scanfixtures import compare, vet


def test_fixture_is_valid_go() -> None:
    vet("lh401_ownclient")


def test_discarded_response_of_a_client_that_closed_it() -> None:
    assert compare("lh401_ownclient", ["LH401"]) == []
