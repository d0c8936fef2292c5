"""The release-on-every-path engine (source/release.py) on small Go functions.

Each case is a real Go function; the expected exits are the lines of the returns
(or the closing brace) where the value is still held, written next to the code
with a `// leak` marker so a case states its own answer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from leakhunter.source import gosyntax as gs
from leakhunter.source.parse import parse
from leakhunter.source.release import (
    ReleaseResult,
    ReleaseSpec,
    acquisition_statement,
    analyze,
    can_return,
    exits,
)
from leakhunter.source.rule import FileContext

BODY = ReleaseSpec(methods=frozenset({"Close"}), path=("Body",))
CLOSE = ReleaseSpec(methods=frozenset({"Close"}))
ROWS = ReleaseSpec(methods=frozenset({"Close"}), exhaust=frozenset({"Next"}))
CANCEL = ReleaseSpec(call_self=True)
TIMER = ReleaseSpec(methods=frozenset({"Stop"}), fired="C")

HEADER = """package p

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"
)

var _ = []any{context.Background, sql.Open, errors.New, fmt.Println, io.ReadAll, log.Fatal,
	http.Get, os.Exit, sync.NewCond, testing.Short, time.Now}
"""


def _ctx(tmp_path: Path, body: str) -> FileContext:
    src = (HEADER + body).encode()
    path = tmp_path / "x.go"
    path.write_bytes(src)
    return FileContext(path=path, display_path="x.go", source=src, tree=parse(src))


def _run(
    tmp_path: Path, body: str, callee: str, var: str, spec: ReleaseSpec, err_var: str | None = "err"
) -> tuple[ReleaseResult, set[int]]:
    """Analyze the first call to `callee`; also return the lines marked `// leak`."""
    ctx = _ctx(tmp_path, body)
    call = next(c for c in gs.nodes_of_type(ctx, "call_expression") if gs.call_name(ctx, c) == callee)
    stmt = acquisition_statement(call)
    fn = gs.enclosing_function(call)
    assert stmt is not None and fn is not None
    res = analyze(ctx, fn, acquisition=stmt, var=var, spec=spec, err_var=err_var)
    text = ctx.source.decode()
    marked = {i for i, line in enumerate(text.splitlines(), 1) if re.search(r"//\s*leak\b", line)}
    return res, marked


def _lines(res: ReleaseResult) -> set[int]:
    return {e.line for e in res.leaks}


CASES: dict[str, str] = {
    "defer after the error check": """
func f(u string) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return nil
}
""",
    "early return on status": """
func f(u string) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return errors.New("bad") // leak
	}
	resp.Body.Close()
	return nil
}
""",
    "falls off the end": """
func f(u string) {
	resp, err := http.Get(u)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status)
} // leak
""",
    "err == nil branch holds it": """
func f(u string) {
	if resp, err := http.Get(u); err == nil {
		fmt.Println(resp.Status)
		return // leak
	}
}
""",
    "err || status both return": """
func f(u string) error {
	resp, err := http.Get(u)
	if err != nil || resp.StatusCode != 200 {
		return errors.New("x") // leak
	}
	return resp.Body.Close()
}
""",
    "stale err does not clear": """
func f(u string) ([]byte, error) {
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err // leak
	}
	resp.Body.Close()
	return b, nil
}
""",
    "os.IsNotExist implies err != nil": """
func f(u string) error {
	resp, err := http.Get(u)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
""",
    "switch cases": """
func f(u string) error {
	resp, err := http.Get(u)
	switch {
	case err != nil:
		return err
	case resp.StatusCode == 404:
		return errors.New("nf") // leak
	case resp.StatusCode != 200:
		resp.Body.Close()
		return errors.New("x")
	}
	return resp.Body.Close()
}
""",
    "fallthrough carries the state": """
func f(u string, k int) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	switch k {
	case 1:
		resp.Body.Close()
		fallthrough
	case 2:
		return nil // leak
	default:
		resp.Body.Close()
	}
	return nil
}
""",
    "select cases": """
