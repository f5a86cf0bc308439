"""The pages: pure functions from what was read to an HTML string (no I/O here).

Each takes the console's URL ``base`` (``/console``) and whether writes are allowed;
every stored string goes through :func:`~synaptic_s3.console.markup.esc` or
:func:`~synaptic_s3.console.markup.href`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from synaptic_s3.checkpoint import Checkpoint
from synaptic_s3.console.jsondiff import Change
from synaptic_s3.console.markup import esc, folded, href, json_block, json_tree
from synaptic_s3.core.messages import Message
from synaptic_s3.ids import checkpoint_id_ns
from synaptic_s3.memory import MessagePage
from synaptic_s3.session import SessionInfo

ROLE_LABELS = {"human": "human", "assistant": "assistant", "system": "system", "tool": "tool",
               "chat": "chat", "remove": "removed"}


@dataclass(frozen=True, slots=True)
class Chrome:
    """What every page needs to draw its frame."""

    base: str
    store: str
    writes: bool
    token: str


def layout(chrome: Chrome, title: str, body: str, *, crumbs: Sequence[tuple[str, str]] = ()
           ) -> str:
    trail = "".join(f' <span class="sep">/</span> <a href="{url}">{esc(text)}</a>'
                    for text, url in crumbs)
    mode = ('<span class="badge warn">writes allowed</span>' if chrome.writes
            else '<span class="badge">read-only</span>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} · synaptic-s3 console</title>
<link rel="stylesheet" href="{href(chrome.base, 'static', 'console.css')}">
<script src="{href(chrome.base, 'static', 'console.js')}" defer></script>
</head><body>
<header class="top"><a class="brand" href="{href(chrome.base, '')}">synaptic-s3 console</a>{trail}
<span class="store">{esc(chrome.store)} {mode}</span></header>
<main>
{body}
</main></body></html>
"""


def _time(text: str | None) -> str:
    return f'<time>{esc(text)}</time>' if text else '<span class="muted">—</span>'


