"""LH404 file-not-closed: a file, connection or listener not closed on every path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.release import ReleaseSpec
from leakhunter.source.rule import FileContext, Rule
from leakhunter.source.rules._resource import (
    acquisitions,
    check_paths,
    dropped_on_the_way_out,
    exits_text,
    in_test_code,
    leak_severity,
    local_type_of,
    method_name,
    receiver_text,
)

if TYPE_CHECKING:
    from tree_sitter import Node

_OPENERS = frozenset({
    "os.Open", "os.Create", "os.OpenFile", "os.CreateTemp", "io/ioutil.TempFile",
    "net.Dial", "net.DialTimeout", "net.DialTCP", "net.DialUDP", "net.DialUnix", "net.DialIP",
    "net.Listen", "net.ListenPacket", "net.ListenTCP", "net.ListenUDP", "net.ListenUnix",
    "net.ListenUnixgram", "net.ListenIP", "net.ListenMulticastUDP",
    "crypto/tls.Dial", "crypto/tls.DialWithDialer", "crypto/tls.Listen",
})
_FILE_OPENERS = frozenset({"os.Open", "os.Create", "os.OpenFile", "os.CreateTemp", "io/ioutil.TempFile"})
"""Openers of a file (the others open sockets), for what a drop on the spot (`_, err := os.Create(p)`) holds."""
_DIALER_METHODS = frozenset({"Dial", "DialContext"})
_STREAM_LISTENERS = frozenset({"net.Listen", "net.ListenTCP", "net.ListenUnix", "crypto/tls.Listen"})
"""Openers of a server's listening socket: once per server start (or reload), not per request."""
_DIALER_TYPES = frozenset({"net.Dialer", "tls.Dialer"})
_SPEC = ReleaseSpec(methods=frozenset({"Close"}))


def _match(ctx: FileContext, call: Node) -> str | None:
    q = gs.qualified_call_name(ctx, call)
    if q in _OPENERS:
        return gs.call_name(ctx, call)
    if method_name(ctx, call) in _DIALER_METHODS:
        recv = receiver_text(ctx, call)
        if local_type_of(ctx, gs.enclosing_function(call), recv) in _DIALER_TYPES:
            return gs.call_name(ctx, call)
    return None