func f(u string, ctx context.Context, ch chan int) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err() // leak
	case <-ch:
		resp.Body.Close()
	}
	return nil
}
""",
    "break out of the loop skips the close": """
func f(urls []string) error {
	resp, err := http.Get(urls[0])
	if err != nil {
		return err
	}
	for _, u := range urls {
		if u == "" {
			break
		}
	}
	return nil // leak
}
""",
    "loop-scoped value leaks at continue": """
func f(urls []string) {
	for _, u := range urls {
		resp, err := http.Get(u)
		if err != nil {
			continue
		}
		if resp.StatusCode != 200 {
			continue // leak
		}
		resp.Body.Close()
	}
}
""",
    "labeled continue from an inner loop": """
func f(urls []string, xs []int) {
outer:
	for _, u := range urls {
		resp, err := http.Get(u)
		if err != nil {
			continue
		}
		for _, x := range xs {
			if x == 0 {
				continue outer // leak
			}
		}
		resp.Body.Close()
	}
}
""",
    "panic and t.Fatal end the path": """
func f(t *testing.T, u string) {
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		panic("bad")
	}
	resp.Body.Close()
}
""",
    "returned value": """
func f(u string) (*http.Response, error) {
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	return resp, nil
}
""",
    "status read in return is not a transfer": """
func f(u string) (int, error) {
	resp, err := http.Get(u)
	if err != nil {
		return 0, err
	}
	return resp.StatusCode, nil // leak
}
""",
    "stored in a map": """
var cache = map[string]*http.Response{}

func f(u string) {
	resp, err := http.Get(u)
	if err != nil {
		return
	}
	cache[u] = resp
}
""",
    "deferred closure releases": """
func f(u string) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	return nil
}
""",
    "deferred closure registered before the acquisition": """
func f(u string) (err error) {
	var resp *http.Response
	defer func() {
		if err != nil && resp != nil {
			resp.Body.Close()
		}
	}()
	resp, err = http.Get(u)
	if err != nil {
		return err
	}
	return errors.New("x")
}
""",
    "goroutine takes it over": """
func f(u string) {
	resp, err := http.Get(u)
	if err != nil {
		return
	}
	go func() { resp.Body.Close() }()
}
""",
    "neutral library call keeps it ours": """
func f(u string) ([]byte, error) {
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(resp.Body) // leak
}
""",
    "unknown callee takes it": """
func f(u string, sink func(io.Reader)) {
	resp, err := http.Get(u)
	if err != nil {
		return
	}
	sink(resp.Body)
}
""",
    "same-package helper that only reads": """
func show(r *http.Response) { fmt.Println(r.Status) }

func f(u string) {
	resp, err := http.Get(u)
	if err != nil {
		return
	}
	show(resp)
} // leak
""",
    "same-package helper that closes": """
func drain(r *http.Response) { io.Copy(io.Discard, r.Body); r.Body.Close() }

func f(u string) {
	resp, err := http.Get(u)
	if err != nil {
		return
	}
	drain(resp)
}
""",
    "interface method is never trusted as neutral": """
type sink interface{ Take(r *http.Response) }
type printer struct{}

func (printer) Take(r *http.Response) { fmt.Println(r.Status) }

func f(u string, s sink) {
	resp, err := http.Get(u)
	if err != nil {
		return
	}
	s.Take(resp)
}
""",
    "goto gives up": """
func f(u string) error {
	resp, err := http.Get(u)
	if err != nil {
		goto fail
	}
	_ = resp
	return nil
fail:
	return err
}
""",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_http_body_paths(tmp_path: Path, name: str) -> None:
    res, marked = _run(tmp_path, CASES[name], "http.Get", "resp", BODY)
    assert _lines(res) == marked, (name, [e.describe() for e in res.leaks])


def test_goto_is_reported_as_given_up(tmp_path: Path) -> None:
    res, _ = _run(tmp_path, CASES["goto gives up"], "http.Get", "resp", BODY)
    assert res.gave_up == "goto"
    assert res.leaks == []


def test_named_result_bare_return_transfers(tmp_path: Path) -> None:
    body = """
