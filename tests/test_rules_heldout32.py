"""Held-out set 32's false shapes (issue #8, session 22, after its measurement: tuning), and sets 33 and
34's (sessions 23 and 24: the last tests), each fixed in a general form with reported twins, on real Go:

- LH101 (and every rule that follows paths with `goflow.Paths`): a goroutine started under `if C` and
  received from under a later `if C` on the same pure condition (local names and literals, nothing
  assigned to them in the function) is received from on every path that started it (gaochao1/sw's SNMP
  walkers: thirteen findings on the infeasible path through `C` true then false; `!quiet` and `quiet ==
  false` are one condition). Twins, reported: the
  flag reassigned between, another condition, an early return between, a field a call may change.
- LH404: a file handed to the loggers of the object the function returns (`i := &Installer{show:
  log.New(io.MultiWriter(os.Stdout, f), "", 0)}; i.log = log.New(f, ...); return i`, or `return &u`):
  the object owns it for its life (edgectl's NewInstaller and NewUpgrader, two findings). Twins, reported:
  an object given only the file's name, a return that drops the object after the logger was made, a
  logger nobody keeps.
- LH401: a request a helper of the module builds from the context it is given (`req, err :=
  c.build(ctx, ...)`, the helper's `req.WithContext(ctx)`), sent under a context whose cancel the function
  defers (in a closure): the cancel ends the request on every return (splitio's SSE client). Twins,
  reported: a helper that builds it with no context, and a context nothing cancels.
"""

from __future__ import annotations

from scanfixtures import compare, vet


def test_a_receive_under_the_same_condition_as_the_start_is_reached() -> None:
    vet("lh101_samecond")
    assert compare("lh101_samecond", ["LH101"]) == []


def test_a_file_the_returned_objects_loggers_write_to_is_handed_on() -> None:
    """Also (held-out set 66, parser.go): a logger's method value or a closure calling it stored in the
    returned object (go-ansiterm), a logger handed to the object's setter (ultraviolet)."""
    vet("lh404_logholder")
    assert compare("lh404_logholder", ["LH404"]) == []


def test_a_request_a_helper_builds_from_a_cancelled_context_is_released_on_return() -> None:
    vet("lh401_helperctx")
    assert compare("lh401_helperctx", ["LH401"]) == []


def test_a_file_handed_on_as_a_dereferenced_copy_is_not_dropped() -> None:
    """Held-out set 33 (measured session 23 on 6ebc1f4): LH404 on five files handed on as os.File
    values — `*o.result.(*os.File) = *f`, `append(list, *f)`, a local list of copies stored after the
    loop, `return *f` (argparse's file arguments, go-engine's log opener). os.File holds the pointer
    that owns the descriptor: the copy is the handle. Twins, reported: a dereference that only reads
    the name, and an error return before the copy is stored."""
    vet("lh404_derefcopy")
    assert compare("lh404_derefcopy", ["LH404"]) == []


def test_rows_a_helper_reads_to_the_end_are_closed() -> None:
    """Held-out set 34 (measured session 23 on 08c485a): LH402 on rows handed to go-doudou's
    `dbvendor.Scan(rows, &result)`, whose `for rows.Next()` loop nothing leaves early: it ends only
    when Next returns false, which closes the rows. Twins, reported: a helper that reads one row with
    `if rows.Next()`, and one whose loop may break."""
    vet("lh402_helperdrain")
    assert compare("lh402_helperdrain", ["LH402"]) == []


def test_a_re_test_of_an_error_already_known_nil_is_dead() -> None:
    """Held-out set 34 (measured session 23 on 08c485a): LH404 on webx-top/com's UnTarGz, where `fw, _ :=
    os.Create(...)` is followed by `if err != nil { return err }` re-testing the earlier call's error, nil
    since the first check returned on it: the return is dead and the file is closed on every path that
    runs. Twins, reported: the create's own error, an error set between the checks, one set later in the
    loop, one set by a closure."""
    vet("lh404_staleerr")
    assert compare("lh404_staleerr", ["LH404"]) == []


def test_a_file_duplicated_onto_stderr_backs_it() -> None:
    """Held-out set 34 (measured session 23 on 08c485a): LH404 on Monibuca's crash log, opened in `init`
    and duplicated onto stderr (`syscall.Dup2(int(logFile.Fd()), int(os.Stderr.Fd()))`, Dup3 on arm64):
    the file backs stderr for the process's life by design. Twin, reported: a descriptor only read with
    fstat and dropped."""
    vet("lh404_dup")
    assert compare("lh404_dup", ["LH404"]) == []
