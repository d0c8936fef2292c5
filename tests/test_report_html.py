"""`leakhunter report`: one offline HTML file, escaped, that a real browser renders.

The store comes from a real watch of a real leaking Go service. To get markup into
profile strings honestly, the lab module is copied into a directory whose *name* is
an HTML payload (`<img src=x onerror=...>`): the Go toolchain records that path in
the binary, so the runtime's own heap profile carries it as the file of every frame.
A Go function cannot be named `<script>`, so for that case a real heap snapshot from
the store is decoded, the leaking function is renamed to `<script>...</script>`, and
re-encoded with the project's pprof encoder (a crafted row, built from real data).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import shutil
import time
from pathlib import Path

import golab
import headless
import pytest
from watchload import Load

from leakhunter.collect.store import Store
from leakhunter.report.html import write_report
from leakhunter.watcher import Watcher

PAYLOAD_DIR = "<img src=x onerror=document.title='pwned'>"
SCRIPT_FN = "main.<script>document.title='pwned2'</script>"
CHROMIUM = headless.CHROMIUM


@pytest.fixture(scope="module")
def leak_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rep")
    weird = root / PAYLOAD_DIR / "lab"
    shutil.copytree(golab.LAB, weird)
    exe = golab.build("watchheap", out_dir=root / "bin", module_dir=weird)
    db = root / "w.db"
    with golab.LabProcess(exe).start() as svc:
        assert svc.proc is not None
        store = Store(db)
        w = Watcher([svc.base_url], store, interval=0.4, pid=svc.proc.pid, warn=lambda s: None)
        with Load(svc.base_url, lambda i: "/leak?kb=32", rate=40, max_seconds=30):
            asyncio.run(w.run(duration=18))  # verdicts need a 15 s window
        # The crafted row: the latest real heap snapshot with main.record renamed.
        from leakhunter.profiles import read_profile
        from leakhunter.profiles.pprof import encode

        snaps = store.snapshots(svc.base_url, "heap")
        last = snaps[-1]
        prof = read_profile(store.snapshot_data(last.id))
        for s in prof.samples:
            s.stack = tuple(dataclasses.replace(f, function=SCRIPT_FN)
                            if f.function == "main.record" else f for f in s.stack)
        store.add_snapshot(svc.base_url, last.process_id, time.time(), "heap", encode(prof))
        store.close()
    return db


def _report(db: Path, out: Path) -> str:
    with Store(db, readonly=True) as st:
        write_report(st, out)
    return out.read_text()


def test_report_is_self_contained_and_escaped(leak_store: Path, tmp_path: Path) -> None:
    html = _report(leak_store, tmp_path / "r.html")
    # Offline: no external script or stylesheet, plotly embedded.
    assert not re.search(r"<script[^>]+src=", html)
    assert "<link" not in html and not re.search(r"<(img|iframe)[^>]+src=[\"']?http", html)
    assert "Plotly" in html and len(html) > 1_000_000
    # The real path payload and the crafted function name appear only escaped.
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=document.title=&#39;pwned&#39;&gt;" in html
    assert "<script>document.title" not in html
    assert "main.&lt;script&gt;document.title=&#39;pwned2&#39;&lt;/script&gt;" in html
    # The verdict is there: the service leaks heap.
    assert 'class="kind heap-leak"' in html


def test_report_cli_errors(tmp_path: Path) -> None:
    res = golab.leakhunter("report", "--db", str(tmp_path / "missing.db"), "-o",
                           str(tmp_path / "r.html"))
    assert res.returncode == 2
    assert res.stderr.decode().startswith("leakhunter: error: ") and b"Traceback" not in res.stderr
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    res = golab.leakhunter("report", "--db", str(junk), "-o", str(tmp_path / "r.html"))
    assert res.returncode == 2 and b"not a leakhunter store" in res.stderr


def test_report_cli_unknown_target(leak_store: Path, tmp_path: Path) -> None:
    res = golab.leakhunter("report", "--db", str(leak_store), "--target", "http://nope:1",
                           "-o", str(tmp_path / "r.html"))
    assert res.returncode == 2 and b"not in" in res.stderr


def _figure_points(html: str) -> tuple[int, int]:
    figs = re.findall(r'<script type="application/json" id="fig-[^"]+">(.*?)</script>', html)
    points = 0
    for f in figs:
        for trace in json.loads(f)["data"]:
            points += len(trace["y"])
    return len(figs), points


@pytest.mark.skipif(not CHROMIUM.exists(),
                    reason="needs /usr/bin/chromium (apt-get install -y chromium)")
def test_report_renders_in_headless_chromium(leak_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    html = _report(leak_store, out)
    n_figs, n_points = _figure_points(html)
    assert n_figs == 2 and n_points > 20
    page = headless.load(out, tmp_path)
    dom, console = page.dom, page.console
    assert not headless.errors(console), console
    # Our inline script ran to the end and marked every plot drawn ...
    assert f'data-rendered="{n_figs}"' in dom
    # ... plotly drew one marker per data point of every trace ...
    assert dom.count('class="point"') == n_points
    # ... and no payload became markup or ran.
    assert "<title>leakhunter report</title>" in dom
    assert "<img src=\"x\"" not in dom and "pwned" not in dom.split("</title>")[0]


@pytest.fixture(scope="module")
def story_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real watch of two lab services under load, with --source: `blockedsend` leaks a
    goroutine per request at an LH101 line, `chanleak` grows a map (heap). The report can
    then show the leaking lines, the findings, the fixes and both flame graphs."""
    root = tmp_path_factory.mktemp("story")
    db = root / "w.db"
    with golab.run_lab("blockedsend") as gr, golab.run_lab("chanleak") as heap:
        store = Store(db)
        w = Watcher([gr.base_url, heap.base_url], store, interval=0.4, limit_bytes=1 << 30,
                    source_dir=str(golab.LAB / "cmd"), warn=lambda s: None)
        with Load(gr.base_url, lambda i: "/leak?every=1", rate=30, max_seconds=20), \
                Load(heap.base_url, lambda i: "/leak/map?n=20&size=8192", rate=20, max_seconds=20):
            asyncio.run(w.run(duration=10))
        store.close()
    return db