func f(p string) (file *os.File, err error) {
	file, err = os.Open(p)
	if err != nil {
		return
	}
	return
}
"""
    res, _ = _run(tmp_path, body, "os.Open", "file", CLOSE)
    assert res.leaks == [] and res.transferred


def test_rows_next_exhausted_closes(tmp_path: Path) -> None:
    body = """
func f(db *sql.DB) (int, error) {
	rows, err := db.Query("SELECT 1")
	if err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		if n > 3 {
			return n, nil // leak
		}
		n++
	}
	return n, rows.Err()
}
"""
    res, marked = _run(tmp_path, body, "db.Query", "rows", ROWS)
    assert _lines(res) == marked


def test_cancel_called_as_value(tmp_path: Path) -> None:
    body = """
func f(ctx context.Context, slow bool) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	if slow {
		return errors.New("slow") // leak
	}
	cancel()
	return ctx.Err()
}
"""
    res, marked = _run(tmp_path, body, "context.WithTimeout", "cancel", CANCEL, err_var=None)
    assert _lines(res) == marked


def test_fired_timer_needs_no_stop(tmp_path: Path) -> None:
    body = """
func f(ctx context.Context) error {
	t := time.NewTimer(time.Hour)
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err() // leak
	}
}
"""
    res, marked = _run(tmp_path, body, "time.NewTimer", "t", TIMER, err_var=None)
    assert _lines(res) == marked


def test_held_from_entry_with_dotted_name(tmp_path: Path) -> None:
    """A goroutine body that must call s.wg.Done() on every path (acquisition=None)."""
    body = """
type S struct{ wg sync.WaitGroup }

func (s *S) run(work func() error) {
	go func() {
		if err := work(); err != nil {
			return // leak
		}
		s.wg.Done()
	}()
}
"""
    ctx = _ctx(tmp_path, body)
    lit = gs.nodes_of_type(ctx, "func_literal")[0]
    res = analyze(ctx, lit, acquisition=None, var="s.wg", spec=ReleaseSpec(methods=frozenset({"Done"})))
    marked = {i for i, line in enumerate(ctx.source.decode().splitlines(), 1) if "// leak" in line}
    assert _lines(res) == marked


def test_exits_and_can_return(tmp_path: Path) -> None:
    body = """
func forever(c chan int) {
	for {
		<-c
	}
}

func ranged(c chan int) {
	for range c {
	}
}

func tick() {
	for range time.Tick(time.Second) {
	}
}

func withBreak(c chan int) int {
	for {
		if <-c == 0 {
			break
		}
	}
	return 1
}
"""
    ctx = _ctx(tmp_path, body)
    fns = {ctx.text(f.child_by_field_name("name")): f for f in gs.nodes_of_type(ctx, "function_declaration")}
    assert not can_return(ctx, fns["forever"])
    assert can_return(ctx, fns["ranged"])
    assert not can_return(ctx, fns["tick"])
    assert can_return(ctx, fns["withBreak"])
    assert [e.kind for e in exits(ctx, fns["ranged"])] == ["end"]
    assert exits(ctx, fns["forever"]) == []


def test_asserted_false_next_closes_rows(tmp_path: Path) -> None:
    """`assert.False(t, rows.Next())` (testify) only passes when Next returned false: rows closed."""
    body = """
type asserter struct{}

func (asserter) False(t *testing.T, v bool) {}

func f(t *testing.T, db *sql.DB) {
	var assert asserter
	rows, err := db.Query("SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	assert.False(t, rows.Next())
}
"""
    res, _ = _run(tmp_path, body, "db.Query", "rows", ROWS)
    assert res.leaks == [] and res.released


def test_ranging_a_fresh_ticker_only_ends_by_break(tmp_path: Path) -> None:
    body = """
func f(done func() bool) {
	t := time.AfterFunc(time.Second, func() {})
	for range time.NewTicker(time.Millisecond).C {
		if done() {
			t.Stop()
			break
		}
	}
}
"""
    res, _ = _run(tmp_path, body, "time.AfterFunc", "t", ReleaseSpec(methods=frozenset({"Stop"})), err_var=None)
    assert res.leaks == [] and res.released
