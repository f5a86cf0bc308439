"""End-to-end: the console in a real headless Chromium, over a moto S3 server.

Few and quick: each test opens a handful of pages. Screenshots land in
tests/console/artifacts/ (and, with SYNAPTIC_UPDATE_DOCS_IMAGES=1, in docs/img/).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest

from synaptic_s3.console.server import ConsoleServer
from tests.console.conftest import screenshot
from tests.console.seed import (
    CHECKPOINT_IDS,
    HOSTILE_CHECKPOINT,
    HOSTILE_ID,
    IMG,
    LONG_ID,
    SCRIPT,
    TOOLS_ID,
)

pytestmark = [pytest.mark.browser, pytest.mark.s3]


def _by_css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def _navigate(driver: Any, element: Any) -> None:
    """Click something that loads a new page, and wait until the old one is gone (a
    click does not always wait for the navigation it starts)."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element("css selector", "html")
    element.click()
    WebDriverWait(driver, 20).until(expected_conditions.staleness_of(old))
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.readyState") == "complete")


def _click_link(driver: Any, text: str) -> None:
    from selenium.webdriver.common.by import By

    _navigate(driver, driver.find_element(By.PARTIAL_LINK_TEXT, text))


def _no_alert(driver: Any) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - raises when there is no alert
    assert driver.execute_script("return window.__pwned === undefined")


def test_sessions_list_links_to_a_conversation(browser: Any, moto_console: ConsoleServer
                                               ) -> None:
    browser.get(moto_console.url)
    ids = [cell.text for cell in _by_css(browser, "table.sessions td.id")]
    assert ids[0] == HOSTILE_ID  # descending key order: "<" sorts above the digits
    assert ids[1:] == [TOOLS_ID, LONG_ID]  # then UUIDv7 ids, newest first
    screenshot(browser, "sessions")
    _click_link(browser, TOOLS_ID)
    assert browser.find_element("css selector", "h1").text == f"Session {TOOLS_ID}"


def test_conversation_shows_tool_calls_linked_to_results(browser: Any,
                                                         moto_console: ConsoleServer) -> None:
    browser.get(moto_console.url + "s/" + TOOLS_ID)
    summary = _by_css(browser, "section.summary")[0].text
    assert "Lisbon's weather" in summary
    roles = [element.text for element in _by_css(browser, "article.msg .role")]
    assert roles == ["SYSTEM", "HUMAN", "ASSISTANT", "TOOL", "TOOL", "ASSISTANT",
                     "POLICY-BOT", "REMOVED"]
    calls = _by_css(browser, ".tool-call")
    assert [c.find_element("css selector", ".tool-name").text for c in calls] == [
        "get_weather", "search_trains"]
    assert '"city": "Lisbon"' in calls[0].find_element("css selector", ".json").text
    folded = _by_css(browser, "#m4 details.fold")[0]  # the 40-line train listing
    assert folded.get_attribute("open") is None
    screenshot(browser, "conversation", docs="console-conversation.png")
    calls[1].find_element("partial link text", "result").click()
    assert urlsplit(browser.current_url).fragment == "m4"
    folded.find_element("css selector", "summary").click()
    assert folded.get_attribute("open") is not None
    assert "IC 539" in folded.text


def test_paging_through_a_long_session(browser: Any, moto_console: ConsoleServer) -> None:
    browser.get(moto_console.url + "s/" + LONG_ID)

    def shown() -> tuple[str, str, str]:
        texts: list[str] = browser.execute_script(  # one round trip, not 200
            "return [...document.querySelectorAll('article.msg .text')]"
            ".map(e => e.textContent)")
        meta = browser.find_element("css selector", "p.meta").text
        return texts[0], texts[-1], meta

    first, last, meta = shown()
    assert (first, last) == ("long message number 250", "long message number 449")
    assert "messages 251\u2013450 of 450" in meta
    _click_link(browser, "older")
    assert shown()[:2] == ("long message number 50", "long message number 249")
    _click_link(browser, "older")
    first, last, meta = shown()
    assert (first, last) == ("long message number 0", "long message number 49")
    assert "messages 1\u201350 of 450" in meta
    assert not _by_css(browser, "a[rel=prev]")  # nothing older
    _click_link(browser, "newer")
    assert shown()[:2] == ("long message number 50", "long message number 249")
    screenshot(browser, "long-session-page")