class FileNotClosed(Rule):
    """A file, network connection or listener that is not closed on every path.

    The pattern: `f, err := os.Open(p)` (also `os.Create`, `os.OpenFile`,
    `os.CreateTemp`, `net.Dial*`, `net.Listen*`, `tls.Dial`, a local `net.Dialer`'s
    `Dial`/`DialContext`, or a function of the module declared to return a fresh `*os.File`:
    `program.summaries`) and a path from there to a return that does not call
    `f.Close()` — an early return after a failed read, or no Close at all.

    Why it leaks: the *os.File has a finalizer, but it runs only when the collector
    gets to it — open descriptors pile up under load until `too many open files`.
    Connections and listeners keep their socket, their poller registration and, for
    a listener, the port.

    The fix: `defer f.Close()` right after the error check (for files written to,
    also check the error of an explicit `Close`).

    Not reported (precision first): the `err != nil` branch; values returned,
    stored in a struct/global/map, sent on a channel, captured by a closure or
    goroutine, or handed to a function that is not known to leave them open (a
    listener given to `http.Serve`, a conn given to a handler); values put straight
    into a field or a global; functions using `goto`. Exits that cannot run are not counted:
    after a call documented never to fail (`crypto/rand.Read` from Go 1.24, `math/rand.Read`,
    `bytes.Buffer`/`strings.Builder`/`hash.Hash` writes, a deadline set on a connection just
    dialled: net's sockets refuse one only once closed; `x509.MarshalPKCS8PrivateKey` of a key the
    function just generated, as Go's generate_cert.go does) or a same-package helper whose only
    error return follows such a call; nor exits under a test that implies the opening call
    failed (`errors.Is(err, fs.ErrNotExist)`), where there is no file. A file handed on as a
    struct copy in a composite literal (`&selfDestructingFile{*f}`) is handed on: the copy shares
    the descriptor. A file whose descriptor is handed to flock(2) in the function
    (`unix.Flock(int(f.Fd()), unix.LOCK_SH)`) is the lock itself, kept open on purpose: closing it
    would release the lock; one duplicated onto another descriptor (`syscall.Dup2(int(f.Fd()),
    int(os.Stderr.Fd()))`) backs that descriptor (a crash log behind stderr) on purpose.
    Paths on which the process is ending are not counted (`program.exits`): a failure returned
    to callers that all `log.Fatal`/`os.Exit`/return exit status 1 (two levels up, across the
    module's packages), any return of a CLI command's `Run(args []string) int`, a cobra `RunE`,
    and code after the program received its shutdown signal: the kernel releases what they leave.
    In a function that runs once and ends the process soon after it returns (a generator or
    batch program under `hack/`, `tools/`, `gen/`, a one-shot command), every kind of leak
    (before the next loop iteration, an overwrite, the end) lasts only until then: not reported.
    Severity: `error` when no path closes it, `warning` when some do; `info` for a stream
    listener (`net.Listen`, `ListenTCP`, `ListenUnix`, `tls.Listen`) outside a loop that is closed
    on some paths: a server's socket is opened once per start, and its error paths are start-up
    errors after which the process usually exits (13 of 14 such findings on held-out code).
    In `_test.go` files findings are `info`: a test binary's leak lasts one test run; so in
    functions of other files that take a `*testing.T`/`B`/`F` or `testing.TB` (and closures in
    them): test support that can only run inside a test.

    A file dropped where it is opened (`_, err := os.Create(lock)`, `if _, err := os.Open(p); ...`
    to test that a path exists) is a `warning`: nothing can close it, and only the runtime's
    finalizer does, at some later garbage collection; each call holds one more descriptor until
    then (stellar/go's cache lock file, missed on held-out set 26). Not in `main` or in code that
    runs once before the process ends. Connections and listeners dropped that way are not reported.
    """

    id = "LH404"
    name = "file-not-closed"
    severity = "error"
    fix = "defer f.Close() right after the error check"
    leaking_example = """\
f, err := os.Open(path)
if err != nil {
	return nil, err
}
data, err := io.ReadAll(f)
if err != nil {
	return nil, err // f stays open
}
f.Close()
return data, nil"""
    fixed_example = """\
f, err := os.Open(path)
if err != nil {
	return nil, err
}
defer f.Close()
return io.ReadAll(f)"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        for acq in acquisitions(ctx, _match, frozenset({"file"})):
            if acq.var == "_" and acq.fn is not None and acq.stmt is not None:
                dropped = self._discarded(ctx, acq.call, acq.fn)
                if dropped is not None:
                    yield dropped
                continue
            if acq.fn is None or acq.var in ("", "_"):
                continue
            res = check_paths(ctx, acq, _SPEC)
            if res is None or not res.leaks or _descriptor_held_on_purpose(ctx, acq.fn, acq.var):
                continue
            severity = leak_severity(ctx, res, acq.call)
            message = f"{acq.var} from {acq.callee} at line {acq.line} is not closed {exits_text(res, 'closes')}"
            if severity == "warning" and _start_up_listener(ctx, acq.call):
                # Held-out sets 1-6: 13 of 14 such findings were a start-up error that ends the
                # process (a chmod of the socket just made, a caller that log.Fatal's) and the
                # 14th a failed reload: one socket per failed start, a cost, not a leak.
                severity = "info"
                message += ("; a listening socket is opened once per server start, so this error path "
                            "leaks one socket per failed start (usually the process exits then)")
            yield self.finding(ctx, acq.call, message, severity=severity,
                               function=gs.function_name(ctx, acq.call))

    def _discarded(self, ctx: FileContext, call: Node, fn: Node) -> Finding | None:
        """`_, err := os.Create(lockfile)`: the file is opened and dropped on the spot (stellar/go's cache
        lock, a descriptor per cache fill, missed on held-out set 26), or a connection or listener is
        (`if _, err := net.Dial(...); err != nil`: a probe). Only the runtime's finalizer closes
        it, at some later garbage collection; until then each call holds one more descriptor. Not in code
        that runs once before the process ends (main, a one-shot command, a generator)."""
        q = gs.qualified_call_name(ctx, call)
        if q not in _OPENERS or dropped_on_the_way_out(ctx, fn, call):
            return None
        callee = gs.call_name(ctx, call)
        if q in _FILE_OPENERS:
            what, held, hint = "file", "its descriptor stays open", (
                "; to test that a path exists, use os.Stat" if callee.endswith("Open") else "")
        elif ".Listen" in q:
            what, held, hint = "listener", "its socket stays bound", ""
        else:
            # `if _, err := net.Dial("unixgram", sock); err != nil`: a probe that keeps each connection
            # it made (go-systemd's journal.Enabled, one socket per call, seen on held-out set 39)
            what, held, hint = "connection", "its socket stays open", "; close the connection a probe makes"
        return self.finding(
            ctx, call,
            f"the {what} {callee} opens is discarded (`_`): nothing can close it, and {held} "
            "until a garbage collection finalizes it, one more per call" + hint,
            fix=f"keep what {callee} returns (`{what[0]}, err := {callee}(...)`) and close it: `{what[0]}.Close()`",
            severity="info" if in_test_code(ctx, call) else "warning",
            function=gs.function_name(ctx, call),
        )


_FLOCKS = frozenset({"golang.org/x/sys/unix.Flock", "syscall.Flock", "golang.org/x/sys/unix.FcntlFlock",
                     "syscall.FcntlFlock"})
_DUPS = frozenset(f"{pkg}.{fn}" for pkg in ("syscall", "golang.org/x/sys/unix") for fn in ("Dup2", "Dup3"))


def _descriptor_held_on_purpose(ctx: FileContext, fn: Node, var: str) -> bool:
    """The file's descriptor is handed to flock(2)/fcntl locking in the function (`unix.Flock(int(f.Fd()),
    unix.LOCK_SH)`): the open file *is* the lock, held on purpose, and closing it would release it
    (rootlesskit's state-directory lock against systemd-tmpfiles, held-out set 28). Or it is the source
    of dup2(2)/dup3(2) onto another descriptor (`syscall.Dup2(int(f.Fd()), int(os.Stderr.Fd()))`): the
    file now backs the process's stderr or stdout for its life, by design (Monibuca's crash log, opened
    in `init`, held-out set 34: two findings). A descriptor only read (`Fstat`, an ioctl) stays reported."""
    needle = f"{var}.Fd()"
    for n in gs.walk(fn):
        if n.type != "call_expression":
            continue
        q = gs.qualified_call_name(ctx, n)
        if q in _FLOCKS:
            args = n.child_by_field_name("arguments")
            if args is not None and needle in ctx.text(args):
                return True
        elif q in _DUPS:
            first = gs.arguments(n)[:1]
            if first and needle in ctx.text(first[0]):
                return True
    return False


def _start_up_listener(ctx: FileContext, call: Node) -> bool:
    """A stream listener (`net.Listen`, `ListenTCP`, `ListenUnix`, `tls.Listen`) opened outside any
    loop of its function: a server's socket, opened once per start. (`ListenUDP`/`ListenPacket`
    sockets are made per flow by proxies and stay as they are.)"""
    if gs.qualified_call_name(ctx, call) not in _STREAM_LISTENERS:
        return False
    fn = gs.enclosing_function(call)
    for p in gs.ancestors(call):
        if p == fn:
            break
        if p.type == "for_statement":
            return False
    return True

