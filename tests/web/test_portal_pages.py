"""Portal pages over HTTP: first screen, language prefix, layout promises on every page
(quick exit first, help box, language chooser with names), help by country, CR pages."""

from __future__ import annotations

import re

import pytest
from lxml import html

from safeguard.web.i18n import LANGUAGES

PORTAL_PAGES = ("", "help", "help?country=FR", "what-happens-next", "quick-exit", "scope",
                "guides/parents", "guides/teachers", "share")

pytestmark = pytest.mark.cr("CR-03", "CR-05", "CR-06", "CR-10", "CR-16")


def _doc(response) -> html.HtmlElement:
    assert response.headers["content-type"].startswith("text/html")
    return html.fromstring(response.text)


def _focusable(doc: html.HtmlElement) -> list[html.HtmlElement]:
    return [e for e in doc.iter("a", "button", "input", "select", "textarea")
            if e.get("tabindex") != "-1" and e.get("type") != "hidden"]


@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("page", PORTAL_PAGES)
def test_every_page_keeps_the_layout_promises(portal_client, lang: str, page: str) -> None:
    response = portal_client.get(f"/{lang}/{page}")
    assert response.status_code == 200, response.text[:300]
    assert response.headers["cache-control"] == "no-store"
    doc = _doc(response)
    root = doc.getroottree().getroot()
    assert root.get("lang") == lang
    assert root.get("dir") == ("rtl" if lang == "ar" else "ltr")
    first = _focusable(doc)[0]
    assert first.get("id") == "quick-exit"
    assert first.get("rel") == "noreferrer"
    assert first.get("href") == "https://www.wikipedia.org/"
    assert doc.get_element_by_id("help-box-title") is not None
    chooser = doc.xpath("//nav[contains(@class,'languages')]//a")
    assert [a.text_content() for a in chooser] == [lang_.name for lang_ in LANGUAGES.values()]
    assert not doc.xpath("//img"), "no flags (or any image) for languages"
    assert "⟦untranslated⟧" not in response.text, "a string on this page has no translation"
    assert not doc.xpath("//script[not(@src)]"), "inline scripts break the CSP"
    assert not doc.xpath("//@*[starts-with(name(), 'on')]"), "inline handlers break the CSP"
    assert not re.search(r"(src|href)=\"https?://(?!www\.wikipedia|report\.example)",
                         _head_and_assets(response.text))


def _head_and_assets(text: str) -> str:
    """Script and stylesheet references only (links to help services are fine)."""
    return " ".join(re.findall(r"<(?:script|link)[^>]*>", text))


def test_first_screen_has_language_names_report_button_and_help(portal_client) -> None:
    doc = _doc(portal_client.get("/"))
    assert doc.getroottree().getroot().get("lang") == "en"
    section = doc.xpath("//section[@aria-labelledby='choose-language']")[0]
    links = {a.get("href"): a.text_content() for a in section.iter("a")}
    assert links == {"/en/": "English", "/fr/": "Français", "/es/": "Español",
                     "/pt/": "Português", "/ar/": "العربية"}
    assert doc.xpath("//a[@href='/en/report']")
    assert doc.xpath("//a[@href='/en/help']")


def test_language_chooser_keeps_the_page_and_the_country(portal_client) -> None:
    doc = _doc(portal_client.get("/fr/help?country=ES"))
    hrefs = doc.xpath("//nav[contains(@class,'languages')]//a/@href")
    assert hrefs == [f"/{code}/help?country=ES" for code in LANGUAGES]
    current = doc.xpath("//nav[contains(@class,'languages')]//a[@aria-current]")
    assert [a.get("lang") for a in current] == ["fr"]


def test_pages_are_translated(portal_client) -> None:
    assert "Sortie rapide" in portal_client.get("/fr/").text
    assert "Salida rápida" in portal_client.get("/es/").text
    assert "Saída rápida" in portal_client.get("/pt/").text
    assert "خروج سريع" in portal_client.get("/ar/").text


def test_unknown_language_is_not_a_portal_page(portal_client) -> None:
    assert portal_client.get("/de/").status_code == 404
    assert portal_client.get("/xx/help").status_code == 404
    # and the portal's prefix cannot capture the console's pages
    response = portal_client.get("/console", follow_redirects=False)
    assert response.status_code in (302, 303, 307)


def test_language_without_slash_redirects(portal_client) -> None:
    response = portal_client.get("/ar", follow_redirects=False)
    assert response.status_code == 308 and response.headers["location"] == "/ar/"


def test_help_for_a_country_lists_cited_contacts(portal_client) -> None:
    doc = _doc(portal_client.get("/en/help?country=gb"))
    text = doc.text_content()
    assert "Help in United Kingdom" in text
    assert "0800 1111" in text and "999" in text
    assert doc.xpath("//a[@href='tel:08001111']")
    cards = doc.xpath("//section[@class='card']")
    assert cards and all(card.xpath(".//a[text()='Where this comes from']") for card in cards)
    assert doc.xpath("//select[@name='country']/option[@value='GB'][@selected]")


