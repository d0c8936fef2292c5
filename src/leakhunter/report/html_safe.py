"""Putting data and code inside an HTML page's <script> elements without letting either end
the element early. Shared by every HTML page leakhunter writes (the watch report, the fleet
report), so the one subtle escaping rule lives in one place."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markupsafe import Markup


def safe_json(obj: object) -> Markup:
    """JSON that cannot end a <script> element or open markup, whatever its strings hold.

    A `<script type="application/json">` body is raw text (entities are not decoded), so
    it must not be HTML-escaped; instead `<`, `>` and `&` become JSON \\u escapes,
    which JSON.parse turns back into the same characters. Marked safe for Jinja on
    that basis."""
    from markupsafe import Markup

    text = (json.dumps(obj, separators=(",", ":"), allow_nan=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    return Markup(text)


def script_safe(js: str) -> Markup:
    """Trusted code (plotly.js) for an inline <script>: `</script` inside it would end the
    element early, so that sequence is split (a no-op inside JS strings/regexps)."""
    from markupsafe import Markup

    return Markup(js.replace("</script", "<\\/script"))
