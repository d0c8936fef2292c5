"""The shared Go-syntax helpers on a real Go file (checked to compile with `go vet`)."""

from __future__ import annotations

from pathlib import Path

from leakhunter.source import gosyntax as gs
from leakhunter.source.parse import parse
from leakhunter.source.rule import FileContext

SRC = b"""package demo

import (
	"context"
	nethttp "net/http"
	"time"

	_ "embed"
)

var registry = map[string]int{}

var (
	a, b = 1, 2
	_    = 3
)

const Limit = 10

type T[K comparable] struct{ m map[K]int }

func (t *T[K]) Put(k K) { t.m[k] = 1 }

func Fetch(ctx context.Context, urls ...string) (int, error) {
	resp, err := nethttp.Get(urls[0])
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	tk := time.NewTicker(time.Second)
	go func() {
		defer tk.Stop()
		f := func() {}
		f()
	}()
	var n, _ = 1, 2
	n, b = 3, 4
	for i := range 3 {
		_ = i
	}
	_ = ctx
	return n, nil
}
"""


def ctx() -> FileContext:
    return FileContext(path=Path("demo.go"), display_path="demo.go", source=SRC, tree=parse(SRC))


def test_functions_and_names() -> None:
    c = ctx()
    names = [(f.name, f.kind) for f in gs.functions(c)]
    assert names == [
        ("T.Put", "method"),
        ("Fetch", "func"),
        ("Fetch.func1", "literal"),
        ("Fetch.func2", "literal"),
    ]
    assert gs.parameters(c, gs.functions(c)[1].node) == [
        ("ctx", "context.Context"),
        ("urls", "...string"),
    ]
    assert gs.result_types(c, gs.functions(c)[1].node) == ["int", "error"]


def test_call_names_and_imports() -> None:
    c = ctx()
    calls = gs.nodes_of_type(c, "call_expression")
    names = [gs.call_name(c, x) for x in calls]
    assert names[:4] == ["nethttp.Get", "resp.Body.Close", "time.NewTicker", "func"]
    assert gs.qualified_call_name(c, calls[0]) == "net/http.Get"
    assert gs.is_call_to(c, calls[2], "time.NewTicker")
    assert gs.imports(c) == {"context": "context", "nethttp": "net/http", "time": "time"}
    stop = next(x for x in calls if gs.call_name(c, x) == "tk.Stop")
    assert gs.function_name(c, stop) == "Fetch.func1"
    assert gs.enclosing_declaration(stop) == gs.functions(c)[1].node


def test_walk_skips_closures_unless_asked() -> None:
    c = ctx()
    fetch = gs.functions(c)[1].node
    outer = [gs.call_name(c, x) for x in gs.walk(fetch, "call_expression")]
    assert "tk.Stop" not in outer and "func" in outer
    inner = [gs.call_name(c, x) for x in gs.walk(fetch, "call_expression", into_func_literals=True)]
    assert "tk.Stop" in inner and "f" in inner


def test_assignments_and_package_scope() -> None:
    c = ctx()
    decl = gs.nodes_of_type(c, "short_var_declaration")[0]
    assert gs.assigned_names(c, decl) == ["resp", "err"]
    assert gs.call_name(c, gs.assigned_value(c, decl, "err")) == "nethttp.Get"  # type: ignore[arg-type]
    assigns = [gs.assigned_names(c, s) for s in gs.nodes_of_type(c, "assignment_statement")]
    assert ["n", "b"] in assigns
    assert set(gs.package_vars(c)) == {"registry", "a", "b"}
    assert gs.package_level_names(c) == {"registry", "a", "b", "Limit"}
    fetch = gs.functions(c)[1].node
    assert {"ctx", "urls", "resp", "err", "tk", "n", "i"} <= gs.local_names(c, fetch)
    assert gs.default_package_name("gopkg.in/yaml.v3") == "yaml"
    assert gs.default_package_name("github.com/go-redis/redis/v8") == "redis"
    assert gs.package_name(c) == "demo"
