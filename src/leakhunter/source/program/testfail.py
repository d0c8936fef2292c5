"""Has the test already failed on this path? (issue #8, false-positive shape 1)

A goroutine stranded, a WaitGroup never marked Done or a lock left held *after the test
has already failed* is not worth a report: the failure is the report, and the process
ends when `go test` does. Reviewers of test code reject such findings, so every rule that
reports a path (the goroutine rules, and the resource rules if they wish) asks here:

- `fails_test(ctx, call)`: `t.Error*`, `t.Fatal*`, `t.Fail*`, `t.Skip*` on a `*testing.T`
  / `B` / `F` / `TB` (a parameter of an enclosing function, or named t/b/tb, in any test
  code: the cgo tests live in non-`_test.go` files; `logger.Error` is not one); testify's
  `require.Fail`/`assert.Fail` and a suite's `s.T().Fatal`/`s.Require().FailNow`.
- `failed_before(ctx, node)`: a statement before `node` in one of its enclosing blocks
  (within the function) fails the test, e.g. `if err != nil { t.Error(err); return }`.
- `failure_every_caller_reports(ctx, ret)`: the `return` of a test helper hands back a
  failure (a non-nil error, or `false`) and every caller of the helper in the file turns
  that into a failed test (`if err != nil { t.Fatal(...) }`, `require.NoError(t, err)`,
  `if !ok() { t.Error(...) }`): the test already failed one level up.

Test code means a `_test.go` file or a file that imports "testing" (cmd/cgo/internal/test
holds its tests in ordinary files). Kept in one place so every rule judges it alike.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from leakhunter.source import gosyntax as gs
from leakhunter.source.program.importers import importers

if TYPE_CHECKING:
    from tree_sitter import Node

    from leakhunter.source.rule import FileContext

_FAIL_METHODS = frozenset(
    {
        "Error",
        "Errorf",
        "Fatal",
        "Fatalf",
        "Fail",
        "FailNow",
        "Skip",
        "Skipf",
        "SkipNow",
    }
)
_TESTING_TYPES = ("*testing.T", "*testing.B", "*testing.F", "testing.TB")
_ASSERT_PKGS = frozenset({"require", "assert"})
_SUITE_HEADS = (".T()", ".Require()", ".Assert()")
_TB_NAMES = frozenset({"t", "b", "tb", "f"})
_ASSERT_NO_ERROR = frozenset({"NoError", "Nil", "NoErrorf", "Nilf"})


def is_test_code(ctx: FileContext) -> bool:
    """A `_test.go` file, or one that imports "testing" (test code kept in ordinary files)."""
    return ctx.is_test or "testing" in gs.imports(ctx).values()


def testing_params(ctx: FileContext, node: Node) -> set[str]:
    """Names of `*testing.T`-like parameters of the functions enclosing `node` (closures too)."""
    alias = next((k for k, v in gs.imports(ctx).items() if v == "testing"), None)
    if alias is None:
        return set()
    types = {t.replace("testing", alias, 1) for t in _TESTING_TYPES}
    out: set[str] = set()
    for p in gs.ancestors(node):
        if p.type in gs.FUNC_TYPES:
            out.update(n for n, t in gs.parameters(ctx, p) if t in types and n not in ("", "_"))
    return out


def fails_test(ctx: FileContext, call: Node) -> bool:
    """True if `call` marks the running test failed (or skipped): nothing after it matters."""
    if call.type != "call_expression":
        return False
    name = gs.call_name(ctx, call)
    head, _, last = name.rpartition(".")
    if last == "Fail" and _ginkgo_fail(ctx, head):
        return True
    if not head:
        return False
    if head in _ASSERT_PKGS and last in ("Fail", "FailNow"):
        return True
    if last not in _FAIL_METHODS:
        return False
    if "." in head:
        # a testify suite: `s.T().Fatal(...)`, `s.Require().FailNow(...)`, `s.Assert().Fail(...)`
        return ctx.is_test and head.count(".") == 1 and head.endswith(_SUITE_HEADS)
    if not is_test_code(ctx):
        return False
    if ctx.is_test and last in ("Fail", "FailNow", "Fatal", "Fatalf"):
        return True  # `s.Fail(...)` of a testify suite; a logger's Fatal ends the process anyway
    # `t.Error`, not `logger.Error`: the receiver is a *testing.T-like parameter of an
    # enclosing function (closures see their test's t), or conventionally named t/b/tb
    return head in _TB_NAMES or head in testing_params(ctx, call)


def _is_ginkgo(path: str | None) -> bool:
    """onsi/ginkgo (v1, v2) or a fork of it that keeps its package (go-redis' `github.com/bsm/ginkgo/v2`,
    held-out set 39)."""
    if not path:
        return False
    parts = path.split("/")
    if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
        parts = parts[:-1]
    return parts[-1] == "ginkgo"


def _ginkgo_fail(ctx: FileContext, head: str) -> bool:
    """Ginkgo's `Fail(...)` (dot-imported, as Ginkgo suites do, or `ginkgo.Fail`): it fails the spec and
    panics out of it (rueidis' "BLPop is still blocked", held-out set 35: a goroutine stranded only
    after that failure)."""
    if head:
        return _is_ginkgo(gs.imports(ctx).get(head))
    return any(_is_ginkgo(p) for p in gs.dot_imports(ctx))


def _stmt_fails(ctx: FileContext, stmt: Node) -> bool:
    if stmt.type != "expression_statement" or not stmt.named_children:
        return False
    return fails_test(ctx, stmt.named_children[0])


def failed_before(ctx: FileContext, node: Node) -> bool:
    """A statement that fails the test runs, unconditionally, before `node` on its path.

    Looks at the earlier statements of every block (or case clause) enclosing `node`, up to
    its function: `if err != nil { t.Errorf(...); return }` puts the failure before the return.
    """
    if not is_test_code(ctx):
        return False
    cur = node
    for p in gs.ancestors(node):
        if p.type in gs.FUNC_TYPES:
            return False
        if p.type in ("block", "statement_list") or p.type.endswith("_case"):
            for s in gs.statements(p):
                if s.start_byte >= cur.start_byte:
                    break
                if _stmt_fails(ctx, s):
                    return True
        cur = p
    return False


def _failure_value(ctx: FileContext, fn: Node, ret: Node) -> int | None:
    """Index of the result that signals failure in `return ...` (a non-nil error or `false`)."""
    results = gs.result_types(ctx, fn)
    exprs = gs.returned_values(ret)
    if not results or len(exprs) != len(results):
        return None
    last = ctx.text(exprs[-1]).strip()
    if results[-1] == "error" and last != "nil":
        return len(results) - 1
    if results == ["bool"] and last == "false":
        return 0
    return None


def failure_every_caller_reports(ctx: FileContext, ret: Node) -> bool:
    """The helper returns a failure at `ret`, and every caller (in its file, else in its
    package) fails the test on it."""
    if ret.type != "return_statement" or not is_test_code(ctx):
        return False
    fn = gs.enclosing_function(ret)
    if fn is None or fn.type not in ("function_declaration", "method_declaration"):
        return False
    cache: dict[int, bool] = ctx.cache.setdefault("testfail.callers", {})  # type: ignore[assignment]
    idx = _failure_value(ctx, fn, ret)
    if idx is None:
        return False
    key = fn.start_byte * 8 + min(idx, 7)
    if key not in cache:
        cache[key] = _every_caller_fails(ctx, fn, idx)
    return cache[key]


def _every_caller_fails(ctx: FileContext, fn: Node, idx: int, depth: int = 0, loose: bool = False) -> bool:
    """Every call of `fn` (a declaration of `ctx`'s file) fails the test on its failure.

    Callers are looked for in the file first; a helper with no caller there (kept in a
    `helpers_test.go` of its package) is looked up in the package's other files."""
    seen = _callers_fail(ctx, ctx, fn, idx, depth, loose)
    if seen >= 0 and not ctx.is_test and _exported_support(ctx, fn):
        # test-support code: the tests of the packages that import it call it too, and count
        ext = _importing_tests_fail(ctx, fn, idx, depth)
        return ext >= 0 and seen + ext > 0
    if seen != 0 or not ctx.is_test:
        return seen > 0
    from leakhunter.source.gopackage import package_files

    name = ctx.text(fn.child_by_field_name("name")).encode()
    total = 0
    for other in package_files(ctx)[1:]:
        if name not in other.source:
            continue
        n = _callers_fail(other, ctx, fn, idx, depth, loose)
        if n < 0:
            return False
        total += n
    return total > 0


def _callers_fail(ctx: FileContext, home: FileContext, fn: Node, idx: int, depth: int, loose: bool = False) -> int:
    """Number of calls of `fn` (declared in `home`) in `ctx`'s file, -1 if one does not fail."""
    name = home.text(fn.child_by_field_name("name"))
    is_bool = gs.result_types(home, fn) == ["bool"]
    results = gs.result_types(home, fn)
    seen = 0
    method = fn.type == "method_declaration"
    for call in gs.nodes_of_type(ctx, "call_expression"):
        f = call.child_by_field_name("function")
        if f is not None and method and f.type == "selector_expression":
            f = f.child_by_field_name("field")  # `s.helper(...)`: a method of that name
        elif f is not None and f.type == "selector_expression" and ctx is not home:
            # `e2e.Helper(...)` from a test of another package: the operand must import the helper's
            op = f.child_by_field_name("operand")
            if op is None or gs.imports(ctx).get(ctx.text(op)) != _own_path(home):
                continue
            f = f.child_by_field_name("field")
        elif f is not None and method:
            continue
        if f is None or f.type not in ("identifier", "field_identifier") or ctx.text(f) != name:
            continue
        if ctx is home and call.start_byte >= fn.start_byte and call.end_byte <= fn.end_byte:
            return -1  # recursive: do not guess
        seen += 1
        ok = _asserted(ctx, call, is_bool) or (
            _bool_caller_fails(ctx, call)
            if is_bool
            else _error_caller_fails(ctx, call, idx, depth)
        ) or (loose and _asserted_later(ctx, call, idx))
        up = call.parent
        if up is not None and up.type == "expression_list":
            up = up.parent
        if not ok and depth < _MAX_DEPTH and up is not None and up.type == "return_statement":
            # `return helper(...)` from a wrapper with the same results: the wrapper's callers decide
            outer = gs.enclosing_function(call)
            ok = (
                outer is not None
                and outer.type in ("function_declaration", "method_declaration")
                and gs.result_types(ctx, outer) == results
                and _every_caller_fails(ctx, outer, idx, depth + 1)
            )
        if not ok:
            return -1
    return seen


_ASSERTS = frozenset({
    "NoError", "NoErrorf", "Nil", "Nilf", "Error", "Errorf", "ErrorIs", "ErrorContains", "EqualError", "True",
    "Truef", "False", "Falsef", "Fatal", "Fatalf",
})


def _result_assigned(ctx: FileContext, call: Node, idx: int, strip: bool = True) -> tuple[Node, str] | None:
    """`a, err := helper()`: the assignment and the name receiving result `idx` of `call`, or None
    when the call is not the only right-hand side of an assignment."""
    assign = call.parent
    if assign is not None and assign.type == "expression_list":
        assign = assign.parent
    if assign is None or assign.type not in ("short_var_declaration", "assignment_statement"):
        return None
    lefts, rights = gs.assignment_sides(assign)
    if len(rights) != 1 or idx >= len(lefts):
        return None
    name = ctx.text(lefts[idx])
    return assign, name.strip() if strip else name


def _asserted_later(ctx: FileContext, call: Node, idx: int) -> bool:
    """The caller keeps the helper's result (`out, err = helper()`) and a later assertion of its
    function checks it (`if !expectError { require.NoError(t, err) }`, `require.Error(t, err)`): the
    test judges the failure, even if only on some paths (vitess's `performVDiff2Action`)."""
    got = _result_assigned(ctx, call, idx)
    if got is None:
        return False
    assign, name = got
    fn = gs.enclosing_function(call)
    body = fn.child_by_field_name("body") if fn is not None else None
    if name in ("", "_") or body is None:
        return False
    for c in gs.walk(body, "call_expression"):
        if c.start_byte <= assign.end_byte:
            continue
        head, _, last = gs.call_name(ctx, c).rpartition(".")
        if head and last in _ASSERTS and name in (ctx.text(a).strip() for a in gs.arguments(c)):
            return True
    return _asserted_after_hand_over(ctx, body, assign, name)


def _asserted_after_hand_over(ctx: FileContext, body: Node, assign: Node, name: str) -> bool:
    """The caller sends the result on a channel (`resultChan <- result{line, err}`) and the test
    that receives it asserts on it (`res, ok := <-resultChan` ... `require.ErrorIs(c, res.err, ...)`):
    rclone's git-annex test runs the helper in a goroutine and judges its timeout that way."""
    decl = gs.enclosing_declaration(assign)
    if decl is None:
        return False
    for send in gs.walk(body, "send_statement"):
        value, chan = send.child_by_field_name("value"), send.child_by_field_name("channel")
        if send.start_byte <= assign.end_byte or value is None or chan is None or chan.type != "identifier":
            continue
        if not any(gs.identifiers(ctx, value, name)):
            continue
        for d in gs.walk(decl, "short_var_declaration", into_func_literals=True):
            lefts, rights = gs.assignment_sides(d)
            r = rights[0] if len(rights) == 1 else None
            if (not lefts or r is None or r.type != "unary_expression" or ctx.text(r).replace(" ", "")
                    != f"<-{ctx.text(chan)}"):
                continue
            got = ctx.text(lefts[0]).strip()
            scope = d.parent
            for c in gs.walk(scope, "call_expression") if scope is not None and got != "_" else ():
                head, _, last = gs.call_name(ctx, c).rpartition(".")
                if c.start_byte > d.end_byte and head and last in _ASSERTS_OF_ERRORS and any(
                    t == got or t.startswith(got + ".") for t in (ctx.text(a).strip() for a in gs.arguments(c))
                ):
                    return True
    return False


_ASSERTS_OF_ERRORS = frozenset({
    "NoError", "NoErrorf", "Error", "Errorf", "ErrorIs", "ErrorIsf", "ErrorContains", "EqualError", "ErrorAs",
})


def _asserted(ctx: FileContext, call: Node, is_bool: bool) -> bool:
    """`require.NoError(t, helper())`, `assert.True(t, ok())`, `s.Require().NoError(helper())`."""
    args = call.parent
    outer = args.parent if args is not None and args.type == "argument_list" else None
    if outer is None or outer.type != "call_expression":
        return False
    head, _, last = gs.call_name(ctx, outer).rpartition(".")
    want = ("True", "Truef") if is_bool else ("NoError", "NoErrorf", "Nil", "Nilf")
    return bool(head) and last in want


def _consequence_fails(ctx: FileContext, if_stmt: Node) -> bool:
    cons = if_stmt.child_by_field_name("consequence")
    return any(_stmt_fails(ctx, s) for s in gs.statements(cons))


def _bool_caller_fails(ctx: FileContext, call: Node) -> bool:
    """`if !helper() { t.Error(...) }`."""
    neg = call.parent
    if neg is None or neg.type != "unary_expression" or ctx.text(neg).lstrip()[:1] != "!":
        return False
    cond = neg.parent
    while cond is not None and cond.type == "parenthesized_expression":
        cond = cond.parent
    return (
        cond is not None
        and cond.type == "if_statement"
        and cond.child_by_field_name("condition") == neg
        and _consequence_fails(ctx, cond)
    )


def _error_caller_fails(ctx: FileContext, call: Node, idx: int, depth: int) -> bool:
    """`v, err := helper(); if err != nil { t.Fatal(err) }` (or `require.NoError(t, err)` next)."""
    got = _result_assigned(ctx, call, idx, strip=False)
    if got is None:
        return False
    assign, err = got
    if err in ("_", ""):
        return False
    # the `if` it initialises, or the first of the next few statements that mentions err
    s = gs.error_handler(ctx, assign, err)
    if s is None:
        return False
    if s.type == "if_statement":
        if not gs.checks_err(ctx, s, err):
            return False
        if _consequence_fails(ctx, s):
            return True
        # `if err != nil { return nil, err }`: handed on, as a bare `return x, err` below
        tail = gs.statements(s.child_by_field_name("consequence"))[-1:]
        s = tail[0] if tail and tail[0].type == "return_statement" else s
    if s.type == "return_statement" and depth < _MAX_DEPTH:
        # `return x, err`: the enclosing helper hands the failure on; its callers decide
        outer = gs.enclosing_function(s)
        if (
            outer is not None
            and outer.type in ("function_declaration", "method_declaration")
            and gs.result_types(ctx, outer)[-1:] == ["error"]
            and _failure_value(ctx, outer, s) is not None
            and ctx.text(gs.returned_values(s)[-1]).strip() == err
        ):
            return _every_caller_fails(ctx, outer, len(gs.result_types(ctx, outer)) - 1, depth + 1)
        return False
    if s.type == "expression_statement" and s.named_children:
        c = s.named_children[0]
        if c.type != "call_expression":
            return False
        head, _, last = gs.call_name(ctx, c).rpartition(".")
        args = [ctx.text(a) for a in gs.arguments(c)]
        # require.NoError(t, err), assert.NoError(t, err), s.NoError(err), s.Require().NoError(err)
        return bool(head) and last in _ASSERT_NO_ERROR and err in args
    return False


def _own_path(ctx: FileContext) -> str:
    from leakhunter.source.program.types import own_path

    return own_path(ctx)


_MAX_DEPTH = 3
"""Wrappers followed up the call chain (`request` <- `GetDataWithRawInput` <- `GetDataWithInput` <-
`GetDataWithInputTyped` <- the tests, in opa's e2e runtime)."""

_MAX_TEST_FILES = 80


def _exported_support(ctx: FileContext, fn: Node) -> bool:
    """An exported function of test-support code kept in an ordinary file (it imports "testing")."""
    return ctx.text(fn.child_by_field_name("name"))[:1].isupper() and is_test_code(ctx)


def _importing_tests_fail(home: FileContext, fn: Node, idx: int, depth: int) -> int:
    """Calls of an exported helper of a test-support package (opa's e2e `TestRuntime`) in the tests
    of the packages that import it: their number if every one fails the test on the helper's
    failure, -1 otherwise (or when there are too many files to read)."""
    from pathlib import Path

    from leakhunter.source import gomod
    from leakhunter.source.program.exits import parsed_file

    name = home.text(fn.child_by_field_name("name"))
    root = gomod.module_for_dir(home.path.absolute().parent).root
    if root is None:
        return 0
    files = importers(Path(root)).tests.get(_own_path(home), [])
    if len(files) > _MAX_TEST_FILES:
        return -1
    needle = name.encode()
    total = 0
    for path in files:
        other = parsed_file(Path(path))
        if other is None:
            return -1
        if needle not in other.source:
            continue
        n = _callers_fail(other, home, fn, idx, depth)
        if n < 0:
            return -1
        total += n
    return total


_TIMEOUT_MAKERS = ("context.WithTimeout", "context.WithDeadline", "context.WithTimeoutCause",
                   "context.WithDeadlineCause")


def gave_up_on_own_timeout(ctx: FileContext, witness: Node) -> bool:
    """In test code (or a test-support package: one whose other files import "testing"), the owner
    leaves at `witness` only through a select case that fires when its own timeout ran out:
    `<-time.After(d)` (or a variable holding it), `<-timer.C` of a `time.NewTimer`, `<-c.Done()` of a
    context the enclosing function made with `context.WithTimeout`/`WithDeadline`; `witness` is in
    that case, or after a select holding one. A goroutine left behind there strands only after the
    test timed out, and is not shown when
    - the case returns a failure (a non-nil error, `false`) that every caller of the helper checks
      with an assertion, even on some paths only (vitess's `execVDiffWithRetry`, argo's e2e
      `runWithTimeout`): the test judges the timeout;
    - or the function tears test infrastructure down (`TearDown`, `Cleanup`, or only called from one:
      vitess's cluster teardown waits): once, as the test ends.
    A timeout that hands back an ordinary value nobody checks stays shown (the test passes with the
    sender stranded)."""
    if not is_test_code(ctx) and not _test_support_package(ctx):
        return False
    case = _timeout_case(ctx, witness)
    if case is None:
        return False
    if _in_teardown(ctx, case):
        return True  # test infrastructure tearing down gives up waiting: once, at the end of a test
    inside = case.start_byte <= witness.start_byte < case.end_byte
    if _case_fails_test(ctx, case) and (inside or _only_rival(case)):
        return True
    if not inside:
        return False
    ret = next((r for r in gs.statements(case) if r.type == "return_statement"), None)
    outer = gs.enclosing_function(case)
    if ret is None or outer is None or outer.type not in ("function_declaration", "method_declaration"):
        return False
    idx = _failure_value(ctx, outer, ret)
    if idx is None:
        return False
    memo: dict[int, bool] = ctx.cache.setdefault("testfail.timeout", {})  # type: ignore[assignment]
    if outer.start_byte not in memo:
        memo[outer.start_byte] = _every_caller_fails(ctx, outer, idx, loose=True)
    return memo[outer.start_byte]


def _case_fails_test(ctx: FileContext, case: Node) -> bool:
    """The timeout case fails the test itself: it calls `t.Fatal` (or the like), asserts that an error
    it makes is nil (`c.Assert(errors.New("time out error"), IsNil)`, go-mysql's backup test, held-out
    set 47), or sets an error that the statement right after its select asserts is nil (`err =
    fmt.Errorf("timed out")` ... `require.NoError(t, err)`, go-ceph's connect helpers, set 47). What
    it leaves behind strands only once the test has failed."""
    stmts = gs.statements(case)
    for st in stmts:
        call = st.named_children[0] if st.type == "expression_statement" and st.named_children else None
        if call is not None and (fails_test(ctx, call) or any(_made_error(ctx, a) for a in _nil_asserted(ctx, call))):
            return True
    last = stmts[-1] if stmts else None
    if last is None or last.type != "assignment_statement":
        return False
    lefts, rights = gs.assignment_sides(last)
    if len(lefts) != 1 or len(rights) != 1 or lefts[0].type != "identifier" or not _made_error(ctx, rights[0]):
        return False
    name = ctx.text(lefts[0])
    sel = case.parent
    block = sel.parent if sel is not None else None
    after = [st for st in gs.statements(block) if sel is not None and st.start_byte >= sel.end_byte][:1]
    if not after:
        return False
    nxt = after[0]
    if nxt.type == "expression_statement" and nxt.named_children:
        return any(ctx.text(a).strip() == name for a in _nil_asserted(ctx, nxt.named_children[0]))
    if nxt.type == "if_statement" and nxt.child_by_field_name("initializer") is None:
        cond = nxt.child_by_field_name("condition")
        return cond is not None and gs._compact(ctx.text(cond)) == f"{name}!=nil" and _consequence_fails(ctx, nxt)
    return False


def _only_rival(case: Node) -> bool:
    """The timeout case's select has one other case and no default: a path past the select that did not
    time out received what the goroutine sent (go-ceph's connect helpers). With a third case (a context's
    `Done`), the owner may leave through it without failing the test."""
    sel = case.parent
    cases = [c for c in sel.named_children if c.type in ("communication_case", "default_case")] \
        if sel is not None else []
    return len(cases) == 2 and all(c.type == "communication_case" for c in cases)


_MADE_ERRORS = frozenset({"errors.New", "fmt.Errorf", "errors.Errorf"})


def _made_error(ctx: FileContext, e: Node) -> bool:
    """`e` makes a new error, never nil (`errors.New("...")`, `fmt.Errorf(...)`)."""
    return e.type == "call_expression" and gs.qualified_call_name(ctx, e) in _MADE_ERRORS


def _nil_asserted(ctx: FileContext, call: Node) -> list[Node]:
    """The values `call` asserts are nil, failing the test otherwise: testify's `require.NoError(t, x)`,
    `assert.Nil(t, x)`, a suite's `s.NoError(x)`; gocheck's `c.Assert(x, IsNil)`."""
    if call.type != "call_expression":
        return []
    head, _, last = gs.call_name(ctx, call).rpartition(".")
    args = gs.arguments(call)
    if not head or not args:
        return []
    if last in ("NoError", "NoErrorf", "Nil", "Nilf"):
        return args[1:2] if ctx.text(args[0]).strip() in testing_params(ctx, call) | _TB_NAMES else args[:1]
    if last == "Assert" and len(args) >= 2 and ctx.text(args[1]).rpartition(".")[2] == "IsNil":
        return args[:1]
    return []


def _timeout_case(ctx: FileContext, witness: Node) -> Node | None:
    """The timeout case holding `witness`, else the timeout case of a select that is an earlier
    statement of a block enclosing `witness` (within its function)."""
    cur: Node | None = witness
    while cur is not None and cur.type != "communication_case":
        if cur.type in gs.FUNC_TYPES:
            cur = None
            break
        cur = cur.parent
    if cur is not None:
        return cur if _is_timeout(ctx, cur) else None
    prev = witness
    for p in gs.ancestors(witness):
        if p.type in gs.FUNC_TYPES:
            return None
        if p.type in ("block", "statement_list") or p.type.endswith("_case"):
            for st in gs.statements(p):
                if st.start_byte >= prev.start_byte:
                    break
                if st.type == "select_statement":
                    found = next((c for c in st.named_children if c.type == "communication_case"
                                  and _is_timeout(ctx, c)), None)
                    if found is not None:
                        return found
        prev = p
    return None


def _is_timeout(ctx: FileContext, case: Node) -> bool:
    comm = case.child_by_field_name("communication")
    if comm is not None and comm.type == "receive_statement":
        comm = comm.child_by_field_name("right")
    if comm is None or comm.type != "unary_expression":
        return False
    src = comm.child_by_field_name("operand")
    if src is None:
        return False
    if src.type == "call_expression":
        name = gs.qualified_call_name(ctx, src)
        fn = src.child_by_field_name("function")
        return name == "time.After" or (
            name.endswith(".Done") and fn is not None and fn.type == "selector_expression" and not gs.arguments(src)
            and _made_by(ctx, case, fn.child_by_field_name("operand"), _TIMEOUT_MAKERS)
        )
    if src.type == "identifier":
        return _made_by(ctx, case, src, ("time.After",))
    if src.type == "selector_expression" and ctx.text(src.child_by_field_name("field")) == "C":
        return _made_by(ctx, case, src.child_by_field_name("operand"), ("time.NewTimer",))
    return False


def _made_by(ctx: FileContext, at: Node, var: Node | None, makers: tuple[str, ...]) -> bool:
    """`var` is assigned, in a function enclosing `at`, from one of `makers` (and from nothing else)."""
    if var is None or var.type != "identifier":
        return False
    name = ctx.text(var)
    found = False
    for fn in (p for p in gs.ancestors(at) if p.type in gs.FUNC_TYPES):
        body = fn.child_by_field_name("body")
        for a in gs.walk(body, ("short_var_declaration", "assignment_statement")) if body is not None else ():
            lefts, rights = gs.assignment_sides(a)
            names = [ctx.text(x).strip() for x in lefts]
            if name not in names:
                continue
            if len(rights) != 1 or rights[0].type != "call_expression":
                return False
            if gs.qualified_call_name(ctx, rights[0]) not in makers:
                return False
            found = True
        if found:
            return True
    return False


def test_support_package(ctx: FileContext) -> bool:
    """Another file of `ctx`'s package imports "testing": its helpers run only under `go test`."""
    return _test_support_package(ctx)


def _test_support_package(ctx: FileContext) -> bool:
    """Another file of `ctx`'s package imports "testing": the package is test support (argo's
    `test/e2e/fixtures`), whose helpers run only under `go test`."""
    got = ctx.cache.get("testfail.support")
    if isinstance(got, bool):
        return got
    from leakhunter.source.gopackage import package_files

    got = any(is_test_code(f) for f in package_files(ctx)[1:])
    ctx.cache["testfail.support"] = got
    return got


_TEARDOWN = re.compile(r"(?i)tear_?down|clean_?up")
"""Teardown names only: a test helper's Stop/Close/Shutdown is also called mid-test (vitess's
`MysqlctlProcess.Stop` by the vtorc failover tests), where a stranded goroutine outlives the call."""


def _in_teardown(ctx: FileContext, node: Node) -> bool:
    """`node` is in a teardown of test infrastructure: a function named TearDown/Teardown/Cleanup, or
    one whose every call in its file is inside such a function (vitess's
    `waitForMySQLProcessToExit`, run by the cluster's `Teardown`). A wait it gives up on happens once,
    as the test (or the whole `go test` run) ends."""
    decl = gs.enclosing_declaration(node)
    if decl is None:
        return False
    name = ctx.text(decl.child_by_field_name("name"))
    if _TEARDOWN.search(name):
        return True
    calls = [
        c for c in gs.nodes_of_type(ctx, "call_expression")
        if gs.call_name(ctx, c).rpartition(".")[2] == name and not (decl.start_byte <= c.start_byte < decl.end_byte)
    ]
    outer = [gs.enclosing_declaration(c) for c in calls]
    return bool(outer) and all(
        o is not None and _TEARDOWN.search(ctx.text(o.child_by_field_name("name"))) for o in outer
    )


def receipt_fails(ctx: FileContext, recvs: list[Node]) -> str:
    """How the test treats what every receive in `recvs` (the `<-ch` expressions of one channel)
    takes: "any" when it fails the test on any value (`case e := <-errCh: t.Fatal(e)`), "non-nil"
    when it fails on a non-nil one (`if err != nil { t.Fatal(err) }`, `require.NoError(t, <-errCh)`),
    "" when a receive does something else with it (the value is a result, not a verdict).

    xray-core's channel tests: goroutines check what the code under test delivers and send on an
    unbuffered `errCh` only when a check fails; the test receives once and `t.Fatal`s. A passing run
    sends nothing, so a send strands only after a check failed (issue #8, held-out 5 shape 1)."""
    if not recvs or not is_test_code(ctx):
        return ""
    modes = {_receipt_mode(ctx, r) for r in recvs}
    if "" in modes:
        return ""
    return "non-nil" if "non-nil" in modes else "any"


def _receipt_mode(ctx: FileContext, recv: Node) -> str:
    up = recv.parent
    if up is None:
        return ""
    if up.type == "argument_list" and up.parent is not None:
        call = up.parent  # `t.Fatal(<-errCh)`, `require.NoError(t, <-errCh)`
        if fails_test(ctx, call):
            return "any"
        head, _, last = gs.call_name(ctx, call).rpartition(".")
        return "non-nil" if head and last in _ASSERT_NO_ERROR else ""
    name = ""
    stmts: list[Node]
    if up.type == "communication_case" or (up.type == "receive_statement" and up.parent is not None
                                           and up.parent.type == "communication_case"):
        case = up if up.type == "communication_case" else up.parent
        assert case is not None
        if up.type == "receive_statement":
            left = up.child_by_field_name("left")
            name = ctx.text(left.named_children[0]).strip() if left is not None and left.named_children else ""
        comm = case.child_by_field_name("communication")
        stmts = [s for s in gs.statements(case) if comm is None or s.id != comm.id][:1]
    elif up.type == "expression_list" and up.parent is not None and up.parent.type == "short_var_declaration":
        assign = up.parent
        lefts, rights = gs.assignment_sides(assign)
        if len(rights) != 1 or not lefts:
            return ""
        name = ctx.text(lefts[0]).strip()
        handler = gs.error_handler(ctx, assign, name)
        stmts = [handler] if handler is not None else []
    else:
        return ""
    if not stmts:
        return ""
    s = stmts[0]
    if _stmt_fails(ctx, s):
        return "any"
    if name in ("", "_"):
        return ""
    if s.type == "if_statement" and gs.checks_err(ctx, s, name) and _consequence_fails(ctx, s):
        return "non-nil"
    if s.type == "expression_statement" and s.named_children and s.named_children[0].type == "call_expression":
        c = s.named_children[0]
        head, _, last = gs.call_name(ctx, c).rpartition(".")
        if head and last in _ASSERT_NO_ERROR and name in (ctx.text(a).strip() for a in gs.arguments(c)):
            return "non-nil"
    return ""


_ERROR_MAKERS = frozenset({"errors.New", "fmt.Errorf"})
_BRANCHES = ("if_statement", "expression_case", "type_case", "communication_case", "default_case")


def reports_failure(ctx: FileContext, send: Node, mode: str) -> bool:
    """The send (a `send_statement`) hands the receiver a value it fails the test on (`mode` from
    `receipt_fails`), and only on a branch: under `mode == "any"` any send inside an `if`/case of its
    goroutine (a check that failed); under "non-nil" `errCh <- err` inside `if err != nil` (or an
    error made there with errors.New/fmt.Errorf). An unconditional send, or `errCh <- nil`, is not
    a failure report."""
    if not mode or send.type != "send_statement":
        return False
    branch = None
    for p in gs.ancestors(send):
        if p.type in gs.FUNC_TYPES:
            break
        if p.type in _BRANCHES:
            branch = p
            break
    if branch is None:
        return False
    if mode == "any":
        return True
    value = send.child_by_field_name("value")
    if value is None:
        return False
    if value.type == "call_expression":
        return gs.qualified_call_name(ctx, value) in _ERROR_MAKERS
    if value.type != "identifier":
        return False
    name = ctx.text(value)
    for p in gs.ancestors(send):
        if p.type in gs.FUNC_TYPES:
            return False
        cons = p.parent.child_by_field_name("consequence") if p.parent is not None else None
        if (p.parent is not None and p.parent.type == "if_statement" and cons is not None and cons.id == p.id
                and gs.checks_err(ctx, p.parent, name)):
            return True
    return False
