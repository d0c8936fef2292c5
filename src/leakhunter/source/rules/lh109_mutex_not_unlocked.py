"""LH109 mutex-not-unlocked: a mutex locked again while held, or left locked on a return path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from leakhunter.model import Finding
from leakhunter.source import gosyntax as gs
from leakhunter.source.goflow import Paths, block_terminates, line
from leakhunter.source.program.concurrency import concurrency
from leakhunter.source.rule import FileContext, Rule

if TYPE_CHECKING:
    from tree_sitter import Node

_LOCKS = {"Lock": "W", "RLock": "R"}
_UNLOCKS = {"Unlock": "W", "RUnlock": "R"}


class MutexNotUnlocked(Rule):
    """A sync.Mutex / RWMutex that is locked while already held, or never unlocked on some path.

    Three shapes, all in one function (Go mutexes are not reentrant):

    - `mu.Lock()` then `mu.Lock()` (or `RLock` after `Lock`, `Lock` after `RLock`) with no
      unlock in between: the goroutine blocks on itself, forever;
    - a method holds `r.mu` (locked, or locked with `defer r.mu.Unlock()`) and calls another
      method of the same receiver that starts with `r.mu.Lock()`: the same self-deadlock,
      one call away (deeper chains are not followed: an intermediate method often locks
      only on a branch its caller rules out, `if locked { fooLocked() } else { foo() }`);
    - `mu.Lock()` followed by `mu.Unlock()` on some paths, but a `return` on another path
      leaves the mutex locked: every later `Lock` of it, in any goroutine, blocks forever.

    Why it leaks: a goroutine blocked in `Lock` is never collected, and with it every
    goroutine that queues behind it; a service degrades one stuck request at a time.

    The fix: `defer mu.Unlock()` right after `mu.Lock()`; call the unlocked variant of a
    helper (`fooLocked`) while holding the lock; unlock before the early return.

    Not reported: a Lock inside an `if` (a conditional lock usually pairs with a
    conditional unlock), functions that unlock in a `defer` (also `defer once.Do(mu.Unlock)`;
    an early `once.Do(mu.Unlock)` is an unlock), functions with no unlock of
    that mutex at all (lock hand-over: a `lock()` helper), paths that panic or end the
    test (`t.Fatal`), `RLock` after `RLock`.

    Off by default in `scan` (`--enable LH109`, or `enable` in `.leakhunter.toml`): whether a
    path is taken and what releases a lock are semantics the syntax does not hold, and on
    held-out modules nobody had tuned it on it was true for 5 of 19 production findings at
    first contact (sets 1-16), 1 of 8 in the last six sets, after a fix for each false shape
    found (closures and `sync.Once` that unlock, branches that exclude each other): the
    misses were paths that cannot run (a `json.Marshal` of plain data failing, a merge
    operator that never errs), unlocks through a wrapper or a flag-guarded deferred
    closure, a start signal (`NotifyStartedFunc = mu.Unlock`). `watch`, `soak` and
    `goroutines --source` still run it: there a goroutine parked in `Lock` at the same line
    supplies the evidence the syntax lacks.
    """

    id = "LH109"
    name = "mutex-not-unlocked"
    severity = "error"
    enabled_by_default = False
    fix = (
        "defer mu.Unlock() right after mu.Lock(), unlock before every return, and do not call "
        "a method that locks the same mutex while holding it"
    )
    leaking_example = """\
func (c *cache) get(k string) (v []byte, err error) {
	c.mu.Lock()
	v, ok := c.m[k]
	if !ok {
		return nil, errMissing // c.mu stays locked: every later get blocks forever
	}
	c.mu.Unlock()
	return v, nil
}"""
    fixed_example = """\
