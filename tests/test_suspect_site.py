"""Where heap growth is charged: the user's line, else the library, else what the runtime
allocated for, never the allocator itself (issue 9: "suspects at the user's line")."""

from __future__ import annotations

from leakhunter.analyze.suspects import user_site
from leakhunter.model import Frame


def _stack(*names: str) -> tuple[Frame, ...]:
    return tuple(Frame(n, "x.go", i + 1) for i, n in enumerate(names))


def test_the_user_frame_is_the_place_and_the_rest_the_path() -> None:
    st = _stack("runtime.mallocgc", "runtime.growslice", "io.ReadAll", "main.recordTagLeaky",
                "net/http.HandlerFunc.ServeHTTP")
    place, path = user_site(st)
    assert place is not None and place.function == "main.recordTagLeaky"
    assert [f.function for f in path] == ["runtime.mallocgc", "runtime.growslice", "io.ReadAll"]


def test_without_user_code_the_library_frame_that_asked_not_its_helper() -> None:
    """net/http's connection buffers: `net/http.newBufioWriterSize` (what a user can name:
    connections), with bufio as the path; bufio.NewWriterSize headed the demo's growth table."""
    place, path = user_site(_stack("runtime.mallocgc", "bufio.NewWriterSize",
                                   "net/http.newBufioWriterSize", "net/http.(*conn).serve"))
    assert place is not None and place.function == "net/http.newBufioWriterSize"
    assert [f.function for f in path] == ["runtime.mallocgc", "bufio.NewWriterSize"]
    enc, _ = user_site(_stack("runtime.mallocgc", "encoding/json.(*decodeState).literalStore",
                              "encoding/json.Unmarshal"))
    assert enc is not None and enc.function == "encoding/json.(*decodeState).literalStore"


def test_an_all_runtime_stack_names_what_the_runtime_allocated_for() -> None:
    """A new goroutine's descriptor (the subslice lab's second suspect was `runtime.mallocgc`)."""
    st = _stack("runtime.mallocgc", "runtime.newobject", "runtime.malg", "runtime.newproc1",
                "runtime.newproc.func1", "runtime.systemstack")
    place, path = user_site(st)
    assert place is not None and place.function == "runtime.malg"
    assert [f.function for f in path] == ["runtime.mallocgc", "runtime.newobject"]
    only, _ = user_site(_stack("runtime.mallocgc"))
    assert only is not None and only.function == "runtime.mallocgc"  # nothing better to say