def _leak_line(service: str, fragment: str) -> tuple[int, str]:
    src = (golab.LAB / "cmd" / service / "main.go").read_text().splitlines()
    return next((i, t) for i, t in enumerate(src, 1) if fragment in t)


def test_report_tells_the_whole_story(story_store: Path, tmp_path: Path) -> None:
    """The leaking line in its context, highlighted; the finding and its fix; flame graphs
    of the growth holding the leaking function; header figures the body agrees with."""
    html = _report(story_store, tmp_path / "r.html")
    send, text = _leak_line("blockedsend", "// LEAK: LH101")
    hot = re.findall(r'<span class="ln hot"><b>(\d+)</b>([^<]*)</span>', html)
    assert (str(send), text.expandtabs(4).replace("<", "&lt;")) in hot, hot
    assert "LH101 blocked-send" in html
    assert '<p class="fix"><b>Fix:</b> buffer the channel' in html
    # where the leaked goroutines were started (the `go` statement above the send; a full dump)
    started = max(i for i, t in enumerate((golab.LAB / "cmd" / "blockedsend" / "main.go").read_text()
                                          .splitlines()[:send], 1) if t.strip().startswith("go "))
    assert re.search(rf"started by <code>main\.lookupLeaky \S*blockedsend/main\.go:{started}</code>", html), \
        re.findall(r"started by <code>[^<]*</code>", html)
    flames = re.findall(r'<script type="application/json" id="(flame-[^"]+)-data">(.*?)</script>',
                        html)
    by_kind: dict[str, list[dict[str, object]]] = {}
    for name, body in flames:
        by_kind.setdefault(name.rsplit("-", 1)[1], []).append(json.loads(body))
    assert any("main.lookupLeaky.func1" in str(f["strings"]) for f in by_kind["goroutines"])
    assert any("main.grow" in str(f["strings"]) and f["diff"] and f["unit"] == "bytes"
               for f in by_kind["heap"])
    # The memory limit and the forecast against it, in the words of the terminal output.
    from leakhunter.analyze.verdicts import analyze_target
    from leakhunter.report.verdicts_text import limit_line

    with Store(story_store, readonly=True) as st:
        for t in st.targets():
            line = limit_line(analyze_target(st, t))
            assert line and "1.0 GiB" in line
            assert f'<p class="limit">{line}</p>'.replace("~", "~") in html, line
    # The header counts scrapes, not every stored point of every series (it said
    # "394 samples" where the verdicts spoke of 45 observations).
    counts = [int(x) for x in re.findall(r"(\d+) scrapes over", html)]
    with Store(story_store, readonly=True) as st:
        expect = [len(st.series(t, "goroutines")) for t in st.targets()]
        assert counts == expect
        assert all(c < st.sample_count(t) for c, t in zip(counts, st.targets(), strict=True))


