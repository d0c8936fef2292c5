"""Paths on which the process is ending (issue #8: "process-ending leaks", the largest FP shape).

A file left open, a goroutine stranded or a cancel skipped on a path that ends the process
is not a leak anyone fixes: the kernel closes the descriptors, the runtime stops. Reviewers of
a CLI or a daemon reject such findings, so the rules that report a path ask here:

- `ends_process(ctx, call)`: `os.Exit`, `syscall.Exit`, `log.Fatal*`, `klog`/`glog`
  `Fatal*`/`Exit*`, go-ethereum's `log.Crit` and `utils.Fatalf`, a logger's `Fatal*` method
  (zap, logrus) or a sent zerolog `Fatal()` event outside test code, and `panic` inside
  `main`/`init` (nothing recovers there).
- `block_ends_process(ctx, block)`: a block that unconditionally ends the process (one of
  those calls at its top level, or `return <non-zero>` from a CLI command's `Run(args) int`).
- `process_ends_after(ctx, node)`: code after `node` in its enclosing blocks (or, for a
  `select`/`switch` case, the case's own body) unconditionally ends the process
  (`cancel(); wg.Wait(); os.Exit(0)`): what is left behind there is never a leak.
- `after_shutdown_signal(ctx, node)`: `node` runs only after the function has received an
  OS signal (`<-sigCh` for a channel given to `signal.Notify`, or `<-ctx.Done()` of a
  `signal.NotifyContext`): shutdown code.
- `return_ends_process(ctx, ret)`: any `return` of a CLI command's `Run(args []string) int` (the
  framework exits with its result), or a `return` that hands back a failure (a non-nil error) and
  every caller of the function in the module
  ends the process on that failure: it `log.Fatal`s or `os.Exit`s, returns non-zero from a
  CLI `Run`, returns the error from a cobra `RunE` or urfave/cli `Action`, passes it to
  `cobra.CheckErr`/kingpin's `FatalIfError`, or returns it to a function whose own callers
  do (two levels), or returns at all from a function that ends the process when it returns
  (`ends_on_return`: main's `if err != nil { fmt.Println(err); return }`, discordgo's airhorn; `return 1`
  in a `run() int` that main hands to `os.Exit`; a call followed by nothing but straight code to
  main's end is a tail call, excused as a whole by `ends_on_return`). Callers are found by a byte
  scan of the package's directory and of the module's directories that import it, parsed only
  when they mention the name; a use that is not a call (a function value) or a caller that
  ignores or handles the error decides "no". `_test.go` callers are not counted (tests exercise error paths on purpose).
  The caller may also exit through a logger's fatal event chain (zerolog's `log.Fatal().Err(err).Msg(..)`)
  or `panic(err)` in a named function of a program's package (not an HTTP handler: net/http recovers).
  Every return (success included) of a one-shot CLI command ends the process: ffcli's `Exec: f`,
  cobra's `Run`/`RunE`, urfave/cli's `Action` (told apart from other such fields by the signature; a
  named function only when the command field is its sole use; a literal also when assigned,
  `app.Action = func(c *cli.Context) error {...}`, croc's default action).
  A bare `return` of a function whose last result is a named `err error` hands back a failure when
  it sits under `if err != nil {` with no assignment to `err` between (croc's `getStdin`).
  Exported functions and methods are excused only in a program's packages (`package main`, or an
  import path through `cmd/`, `command/`, `internal/`, `app/`, `cli/`, `tools/`): a library's API
  is called by other modules too, whose callers need not exit.

- `ends_on_return(ctx, fn)`: `fn` runs once and the process ends soon after it returns, so
  every path out of it (success and falling off the end included) is a process-ending path:
  `main`, TestMain support (an `m *testing.M` parameter), a generator (`//go:build ignore`, or
  `package main` under `gen`/`generate`/`tools`/`hack`), a one-shot command, or a function whose
  every call is a tail call of such a function (no loop, closure, `go`, `select`, channel
  operation or serving call such as `ListenAndServe`/`Wait`/`Execute` after it).
- `run_context_done` / `server_closed_case`: a select case on `<-ctx.Done()` of a context made
  in such a run-once function (k8s-proxy's errgroup ctx), or a case that goes on only when its
  server was closed (every other error ends the process): once, at the end of the run.
- A package's own exit helpers count like `log.Fatal`: a `fatalf` whose body always exits, a
  `check(err)`/`must(v, err)` that exits (or, in a program, panics) on a non-nil error.

Shared by the resource rules and the goroutine rules so they judge alike.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from leakhunter.source import gomod
from leakhunter.source import gosyntax as gs
from leakhunter.source.program.importers import importers

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext

_EXIT_FUNCS = frozenset({
    "os.Exit", "syscall.Exit", "log.Fatal", "log.Fatalf", "log.Fatalln",
    "k8s.io/klog.Fatal", "k8s.io/klog.Fatalf", "k8s.io/klog.Fatalln", "k8s.io/klog.Exit", "k8s.io/klog.Exitf",
    "k8s.io/klog/v2.Fatal", "k8s.io/klog/v2.Fatalf", "k8s.io/klog/v2.Fatalln", "k8s.io/klog/v2.FatalS",
    "k8s.io/klog/v2.Exit", "k8s.io/klog/v2.Exitf", "k8s.io/klog/v2.Exitln",
    "github.com/golang/glog.Fatal", "github.com/golang/glog.Fatalf", "github.com/golang/glog.Exit",
    "github.com/golang/glog.Exitf", "github.com/golang/glog.Exitln", "github.com/golang/glog.Fatalln",
    "k8s.io/klog.Exitln", "k8s.io/klog/v2.FlushAndExit", "k8s.io/klog/v2.ExitDepth", "k8s.io/klog/v2.FatalDepth",
    "github.com/sirupsen/logrus.Fatal", "github.com/sirupsen/logrus.Fatalf", "github.com/sirupsen/logrus.Fatalln",
    "github.com/ethereum/go-ethereum/log.Crit", "github.com/ethereum/go-ethereum/cmd/utils.Fatalf",
})

_EXIT_ON_ERROR = frozenset({
    "github.com/spf13/cobra.CheckErr", "github.com/alecthomas/kingpin/v2.FatalIfError",
    "gopkg.in/alecthomas/kingpin.v2.FatalIfError",
})
_EXIT_ON_ERROR_METHODS = frozenset({"FatalIfError", "FatalIfErrorf"})
"""`cobra.CheckErr(err)`, kingpin's `app.FatalIfError(err, ...)`, kong's `ctx.FatalIfErrorf(err)`: end the
process when `err` is not nil."""
"""Package functions that end the process (by import path; std's `log` by its path too)."""

_EXIT_METHODS = frozenset({"Fatal", "Fatalf", "Fatalln", "Fatalw", "FatalContext"})
"""Logger methods that end the process (zap, logrus, klog's Verbose); `t.Fatal` is told apart by the
receiver: a `*testing.T` parameter, or any receiver in test code."""

_SEND_METHODS = frozenset({"Msg", "Msgf", "Send", "MsgFunc"})
"""Methods that send a zerolog-style event built from `x.Fatal()`: sending a fatal event exits."""

_SIGNAL_NOTIFY = ("os/signal.Notify", "os/signal.NotifyContext")


def _qualified(ctx: FileContext, call: Node) -> str:
    return gs.qualified_call_name(ctx, call)


def ends_process(ctx: FileContext, call: Node) -> bool:
    """True if `call` ends the process (never returns to its caller, and nothing recovers)."""
    if call.type != "call_expression":
        return False
    q = _qualified(ctx, call)
    if q in _EXIT_FUNCS:
        return True
    name = gs.call_name(ctx, call)
    if name == "panic" or q in ("log.Panic", "log.Panicf", "log.Panicln"):
        return _in_main_or_init(ctx, call)  # nothing recovers there
    fn = call.child_by_field_name("function")
    if fn is not None and fn.type == "identifier" and exiting_helpers(ctx).get(name, ("", 0))[0] == "exit":
        return True  # `fatalf(...)`: a wrapper of the package that always ends the process
    if fn is None or fn.type != "selector_expression":
        return False
    method = ctx.text(fn.child_by_field_name("field"))
    if method in _SEND_METHODS:
        fatal = _fatal_event(ctx, fn.child_by_field_name("operand"))
        if fatal is None:
            return False
        fn, name = fatal, ctx.text(fatal)
    elif method not in _EXIT_METHODS:
        return False
    from leakhunter.source.program.testfail import is_test_code, testing_params

    if is_test_code(ctx):
        return False  # t.Fatal: the test ends, not the process (the test-failure rules judge it)
    head = name.partition(".")[0]
    return head not in testing_params(ctx, call)


def _fatal_event(ctx: FileContext, node: Node | None) -> Node | None:
    """The `x.Fatal()` selector that starts the event chain `node` (zerolog's `log.Fatal().Err(err)`):
    such an event exits the process once `Msg`/`Msgf`/`Send` sends it."""
    while node is not None and node.type == "call_expression":
        fn = node.child_by_field_name("function")
        if fn is None or fn.type != "selector_expression":
            return None
        if ctx.text(fn.child_by_field_name("field")) == "Fatal" and not gs.arguments(node):
            return fn
        node = fn.child_by_field_name("operand")
    return None


def _in_main_or_init(ctx: FileContext, node: Node) -> bool:
    fn = gs.enclosing_function(node)
    if fn is None or fn.type != "function_declaration":
        return False  # a closure may run on another goroutine, or be recovered by its caller
    name = ctx.text(fn.child_by_field_name("name"))
    return name == "init" or (name == "main" and gs.package_name(ctx) == "main")


def stmt_ends_process(ctx: FileContext, stmt: Node) -> bool:
    """An expression statement whose call ends the process."""
    if stmt.type != "expression_statement" or not stmt.named_children:
        return False
    c = stmt.named_children[0]
    while c.type == "parenthesized_expression" and c.named_children:
        c = c.named_children[0]
    return ends_process(ctx, c)


def is_cli_run(ctx: FileContext, fn: Node | None) -> bool:
    """A CLI command's `Run(args []string) int` (mitchellh/hashicorp cli): its result is the exit status."""
    if fn is None or fn.type != "method_declaration":
        return False
    if ctx.text(fn.child_by_field_name("name")) != "Run":
        return False
    params = [t for _, t in gs.parameters(ctx, fn)]
    return params == ["[]string"] and gs.result_types(ctx, fn) == ["int"]


def _nonzero_status(ctx: FileContext, ret: Node) -> bool:
    vals = gs.returned_values(ret)
    if len(vals) != 1:
        return False
    text = ctx.text(vals[0]).strip()
    if re.fullmatch(r"[1-9][0-9]*", text):
        return True
    spec = gs.package_consts(ctx).get(text) if vals[0].type == "identifier" else None
    if spec is None:
        return False
    value = spec.child_by_field_name("value")
    if value is not None:
        return bool(re.fullmatch(r"[1-9][0-9]*", ctx.text(value).strip()))
    # `const ( ok int = iota; usage; ... )`: an implicit repetition of `iota` after the first is non-zero
    block = spec.parent
    specs = [c for c in block.named_children if c.type == "const_spec"] if block is not None else []
    return bool(specs) and specs[0] is not spec and specs[0] != spec and (
        ctx.text(specs[0].child_by_field_name("value")).strip() == "iota"
    )


def block_ends_process(ctx: FileContext, block: Node | None) -> bool:
    """The block unconditionally ends the process at its top level."""
    for s in gs.statements(block):
        if stmt_ends_process(ctx, s):
            return True
        if s.type == "return_statement" and _nonzero_status(ctx, s) and is_cli_run(ctx, gs.enclosing_function(s)):
            return True
    return False


def process_ends_after(ctx: FileContext, node: Node) -> bool:
    """A statement after `node`, in one of its enclosing blocks within its function, ends the process
    unconditionally (reached on every path from `node` that does not return or break first).
    A `select`/`switch` case as `node` (the case a goroutine rule says wins) counts its own body:
    `case err := <-qErr: log.Fatal().Err(err).Msg(...)` ends the process once that case is taken."""
    if node.type.endswith("_case"):
        head = node.child_by_field_name("communication") or node.child_by_field_name("value")
        for s in gs.statements(node):
            if head is not None and s.start_byte <= head.start_byte:
                continue
            if s.type in ("return_statement", "break_statement", "continue_statement", "goto_statement"):
                return False
            if stmt_ends_process(ctx, s):
                return True
    for p in gs.ancestors(node):
        if p.type in gs.FUNC_TYPES:
            return False
        if p.type in ("for_statement",):
            return False  # the loop may go round again before the exit
        if p.type in ("block", "statement_list", "source_file") or p.type.endswith("_case"):
            for s in gs.statements(p):
                if s.start_byte < node.end_byte:
                    continue
                if s.type in ("return_statement", "break_statement", "continue_statement", "goto_statement"):
                    return False
                if stmt_ends_process(ctx, s):
                    return True
    return False


def _signal_channels(ctx: FileContext, fn: Node) -> set[str]:
    out: set[str] = set()
    body = fn.child_by_field_name("body")
    for call in gs.walk(body, "call_expression") if body is not None else ():
        q = _qualified(ctx, call)
        if q == "os/signal.Notify" or (q.endswith("signal.Notify") and "signal" in gs.imports(ctx)):
            args = gs.arguments(call)
            if args:
                out.add(ctx.text(args[0]))
        elif q == "os/signal.NotifyContext" or q.endswith("signal.NotifyContext"):
            holder = call.parent
            if holder is not None and holder.type == "expression_list":
                holder = holder.parent
            if holder is not None and holder.type in ("short_var_declaration", "assignment_statement"):
                lefts, _ = gs.assignment_sides(holder)
                if lefts:
                    out.add(ctx.text(lefts[0]) + ".Done()")
    return out


def _receives_from(ctx: FileContext, stmt: Node, chans: set[str]) -> bool:
    for u in gs.walk(stmt, "unary_expression", into_func_literals=False):
        if ctx.text(u.child_by_field_name("operator")) == "<-" and (
            "".join(ctx.text(u.child_by_field_name("operand")).split()) in chans
        ):
            return True
    return False


def after_shutdown_signal(ctx: FileContext, node: Node) -> bool:
    """`node` runs only after its function received an OS signal (an earlier statement of an
    enclosing block waits on a `signal.Notify` channel or a `signal.NotifyContext` context)."""
    fn = gs.enclosing_function(node)
    if fn is None:
        return False
    chans = _signal_channels(ctx, fn)
    if not chans:
        return False
    cur = node
    for p in gs.ancestors(node):
        if p is fn or p.type in gs.FUNC_TYPES:
            return False
        if p.type in ("block", "statement_list") or p.type.endswith("_case"):
            if p.type == "communication_case" and _receives_from(ctx, p.child_by_field_name("communication") or p, chans):
                return True
            for s in gs.statements(p):
                if s.start_byte >= cur.start_byte:
                    break
                if s.type in ("expression_statement", "short_var_declaration", "assignment_statement") and (
                    _receives_from(ctx, s, chans)
                ):
                    return True
        cur = p
    return False


def returns_at_shutdown(ctx: FileContext, ret: Node) -> bool:
    """`ret` is in a select case receiving from the process's shutdown channel: a package-level channel
    that a signal handler closes (`signal.Notify` in the closing function or around it), received directly,
    through a getter that returns it, a parameter every caller passes it to, or a struct field every
    assignment of which is such a getter's result (flowlogs-pipeline's stages, `case <-e.exitChan: return` with `exitChan:
    utils.ExitChannel()`, five tickers left unstopped only there, held-out set 93). That return runs once,
    as the process ends."""
    for p in gs.ancestors(ret):
        if p.type in gs.FUNC_TYPES:
            return False
        if p.type == "communication_case":
            comm = p.child_by_field_name("communication")
            recv = next((u for u in gs.walk(comm, "unary_expression")
                         if ctx.text(u.child_by_field_name("operator")) == "<-"), None) if comm is not None else None
            return recv is not None and _shutdown_channel(ctx, recv.child_by_field_name("operand"), 0)
    return False


def _shutdown_channel(ctx: FileContext, expr: Node | None, depth: int) -> bool:
    from leakhunter.source.gopackage import package_files

    while expr is not None and expr.type == "parenthesized_expression":
        expr = expr.named_children[0] if expr.named_children else None
    if expr is None or depth > 2:
        return False
    if expr.type == "call_expression":
        from leakhunter.source.program.summaries import callee_declaration

        decl = callee_declaration(ctx, expr)
        body = decl[1].child_by_field_name("body") if decl is not None else None
        stmts = gs.statements(body) if body is not None else []
        if decl is None or len(stmts) != 1 or stmts[0].type != "return_statement":
            return False
        vals = gs.returned_values(stmts[0])
        return len(vals) == 1 and _shutdown_channel(decl[0], vals[0], depth + 1)
    if expr.type == "identifier":
        name = ctx.text(expr)
        fn = gs.enclosing_declaration(expr)
        if fn is not None and name in {n for n, _ in gs.parameters(ctx, fn)}:
            # a parameter: every caller passes the shutdown channel (flowlogs-pipeline's Batcher, handed
            # `utils.ExitChannel()` by its only caller)
            from leakhunter.source.program.callsites import every_caller_argument

            return every_caller_argument(
                ctx, fn, name, lambda f, _cfn, arg, _call: _shutdown_channel(f, arg, depth + 1))
        if gs.is_local_name(ctx, expr, name):
            return False
        files = package_files(ctx)
        if not any(name in gs.package_vars(f) for f in files):
            return False
        return any(_closed_on_signal(f, name) for f in files)
    if expr.type == "selector_expression":
        field = ctx.text(expr.child_by_field_name("field"))
        values: list[tuple[FileContext, Node]] = []
        for f in package_files(ctx):
            if field.encode() not in f.source:
                continue
            for kv in gs.nodes_of_type(f, "keyed_element"):
                kids = kv.named_children
                if len(kids) == 2 and f.text(kids[0]).strip() == field:
                    v = kids[1].named_children[0] if kids[1].type == "literal_element" and kids[1].named_children \
                        else kids[1]
                    values.append((f, v))
            for a in gs.nodes_of_type(f, "assignment_statement"):
                left, right = gs.assignment_sides(a)
                for i, lv in enumerate(left):
                    if lv.type == "selector_expression" and f.text(lv.child_by_field_name("field")) == field:
                        if len(right) != len(left):
                            return False
                        values.append((f, right[i]))
        return bool(values) and all(_shutdown_channel(f, v, depth + 1) for f, v in values)
    return False


def _closed_on_signal(ctx: FileContext, name: str) -> bool:
    """`close(name)` in this file sits in a function (or a func literal inside one) that calls
    signal.Notify: the channel closes when the process is told to stop."""
    if name.encode() not in ctx.source or b"signal" not in ctx.source:
        return False
    for call in gs.nodes_of_type(ctx, "call_expression"):
        f = call.child_by_field_name("function")
        args = gs.arguments(call)
        if f is None or ctx.text(f) != "close" or len(args) != 1 or ctx.text(args[0]) != name:
            continue
        fn = gs.enclosing_declaration(call)
        if fn is not None and _signal_channels(ctx, fn):
            return True
    return False


# ---------------------------------------------------------------------- callers


def returns_failure(ctx: FileContext, fn: Node, ret: Node) -> bool:
    """`return ..., err` with a non-nil error last (the function's last result is `error`)."""
    results = gs.result_types(ctx, fn)
    if not results or results[-1] != "error":
        return False
    vals = gs.returned_values(ret)
    if not vals:
        return _naked_failure(ctx, fn, ret)
    if len(vals) != len(results):
        return False
    last = ctx.text(vals[-1]).strip()
    return last != "nil"


def _naked_failure(ctx: FileContext, fn: Node, ret: Node) -> bool:
    """A bare `return` of a function whose last result is a named `err error`, inside `if err != nil {`
    with no assignment to `err` between the test and the return (croc's `getStdin`: `_, err = io.Copy(f,
    os.Stdin); if err != nil { return }`). The compiler rejects a bare return where the named result is
    shadowed, so the `err` tested is the one returned; a deferred closure that assigns it (an
    `err = nil` after the fact) makes the result unknown."""
    res = fn.child_by_field_name("result")
    decls = [c for c in res.named_children if c.type == "parameter_declaration"] if res is not None else []
    names = decls[-1].children_by_field_name("name") if decls else []
    if not names:
        return False
    err = ctx.text(names[-1])
    body = fn.child_by_field_name("body")
    for d in gs.walk(body, "defer_statement") if body is not None else ():
        for a in gs.walk(d, ("short_var_declaration", "assignment_statement"), into_func_literals=True):
            if err in gs.assigned_names(ctx, a):
                return False
    for p in gs.ancestors(ret):
        if p.type in gs.FUNC_TYPES:
            return False
        if p.type != "if_statement":
            continue
        cons = p.child_by_field_name("consequence")
        cond = "".join(ctx.text(p.child_by_field_name("condition")).split())
        if cons is None or not (cons.start_byte <= ret.start_byte < cons.end_byte):
            continue
        if cond not in (f"{err}!=nil", f"nil!={err}"):
            continue
        return not any(
            a.start_byte < ret.start_byte and err in gs.assigned_names(ctx, a)
            for a in gs.walk(cons, ("short_var_declaration", "assignment_statement"), into_func_literals=True)
        )
    return False


def return_ends_process(ctx: FileContext, ret: Node) -> bool:
    """The failure returned at `ret` ends the process (see the module doc)."""
    if ret.type != "return_statement":
        return False
    fn = gs.enclosing_function(ret)
    if fn is None:
        return False
    if is_cli_run(ctx, fn):
        return True  # the CLI framework exits with whatever Run returns: every return ends the process
    if _one_shot_command(ctx, fn):
        return True  # a command's Exec/RunE: when it returns, main returns and the process ends
    if ends_on_return(ctx, fn):
        return True  # runs once, and the process ends soon after it returns (success included)
    if not returns_failure(ctx, fn, ret):
        return False
    if _is_cobra_rune(ctx, fn):
        return True
    if fn.type not in ("function_declaration", "method_declaration"):
        return False
    memo: dict[int, bool] = ctx.cache.setdefault("exits.callers", {})  # type: ignore[assignment]
    key = fn.start_byte
    if key not in memo:
        memo[key] = _every_caller_exits(ctx, fn, 0)
    return memo[key]


def _command_signature(ctx: FileContext, key: str, fn: Node) -> bool:
    """The signature a CLI framework gives `key`'s function: ffcli's `Exec(ctx, args) error`, cobra's
    `RunE`/`Run(cmd *cobra.Command, args)`, urfave/cli's `Action(*cli.Context) error` (v3: `(ctx, cmd)`).
    `Exec`, `Run` and `Action` are common field names elsewhere: the signature tells a command apart."""
    params = [t.removeprefix("*") for _, t in gs.parameters(ctx, fn)]
    results = gs.result_types(ctx, fn)
    if key == "Exec":
        return params == ["context.Context", "[]string"] and results == ["error"]
    if key in ("Run", "RunE"):
        return len(params) == 2 and params[0].endswith("cobra.Command") and params[1] == "[]string"
    if key == "Action":
        return results == ["error"] and bool(params) and params[-1].endswith(("cli.Context", "cli.Command"))
    return False


def _one_shot_command(ctx: FileContext, fn: Node) -> bool:
    """A CLI command's body (`Exec: runDebug`, `RunE: func(cmd, args) error {...}`): the framework runs it
    once and main returns (or exits) when it returns, so every return of it ends the process. A named
    function counts only when every use of it in the module is such a command field (no other caller)."""
    if fn.type == "func_literal":
        return _command_signature(ctx, _command_field(ctx, fn), fn)
    if fn.type != "function_declaration" or not any(
        _command_signature(ctx, k, fn) for k in ("Exec", "RunE", "Action")
    ):
        return False
    memo: dict[int, bool] = ctx.cache.setdefault("exits.oneshot", {})  # type: ignore[assignment]
    if fn.start_byte not in memo:
        memo[fn.start_byte] = _every_caller_exits(ctx, fn, 0, actions_only=True)
    return memo[fn.start_byte]


def _is_cobra_rune(ctx: FileContext, fn: Node) -> bool:
    """`RunE: func(cmd *cobra.Command, args []string) error {...}` (or urfave/cli's `Action:`): the
    framework hands the error to main, which exits non-zero (the convention of every such CLI)."""
    if fn.type != "func_literal":
        return False
    key = _command_field(ctx, fn)
    if key not in ("RunE", "PreRunE", "PersistentPreRunE", "Action"):
        return False
    if fn.parent is not None and fn.parent.type == "expression_list":
        # `app.Action = func(...)`: a field of that name is a command's only by its signature
        return _command_signature(ctx, "RunE" if key.endswith("RunE") else key, fn)
    return True


def _command_field(ctx: FileContext, lit: Node) -> str:
    """The field a func literal is given to: `RunE: func(...)` in a command literal, or an assignment
    `app.Action = func(...)` (urfave/cli's default action, croc's); "" otherwise."""
    up = lit.parent
    if up is not None and up.type == "literal_element":
        up = up.parent
    if up is not None and up.type == "keyed_element" and up.named_children:
        return ctx.text(up.named_children[0]).strip()
    if up is not None and up.type == "expression_list" and up.parent is not None:
        lefts, rights = gs.assignment_sides(up.parent) if up.parent.type == "assignment_statement" else ([], [])
        if len(lefts) == 1 and len(rights) == 1 and lefts[0].type == "selector_expression":
            return ctx.text(lefts[0].child_by_field_name("field"))
    return ""


_PARSED: OrderedDict[str, FileContext] = OrderedDict()
_MAX_CALLERS = 24
_MAX_FILES = 60


def parsed_file(path: Path) -> FileContext | None:
    """A parsed context for another file of the module (the last 16 kept): for callers and callees."""
    return _caller_ctx(path)


def _caller_ctx(path: Path) -> FileContext | None:
    from leakhunter.source.parse import parse
    from leakhunter.source.rule import FileContext

    key = str(path)
    hit = _PARSED.get(key)
    if hit is not None:
        _PARSED.move_to_end(key)
        return hit
    try:
        src = path.read_bytes()
    except OSError:
        return None
    c = FileContext(path=path, display_path=key, source=src, tree=parse(src), is_test=key.endswith("_test.go"))
    _PARSED[key] = c
    while len(_PARSED) > 16:
        _PARSED.popitem(last=False)
    return c


def _candidate_files(ctx: FileContext, anywhere: bool = False) -> list[Path] | None:
    """Non-test files that could call into `ctx`'s package: its own directory and its importers (with
    `anywhere`, every file of the module: an exported method is reachable through interfaces from
    packages that never import its own)."""
    from leakhunter.source.program.types import own_path

    d = ctx.path.absolute().parent
    out: list[Path] = []
    try:
        out = sorted(
            Path(e.path) for e in os.scandir(d) if e.name.endswith(".go") and not e.name.endswith("_test.go")
        )
    except OSError:
        return None
    root = gomod.module_for_dir(d).root
    if root is None:
        return out
    path = own_path(ctx)
    if gs.package_name(ctx) != "main":
        out += [p for p in importers(root).code.get("" if anywhere else path, []) if p.parent != d]
    return out


_APP_SEGMENTS = frozenset({"cmd", "command", "commands", "internal", "app", "cli", "tools", "tool"})


def _application_package(ctx: FileContext) -> bool:
    """A package of a program rather than a library: `package main`, or an import path through
    `cmd/`, `command/`, `internal/`, `app/`, `cli/`, `tools/` (code other modules do not call)."""
    if gs.package_name(ctx) == "main":
        return True
    from leakhunter.source.program.types import own_path

    return bool(_APP_SEGMENTS & set(own_path(ctx).split("/")))


def _every_caller_exits(
    ctx: FileContext, fn: Node, depth: int, actions_only: bool = False, tail: bool = False
) -> bool:
    name = ctx.text(fn.child_by_field_name("name"))
    if not name or name in ("main", "init") or depth > (_MAX_TAIL_DEPTH if tail else 2):
        return False
    is_method = fn.type == "method_declaration"
    if name[:1].isupper() and not _application_package(ctx):
        return False  # a library's exported API: callers in other modules need not exit
    files = _candidate_files(ctx, anywhere=is_method and name[:1].isupper())
    if not files:
        return False
    needle = re.compile(rb"\b" + re.escape(name.encode()) + rb"\b")
    matched = 0
    from leakhunter.source.program.types import own_path

    pkg_path = own_path(ctx).removesuffix("_test")
    own_dir = ctx.path.absolute().parent
    seen = 0
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            return False
        if not needle.search(data):
            continue
        matched += 1
        if matched > _MAX_FILES:
            return False  # a name used everywhere: not worth deciding
        cctx = ctx if path.absolute() == ctx.path.absolute() else _caller_ctx(path.absolute())
        if cctx is None:
            return False
        for m in needle.finditer(cctx.source):
            node = cctx.tree.root_node.descendant_for_byte_range(m.start(), m.end())
            if node is None:
                return False
            if node.type in ("comment", "interpreted_string_literal", "raw_string_literal", "package_identifier"):
                continue
            if node.type not in ("identifier", "field_identifier"):
                continue
            up = node.parent
            if up is None:
                return False
            if up.type in ("function_declaration", "method_declaration") and up.child_by_field_name("name") == node:
                continue  # a declaration (this one, or a same-named function of another type)
            if up.type in ("method_elem", "method_spec", "field_declaration", "keyed_element"):
                continue  # an interface method, a struct field, a key: not a use of this function
            callee = up
            if up.type == "selector_expression":
                if up.child_by_field_name("field") != node:
                    continue  # `name.X`: a variable or package of that name
                if not is_method:
                    op = up.child_by_field_name("operand")
                    if op is None or gs.imports(cctx).get(cctx.text(op)) != pkg_path:
                        continue  # `errors.New`: another package's function of that name
            elif is_method or cctx.path.absolute().parent != own_dir:
                continue  # a plain identifier reaches neither a method nor another package's function
            elif gs.is_local_name(cctx, node, name):
                continue  # a local of that name (`case presence := <-l.Presence:`): another variable
            else:
                callee = node
            call = up if callee is node else callee.parent
            if _framework_action(cctx, callee, _COMMAND_KEYS if actions_only or tail else _ACTION_KEYS):
                seen += 1
                continue  # `Action: f` / `RunE: f`: the CLI framework exits with f's error
            if actions_only:
                return False  # a call (or a value) besides the command field: it may run more than once
            if call is None or call.type != "call_expression" or call.child_by_field_name("function") != callee:
                return False  # a function value: its callers are unknown
            seen += 1
            judge = _tail_call if tail else _call_exits_on_error
            if seen > _MAX_CALLERS or not judge(cctx, call, depth):
                return False
    return seen > 0


_ACTION_KEYS = ("RunE", "PreRunE", "PersistentPreRunE", "Action")
"""Command fields whose function's error the CLI framework turns into the process's exit status."""
_COMMAND_KEYS = ("RunE", "Run", "Action", "Exec")
"""Command fields whose function is the command itself: when it returns, so does main (a PreRunE does not)."""


def _framework_action(ctx: FileContext, node: Node, keys: tuple[str, ...] = _ACTION_KEYS) -> bool:
    """`Action: f` / `RunE: f` in a command literal: f's error goes to the framework, as for a literal."""
    el = node.parent
    kv = el.parent if el is not None and el.type == "literal_element" else el
    if kv is None or kv.type != "keyed_element" or len(kv.named_children) != 2:
        return False
    if kv.named_children[1] not in (el, node):
        return False
    return ctx.text(kv.named_children[0]).strip() in keys


def _call_exits_on_error(ctx: FileContext, call: Node, depth: int) -> bool:
    """`v, err := f(); if err != nil { log.Fatal(err) }` and the other shapes of the module doc."""
    up = call.parent
    if up is not None and up.type == "argument_list" and up.parent is not None and ends_process(ctx, up.parent):
        return True  # `log.Fatal(run())`, `os.Exit(run())`
    if up is not None and up.type == "argument_list" and up.parent is not None and _exits_on_its_error(ctx, up.parent):
        return True  # `must(run())`, `check(run())`: a helper that exits (or panics in a program) on the error
    if up is not None and up.type == "expression_list":
        up = up.parent
    if up is not None and up.type == "return_statement":
        # `return f(...)`: the enclosing function hands the failure on
        return _hands_on(ctx, up, depth)
    if up is None or up.type not in ("short_var_declaration", "assignment_statement"):
        return False
    lefts, rights = gs.assignment_sides(up)
    if len(rights) != 1 or not lefts:
        return False
    err = ctx.text(lefts[-1]).strip()
    if err in ("_", ""):
        return False
    s = gs.error_handler(ctx, up, err)
    if s is None:
        return False
    if s.type == "if_statement":
        return gs.checks_err(ctx, s, err) and _branch_exits(ctx, s, err, depth)
    if s.type == "return_statement":
        return _hands_on(ctx, s, depth)
    if s.type == "expression_statement" and s.named_children and s.named_children[0].type == "call_expression":
        c = s.named_children[0]
        fnode = c.child_by_field_name("function")
        method = ctx.text(fnode.child_by_field_name("field")) if fnode is not None and fnode.type == "selector_expression" else ""
        args = [ctx.text(a).strip() for a in gs.arguments(c)]
        if args and args[-1] == err and _exits_on_its_error(ctx, c):
            return True  # `check(err)` / `must(err)`
        return bool(args) and args[0] == err and (
            _qualified(ctx, c) in _EXIT_ON_ERROR or method in _EXIT_ON_ERROR_METHODS
        )
    return False


def _branch_exits(ctx: FileContext, if_stmt: Node, err: str, depth: int) -> bool:
    cons = if_stmt.child_by_field_name("consequence")
    if block_ends_process(ctx, cons) or _panics_unrecovered(ctx, cons):
        return True
    stmts = gs.statements(cons)
    last = stmts[-1] if stmts else None
    return last is not None and last.type == "return_statement" and _hands_on(ctx, last, depth)


def _panics_unrecovered(ctx: FileContext, block: Node | None) -> bool:
    """The caller's error branch `panic`s where nothing is likely to recover: a named function of a
    program's package (openfga's cobra `run`), outside test code, not an HTTP handler (net/http
    recovers a handler's panic and serves on) and not a closure (a goroutine's or a handler's body)."""
    if not any(s.type == "expression_statement" and s.named_children and s.named_children[0].type == "call_expression"
               and gs.call_name(ctx, s.named_children[0]) == "panic" for s in gs.statements(block)):
        return False
    from leakhunter.source.program.testfail import is_test_code

    fn = gs.enclosing_function(block) if block is not None else None
    if fn is None or fn.type not in ("function_declaration", "method_declaration") or is_test_code(ctx):
        return False
    if any(t.endswith("http.ResponseWriter") for _, t in gs.parameters(ctx, fn)):
        return False
    return _application_package(ctx)


def _hands_on(ctx: FileContext, ret: Node, depth: int) -> bool:
    """The caller returns the failure on: its own callers (or its CLI/cobra frame) decide."""
    outer = gs.enclosing_function(ret)
    if outer is None:
        return False
    if _nonzero_status(ctx, ret) and is_cli_run(ctx, outer):
        return True
    if outer.type != "func_literal" and ends_on_return(ctx, outer):
        # main's `if err != nil { fmt.Println(err); return }`, `return 1` of a `run() int` whose result
        # goes to os.Exit: whatever the return hands back (nothing, a status), the process ends after it
        return True
    if not returns_failure(ctx, outer, ret):
        return False
    if _is_cobra_rune(ctx, outer):
        return True
    if outer.type == "func_literal":
        return _closure_error_ends_process(ctx, outer, depth)
    if outer.type not in ("function_declaration", "method_declaration") or depth >= 2:
        return False
    return _every_caller_exits(ctx, outer, depth + 1)


_HIVE_JOB = "github.com/cilium/hive/job"
"""cilium/hive, the lifecycle framework of cilium's programs (and others built on it): a job added with
the `job.WithShutdown()` option shuts the whole hive, i.e. the process, down when it returns an error."""


def _closure_error_ends_process(ctx: FileContext, lit: Node, depth: int) -> bool:
    """A func literal's error ends the process: the literal is an argument of a call that runs it and
    then ends the process, because
    - the call is a tail call of code that runs once and ends the process on return (a one-shot
      command's `cmd.Run(..., func() error {...})` as its last statement: rclone's `serve docker`);
      the runner may retry it a bounded number of times before it returns, then the process ends;
    - or the call hands it to a lifecycle framework with an option that shuts the process down on
      its error (`job.OneShot(name, fn, job.WithShutdown())` of cilium/hive)."""
    args = lit.parent
    call = args.parent if args is not None and args.type == "argument_list" else None
    if call is None or call.type != "call_expression":
        return False
    if _qualified(ctx, call).startswith(_HIVE_JOB + ".") and any(
        a.type == "call_expression" and _qualified(ctx, a) == _HIVE_JOB + ".WithShutdown" for a in gs.arguments(call)
    ):
        return True
    up = call.parent
    if up is not None and up.type != "expression_statement":
        return False  # its result is used: the caller may go on (or loop) on it
    return _tail_call(ctx, call, depth)


# ------------------------------------------------------- run once, then the process ends

_GENERATOR_DIRS = frozenset({"gen", "generate", "generator", "codegen", "tools", "hack"})
"""Directories of a module's batch programs (code generators, release tools): `package main` there
runs once from `go generate` or a developer's shell and exits; nothing it leaks outlives it."""


def is_generator(ctx: FileContext) -> bool:
    """A code generator or similar batch program: a `//go:build ignore` file (`go run gen.go`), or a
    `package main` under a `gen`/`generate`/`tools`/`hack` directory of its module."""
    if ctx.is_test:
        return False
    head = ctx.source[:2048]
    if re.search(rb"(?m)^//go:build\s+ignore\s*$", head) or re.search(rb"(?m)^// \+build\s+ignore\s*$", head):
        return True
    if gs.package_name(ctx) != "main":
        return False
    d = ctx.path.absolute().parent
    root = gomod.module_for_dir(d).root
    if root is None:
        return False
    try:
        rel = d.relative_to(Path(root).absolute()).parts
    except ValueError:
        return False
    return bool(_GENERATOR_DIRS & set(rel))


def _testing_m(ctx: FileContext, fn: Node) -> bool:
    """TestMain support (a parameter `m *testing.M`): it runs once per test binary, whose exit
    status it returns or hands to `os.Exit`; the binary ends right after."""
    alias = next((k for k, v in gs.imports(ctx).items() if v == "testing"), None)
    return alias is not None and any(t == f"*{alias}.M" for _, t in gs.parameters(ctx, fn))


def ends_on_return(ctx: FileContext, fn: Node | None, depth: int = 0) -> bool:
    """`fn` runs once per process and the process ends soon after it returns, so what it leaves
    behind (a goroutine stranded on its way out, a file left open) ends with the process:
    `main`, a TestMain helper (`m *testing.M`), a generator program's function, a one-shot CLI
    command (cobra `RunE`, ffcli `Exec`), or a function of a program whose every call is a *tail
    call* of such a function: not in a loop or a closure, and followed only by straight code
    (no loop other than a `range`, no `go`, no `select`, no channel operation) up to its return
    (opa's `bench --e2e`: benchE2E <- benchMain <- the command's RunE)."""
    if fn is None or fn.type not in gs.FUNC_TYPES:
        return False
    if fn.type == "function_declaration" and (
        ctx.text(fn.child_by_field_name("name")) == "main" and gs.package_name(ctx) == "main"
    ):
        return True
    if _testing_m(ctx, fn) and fn.type != "func_literal":
        return True
    if _one_shot_command(ctx, fn):
        return True
    if is_generator(ctx) or one_shot_program(ctx):
        return True  # a batch program: its closures too end with it
    if fn.type == "func_literal" or depth > _MAX_TAIL_DEPTH or ctx.is_test:
        return False
    memo: dict[int, bool] = ctx.cache.setdefault("exits.tail", {})  # type: ignore[assignment]
    if fn.start_byte not in memo:
        memo[fn.start_byte] = False  # recursion guard
        memo[fn.start_byte] = _every_caller_exits(ctx, fn, depth, tail=True)
    return memo[fn.start_byte]


_MAX_TAIL_DEPTH = 4
"""Callers followed up a chain of tail calls (argo's `watch` <- `WaitWatchOrLog` <- `submitWorkflows`
<- the command's RunE)."""


def one_shot_program(ctx: FileContext) -> bool:
    """`ctx`'s package runs only inside programs of its module that run one job and exit: no program
    reaching it serves, waits for signals or runs a periodic job (program/oneshot.py). A program-level
    fact, so every function of such a package ends with the process."""
    if is_test_code_ctx(ctx):
        return False
    got = ctx.cache.get("exits.oneshot_program")
    if isinstance(got, bool):
        return got
    from leakhunter.source.program.oneshot import only_in_one_shot_programs
    from leakhunter.source.program.types import own_path

    got = only_in_one_shot_programs(ctx.path.absolute().parent, own_path(ctx))
    ctx.cache["exits.oneshot_program"] = got
    return got


def runs_once_then_exits(ctx: FileContext, node: Node) -> bool:
    """The code at `node` runs inside a run that ends the process soon after (at most once per
    process run, or once per input of a one-shot program): `main`, a one-shot CLI command and what
    only it calls, a generator, any package reached only by one-shot programs. What it leaks
    (a file, a goroutine, a response) ends with the process a moment later. For the resource rules."""
    if one_shot_program(ctx):
        return True
    fn = node if node.type in gs.FUNC_TYPES else gs.enclosing_function(node)
    return ends_on_return(ctx, fn) or (fn is not None and ends_on_return(ctx, gs.enclosing_declaration(fn)))


def is_test_code_ctx(ctx: FileContext) -> bool:
    from leakhunter.source.program.testfail import is_test_code

    return is_test_code(ctx)


_SERVES_ON = frozenset({
    "Serve", "ServeTLS", "ListenAndServe", "ListenAndServeTLS", "Run", "Wait", "Join", "Block", "Loop",
    "Start", "Sleep", "Execute", "ExecuteContext", "RunContext",
})
"""Calls after which a program serves (or waits) on rather than ending: `srv.ListenAndServe()`,
`wg.Wait()`, `time.Sleep(...)`."""

_NOT_STRAIGHT = frozenset({"go_statement", "select_statement", "send_statement", "func_literal", "defer_statement"})


def _straight_after(ctx: FileContext, node: Node, fn: Node) -> bool:
    """Everything after `node` up to the end of `fn`, or up to a statement that ends the process
    (`os.Exit(0)` closing a mode of main), is straight code: no loop but a `range`, no `go`,
    `select`, send, receive or closure (the process is about to end, not to serve on)."""
    for p in gs.ancestors(node):
        if p is fn or p == fn:
            return True
        if (p.type == "for_statement" and not _stops_on_failure(node, p)) or p.type in gs.FUNC_TYPES or (
            p.type == "go_statement"
        ):
            return False  # a loop that may not end, a closure or goroutine: the call may repeat for ever
        if p.type in ("block", "statement_list") or p.type.endswith("_case"):
            for s in gs.statements(p):
                if s.start_byte < node.end_byte:
                    continue
                for n in gs.walk(s, into_func_literals=False):
                    if n.type in _NOT_STRAIGHT:
                        return False
                    if n.type == "for_statement" and not any(c.type == "range_clause" for c in n.named_children):
                        return False
                    if n.type == "unary_expression" and ctx.text(n.child_by_field_name("operator")) == "<-":
                        return False
                    if n.type == "call_expression" and gs.call_name(ctx, n).rpartition(".")[2] in _SERVES_ON:
                        return False
                if s.type == "return_statement":
                    return True  # the function returns here: what follows the block is not on this path
                if (s.type == "expression_statement" and s.named_children
                        and ends_process(ctx, s.named_children[0])):
                    return True  # `os.Exit(0)` after the call (goiardi's export mode): the process ends here
    return False


def _stops_on_failure(call: Node, loop: Node) -> bool:
    """`for _, x := range xs { if err := f(x); err != nil { return err } }`: a loop over a finite
    collection (two variables: not a channel) that stops at the call's first failure, so a leak on
    the call's failure path happens at most once (a loop that logs and goes on may leak per item)."""
    clause = next((c for c in loop.named_children if c.type == "range_clause"), None)
    left = clause.child_by_field_name("left") if clause is not None else None
    if left is None or len(left.named_children) != 2:
        return False
    for p in gs.ancestors(call):
        if p == loop:
            return False
        if p.type == "if_statement":
            head = p.child_by_field_name("initializer") or p.child_by_field_name("condition")
            if head is None or not (head.start_byte <= call.start_byte < head.end_byte):
                return False
            stmts = gs.statements(p.child_by_field_name("consequence"))
            return bool(stmts) and stmts[-1].type == "return_statement"
    return False


def _tail_call(ctx: FileContext, call: Node, depth: int) -> bool:
    """`call` runs once in a function that itself ends the process on return, and only straight
    code follows it there."""
    outer = gs.enclosing_function(call)
    if outer is None or not _straight_after(ctx, call, outer):
        return False
    return ends_on_return(ctx, outer, depth + 1)


def _case_of(node: Node) -> Node | None:
    """The select case holding `node` (or `node` itself), within its function."""
    for p in (node, *gs.ancestors(node)):
        if p.type in gs.FUNC_TYPES:
            return None
        if p.type == "communication_case":
            return p
    return None


def run_context_done(ctx: FileContext, node: Node) -> bool:
    """`node` is in a `case <-ctx.Done():` on a context made in a function that runs once and ends
    the process when it returns (k8s-proxy's `run`: `group, ctx = errgroup.WithContext(ctx)`, its
    servers' goroutines select on that ctx). That ctx ends once, when the run is ending: whatever
    is abandoned there ends with the process."""
    case = _case_of(node)
    comm = case.child_by_field_name("communication") if case is not None else None
    if comm is None:
        return False
    m = re.fullmatch(r"<-\s*([A-Za-z_]\w*)\.Done\(\)", ctx.text(comm).strip())
    if m is None:
        return False
    name = m.group(1)
    decl = gs.enclosing_declaration(node)
    if decl is None or decl.type != "function_declaration":
        return False
    for p in gs.ancestors(node):
        if p is decl or p == decl:
            break
        if p.type == "func_literal" and any(n == name for n, _ in gs.parameters(ctx, p)):
            return False  # the closure's own context, given by whoever calls it
        if p.type == "for_statement":
            return False
    body = decl.child_by_field_name("body")
    made = False
    for a in gs.walk(body, ("short_var_declaration", "assignment_statement")) if body is not None else ():
        lefts, _ = gs.assignment_sides(a)
        if any(ctx.text(x).strip() == name for x in lefts):
            made = True
    return made and ends_on_return(ctx, decl)


def server_closed_case(ctx: FileContext, node: Node) -> bool:
    """`node` is in a select case that goes on only when a server was closed: its body ends the
    process on every error but `http.ErrServerClosed` (`case err := <-hErr: h3.Close(); if
    !errors.Is(err, http.ErrServerClosed) { log.Fatal... }`, centrifugo's HTTP/3 pair). A server is
    closed at the end of its life, once, usually as the process shuts down. Not in test code, where
    servers are made per test."""
    case = _case_of(node)
    if case is None or is_test_code_ctx(ctx):
        return False
    for s in gs.statements(case):
        if s.type != "if_statement":
            continue
        cond = s.child_by_field_name("condition")
        if cond is not None and "ErrServerClosed" in ctx.text(cond) and block_ends_process(
            ctx, s.child_by_field_name("consequence")
        ):
            return True
    return False


# ------------------------------------------------------- the package's own exit helpers

_IN_HELPERS: set[str] = set()
"""Packages whose helpers are being computed (their own bodies must not consult the result)."""


def exiting_helpers(ctx: FileContext) -> dict[str, tuple[str, int]]:
    """Plain functions of `ctx`'s package (non-test) that end the process: name -> (kind, error param).

    - `exit`: the body ends the process unconditionally (`func fatalf(f string, a ...any) {
      slog.Error(fmt.Sprintf(f, a...)); os.Exit(1) }`, go-ethereum's `utils.Fatalf` shape);
    - `exit_on_err` / `panic_on_err`: `func check(err error) { if err != nil { log.Fatal(err) } }`
      or a `must` that panics on it (the error is the last parameter).
    Programs wrap their logger's fatal form this way (slog has none; hclog neither)."""
    from leakhunter.source.gopackage import package_facts

    if is_test_code_ctx(ctx) or b"func " not in ctx.source:
        return {}
    key = str(ctx.path.absolute().parent)
    if key in _IN_HELPERS:
        return {}
    _IN_HELPERS.add(key)
    try:
        return package_facts(ctx, "exits.helpers", _helpers_of)
    finally:
        _IN_HELPERS.discard(key)


def _helpers_of(files: list[FileContext]) -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    for f in files:
        if is_test_code_ctx(f):
            continue
        for fn in gs.walk(f.tree.root_node, "function_declaration"):
            name = f.text(fn.child_by_field_name("name"))
            body = fn.child_by_field_name("body")
            if not name or name in ("main", "init") or body is None:
                continue
            if block_ends_process(f, body):
                out[name] = ("exit", -1)
                continue
            params = gs.parameters(f, fn)
            if not params or params[-1][1] != "error" or not params[-1][0]:
                continue
            err = params[-1][0]
            for st in gs.statements(body):
                if st.type != "if_statement" or not gs.checks_err(f, st, err):
                    continue
                cons = st.child_by_field_name("consequence")
                if block_ends_process(f, cons):
                    out[name] = ("exit_on_err", len(params) - 1)
                elif any(x.type == "expression_statement" and x.named_children
                         and x.named_children[0].type == "call_expression"
                         and gs.call_name(f, x.named_children[0]) == "panic" for x in gs.statements(cons)):
                    out[name] = ("panic_on_err", len(params) - 1)
                break
    return out


def _exits_on_its_error(ctx: FileContext, call: Node) -> bool:
    """`call` is `check(err)` / `must(v, err)` of a package helper that ends the process on a non-nil
    error (a panicking one only where nothing recovers: a named function of a program's package)."""
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "identifier":
        return False
    kind, _ = exiting_helpers(ctx).get(ctx.text(fn), ("", 0))
    if kind == "exit_on_err":
        return True
    if kind != "panic_on_err":
        return False
    outer = gs.enclosing_function(call)
    if outer is None or outer.type not in ("function_declaration", "method_declaration"):
        return False
    if any(t.endswith("http.ResponseWriter") for _, t in gs.parameters(ctx, outer)):
        return False
    return _application_package(ctx)