def test_checkpoint_diff_against_its_parent(browser: Any, moto_console: ConsoleServer) -> None:
    browser.get(moto_console.url + "s/" + TOOLS_ID + "/checkpoints")
    rows = _by_css(browser, "table.timeline tbody tr")
    assert [r.find_elements("css selector", "td")[2].text for r in rows] == [
        "agent", "tools", "agent"]
    _click_link(browser, CHECKPOINT_IDS[2])
    diff = {(row.find_element("css selector", ".op").text,
             row.find_element("css selector", ".path").text)
            for row in _by_css(browser, "table.diff tbody tr")}
    assert diff == {
        ("ADDED", "/messages/2"), ("ADDED", "/messages/3"), ("CHANGED", "/step"),
        ("REMOVED", "/city"), ("ADDED", "/tools/done"), ("REMOVED", "/tools/pending/0"),
        ("REMOVED", "/tools/pending/1"), ("ADDED", "/forecast")}
    assert _by_css(browser, ".tree")[0].text.count("sunny") == 1
    screenshot(browser, "checkpoint-diff", docs="console-checkpoint-diff.png")
    browser.find_element("css selector", "button[data-tree=close]").click()
    assert all(d.get_attribute("open") is None for d in _by_css(browser, ".tree details"))


def test_hostile_content_renders_as_text(browser: Any, moto_console: ConsoleServer) -> None:
    browser.get(moto_console.url)
    _click_link(browser, "onerror")  # the link of the hostile id, percent-encoded
    assert unquote(urlsplit(browser.current_url).path).endswith("/s/" + HOSTILE_ID)
    _no_alert(browser)
    assert browser.find_element("css selector", "h1 code").text == HOSTILE_ID
    page_text = browser.find_element("css selector", "main").text
    assert SCRIPT in page_text
    assert IMG in page_text
    assert not _by_css(browser, "main script")
    assert not _by_css(browser, "main img")
    for details in _by_css(browser, "details.ids"):
        details.find_element("css selector", "summary").click()
    assert SCRIPT in browser.find_element("css selector", "main").text
    _no_alert(browser)
    screenshot(browser, "hostile", full_page=True)
    browser.get(moto_console.url + "s/" + quote(HOSTILE_ID, safe="") + "/checkpoints/"
                + HOSTILE_CHECKPOINT)
    _no_alert(browser)
    assert SCRIPT in browser.find_element("css selector", ".tree").text
    assert not _by_css(browser, "main script")
    assert not _by_css(browser, "main img")


def test_delete_through_the_confirmation_page(browser: Any) -> None:
    """A real browser's POST (its Origin and Sec-Fetch-Site headers included) passes
    the write checks of a console started with --allow-writes."""
    from synaptic_s3.console.server import running
    from synaptic_s3.service.store_url import parse_store_url
    from tests.console.seed import seed

    with running(parse_store_url("memory://"), allow_writes=True) as server:
        server.app._call(seed(server.app.manager))
        browser.get(server.url + "s/" + TOOLS_ID)
        _click_link(browser, "Delete")
        assert browser.find_element("css selector", "h1").text == "Delete this session?"
        screenshot(browser, "delete-confirmation")
        _navigate(browser, browser.find_element("css selector", "button.danger"))
        assert browser.find_element("css selector", "h1").text == "Session deleted", (
            browser.find_element("css selector", "main").text)
        browser.get(server.url + "s/" + TOOLS_ID)
        assert "404" in browser.find_element("css selector", "h1").text