func (c *cache) get(k string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	if !ok {
		return nil, errMissing
	}
	return v, nil
}"""

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if b"Lock()" not in ctx.source:
            return
        for info in gs.functions(ctx):
            if info.body is None:
                continue
            locks = [c for c in _calls(ctx, info.body) if _method(ctx, c)[1] in _LOCKS]
            for call in locks:
                yield from self._one(ctx, info.node, info.body, call)

    def _one(self, ctx: FileContext, fn: Node, body: Node, call: Node) -> Iterator[Finding]:
        mu, method = _method(ctx, call)
        stmt = call.parent
        if stmt is None or stmt.type != "expression_statement" or not mu or "(" in mu:
            return
        kind = _LOCKS[method]
        calls = _calls(ctx, body)
        defers = [
            d
            for d in gs.walk(body, "defer_statement", into_func_literals=False)
            if f"{mu}.Unlock()" in ctx.text(d) or f"{mu}.RUnlock()" in ctx.text(d)
            or any(_release_closure(ctx, c, mu, kind, body) or _once_unlock(ctx, c, mu, kind)
                   for c in d.named_children if c.type == "call_expression")
        ]
        later = [c for c in calls if c.start_byte > call.end_byte]
        unlocks = [
            c
            for c in later
            if (_releases(ctx, c, mu, kind) or _release_helper(ctx, c, mu, kind)
                or _release_closure(ctx, c, mu, kind, body)) and not _in_other_scope(c, body)
        ]
        deferred = any(
            d.start_byte > call.end_byte and _same_block_chain(stmt, d) for d in defers
        )
        # held until the first unlock after the lock (in source order), else to the end
        end = min((u.start_byte for u in unlocks), default=body.end_byte)
        fname = gs.function_name(ctx, call)
        block = stmt.parent
        held_block_returns = block is not None and block != body and block_terminates(ctx, block)
        for c in later:
            if c.start_byte >= end:
                break
            if _in_other_scope(c, body) or _sibling_case(stmt, c):
                continue  # runs at another time, or in another case of the lock's switch/select
            if held_block_returns and not any(p == block for p in gs.ancestors(c)):
                continue  # every path through the lock's block returns: the call after it runs unlocked
            cmu, cm = _method(ctx, c)
            if (
                cmu == mu
                and cm in _LOCKS
                and not (kind == "R" and _LOCKS[cm] == "R")
                and _same_block_chain(stmt, c)
                and not _unlocked_elsewhere(ctx, fn, mu)
            ):
                    yield self.finding(
                        ctx,
                        c,
                        f"{mu}.{cm}() while {mu} is already held ({mu}.{method}() at line "
                        f"{line(call)}, no unlock in between): sync mutexes are not reentrant, "
                        "the goroutine blocks on itself forever",
                        function=fname,
                    )
                    return
            relock = _relocks(ctx, c, mu, kind)
            if relock:
                yield self.finding(
                    ctx,
                    c,
                    f"calls {relock} while holding {mu} ({mu}.{method}() at line {line(call)}): "
                    f"the callee locks {mu} again, and the goroutine blocks on itself forever",
                    function=fname,
                )
                return
        cont = _continue_while_held(stmt, body, end)
        if (cont is not None and not deferred and not _reassigned_in_loop(ctx, stmt, mu)
                and not _held_at_loop_head(ctx, stmt, mu)):
            yield self.finding(
                ctx,
                call,
                f"{mu} is locked here in a loop, but the continue at line {line(cont)} skips the "
                f"unlock: the next iteration's {mu}.{method}() blocks forever",
                function=fname,
            )
            return
        if deferred or defers or not unlocks or _conditional(stmt, body):
            return
        # the main path unlocks: an unlock in the lock's own block, after the lock
        main = [u for u in unlocks if u.parent is not None and u.parent.parent == stmt.parent]
        if not main or _hands_over(ctx, fn, mu):
            return
        res = Paths(ctx, unlocks).after(stmt, body)
        if res is None or "exit" not in res or res["exit"] is None:
            return
        ret = res["exit"]
        if ret.start_byte > main[0].start_byte or _mentions(ctx, ret, mu.split(".")[0]):
            return  # a return after the main unlock (relocked) or handing the owner out
        yield self.finding(
            ctx,
            call,
            f"{mu} is locked here and unlocked on some paths (line {line(unlocks[0])}), but the "
            f"return at line {line(ret)} leaves it locked: every later {mu}.Lock() blocks forever",
            function=fname,
        )


def _continue_while_held(stmt: Node, body: Node, end: int) -> Node | None:
    """A `continue` of the loop holding the lock, after the lock and before any unlock."""
    # the lock must run on every iteration: a statement directly in the loop's body
    block = stmt.parent.parent if stmt.parent is not None else None
    loop = block.parent if block is not None else None
    if loop is None or loop.type != "for_statement" or loop.child_by_field_name("body") != block:
        return None
    for c in gs.walk(loop, "continue_statement"):
        if c.start_byte <= stmt.end_byte or c.start_byte >= end or c.named_children:
            continue
        inner = next((p for p in gs.ancestors(c) if p.type == "for_statement"), None)
        if inner == loop:
            return c
    return None


def _unlocked_elsewhere(ctx: FileContext, fn: Node, mu: str) -> bool:
    """The mutex is used as a signal: a closure (another goroutine) unlocks it, or it is a
    read locker (`rl := mu.RLocker()`, whose Lock is a shared RLock)."""
    for lit in gs.walk(fn, "func_literal", include_self=False):
        text = ctx.text(lit)
        if f"{mu}.Unlock()" in text or f"{mu}.RUnlock()" in text:
            return True
    outer = gs.enclosing_declaration(fn) if fn.type == "func_literal" else None
    if outer is not None:
        # the goroutine's lock is released by the function that started it
        rest = (
            ctx.source[outer.start_byte : fn.start_byte] + ctx.source[fn.end_byte : outer.end_byte]
        )
        if f"{mu}.Unlock()".encode() in rest or f"{mu}.RUnlock()".encode() in rest:
            return True
    scope = ctx.text(outer if outer is not None else fn)
    if re.search(re.escape(mu) + r"\.R?Unlock\b(?!\s*\()", scope):
        return True  # `srv.NotifyStartedFunc = mu.Unlock`: a method value someone else calls later
    return "RLocker()" in scope and (f"{mu} = " in scope or f"{mu} := " in scope)


def _held_at_loop_head(ctx: FileContext, stmt: Node, mu: str) -> bool:
    """The loop body unlocks `mu` before this lock (`mu.Unlock(); blockingRead(); mu.Lock()`): the
    mutex is held at the top of every iteration by design, so a `continue` after the re-lock goes back
    holding it, as the loop expects (go-libp2p's webrtc stream reader, held-out set 8)."""
    block = stmt.parent
    if block is None:
        return False
    for s in gs.statements(block.parent if block.type == "statement_list" else block):
        if s.start_byte >= stmt.start_byte:
            return False
        if s.type == "expression_statement" and ctx.text(s).replace(" ", "") in (f"{mu}.Unlock()", f"{mu}.RUnlock()"):
            return True
    return False


def _reassigned_in_loop(ctx: FileContext, stmt: Node, mu: str) -> bool:
    """`c = parent` in the loop: `c.mu` is another mutex on the next iteration (hand-over-hand)."""
    root = mu.split(".")[0]
    loop = next((p for p in gs.ancestors(stmt) if p.type == "for_statement"), None)
    if loop is None:
        return False
    for a in gs.walk(loop, ("assignment_statement", "short_var_declaration")):
        left, _ = gs.assignment_sides(a)
        if any(ctx.text(n) == root for n in left):
            return True
    return False


def _hands_over(ctx: FileContext, fn: Node, mu: str) -> bool:
    """Lock hand-over: `fooLocked`/`lock*` functions, or the mutex's owner is a named result."""
    name = gs.function_name(ctx, fn)
    if "lock" in name.lower().rsplit(".", 1)[-1]:
        return True
    root = mu.split(".")[0]
    res = fn.child_by_field_name("result")
    return res is not None and any(
        ctx.text(n) == root for n in gs.walk(res, "identifier")
    )


def _mentions(ctx: FileContext, node: Node, name: str) -> bool:
    return any(ctx.text(n) == name for n in gs.walk(node, "identifier"))


def _unlock_of(kind: str) -> str:
    return "RUnlock" if kind == "R" else "Unlock"


def _calls(ctx: FileContext, body: Node) -> list[Node]:
    key = f"lh109.calls.{body.start_byte}"
    cached = ctx.cache.get(key)
    if cached is None:
        cached = list(gs.walk(body, "call_expression"))
        ctx.cache[key] = cached
    return cached  # type: ignore[return-value]


def _releases(ctx: FileContext, call: Node, mu: str, kind: str) -> bool:
    """`mu.Unlock()` (`RUnlock` for a read lock), or a lock type's own releasing method
    (`UnlockToRLock`, `UnlockAndNotify`: any method of `mu` whose name holds "Unlock" but the other
    kind's)."""
    cmu, cm = _method(ctx, call)
    if cmu != mu:
        return _once_unlock(ctx, call, mu, kind)
    return cm == _unlock_of(kind) or (cm not in _UNLOCKS and "Unlock" in cm)


def _once_unlock(ctx: FileContext, call: Node, mu: str, kind: str) -> bool:
    """`unlock.Do(mu.Unlock)`: a sync.Once running the unlock now unless it already ran (neo4j's pool
    unlocks its servers' mutex this way before a health check that may relock it, so that its deferred
    twin cannot unlock twice; held-out set 13)."""
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "selector_expression" or ctx.text(fn.child_by_field_name("field")) != "Do":
        return False
    args = gs.arguments(call)
    return len(args) == 1 and gs._compact(ctx.text(args[0])) == f"{mu}.{_unlock_of(kind)}"


def _release_helper(ctx: FileContext, call: Node, mu: str, kind: str) -> bool:
    """`r.runlock()` where mu is `r.f`, r the enclosing method's receiver, and `runlock`'s whole body is
    `r.f.RUnlock()` (`Unlock` for a write lock): a helper of the receiver's type that releases it."""
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "selector_expression" or gs.arguments(call):
        return False
    operand = ctx.text(fn.child_by_field_name("operand"))
    if not mu.startswith(operand + ".") or mu.count(".") != 1:
        return False
    decl = gs.enclosing_declaration(call)
    if decl is None or decl.type != "method_declaration":
        return False
    recv = decl.child_by_field_name("receiver")
    names = [ctx.text(p.child_by_field_name("name")) for p in (recv.named_children if recv else [])
             if p.type == "parameter_declaration"]
    if operand not in names:
        return False
    got = concurrency(ctx).funcs.get(f"{gs.receiver_type(ctx, decl)}.{ctx.text(fn.child_by_field_name('field'))}")
    return got is not None and f"{kind}{mu.split('.', 1)[1]}" in got.self_unlocks


def _release_closure(ctx: FileContext, call: Node, mu: str, kind: str, body: Node) -> bool:
    """`done()` where this function made `done := func() { ...; mu.Unlock() }`, or wrapped such a
    literal in `sync.OnceFunc` (the idiom for an unlock that both an early call and a `defer` may
    run: mautrix's one-time-key repair unlocks through one before calling a method that locks
    again, held-out set 10; franz-go defers a closure that unlocks unless a flag says it already
    did, held-out set 12)."""
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "identifier" or gs.arguments(call):
        return False
    name = ctx.text(fn)
    want = f"{mu}.{_unlock_of(kind)}()"
    for a in gs.walk(body, ("short_var_declaration", "assignment_statement", "var_spec"),
                     into_func_literals=False):
        if a.start_byte > call.start_byte:
            break
        left, values = gs.assignment_sides(a)
        names = [ctx.text(n) for n in left]
        if name not in names or len(values) != len(names):
            continue
        v = values[names.index(name)]
        if v.type == "call_expression" and ctx.text(v.child_by_field_name("function")) in (
                "sync.OnceFunc", "OnceFunc"):
            args = gs.arguments(v)
            v = args[0] if len(args) == 1 else v
        if v.type == "func_literal" and any(
                ctx.text(c).replace(" ", "") == want for c in gs.walk(v, "call_expression")):
            return True
    return False


def _method(ctx: FileContext, call: Node) -> tuple[str, str]:
    """(`t.mu`, `Lock`) for `t.mu.Lock()` with no arguments (also for `Unlock`-named methods such
    as `UnlockToRLock`); ('', method) otherwise."""
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "selector_expression" or gs.arguments(call):
        return "", ""
    m = ctx.text(fn.child_by_field_name("field"))
    if m not in _LOCKS and m not in _UNLOCKS and "Unlock" not in m:
        return "", m
    return gs._compact(ctx.text(fn.child_by_field_name("operand"))), m


def _in_other_scope(c: Node, body: Node) -> bool:
    """Inside a go statement or a defer (runs at another time)."""
    for p in gs.ancestors(c):
        if p == body:
            return False
        if p.type in ("go_statement", "defer_statement", "func_literal"):
            return True
    return False


_CASES = ("expression_case", "type_case", "communication_case", "default_case")


def _sibling_case(stmt: Node, second: Node) -> bool:
    """The lock is taken in one case of a switch/select and `second` sits in another case of it:
    the cases exclude each other, so the mutex is not held there (tailscale's fake ACME server
    locks in its `/authz/1` case and calls a locking helper in its `/chal/1` case)."""
    for p in gs.ancestors(stmt):
        if p.type in gs.FUNC_TYPES:
            return False
        if p.type in _CASES:
            return not any(a == p for a in gs.ancestors(second)) and any(
                a == p.parent for a in gs.ancestors(second)
            )
    return False


def _same_block_chain(stmt: Node, second: Node) -> bool:
    """The second node runs after the first lock on some path: it sits inside the block that
    holds the lock (possibly in a nested if/switch/loop), not in a sibling branch."""
    block = stmt.parent
    return any(p == block for p in gs.ancestors(second))


def _conditional(stmt: Node, body: Node) -> bool:
    for p in gs.ancestors(stmt):
        if p == body:
            return False
        if p.type in ("if_statement", "expression_switch_statement", "type_switch_statement",
                      "select_statement", "communication_case", "expression_case"):
            return True
    return False


def _relocks(ctx: FileContext, call: Node, mu: str, kind: str) -> str:
    """`r.other()` when the enclosing method's receiver is r, mu is `r.f`, and `other` (or a
    method it calls on the same receiver, up to three down) starts by locking r.f."""
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "selector_expression":
        return ""
    operand = ctx.text(fn.child_by_field_name("operand"))
    if not mu.startswith(operand + ".") or mu.count(".") != 1:
        return ""
    field = mu.split(".", 1)[1]
    decl = gs.enclosing_declaration(call)
    if decl is None or decl.type != "method_declaration":
        return ""
    recv = decl.child_by_field_name("receiver")
    names = [ctx.text(p.child_by_field_name("name")) for p in (recv.named_children if recv else [])
             if p.type == "parameter_declaration"]
    if operand not in names:
        return ""
    rtype = gs.receiver_type(ctx, decl)
    cc = concurrency(ctx)
    start = f"{rtype}.{ctx.text(fn.child_by_field_name('field'))}"
    if start not in cc.funcs:
        return ""
    for key, chain in cc.reach(start, depth=0, self_only=True).items():
        if not all(k.startswith(rtype + ".") and k.count(".") == 1 for k in chain):
            continue  # only methods of the same receiver type share `r`
        locks = cc.funcs[key].self_locks
        for want in ("W", "R") if kind == "W" else ("W",):
            if f"{want}{field}" in locks:
                path = " -> ".join(f"{operand}.{k.split('.', 1)[1]}()" for k in chain)
                return f"{path} (which locks {mu} at line {locks[want + field]})"
    return ""


