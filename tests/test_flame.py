"""`top --flame` / `diff --flame`: an offline flame graph (icicle) of a real profile or of
what grew between two, checked for its numbers and driven in headless Chromium.

The numbers: the tree's root equals `top`'s total for one profile, and for a diff the
boxes of the leaking function add up to its cum growth in `diff` (pprof -base). The
page: no network, no console errors, and the interactions work in a real browser —
a script appended to the page searches, hovers and clicks, and leaves what it saw in
data-* attributes that `--dump-dom` shows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import headless
import pytest
from golab import leakhunter, run_lab

from leakhunter.analyze.flame import find, flame_tree
from leakhunter.profiles import read_profile


@pytest.fixture(scope="module")
def heaps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("flame")
    with run_lab("chanleak", "-memprofilerate", "1") as svc:
        (d / "base.pb.gz").write_bytes(svc.get("/debug/pprof/heap?gc=1"))
        svc.get("/leak/map?n=2000&size=4096")
        svc.get("/leak/send?n=30")
        (d / "new.pb.gz").write_bytes(svc.get("/debug/pprof/heap?gc=1"))
        (d / "goroutine.pb.gz").write_bytes(svc.get("/debug/pprof/goroutine"))
    return {p.name.split(".")[0]: p for p in d.iterdir()}


def _data(html: str) -> dict[str, object]:
    m = re.search(r'<script type="application/json" id="flame-1-data">(.*?)</script>', html)
    assert m is not None
    doc: dict[str, object] = json.loads(m.group(1))
    return doc


def test_top_flame_total_equals_top_total(heaps: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "f.html"
    res = leakhunter("top", str(heaps["new"]), "--sample-index", "alloc_space", "--flame",
                     str(out), "--format", "json")
    assert res.returncode == 0, res.stderr
    total = json.loads(res.stdout)["total"]
    html = out.read_text()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html)  # offline
    doc = _data(html)
    root = doc["root"]
    assert isinstance(root, list) and root[2] == total
    assert "main.grow" in doc["strings"]  # type: ignore[operator]


def test_diff_flame_holds_the_growth(heaps: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "d.html"
    res = leakhunter("diff", str(heaps["base"]), str(heaps["new"]), "--format", "json",
                     "--sample-index", "inuse_space", "--node-fraction", "0", "--flame", str(out))
    assert res.returncode == 0, res.stderr
    rows = {r["function"]: r for r in json.loads(res.stdout)["rows"]}
    doc = _data(out.read_text())
    assert doc["diff"] is True and doc["unit"] == "bytes"
    # The same numbers in-process: main.grow's boxes hold exactly its cum growth.
    from leakhunter.analyze.diff import merge_negated

    base, new = (read_profile(heaps[k].read_bytes()) for k in ("base", "new"))
    tree = flame_tree(merge_negated(base, new), sample_index="inuse_space", diff=True,
                      min_fraction=0)
    grow = find(tree, "main.grow")
    assert grow and sum(n.value - n.shrank for n in grow) == rows["main.grow"]["cum"] > 2000 * 4096


def test_goroutine_profile_flame(heaps: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "g.html"
    res = leakhunter("top", str(heaps["goroutine"]), "--flame", str(out))
    assert res.returncode == 0, res.stderr
    assert "main.leakSend.func1" in _data(out.read_text())["strings"]  # type: ignore[operator]


def test_flame_output_errors_are_one_line(heaps: dict[str, Path], tmp_path: Path) -> None:
    res = leakhunter("top", str(heaps["new"]), "--flame", str(tmp_path / "no" / "dir" / "f.html"))
    err = res.stderr.decode().strip().splitlines()
    assert res.returncode == 2 and len(err) == 1 and err[0].startswith("leakhunter: error: "), err
    assert "--flame" in err[0]
    assert not res.stdout, "the check comes before any work is printed"


DRIVE = """
<script>
(function () {
  var b = document.body, root = document.querySelector("div.flame");
  function boxes(name) {
    return Array.prototype.filter.call(root.querySelectorAll(".fl-box"),
      function (d) { return d.getAttribute("data-name") === name; });
  }
  var grow = boxes("main.grow");
  b.setAttribute("data-t-grow-boxes", String(grow.length));
  /* hover */
  var r = grow[0].getBoundingClientRect();
  grow[0].dispatchEvent(new MouseEvent("mousemove", {bubbles: true,
    clientX: r.left + 2, clientY: r.top + 2}));
  var tip = root.querySelector(".fl-tip");
  b.setAttribute("data-t-tip", tip.hidden ? "hidden" : tip.textContent);
  /* search */
  var s = root.querySelector(".fl-search");
  s.value = "grow$";
  s.dispatchEvent(new Event("input", {bubbles: true}));
  b.setAttribute("data-t-matches", String(root.querySelectorAll(".fl-match").length));
  b.setAttribute("data-t-info", root.querySelector(".fl-info").textContent);
  /* click to zoom: main.grow then spans the whole width */
  var before = root.getAttribute("data-boxes");
  grow[0].dispatchEvent(new MouseEvent("click", {bubbles: true}));
  var z = boxes("main.grow").filter(function (d) { return !d.classList.contains("fl-anc"); })[0];
  b.setAttribute("data-t-zoom", z.style.left + " " + z.style.width + " " + before + "/" +
    root.getAttribute("data-boxes"));
  root.querySelector(".fl-reset").click();
  b.setAttribute("data-t-reset", root.getAttribute("data-boxes"));
  b.setAttribute("data-t-done", "1");
})();
</script>
"""


@pytest.mark.skipif(not headless.CHROMIUM.exists(),
                    reason="needs /usr/bin/chromium (apt-get install -y chromium)")
def test_flame_page_is_interactive_in_chromium(heaps: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "d.html"
    res = leakhunter("diff", str(heaps["base"]), str(heaps["new"]), "--flame", str(out))
    assert res.returncode == 0, res.stderr
    driven = tmp_path / "driven.html"
    driven.write_text(out.read_text().replace("</body>", DRIVE + "</body>"))
    page = headless.load(driven, tmp_path)
    assert not headless.errors(page.console), page.console
    dom = page.dom
    attr = dict(re.findall(r'data-t-([a-z-]+)="([^"]*)"', dom))
    assert attr.get("done") == "1", attr
    assert int(attr["grow-boxes"]) >= 1
    assert "main.grow" in attr["tip"] and "grew" in attr["tip"] and "MB" in attr["tip"]
    assert int(attr["matches"]) >= 1 and "search:" in attr["info"]
    left, width, counts = attr["zoom"].split(" ")
    assert left == "0%" and width == "100%", attr["zoom"]
    assert attr["reset"] == counts.split("/")[0] != counts.split("/")[1]
