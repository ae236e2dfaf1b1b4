"""Child portal in Chromium: quick exit first in tab order on every page and in every
language, Shift pressed three times leaves and replaces history, Arabic right to left, the
language chooser by name, axe on every page, and the pages with JavaScript off."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from safeguard.web.i18n import LANGUAGES
from tests.support.browser import assert_accessible, screenshot
from tests.support.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.cr("CR-03", "CR-05", "CR-13")]

PAGES = ("", "help", "help?country=GB", "what-happens-next", "quick-exit", "scope",
         "guides/parents", "guides/teachers", "share")
EXIT = "https://www.wikipedia.org/"


def _neutral_site(page: Page) -> None:
    """Answer the quick-exit site locally: tests never reach the internet."""
    page.route(f"{EXIT}**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<title>Neutral</title><p>Neutral page</p>"))


def _focused_id(page: Page) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_page_quick_exit_first_and_axe_clean(live_server: LiveServer, page: Page,
                                                   lang: str) -> None:
    for path in PAGES:
        page.goto(f"{live_server.url}/{lang}/{path}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        page.keyboard.press("Tab")
        assert _focused_id(page) == "quick-exit", f"/{lang}/{path}"
        expect(page.locator("#quick-exit")).to_be_focused()
        expect(page.locator("body")).not_to_contain_text("⟦untranslated⟧")
        assert_accessible(page)
        screenshot(page, f"portal-{lang}-{path.replace('/', '-').replace('?', '-') or 'home'}")


def test_first_screen_chooser_uses_language_names(live_server: LiveServer, page: Page) -> None:
    page.goto(f"{live_server.url}/")
    page.keyboard.press("Tab")
    assert _focused_id(page) == "quick-exit"
    chooser = page.get_by_role("region", name="Choose your language")
    for language in LANGUAGES.values():
        expect(chooser.get_by_role("link", name=language.name, exact=True)).to_be_visible()
    expect(chooser.locator("img")).to_have_count(0)
    chooser.get_by_role("link", name="العربية").click()
    expect(page).to_have_url(re.compile(r"/ar/$"))
    expect(page.get_by_role("link", name="خروج سريع")).to_be_visible()
    assert_accessible(page)


def test_arabic_is_right_to_left(live_server: LiveServer, page: Page) -> None:
    page.goto(f"{live_server.url}/ar/help?country=FR")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert page.evaluate("getComputedStyle(document.querySelector('main')).direction") == "rtl"
    # the layout mirrors: quick exit moves from the top right to the top left
    box = page.locator("#quick-exit").bounding_box()
    assert box is not None and box["x"] < 400
    screenshot(page, "portal-ar-rtl-help")


def test_shift_three_times_leaves_and_replaces_history(live_server: LiveServer,
                                                       page: Page) -> None:
    _neutral_site(page)
    page.goto(f"{live_server.url}/en/")
    page.get_by_role("link", name="What happens next").click()
    expect(page).to_have_url(re.compile(r"/en/what-happens-next$"))
    page.wait_for_load_state("load")  # portal.js (deferred) listens for the keys from then on
    length = page.evaluate("history.length")
    # Shift with another key in between does not count: typing capitals never leaves.
    page.keyboard.press("Shift")
    page.keyboard.press("a")
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    expect(page).to_have_url(re.compile(r"/en/what-happens-next$"))
    page.keyboard.press("Shift")
    expect(page).to_have_url(EXIT)
    assert page.evaluate("history.length") == length  # replaced, not added
    page.go_back()
    expect(page).to_have_url(re.compile(r"/en/$"))  # the page the child was on is gone


def test_quick_exit_button_replaces_history(live_server: LiveServer, page: Page) -> None:
    _neutral_site(page)
    page.goto(f"{live_server.url}/fr/")
    page.goto(f"{live_server.url}/fr/help")
    length = page.evaluate("history.length")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(EXIT)
    assert page.evaluate("history.length") == length
    page.go_back()
    expect(page).to_have_url(re.compile(r"/fr/$"))


def test_pages_work_with_javascript_off(live_server: LiveServer, new_page) -> None:
    page = new_page(java_script_enabled=False)
    _neutral_site(page)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Español").first.click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    # choose a country in the help box and get the contacts, keyboard only
    page.get_by_label("¿Dónde vives?").select_option("ES")
    page.get_by_role("button", name="Ver ayuda").press("Enter")
    expect(page).to_have_url(re.compile(r"/es/help\?country=ES$"))
    expect(page.get_by_text("116 111")).to_be_visible()
    expect(page.get_by_role("link", name="112")).to_be_visible()
    # (axe needs JavaScript; the same pages are checked with it on above)
    for path in PAGES:
        page.goto(f"{live_server.url}/es/{path}")
        expect(page.locator("main h1")).to_be_visible()
    # without JavaScript quick exit is a plain link that sends no referrer
    expect(page.locator("#quick-exit")).to_have_attribute("rel", "noreferrer")
    page.locator("#quick-exit").click()
    expect(page).to_have_url(EXIT)