def test_help_in_a_region_country_gets_the_region_number(portal_client) -> None:
    text = _doc(portal_client.get("/es/help?country=IT")).text_content()
    assert "Italia" in text and "112" in text  # CLDR name in Spanish, EU-wide number


def test_help_says_where_no_entry_exists(portal_client) -> None:
    response = portal_client.get("/en/help?country=JP")
    assert response.status_code == 200
    text = _doc(response).text_content()
    assert "Help in Japan" in text
    assert "We do not have a list of helplines for this country yet." in text
    assert "childhelplineinternational.org" in response.text
    # ...and a child whose country is missing from the chooser is told so, in their language.
    chooser = _doc(portal_client.get("/ar/help")).text_content()
    assert "هل بلدك ليس في القائمة؟" in chooser
    assert "Japan" not in portal_client.get("/en/help").text  # not in the chooser: no entry
    morocco = _doc(portal_client.get("/ar/help?country=MA"))
    assert morocco.xpath("//a[@href='tel:2511']") and morocco.xpath(
        "//a[@href='https://www.onde.ma/fr/onde/protection']")


@pytest.mark.parametrize("bad", ["123", "Z", "ZZ", "<script>", "GBR"])
def test_help_with_a_bad_country_explains(portal_client, bad: str) -> None:
    response = portal_client.get("/en/help", params={"country": bad})
    assert response.status_code == 400
    assert "We could not read that country" in response.text
    assert "<script>" not in response.text.split("</head>", 1)[1].replace(
        '<script src="/static/portal/portal.js" defer></script>', "")


def test_help_country_too_long_is_refused(portal_client) -> None:
    assert portal_client.get("/en/help", params={"country": "x" * 100}).status_code == 422


def test_what_happens_next_covers_cr10(portal_client) -> None:
    text = _doc(portal_client.get("/en/what-happens-next")).text_content()
    for heading in ("Who sees your report", "What can happen", "How long it takes",
                    "What you can still choose", "What we keep private, and when we cannot"):
        assert heading in text
    assert "we may have to tell the police" in text


def test_quick_exit_page_is_honest(portal_client) -> None:
    text = _doc(portal_client.get("/en/quick-exit")).text_content()
    assert "What it cannot hide" in text
    assert "spy app" in text and "browser history" in text and "Wi-Fi" in text


def test_scope_page_says_hashes_cannot_see_encrypted_chats_and_signposts(portal_client
                                                                          ) -> None:
    doc = _doc(portal_client.get("/en/scope"))
    assert "end-to-end encryption" in doc.text_content()
    hrefs = doc.xpath("//a/@href")
    assert "https://takeitdown.ncmec.org/" in hrefs
    assert any("childline.org.uk" in h and "remove" in h for h in hrefs)


def test_unknown_guide_is_a_portal_404(portal_client) -> None:
    response = portal_client.get("/fr/guides/nobody")
    assert response.status_code == 404
    assert _doc(response).getroottree().getroot().get("lang") == "fr"


PAGE_BUDGET = 60 * 1024  # HTML + CSS + JS before compression (the budget)


@pytest.mark.parametrize("page", PORTAL_PAGES)
def test_page_weight_budget(portal_client, page: str) -> None:
    response = portal_client.get(f"/ar/{page}")
    doc = _doc(response)
    assets = doc.xpath("//link[@rel='stylesheet']/@href") + doc.xpath("//script/@src")
    total = len(response.content) + sum(len(portal_client.get(a).content) for a in assets)
    assert assets and total < PAGE_BUDGET, f"{total} bytes"


def test_emergency_service_names_are_translated_helpline_names_are_not(portal_client) -> None:
    text = _doc(portal_client.get("/fr/help?country=GB")).text_content()
    assert "Services d'urgence" in text and "Emergency services" not in text
    assert "Childline" in text


def test_unknown_portal_address_gets_the_portal_page_in_its_language(portal_client) -> None:
    for path, code in (("/fr/rapport", 404), ("/ar/status/add", 405),
                       ("/es/report/contact", 405)):
        response = portal_client.get(path)
        assert response.status_code == code, path
        doc = _doc(response)
        assert doc.getroottree().getroot().get("lang") == path.split("/")[1]
        assert _focusable(doc)[0].get("id") == "quick-exit"
        assert doc.get_element_by_id("help-box-title") is not None
        assert "⟦untranslated⟧" not in response.text
    # Elsewhere the API's JSON answers stay as they were.
    for path in ("/v1/no-such-thing", "/de/", "/english/"):
        response = portal_client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/json"), path
