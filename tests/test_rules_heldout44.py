"""Held-out sets 43-46's false shapes (issue #8, session 26, after their measurement: tuning), each
fixed in a general form with reported twins, on real Go:

- LH404: `if errorutils.CheckError(err) != nil { return }` right after `os.Open` runs only when the
  open failed: CheckError is a package-level `var CheckError = func(err error) error { return err }`
  (jfrog-client-go; twelve findings in jfrog-cli-core and jfrog-client-go, held-out set 44). Any
  wrapper that returns nil for a nil error (the module's own, by its body; pkg/errors' `Wrap`,
  `WithStack` and their kind, `errors.Join`, by name) says the same as `err != nil`, also when it is
  assigned back (`err = CheckError(err)`, `if err := Wrap(err, m); err != nil`). Twin, reported: a
  wrapper that makes an error of nil (`fmt.Errorf("%s: %v", msg, err)`).
- LH404 (in lh404/impossible.go): `net.SplitHostPort(conn.LocalAddr().String())` of a TCP or UDP
  connection cannot fail (gravwell's hec generator, set 43; the network read from `net.DialTCP` and
  its kind too). Twin, reported: a Unix socket's address, a path.
- LH104 (in test_rules_goroutines_precision's lh104_goexit): sends each followed by `runtime.Goexit()`
  end their goroutine (godef's visitor in go-langserver, set 44), and so do sends followed by `return`
  in a labelled loop (gravwell's test reader, set 43); a recover handler under `if !Panic` sends only
  on a panic.
- LH106, LH102: a Wait nothing marks Done, or a receive nothing feeds, in the body of a function that
  parks the process on purpose: `main`'s closing `wg.Add(1); wg.Wait()` (tflow2, set 43), a service's
  start method `main` runs once (free5gc n3iwf, set 46, from a urfave/cli action set up by
  assignment, `app.Action = action`; the run-once search now passes over calls on a value of another
  concrete type), a watcher started once (gauge, set 44). Twins, reported: the same blocks in a
  request handler.
- LH303: a loop whose other select cases all leave it, one through a nested select every case of which
  returns, never runs a second time (iotdb's SessionPool.GetSession, set 46; in lh303_oneshot). Twin,
  reported: a nested select whose default goes round again.
"""

from __future__ import annotations

from scanfixtures import FIXTURES, compare, run_rules, vet


def test_a_nil_keeping_error_wrapper_guards_like_err() -> None:
    vet("lh404_errwrap", "lh404_errwrap/errutil")
    assert compare("lh404_errwrap", ["LH404"]) == []
    found = {f.function for f in run_rules(FIXTURES / "lh404_errwrap" / "files.go", ["LH404"])}
    assert found == {"readAnnotated"}, found


def test_a_park_on_purpose_is_not_a_leak_the_same_per_request_is() -> None:
    vet("lh106_park/...")
    for package in ("lh106_park", "lh106_park/service", "lh106_park/cmd/nf"):
        assert compare(package, ["LH106", "LH102", "LH101"]) == [], package
