"""Which functions run at most once per process run (issue #8, "a ticker owned by a goroutine started once").

A ticker, a sleeping goroutine or a context made by `main`, `init`, a CLI command's `RunE`, or a
function only such code calls outside loops lives as long as the program by design: one of them, not
one per call. Two answers, of different reach: `runs_once` reads only the function's own package
(unexported functions, a package-level `var` initializer); `started_once` follows calls across the
module's packages (exported functions and methods, command fields, functions that end the program) and
is asked only about a finding about to be shown, since it may read every file that mentions the name.
The timer rules, LH105 and LH201 ask it; it is a fact about the program's calls, so it lives here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leakhunter.source import gosyntax as gs

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext


def _called_in_place(lit: Node) -> Node | None:
    """The function enclosing a func literal called where it is written (`func() {...}()`, `go
    func(){...}()`) outside any loop: it runs as often as that function. None otherwise."""
    p = lit.parent
    while p is not None and p.type == "parenthesized_expression":
        p = p.parent
    if p is None or p.type != "call_expression" or gs.in_loop(lit) is not None:
        return None
    return gs.enclosing_function(lit)


def runs_once(ctx: FileContext, fn: Node, depth: int = 0) -> bool:
    """True if `fn` runs at most once in the life of the program: `main`, `init`, a function (or
    a func literal inside one) called only from such functions outside any loop, or only from a
    package-level `var` initializer (`var defaultPoller = newPoller()`).

    A ticker owned by such a goroutine lives as long as the program by design: one ticker,
    not one per call. Exported functions may be called from other packages: never "once".
    """
    if depth > 3:
        return False
    if fn.type == "func_literal":
        outer = _called_in_place(fn)
        return outer is not None and runs_once(ctx, outer, depth + 1)
    if fn.type not in ("function_declaration", "method_declaration"):
        return False
    name = ctx.text(fn.child_by_field_name("name"))
    if fn.type == "function_declaration" and (name == "init" or (name == "main" and gs.package_name(ctx) == "main")):
        return True
    if not name or name[0].isupper() or name == "_":
        return False
    from leakhunter.source.gopackage import package_files

    refs = 0
    needle = name.encode()
    wanted = "field_identifier" if fn.type == "method_declaration" else "identifier"
    for f in package_files(ctx):
        # A file that never spells the name holds no call of it; the others are read from their
        # tree's index of nodes by type (a walk of every node per question was ~6 ms of Python).
        if f.is_test or needle not in f.source:
            continue
        src = f.source
        for n in gs.tree_index(f.tree.root_node).by_type.get(wanted, ()):
            if src[n.start_byte:n.end_byte] == needle:
                p = n.parent
                if p is not None and p.type in ("function_declaration", "method_declaration") and n == p.child_by_field_name("name"):
                    continue
                if p is not None and p.type == "method_elem":
                    return False  # an interface method: callers are anyone's
                if not _is_called(n):
                    return False  # a function value (`handler(waitReady)`): called any number of times
                refs += 1
                caller = gs.enclosing_function(n)
                if caller is None:
                    if not any(a.type == "var_declaration" for a in gs.ancestors(n)):
                        return False
                    continue
                if gs.in_loop(n) is not None or not runs_once(f, caller, depth + 1):
                    return False
    return refs > 0


def _is_called(name: Node) -> bool:
    """True if this mention of a function's name is the callee of a call (`f()`, `x.f()`),
    not a function value handed on, whose calls cannot be counted from here."""
    callee = name
    p = name.parent
    if p is not None and p.type == "selector_expression" and p.child_by_field_name("field") == name:
        callee, p = p, p.parent
    return p is not None and p.type == "call_expression" and p.child_by_field_name("function") == callee


_COMMAND_KEYS = frozenset({
    "Run", "RunE", "PreRun", "PreRunE", "PersistentPreRun", "PersistentPreRunE", "Action", "Before",
})
"""Command fields whose function a CLI framework calls once per process run (cobra, urfave/cli)."""
_MAX_ONCE_DEPTH = 8
"""Callers followed up from a function towards `main`: a service builds its parts through constructor
chains (kserve's adapters: main -> NewPullerServer -> NewPullerServerFromConfig -> NewPuller ->
NewPullerFromConfig -> NewPullManager -> newClientCache -> the cleanup ticker, seven calls, held-out set
104); 3 until session 32. Each level is read only for a finding about to be shown, and memoised."""
_MAX_ONCE_CALLS = 12


def started_once(ctx: FileContext, fn: Node, depth: int = 0) -> bool:
    """`fn` runs at most once per process run (what it starts lives as long as the process by design):
    `runs_once`, or (across packages) a function `program.exits` says runs once then ends the program,
    a command function of a CLI framework (`RunE: run`, `PersistentPreRun: func(cmd, args) {...}`:
    cobra and urfave/cli call it once), a func literal called in place in such a function, or a
    function or method, exported too, whose every call in the module's non-test code is outside
    loops in such a function (vttablet's `InitACL` from the command's `run`, vitess's `PurgeLogs`
    from each program's flag parsing). For the timer rules: a ticker owned by a background job
    started once at startup is the process's, not a leak per call. Only asked about a finding
    about to be shown (it may read every file of the module that mentions the name)."""
    if runs_once(ctx, fn):
        return True
    return _started_once(ctx, fn, depth)


def _started_once(ctx: FileContext, fn: Node, depth: int) -> bool:
    return _once_state(ctx, fn, depth) is True


_UNREACHED = "unreached"
"""`_once_state` of a function nothing in the module's production code calls (only tests, test support
or itself): it runs in no production process, so a call in it makes no second start there."""


def _once_state(ctx: FileContext, fn: Node, depth: int) -> bool | str:
    """True: `fn` runs at most once per process; False: it may run more often (or cannot be told);
    `_UNREACHED`: no production code of the module calls it (vitess's `SetProtocol` test hooks)."""
    from leakhunter.source.program import exits

    if depth > _MAX_ONCE_DEPTH or ctx.is_test:
        return False
    if fn.type == "func_literal":
        if _command_field(ctx, fn, fn) or _done_once(ctx, fn):
            return True
        outer = _called_in_place(fn)
        if outer is not None:
            return _once_state(ctx, outer, depth + 1)
        maker = _returned_by(fn)
        if maker is not None and _once_state(ctx, maker, depth + 1) == _UNREACHED:
            return _UNREACHED  # an option nothing asks for: its literal runs in no production process
        return False
    if fn.type not in ("function_declaration", "method_declaration"):
        return False
    name = ctx.text(fn.child_by_field_name("name"))
    if fn.type == "function_declaration" and (name == "init" or (name == "main" and gs.package_name(ctx) == "main")):
        return True
    if exits.ends_on_return(ctx, fn):
        return True
    memo = ctx.cache.setdefault("program.once", {})
    assert isinstance(memo, dict)
    if fn.start_byte in memo:
        got: bool | str = memo[fn.start_byte]
        return got
    memo[fn.start_byte] = False  # recursion guard
    got = _every_call_once(ctx, fn, name, depth)
    memo[fn.start_byte] = got
    return got


def _returned_by(lit: Node) -> Node | None:
    """The function or method that returns the func literal as written (`return func(pm *M) {...}`, a
    functional option): the literal runs only where what that function returns is called, so when nothing
    in the module's production code calls the function (`_UNREACHED`), the literal runs in no production
    process either (kserve's `CacheOptions`, whose closure is the second caller of the cache constructor that
    starts a cleanup ticker, held-out set 104). Any other answer of the maker says nothing about how often its
    result is called."""
    ret = lit.parent
    while ret is not None and ret.type in ("parenthesized_expression", "expression_list"):
        ret = ret.parent
    if ret is None or ret.type != "return_statement":
        return None
    decl = gs.enclosing_function(ret)
    return decl if decl is not None and decl.type in ("function_declaration", "method_declaration") else None


def _done_once(ctx: FileContext, lit: Node) -> bool:
    """The func literal runs once per process: it is handed to `once.Do` of a package-level `sync.Once`, in
    place (`once.Do(func() {...})`) or as what a function of the file returns, every call of which in the
    file is such an argument (`once.Do(newSingletonFactory(config))`: cluster-version-operator's dynamic
    client factory, whose cache-reset ticker runs for the process, held-out set 90). A `sync.Once` that is a
    field runs once per object, which may be one per request: not this."""
    if _once_do_argument(ctx, lit):
        return True
    decl = _returned_by(lit)
    if decl is None or decl.type != "function_declaration":
        return False
    name = ctx.text(decl.child_by_field_name("name"))
    calls = [c for c in gs.nodes_of_type(ctx, "call_expression")
             if (f := c.child_by_field_name("function")) is not None and f.type == "identifier"
             and ctx.text(f) == name]
    return bool(calls) and all(_once_do_argument(ctx, c) for c in calls)


def _once_do_argument(ctx: FileContext, n: Node) -> bool:
    """`n` is the one argument of `X.Do(n)` with X a package-level `sync.Once` variable of this file."""
    args = n.parent
    call = args.parent if args is not None and args.type == "argument_list" else None
    if call is None or call.type != "call_expression" or len(gs.arguments(call)) != 1:
        return False
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "selector_expression" or ctx.text(fn.child_by_field_name("field")) != "Do":
        return False
    op = fn.child_by_field_name("operand")
    if op is None or op.type != "identifier" or gs.is_local_name(ctx, op, ctx.text(op)):
        return False
    spec = gs.package_vars(ctx).get(ctx.text(op))
    typ = spec.child_by_field_name("type") if spec is not None else None
    return typ is not None and gs._compact(ctx.text(typ)) == "sync.Once"


def _command_field(ctx: FileContext, fn: Node, value: Node, vctx: FileContext | None = None) -> bool:
    """`value` (the function `fn` or its name, in `vctx`'s file) is a CLI command's field (`RunE: run`)
    and `fn` has a command's signature (its first parameter a `*cobra.Command` or `*cli.Context`)."""
    vc = vctx or ctx
    el = value.parent
    if el is not None and el.type == "expression_list" and el.parent is not None \
            and el.parent.type == "assignment_statement":
        # `app.Action = action` (urfave/cli v1 set up field by field: free5gc's n3iwf, held-out set 46)
        lefts, rights = gs.assignment_sides(el.parent)
        if len(lefts) != 1 or rights != [value] or lefts[0].type != "selector_expression" or \
                vc.text(lefts[0].child_by_field_name("field")) not in _COMMAND_KEYS:
            return False
    else:
        kv = el.parent if el is not None and el.type == "literal_element" else el
        if kv is None or kv.type != "keyed_element" or len(kv.named_children) != 2:
            return False
        if kv.named_children[1] not in (el, value) or vc.text(kv.named_children[0]).strip() not in _COMMAND_KEYS:
            return False
    params = gs.parameters(ctx, fn)
    return bool(params) and params[0][1].lstrip("*").endswith(("cobra.Command", "cli.Context", "cli.Command"))


def _every_call_once(ctx: FileContext, fn: Node, name: str, depth: int) -> bool | str:
    """Every mention of `fn`'s name in the module's production code that may reach it is a call outside
    any loop, in a function that itself runs once (or a command field naming it, in any package); at least
    one (none at all: `_UNREACHED`). Test code and test support (`testcode.is_test_file`) are not the
    production process, nor are `fn`'s own recursive calls and calls from functions only they reach: vitess
    calls `servenv.ParseFlags` from test hooks (`tmclienttest.SetProtocol`, and `binlogplayer.SetProtocol`,
    which only tests call), one start per test, while every program calls it once."""
    import os
    import re
    from pathlib import Path

    from leakhunter.source import gomod
    from leakhunter.source.program.exits import parsed_file
    from leakhunter.source.program.implementations import reaches_another_method
    from leakhunter.source.program.importers import importers
    from leakhunter.source.program.types import own_path
    from leakhunter.source.testcode import is_test_file

    if not name or name == "_":
        return False
    is_method = fn.type == "method_declaration"
    here = ctx.path.absolute()
    d = here.parent
    root = gomod.module_for_dir(d).root
    path = own_path(ctx)
    try:
        files = sorted(Path(e.path).absolute() for e in os.scandir(d)
                       if e.name.endswith(".go") and not e.name.endswith("_test.go"))
    except OSError:
        return False
    if name[0].isupper() and root is not None:
        # an exported method may be reached through an interface from any package of the module
        more = importers(root).code.get("" if is_method else path, [])
        files += [p.absolute() for p in more if p.absolute().parent != d]
    needle = re.compile(rb"\b" + re.escape(name.encode()) + rb"\b")
    recv = ""
    if is_method:
        params = gs.parameters(ctx, fn, "receiver")
        bare = params[0][1].lstrip("*").partition("[")[0] if params else ""
        recv = f"{path}.{bare}" if bare and path else ""
    calls = 0
    for p in files:
        try:
            data = here.read_bytes() if p == here else p.read_bytes()
        except OSError:
            return False
        if not needle.search(data) or (p != here and is_test_file(p)):
            continue
        f = ctx if p == here else parsed_file(p)
        if f is None:
            return False
        aliases = {a for a, ip in gs.imports(f).items() if ip == path}
        same_pkg = p.parent == d
        for m in needle.finditer(f.source):
            n = f.tree.root_node.descendant_for_byte_range(m.start(), m.end())
            if n is None or n.type not in ("identifier", "field_identifier"):
                continue
            up = n.parent
            if up is None:
                return False
            if up.type in ("function_declaration", "method_declaration") and up.child_by_field_name("name") == n:
                if f is ctx and up == fn:
                    continue
                if not same_pkg or is_method != (up.type == "method_declaration"):
                    continue  # another package's function, or a method beside a function of that name
                if not is_method and p != here:
                    continue  # the same function in another file of the package: a build variant
                    # (`stats_darwin.go`, `stats_linux.go`: one build holds one of them)
                if is_method:
                    continue  # another type's method of that name: each call below is judged by its operand
                return False  # a second declaration of the name: cannot tell
            if up.type in ("method_elem", "field_declaration"):
                continue
            callee = n
            if up.type == "selector_expression":
                if up.child_by_field_name("field") != n:
                    continue
                op = up.child_by_field_name("operand")
                if not is_method and (op is None or f.text(op) not in aliases):
                    continue  # another package's function of that name
                if is_method and op is not None and recv and reaches_another_method(f, op, recv, name):
                    continue  # `t.Start()` on a value of another concrete type: its own Start
                callee = up
            elif is_method or not same_pkg:
                continue  # a plain name reaches neither a method nor another package's function
            if _command_field(ctx, fn, callee, f):
                calls += 1
                continue  # `RunE: run`, `PreRunE: servenv.CobraPreRunE`
            if _fx_constructor(f, callee):
                calls += 1
                continue  # `fx.Provide(SetupStore)`: fx builds each value once per App
            if _once_do_argument(f, callee):
                calls += 1
                continue  # `statsOnce.Do(initStats)` of a package-level sync.Once (conjure, held-out set 109)
            call = callee.parent
            if call is None or call.type != "call_expression" or call.child_by_field_name("function") != callee:
                return False  # a function value: called any number of times
            if f is ctx and fn.start_byte <= call.start_byte < fn.end_byte:
                continue  # `fn` calling itself (a reset closure): no start beyond its callers'
            caller = gs.enclosing_function(call)
            if caller is None or gs.in_loop(call) is not None:
                return False
            state = _once_state(f, caller, depth + 1)
            if state == _UNREACHED:
                continue
            calls += 1
            if calls > _MAX_ONCE_CALLS or state is not True:
                return False
    return True if calls > 0 else _UNREACHED


_FX_TAKERS = frozenset({"go.uber.org/fx.Provide", "go.uber.org/fx.Invoke", "go.uber.org/fx.Annotate",
                        "go.uber.org/fx.Supply"})


def _fx_constructor(f: FileContext, value: Node) -> bool:
    """`value` (a function's name) is handed to uber/fx as a constructor or invoke function
    (`fx.Provide(SetupStore)`, `fx.Provide(fx.Annotate(New, ...))`, `fx.Invoke(run)`): fx calls it at most
    once per App, and an App is the process's (argus's Cassandra store, whose keep-alive ticker an fx
    provider starts and an OnStop hook stops, held-out set 94). Its calls are counted as one call in a
    function that runs once: the App's own start."""
    args = value.parent
    call = args.parent if args is not None and args.type == "argument_list" else None
    return call is not None and call.type == "call_expression" and gs.is_call_to(f, call, *_FX_TAKERS)


def service_starter(ctx: FileContext, fn: Node) -> bool:
    """`fn` is a library's process-level service starter: an exported package-level function that
    returns nothing, so that starting its worker is all a call does, and that the module's production
    code never calls (or calls only once per process, `started_once`). Such an API is called once by
    its users, at start-up (argoproj/pkg's `StartStatsTicker`, held-out set 39: "starts a goroutine
    which dumps stats at a specified interval", for the life of the program). A constructor that returns
    the object the worker serves, or a method, ties the worker to a value made many times: not this."""
    if ctx.is_test or fn.type != "function_declaration" or fn.child_by_field_name("result") is not None:
        return False
    name = ctx.text(fn.child_by_field_name("name"))
    if not name[:1].isupper():
        return False
    return _once_state(ctx, fn, 0) in (True, _UNREACHED)


_RUN_NAMES = frozenset({"Run", "Serve", "ListenAndServe", "run", "serve"})


def _runs_until_exit(ctx: FileContext, decl: Node) -> bool:
    """`decl` is a server's or daemon's run method or function (`Run`, `Serve`, `ListenAndServe`): one
    that parks its caller for good on a channel nothing signals keeps the process alive while its
    servers work, and the process ends by `os.Exit` from a signal handler (marmotedu/iam's
    `preparedAuthzServer.Run`, `<-stopCh // blocking here via channel to prevents the process exit`,
    held-out set 42). A handler or helper that blocks its caller for good is still reported."""
    if decl.type not in ("function_declaration", "method_declaration") or ctx.is_test:
        return False
    return ctx.text(decl.child_by_field_name("name")) in _RUN_NAMES


def main_goroutine(ctx: FileContext, fn: Node) -> bool:
    """`fn` runs on the process's main goroutine: `main`, `TestMain`, or a function every call of which
    in its file is a plain statement of one of those (telegraf's `externalProcess`, the deliberately
    hanging child a test re-executes its own binary as). Parking the main goroutine for ever is a
    program that waits to be killed, not a goroutine left behind."""
    if fn.type != "function_declaration":
        return False
    name = ctx.text(fn.child_by_field_name("name"))
    if name in ("main", "TestMain"):
        return name == "TestMain" or gs.package_name(ctx) == "main"
    calls = [c for c in gs.nodes_of_type(ctx, "call_expression")
             if (f := c.child_by_field_name("function")) is not None and f.type == "identifier" and ctx.text(f) == name]
    if not calls:
        return False
    for c in calls:
        st = c.parent
        if st is None or st.type != "expression_statement" or gs.enclosing_function(c) != gs.enclosing_declaration(c):
            return False
        outer = gs.enclosing_declaration(c)
        oname = ctx.text(outer.child_by_field_name("name")) if outer is not None else ""
        if oname not in ("main", "TestMain") or (oname == "main" and gs.package_name(ctx) != "main"):
            return False
    return True


def parks_on_purpose(ctx: FileContext, decl: Node) -> bool:
    """Blocking for good in `decl`'s own body parks a path that lives as long as the process, by design:
    the main goroutine (`main`'s closing `wg.Add(1); wg.Wait()` in tflow2, held-out set 43), a server's
    `Run`/`Serve`, or a function started once per process run (`started_once`: free5gc n3iwf's `Start`,
    yunikorn's server `Wait`, set 46; gauge's file watcher, set 44). LH102 asks it of a receive nothing
    feeds, LH106 of a Wait nothing marks Done; the same block reached per request, per connection or
    per object is still reported. Asked only about a finding about to be shown (`started_once` may read
    the module's callers)."""
    if main_goroutine(ctx, decl) or _runs_until_exit(ctx, decl):
        return True
    return decl.type in ("function_declaration", "method_declaration") and not ctx.is_test \
        and started_once(ctx, decl)
