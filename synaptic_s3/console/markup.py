"""HTML building blocks: escaping, URLs, folded text and collapsible JSON trees.

Everything a store holds is untrusted (a message may contain ``<script>`` or an
``onerror=`` attribute; ids may contain ``"``, ``#``, ``?``, spaces or any
Unicode). The rule here: stored text reaches HTML only through :func:`esc`, and
reaches a URL only through :func:`href` (percent-encoded, then escaped for the
attribute). The pages are also served with a Content-Security-Policy that allows
no inline script, a second wall should a first one ever crack.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import quote

FOLD_CHARS = 1200
"""Text longer than this (or with more than :data:`FOLD_LINES` lines) is folded."""
FOLD_LINES = 16
PREVIEW_CHARS = 240
TREE_NODES = 4000
"""A state tree shows at most this many nodes; the rest is summarised, not rendered."""
TREE_OPEN_DEPTH = 2
TREE_MAX_DEPTH = 48


def esc(value: object) -> str:
    """Text -> HTML text or attribute value (``& < > " '`` escaped)."""
    return html.escape(str(value), quote=True)


def url(base: str, *segments: str, **query: str | int | None) -> str:
    """A URL below ``base`` with each segment percent-encoded whole (``/``, ``?``,
    ``#``, ``%`` and spaces inside an id stay part of it), as plain text (for a
    ``Location`` header)."""
    path = base + "/" + "/".join(quote(segment, safe="") for segment in segments)
    pairs = [f"{quote(name, safe='')}={quote(str(value), safe='')}"
             for name, value in query.items() if value is not None]
    return path + ("?" + "&".join(pairs) if pairs else "")


def href(base: str, *segments: str, **query: str | int | None) -> str:
    """:func:`url`, escaped for an HTML attribute."""
    return esc(url(base, *segments, **query))


def pretty_json(value: Any) -> str:
    """Indented JSON text (not yet escaped), non-ASCII kept readable."""
    try:
        return json.dumps(value, indent=2, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def compact_json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    except (TypeError, ValueError):
        return repr(value)


def needs_fold(text: str) -> bool:
    return len(text) > FOLD_CHARS or text.count("\n") >= FOLD_LINES


def folded(text: str, *, css: str = "text") -> str:
    """Text as a block; long text inside a closed ``<details>`` whose summary shows
    the beginning and the size (so a 5 MB tool output costs one click, not a scroll)."""
    if not needs_fold(text):
        return f'<div class="{css}">{esc(text)}</div>'
    preview = text[:PREVIEW_CHARS].split("\n")
    first = "\n".join(preview[:3])
    lines = text.count("\n") + 1
    return (f'<details class="fold"><summary><span class="{css} preview">{esc(first)}…</span>'
            f'<span class="size">show all {len(text):,} characters, {lines:,} lines</span>'
            f'</summary><div class="{css}">{esc(text)}</div></details>')


COMPACT_JSON_CHARS = 80


def json_block(value: Any) -> str:
    """JSON as a block: on one line when short, else indented (and folded when long)."""
    text = compact_json(value)
    if len(text) > COMPACT_JSON_CHARS or "\n" in text:
        text = pretty_json(value)
    return folded(text, css="json")


class _Budget:
    def __init__(self, nodes: int) -> None:
        self.left = nodes


def json_tree(value: Any, *, nodes: int = TREE_NODES) -> str:
    """A JSON value as nested ``<details>`` (objects and arrays collapsible, the first
    :data:`TREE_OPEN_DEPTH` levels open), at most ``nodes`` nodes."""
    budget = _Budget(nodes)
    return f'<div class="tree">{_node(value, budget, 0)}</div>'


def _scalar(value: Any) -> str:
    if value is None:
        return '<span class="j-null">null</span>'
    if isinstance(value, bool):
        return f'<span class="j-bool">{"true" if value else "false"}</span>'
    if isinstance(value, int | float):
        return f'<span class="j-num">{esc(compact_json(value))}</span>'
    if isinstance(value, str):
        if needs_fold(value):
            return folded(value, css="j-str")
        return f'<span class="j-str">{esc(compact_json(value))}</span>'
    return f'<span class="j-other">{esc(compact_json(value))}</span>'


def _node(value: Any, budget: _Budget, depth: int) -> str:
    budget.left -= 1
    if not isinstance(value, dict | list) or not value:
        if isinstance(value, dict | list):
            return f'<span class="j-empty">{"{}" if isinstance(value, dict) else "[]"}</span>'
        return _scalar(value)
    if depth >= TREE_MAX_DEPTH:
        return f'<span class="j-other">{esc(compact_json(value))}</span>'
    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    label = (f"{{…}} {len(items)} key{'s' if len(items) != 1 else ''}" if isinstance(value, dict)
             else f"[…] {len(items)} item{'s' if len(items) != 1 else ''}")
    rows = []
    for shown, (key, child) in enumerate(items):
        if budget.left <= 0:
            rows.append(f'<li class="j-more">… {len(items) - shown:,} more not shown</li>')
            break
        key_html = (f'<span class="j-key">{esc(key)}</span>' if isinstance(value, dict)
                    else f'<span class="j-idx">{key}</span>')
        rows.append(f"<li>{key_html}: {_node(child, budget, depth + 1)}</li>")
    opened = " open" if depth < TREE_OPEN_DEPTH else ""
    return (f'<details class="j-branch"{opened}><summary>{esc(label)}</summary>'
            f'<ul>{"".join(rows)}</ul></details>')
