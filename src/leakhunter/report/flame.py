"""Flame graphs (icicles) as offline HTML: a fragment for the report, a page for `--flame`.

The renderer is `assets/flame.js` (plain DOM, no library, no network): the tree goes
into the page as JSON in a `<script type="application/json">` block, written with
`<`, `>` and `&` as \\u escapes so no function name or file path can end the block
or become markup; names reach the page only through `textContent`.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from leakhunter.analyze.flame import FlameTree, to_json
from leakhunter.units import human

if TYPE_CHECKING:
    from markupsafe import Markup


def _asset(name: str) -> str:
    return (resources.files("leakhunter.report") / "assets" / name).read_text(encoding="utf-8")


def assets() -> tuple[str, str]:
    """(css, js) of the renderer, `</` split so inline <style>/<script> cannot end early."""
    css, js = _asset("flame.css"), _asset("flame.js")
    return css.replace("</", "<\\/"), js.replace("</script", "<\\/script")


def data_json(tree: FlameTree) -> str:
    return (json.dumps(to_json(tree), separators=(",", ":"), allow_nan=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def fragment(tree: FlameTree, ident: str, *, label: str) -> Markup:
    """The container and its data; the page must include `assets()` once."""
    from markupsafe import Markup

    i = html.escape(ident, quote=True)
    return Markup(
        f'<div class="flame" id="{i}" data-flame="{i}-data" role="figure" '
        f'aria-label="{html.escape(label, quote=True)}"></div>\n'
        f'<script type="application/json" id="{i}-data">{data_json(tree)}</script>'
    )


def page(tree: FlameTree, *, title: str) -> str:
    """A whole standalone page holding one flame graph."""
    css, js = assets()
    what = "growth of " if tree.diff else ""
    total = human(tree.root.value, tree.unit)
    summary = f"box width: {what}{tree.sample_type}; {'growth' if tree.diff else 'total'} {total}"
    if tree.diff and tree.root.shrank:
        summary += f", shrank {human(tree.root.shrank, tree.unit)} (hover a box for its share)"
    if tree.folded:
        summary += f"; {tree.folded} boxes under 0.01% folded into their callers"
    t = html.escape(title)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{t}</title>\n<style>\nbody {{ font-family: system-ui, sans-serif; margin: 1.5em; "
        f"color: #222; }}\nh1 {{ font-size: 1.3em; word-break: break-all; }}\n"
        f".meta {{ color: #555; }}\n{css}</style>\n</head>\n<body>\n<h1>{t}</h1>\n"
        f"<p class=\"meta\">{html.escape(summary)}. Click a box to zoom in, click an upper "
        "box or <em>reset zoom</em> to zoom out, hover for values, search by name.</p>\n"
        f"{fragment(tree, 'flame-1', label=title)}\n<script>{js}</script>\n</body>\n</html>\n"
    )


def write_flame_page(out: Path, tree: FlameTree, *, title: str, diff: bool = False) -> None:
    tree.diff = tree.diff or diff
    from leakhunter.atomic import write_atomic

    write_atomic(Path(out), page(tree, title=title))
