"""Rendering: escaping of every stored string, folding, tool-call links, trees, diffs."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import quote

from synaptic_s3 import Checkpoint, Message
from synaptic_s3.console import views
from synaptic_s3.console.jsondiff import diff
from synaptic_s3.console.markup import FOLD_CHARS, esc, folded, href, json_tree, url
from synaptic_s3.memory import MessagePage
from synaptic_s3.session import SessionInfo

CHROME = views.Chrome("/console", "memory://", writes=False, token="t0k")
EVIL = '<script>alert(1)</script><img src=x onerror=alert(2)>"\''
INFO = SessionInfo(id=EVIL, created_at="2025-01-01T00:00:00.000Z")


class _Tags(HTMLParser):
    """Every start tag and attribute as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _no_markup_from_data(html: str) -> None:
    """No element or attribute came from the data: the only script is the page's own,
    there is no img, and no attribute is an event handler."""
    parser = _Tags()
    parser.feed(html)
    names = [tag for tag, _ in parser.tags]
    assert names.count("script") == 1
    assert "img" not in names
    assert not [(tag, name) for tag, attrs in parser.tags for name, _ in attrs
                if name.startswith("on")]
    scripts = [dict(attrs) for tag, attrs in parser.tags if tag == "script"]
    assert scripts == [{"src": "/console/static/console.js", "defer": None}]


def _conversation(messages: list[Message], *, start: int = 0, total: int | None = None,
                  summary: str | None = None, info: SessionInfo = INFO) -> str:
    page = MessagePage(messages, start, len(messages) if total is None else total)
    return views.conversation_page(CHROME, views.ConversationView(info, summary, page, False))


def test_esc_and_href_encode_everything() -> None:
    assert esc(EVIL) == ("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)"
                         "&gt;&quot;&#x27;")
    assert (url("/console", "s", 'a b?#%"/ü', start=3)
            == "/console/s/a%20b%3F%23%25%22%2F%C3%BC?start=3")
    assert href("/console", "s", "x", q="a&b") == "/console/s/x?q=a%26b"


def test_hostile_message_fields_render_as_text() -> None:
    html = _conversation([
        Message.human(EVIL, id=EVIL, name=EVIL),
        Message.ai(EVIL, tool_calls=[{"id": EVIL, "name": EVIL, "arguments": {EVIL: [EVIL]}}]),
        Message.tool(EVIL, EVIL),
        Message.chat(EVIL, EVIL),
        Message.remove(EVIL),
    ], summary=EVIL)
    _no_markup_from_data(html)
    assert html.count(esc(EVIL)) >= 6
    assert "/console/s/%3Cscript%3Ealert%281%29%3C%2Fscript%3E" in html  # the id, encoded


def test_hostile_checkpoint_renders_as_text() -> None:
    parent = Checkpoint({EVIL: EVIL, "n": 1}, id="p")
    checkpoint = Checkpoint({EVIL: [EVIL], "n": 2}, id=EVIL, next_node=EVIL, parent_id="p",
                            metadata={EVIL: EVIL})
    changes, truncated = diff(parent.state, checkpoint.state)
    html = views.checkpoint_page(CHROME, views.CheckpointView(
        INFO, checkpoint, parent, changes, truncated, can_fork=False))
    _no_markup_from_data(html)
    assert "&lt;script&gt;" in html


def test_sessions_and_timeline_escape_ids() -> None:
    html = views.sessions_page(CHROME, views.SessionsView([INFO], "newest", EVIL, True, EVIL,
                                                          EVIL))
    _no_markup_from_data(html)
    timeline = views.timeline_page(CHROME, views.TimelineView(
        INFO, [Checkpoint({}, id=EVIL, parent_id=EVIL, next_node=EVIL)], EVIL, False))
    _no_markup_from_data(timeline)


def test_short_text_is_shown_and_long_text_folded() -> None:
    assert "<details" not in folded("x" * FOLD_CHARS)
    long = folded("y" * (FOLD_CHARS + 1))
    assert long.startswith('<details class="fold">')
    assert f"{FOLD_CHARS + 1:,} characters" in long
    many_lines = folded("line\n" * 20)
    assert "<details" in many_lines
    assert "21 lines" in many_lines


def test_tool_calls_link_to_their_results_and_back() -> None:
    html = _conversation([
        Message.ai("", tool_calls=[{"id": "c1", "name": "search", "arguments": {"q": "x"}},
                                   {"id": "c2", "name": "fetch", "arguments": {}}]),
        Message.tool("found", "c1"),
        Message.tool("orphan", "c9"),
    ], start=10, total=13)
    assert 'id="m10"' in html
    assert 'id="m11"' in html
    assert '<a class="link" href="#m11">result ↓</a>' in html  # c1 -> its result
    assert "no result on this page" in html  # c2 has none here
    assert '<a class="link" href="#m10">↩ result of <b>search</b></a>' in html
    assert "result of call c9 (older page)" in html
    assert "&quot;q&quot;: &quot;x&quot;" in html  # pretty-printed arguments


def test_calls_and_results_across_a_page_edge_link_to_the_neighbour_page() -> None:
    html = _conversation([Message.tool("late result", "c0"),
                          Message.ai("", tool_calls=[{"id": "c9", "name": "x"}])],
                         start=200, total=600)
    assert f'href="/console/s/{quote(EVIL, safe="")}?end=200">result of call c0' in html
    assert f'href="/console/s/{quote(EVIL, safe="")}?start=202">result: newer page' in html


def test_message_pager_links() -> None:
    middle = _conversation([Message.human(str(i)) for i in range(200)], start=50, total=450)
    assert 'href="/console/s/' in middle
    assert "end=50" in middle
    assert "start=250" in middle
    assert "start=0" in middle
    assert "messages 51&ndash;250 of 450" in middle
    first = _conversation([Message.human("a")], start=0, total=1)
    assert "older" not in first
    assert "newer" not in first


def test_json_tree_opens_two_levels_and_caps_nodes() -> None:
    tree = json_tree({"a": {"b": {"c": 1}}})
    assert tree.count("<details class=\"j-branch\" open>") == 2
    assert tree.count("<details class=\"j-branch\">") == 1
    big = json_tree(list(range(10_000)), nodes=100)
    assert "more not shown" in big
    assert big.count("<li>") < 110


def test_write_buttons_only_when_allowed() -> None:
    page = MessagePage([], 0, 0)
    reading = views.conversation_page(CHROME, views.ConversationView(INFO, None, page, True))
    assert "Delete" not in reading
    assert "Fork" not in reading
    writes = views.Chrome("/console", "memory://", writes=True, token="t0k")
    html = views.conversation_page(writes, views.ConversationView(INFO, None, page, True))
    assert "Delete…" in html
    assert "Fork…" in html
    no_fork = views.conversation_page(writes, views.ConversationView(INFO, None, page, False))
    assert "Delete…" in no_fork
    assert "Fork…" not in no_fork