OVERLAP_PROBE = """
<script>
window.setTimeout(function () {
  function hit(a, b) {
    return a.width > 0 && b.width > 0 && a.left < b.right && b.left < a.right &&
      a.top < b.bottom && b.top < a.bottom;
  }
  var overlaps = 0, pairs = 0;
  var plots = document.querySelectorAll("div.plot");
  for (var i = 0; i < plots.length; i++) {
    var legend = plots[i].querySelectorAll(".legend .bg");  /* the box that covers what is under it */
    var labels = plots[i].querySelectorAll(".xtick text, .ytick text, .gtitle, .xtitle, .ytitle");
    for (var j = 0; j < legend.length; j++) {
      var a = legend[j].getBoundingClientRect();
      for (var k = 0; k < labels.length; k++) {
        pairs++;
        if (hit(a, labels[k].getBoundingClientRect())) { overlaps++; }
      }
    }
  }
  document.body.setAttribute("data-overlaps", overlaps + " of " + pairs);
}, 50);
</script>
"""


@pytest.mark.skipif(not CHROMIUM.exists(),
                    reason="needs /usr/bin/chromium (apt-get install -y chromium)")
def test_story_renders_in_chromium_at_1280(story_store: Path, tmp_path: Path) -> None:

    out = tmp_path / "r.html"
    _report(story_store, out)
    # A probe appended to the page measures, after plotly drew, whether any legend box
    # meets an axis tick label or the title of its plot (the date label sat under the legend).
    out.write_text(out.read_text().replace("</body>", OVERLAP_PROBE + "</body>"))
    page = headless.load(out, tmp_path, width=1280)
    assert not headless.errors(page.console), page.console
    dom = page.dom
    n_flames = int(re.search(r'data-flames="(\d+)"', dom).group(1))  # type: ignore[union-attr]
    assert n_flames >= 2 and 'data-rendered="4"' in dom
    # The flame graphs were drawn, boxes and all, with the leaking functions in them.
    assert re.search(r'data-name="main\.lookupLeaky\.func1"', dom)
    assert re.search(r'data-name="main\.grow"', dom)
    assert "buffer the channel" in dom
    # Readable at 1280 px: the page does not scroll sideways.
    m = re.search(r'data-overlaps="([^"]*)"', dom)
    assert m is not None and m.group(1).startswith("0 of "), m and m.group(1)
    assert int(m.group(1).split()[2]) > 20  # labels were there to be measured
    m = re.search(r'data-width="(\d+)/(\d+)"', dom)
    assert m is not None and m.group(1) == m.group(2), m and m.group(0)
    # A picture for people: `python tests/headless.py REPORT.html OUT.png` (not taken
    # here: it costs a second browser start on every run and asserts nothing more).


def test_report_quotes_only_go_source(tmp_path: Path) -> None:
    """File names in a report come from the target's profiles: a name that is not Go
    source gets no excerpt, so a crafted profile cannot copy a local file into a report."""
    from leakhunter.model import Suspect
    from leakhunter.report.html import _suspect_card

    secret = tmp_path / "id_rsa"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n")
    go = tmp_path / "x.go"
    go.write_text("package main\n\nfunc f() {\n\tleak()\n}\n")
    bad = _suspect_card(Suspect("main.f", str(secret), 1, 1.0, "bytes"), None, {})
    assert bad["code"] == []
    good = _suspect_card(Suspect("main.f", str(go), 4, 1.0, "bytes"), None, {})
    assert [c["n"] for c in good["code"] if c["hot"]] == [4]