def checkpoint_time(checkpoint_id: str) -> str | None:
    """The creation time inside a generated checkpoint id (ISO, ms), else ``None``."""
    ns = checkpoint_id_ns(checkpoint_id)
    if ns is None:
        return None
    moment = datetime.fromtimestamp(ns / 1e9, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- sessions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionsView:
    infos: list[SessionInfo]
    order: str  # "newest" | "oldest"
    next_cursor: str | None  # "after" (oldest) or "before" (newest) of the next page
    first_page: bool
    query: str = ""
    notice: str = ""


def sessions_page(chrome: Chrome, view: SessionsView) -> str:
    other = "oldest" if view.order == "newest" else "newest"
    rows = []
    for info in view.infos:
        rows.append(
            f'<tr><td class="id"><a href="{href(chrome.base, "s", info.id)}">{esc(info.id)}</a>'
            f'</td><td>{_time(info.created_at)}</td>'
            f'<td><a href="{href(chrome.base, "s", info.id, "checkpoints")}">checkpoints</a>'
            f"</td></tr>")
    table = ('<table class="sessions"><thead><tr><th>session id</th><th>created (UTC)</th>'
             f'<th></th></tr></thead><tbody>{"".join(rows)}</tbody></table>' if rows
             else '<p class="empty">No sessions here.</p>')
    pager = []
    if not view.first_page:
        pager.append(f'<a href="{href(chrome.base, "", order=view.order)}">« first page</a>')
    if view.next_cursor is not None:
        key = "after" if view.order == "oldest" else "before"
        following = href(chrome.base, "", order=view.order, **{key: view.next_cursor})
        pager.append(f'<a rel="next" href="{following}">next page »</a>')
    notice = f'<p class="notice">{esc(view.notice)}</p>' if view.notice else ""
    body = f"""<h1>Sessions</h1>
<form class="search" method="get" action="{href(chrome.base, '')}">
<input type="search" name="q" value="{esc(view.query)}" placeholder="session id"
 aria-label="session id">
<button type="submit">Open</button></form>
{notice}
<p class="controls">{esc(view.order)} first ·
 <a href="{href(chrome.base, '', order=other)}">{other} first</a> · {len(view.infos)} shown</p>
{table}
<nav class="pager">{" · ".join(pager)}</nav>"""
    return layout(chrome, "Sessions", body)


# -- a conversation ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConversationView:
    info: SessionInfo
    summary: str | None
    page: MessagePage
    can_fork: bool


def _label(message: Message) -> str:
    if message.role == "chat":
        return message.custom_role or "chat"
    return ROLE_LABELS.get(message.role, message.role)


def _details_of(message: Message) -> dict[str, Any]:
    data = message.to_dict()
    for name in ("content", "tool_calls", "role"):
        data.pop(name, None)
    return data


def conversation_page(chrome: Chrome, view: ConversationView) -> str:
    page = view.page
    messages = page.messages
    # tool_call_id -> position of its result, and back, within this page only
    results: dict[str, int] = {}
    calls: dict[str, tuple[int, str]] = {}
    for offset, message in enumerate(messages):
        position = page.start + offset
        if message.role == "tool" and message.tool_call_id is not None:
            results.setdefault(message.tool_call_id, position)
        for call in message.tool_calls:
            calls.setdefault(call.id, (position, call.name))
    # where to look for a call or a result that is not on this page
    older = (href(chrome.base, "s", view.info.id, end=page.start) if page.start > 0 else None)
    newer = (href(chrome.base, "s", view.info.id, start=page.end)
             if page.end < page.total else None)
    articles = [_message(message, page.start + offset, results, calls, older, newer)
                for offset, message in enumerate(messages)]
    sid = view.info.id
    summary = (f'<section class="summary"><h2>Summary</h2>{folded(view.summary)}</section>'
               if view.summary else "")
    actions = [f'<a class="button" href="{href(chrome.base, "s", sid, "checkpoints")}">'
               "Checkpoints</a>"]
    if chrome.writes:
        if view.can_fork:
            actions.append(f'<a class="button" href="{href(chrome.base, "s", sid, "fork")}">'
                           "Fork…</a>")
        actions.append(f'<a class="button danger" href="{href(chrome.base, "s", sid, "delete")}">'
                       "Delete…</a>")
    nav = _message_pager(chrome, sid, page)
    shown = (f"messages {page.start + 1:,}&ndash;{page.end:,} of {page.total:,}" if messages
             else f"no messages here ({page.total:,} in the session)")
    body = f"""<h1 class="sid">Session <code>{esc(sid)}</code></h1>
<p class="meta">created {_time(view.info.created_at)} · {shown}</p>
<p class="actions">{"".join(actions)}</p>
{summary}
{nav}
<section class="messages">{"".join(articles)}</section>
{nav}"""
    return layout(chrome, f"Session {sid}", body, crumbs=[(sid, href(chrome.base, "s", sid))])


def _message_pager(chrome: Chrome, sid: str, page: MessagePage) -> str:
    links = []
    if page.start > 0:
        links.append(f'<a href="{href(chrome.base, "s", sid, start=0)}">« oldest</a>')
        links.append(f'<a rel="prev" href="{href(chrome.base, "s", sid, end=page.start)}">'
                     "&lsaquo; older</a>")
    if page.end < page.total:
        links.append(f'<a rel="next" href="{href(chrome.base, "s", sid, start=page.end)}">'
                     "newer &rsaquo;</a>")
        links.append(f'<a href="{href(chrome.base, "s", sid)}">newest »</a>')
    return f'<nav class="pager">{" · ".join(links)}</nav>' if links else ""


def _message(message: Message, position: int, results: dict[str, int],
             calls: dict[str, tuple[int, str]], older: str | None, newer: str | None) -> str:
    role = message.role
    head = [f'<span class="role">{esc(_label(message))}</span>']
    if message.name:
        head.append(f'<span class="name">{esc(message.name)}</span>')
    if role == "tool" and message.tool_call_id is not None:
        origin = calls.get(message.tool_call_id)
        if origin is not None:
            head.append(f'<a class="link" href="#m{origin[0]}">↩ result of '
                        f'<b>{esc(origin[1])}</b></a>')
        elif older is not None:
            head.append(f'<a class="link" href="{older}">result of call '
                        f"{esc(message.tool_call_id)} (older page)</a>")
        else:
            head.append(f'<span class="muted">result of call {esc(message.tool_call_id)} '
                        "(not on this page)</span>")
    head.append(f'<a class="pos" href="#m{position}">#{position + 1}</a>')
    if role == "remove":
        content = (f'<div class="text muted">removes message <code>{esc(message.id)}</code>'
                   "</div>")
    else:
        content = folded(message.content or "") if message.content else ""
    tool_calls = "".join(_tool_call(call.id, call.name, call.arguments, results, newer)
                         for call in message.tool_calls)
    details = _details_of(message)
    meta = (f'<details class="ids"><summary>ids &amp; metadata</summary>'
            f"{json_block(details)}</details>" if details else "")
    return (f'<article class="msg role-{esc(role)}" id="m{position}">'
            f'<header>{" ".join(head)}</header>{content}{tool_calls}{meta}</article>')


def _tool_call(call_id: str, name: str, arguments: Any, results: dict[str, int],
               newer: str | None) -> str:
    target = results.get(call_id)
    if target is not None:
        link = f'<a class="link" href="#m{target}">result ↓</a>'
    elif newer is not None:
        link = f'<a class="link" href="{newer}">result: newer page &rsaquo;</a>'
    else:
        link = '<span class="muted">no result on this page</span>'

    return (f'<div class="tool-call"><div class="call-head">⚙ <b class="tool-name">{esc(name)}'
            f'</b> <code class="call-id">{esc(call_id)}</code> {link}</div>'
            f"{json_block(arguments)}</div>")


# -- checkpoints ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineView:
    info: SessionInfo
    checkpoints: list[Checkpoint]
    next_after: str | None
    first_page: bool


def timeline_page(chrome: Chrome, view: TimelineView) -> str:
    sid = view.info.id
    rows = []
    for cp in view.checkpoints:
        parent = (f'<a href="{href(chrome.base, "s", sid, "checkpoints", cp.parent_id)}">'
                  f"{esc(cp.parent_id)}</a>" if cp.parent_id else '<span class="muted">—</span>')
        rows.append(
            f'<tr><td class="id"><a href="{href(chrome.base, "s", sid, "checkpoints", cp.id)}">'
            f"{esc(cp.id)}</a></td><td>{_time(checkpoint_time(cp.id))}</td>"
            f"<td>{esc(cp.next_node) if cp.next_node else '<span class=muted>end</span>'}</td>"
            f'<td class="id">{parent}</td></tr>')
    table = ('<table class="timeline"><thead><tr><th>checkpoint</th><th>time (UTC)</th>'
             f'<th>next node</th><th>parent</th></tr></thead><tbody>{"".join(rows)}</tbody>'
             "</table>" if rows else '<p class="empty">No checkpoints in this thread.</p>')
    pager = []
    if not view.first_page:
        pager.append(f'<a href="{href(chrome.base, "s", sid, "checkpoints")}">« first page</a>')
    if view.next_after is not None:
        following = href(chrome.base, "s", sid, "checkpoints", after=view.next_after)
        pager.append(f'<a rel="next" href="{following}">next page »</a>')
    body = f"""<h1 class="sid">Checkpoints of <code>{esc(sid)}</code></h1>
<p class="meta">oldest first · {len(view.checkpoints)} shown</p>
{table}
<nav class="pager">{" · ".join(pager)}</nav>"""
    return layout(chrome, f"Checkpoints of {sid}", body,
                  crumbs=[(sid, href(chrome.base, "s", sid)),
                          ("checkpoints", href(chrome.base, "s", sid, "checkpoints"))])


@dataclass(frozen=True, slots=True)
class CheckpointView:
    info: SessionInfo
    checkpoint: Checkpoint
    parent: Checkpoint | None
    changes: list[Change]
    truncated: bool
    can_fork: bool


def _diff_table(changes: list[Change], truncated: bool) -> str:
    if not changes:
        return '<p class="empty">No difference in the state.</p>'
    rows = []
    for change in changes:
        before = "" if change.op == "added" else json_block(change.before)
        after = "" if change.op == "removed" else json_block(change.after)
        rows.append(f'<tr class="op-{change.op}"><td class="op">{change.op}</td>'
                    f'<td class="path"><code>{esc(change.path or "/")}</code></td>'
                    f"<td>{before}</td><td>{after}</td></tr>")
    more = ('<p class="notice">Only the first changes are shown.</p>' if truncated else "")
    return ('<table class="diff"><thead><tr><th></th><th>path (JSON Pointer)</th><th>parent</th>'
            f'<th>this checkpoint</th></tr></thead><tbody>{"".join(rows)}</tbody></table>{more}')


def checkpoint_page(chrome: Chrome, view: CheckpointView) -> str:
    sid = view.info.id
    cp = view.checkpoint
    if cp.parent_id is None:
        diff_html = ('<p class="empty">This checkpoint has no parent: every path below is '
                     "new.</p>" + _diff_table(view.changes, view.truncated))
    elif view.parent is None:
        diff_html = (f'<p class="notice">Its parent <code>{esc(cp.parent_id)}</code> is not in '
                     "the store, so there is nothing to compare with.</p>")
    else:
        diff_html = _diff_table(view.changes, view.truncated)
    parent = (f'<a href="{href(chrome.base, "s", sid, "checkpoints", cp.parent_id)}">'
              f"{esc(cp.parent_id)}</a>" if cp.parent_id else "—")
    extra = {name: value for name, value in cp.to_dict().items()
             if name not in ("id", "state", "next_node", "parent_id")}
    fork = ""
    if chrome.writes and view.can_fork:
        fork = (f'<p class="actions"><a class="button" href="'
                f'{href(chrome.base, "s", sid, "fork", checkpoint=cp.id)}">Fork from here…</a></p>')
    body = f"""<h1 class="sid">Checkpoint <code>{esc(cp.id)}</code></h1>
<table class="facts"><tbody>
<tr><th>thread</th><td><a href="{href(chrome.base, 's', sid)}">{esc(sid)}</a></td></tr>
<tr><th>time (UTC)</th><td>{_time(checkpoint_time(cp.id))}</td></tr>
<tr><th>next node</th><td>{esc(cp.next_node) if cp.next_node else "end"}</td></tr>
<tr><th>parent</th><td>{parent}</td></tr>
</tbody></table>
{fork}
<section class="diff-section"><h2>Changes from the parent</h2>{diff_html}</section>
<section><h2>State <button type="button" class="small" data-tree="open">expand all</button>
<button type="button" class="small" data-tree="close">collapse all</button></h2>
{json_tree(cp.state)}</section>
<details class="ids"><summary>metadata &amp; other fields</summary>{json_block(extra)}</details>"""
    return layout(chrome, f"Checkpoint {cp.id}", body,
                  crumbs=[(sid, href(chrome.base, "s", sid)),
                          ("checkpoints", href(chrome.base, "s", sid, "checkpoints")),
                          (cp.id, href(chrome.base, "s", sid, "checkpoints", cp.id))])


# -- confirmations, results and errors ----------------------------------------------------


def confirm_page(chrome: Chrome, *, title: str, question: str, action: str, button: str,
                 fields: dict[str, str], danger: bool, back: str) -> str:
    """A POST form carrying the per-process token: the only way to change anything."""
    hidden = "".join(f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">'
                     for name, value in {"token": chrome.token, **fields}.items())
    body = f"""<h1>{esc(title)}</h1>
<p class="question">{question}</p>
<form method="post" action="{action}">{hidden}
<button type="submit" class="{'danger' if danger else 'primary'}">{esc(button)}</button>
<a class="button" href="{back}">Cancel</a></form>"""
    return layout(chrome, title, body)


def message_page(chrome: Chrome, title: str, text: str, *, link: tuple[str, str] | None = None
                 ) -> str:
    more = f'<p><a href="{link[1]}">{esc(link[0])}</a></p>' if link else ""
    body = f'<h1>{esc(title)}</h1><p class="notice">{esc(text)}</p>{more}'
    return layout(chrome, title, body)


def error_page(chrome: Chrome, status: int, title: str, text: str) -> str:
    body = (f'<h1 class="error">{status} · {esc(title)}</h1><p class="notice">{esc(text)}</p>'
            f'<p><a href="{href(chrome.base, "")}">Back to the sessions</a></p>')
    return layout(chrome, title, body)
