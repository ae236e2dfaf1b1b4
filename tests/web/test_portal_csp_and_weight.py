"""Every portal page a child can reach, in every language, including each step and each problem
page of the report flow: a strict Content-Security-Policy and the other security headers,
nothing from a third party, nothing the policy would silently drop (inline scripts, handlers
or styles), `no-store`, a CSRF cookie that is HttpOnly, SameSite=Strict and dies with the
browser; and the page-weight budget: HTML + CSS + JS under 60 KB before compression, the
on-device hashing files excluded and loaded only where the hashing fieldset is."""

from __future__ import annotations

import re
from typing import Any

import pytest
from lxml import html

from safeguard.web.i18n import LANGUAGES

pytestmark = pytest.mark.cr("CR-08", "CR-13")

PAGE_BUDGET = 60 * 1024  # the budget, HTML + CSS + JS before compression
HASHING_ASSETS = frozenset({"/static/portal/pdq.js", "/static/portal/md5.js",
                            "/static/portal/hash-on-device.js", "/static/portal/hash.css"})


def _tokens(page: str) -> dict[str, str]:
    found = {name: re.search(rf'name="{name}" value="([^"]*)"', page)
             for name in ("csrf_token", "form_token")}
    return {name: m.group(1) for name, m in found.items() if m is not None}


def _flow(client: Any, lang: str) -> dict[str, Any]:
    """Every page of the portal in `lang`, by name, as the server answered it."""
    client.app.state.portal_guard = None  # fresh in-memory rate limits for each language
    pages: dict[str, Any] = {}
    for path in ("", "help", "help?country=FR", "help?country=JP", "what-happens-next",
                 "quick-exit", "scope", "guides/parents", "guides/teachers", "share",
                 "report", "report/danger", "report/danger?country=FR", "status",
                 "no-such-page", "status/add"):
        pages[path or "home"] = client.get(f"/{lang}/{path}")
    form = _tokens(pages["report"].text)
    pages["report: a problem (422)"] = client.post(f"/{lang}/report", data={
        **form, "urls": "ftp://example.org/x", "age_band": "unknown"})
    pages["report: too big (413)"] = client.post(f"/{lang}/report", data={
        **form, "details": "x" * 70_000})
    done = client.post(f"/{lang}/report", data={**form, "what": ["something_else"],
                                                 "age_band": "unknown"})
    pages["report: done"] = done
    pages["report: replayed (409)"] = client.post(f"/{lang}/report", data={
        **form, "what": ["something_else"], "age_band": "unknown"})
    code = re.search(r'id="case-code">([0-9A-Z-]+)<', done.text)
    pin = re.search(r'id="case-pin">(\d+)<', done.text)
    assert code and pin, done.text[:500]
    keys = {**_tokens(pages["status"].text), "code": code.group(1), "pin": pin.group(1)}
    pages["contact"] = client.post(f"/{lang}/report/contact", data={**keys, "step": "ask"})
    pages["status: wrong PIN (401)"] = client.post(f"/{lang}/status",
                                                   data={**keys, "pin": "x"})
    pages["status: open"] = client.post(f"/{lang}/status", data=keys)
    pages["status: added"] = client.post(f"/{lang}/status/add", data={**keys, "text": "more"})
    pages["withdraw: confirm"] = client.post(f"/{lang}/status/withdraw", data=keys)
    pages["withdraw: done"] = client.post(f"/{lang}/status/withdraw",
                                          data={**keys, "confirm": "yes"})
    return pages


@pytest.fixture(scope="module")
def flows(portal_client: Any) -> dict[str, dict[str, Any]]:
    return {lang: _flow(portal_client, lang) for lang in LANGUAGES}


def _policy(header: str) -> dict[str, list[str]]:
    directives = [d.strip().split() for d in header.split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_page_has_a_strict_policy_and_nothing_it_would_drop(
        flows: dict[str, dict[str, Any]], lang: str) -> None:
    expected_status = {"no-such-page": 404, "status/add": 405,
                       "report: a problem (422)": 422, "report: too big (413)": 413,
                       "report: replayed (409)": 409, "status: wrong PIN (401)": 401}
    for name, response in flows[lang].items():
        where = f"/{lang} {name}"
        assert response.status_code == expected_status.get(name, 200), where
        policy = _policy(response.headers["content-security-policy"])
        assert policy["default-src"] == ["'none'"], where
        for directive in ("script-src", "style-src", "connect-src", "form-action",
                          "font-src"):
            assert policy[directive] == ["'self'"], (where, directive)
        assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "geolocation=()" in response.headers["permissions-policy"]
        assert "no-store" in response.headers["cache-control"], where
        doc = html.fromstring(response.text)
        assert doc.getroottree().getroot().get("lang") == lang, where
        assert not doc.xpath("//script[not(@src)]"), f"{where}: inline script"
        assert not doc.xpath("//style"), f"{where}: inline style element"
        assert not doc.xpath("//@style"), f"{where}: style attribute"
        assert not doc.xpath("//@*[starts-with(name(), 'on')]"), f"{where}: inline handler"
        for ref in doc.xpath("//script/@src | //link/@href | //img/@src | //iframe/@src"):
            assert ref.startswith("/") and not ref.startswith("//"), f"{where}: {ref}"
        for form in doc.xpath("//form"):
            action = form.get("action", "")
            assert action.startswith(f"/{lang}/"), f"{where}: form to {action}"
            if form.get("method", "get").lower() == "post":
                assert form.xpath(".//input[@name='csrf_token']"), f"{where}: no CSRF field"


def test_the_csrf_cookie_is_httponly_strict_and_dies_with_the_browser(portal_client: Any
                                                                      ) -> None:
    portal_client.cookies.clear()
    response = portal_client.get("/en/report")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("sg_portal_csrf=")
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/" in lowered
    assert "expires" not in lowered and "max-age" not in lowered


def _weight(client: Any, response: Any) -> tuple[int, list[str]]:
    doc = html.fromstring(response.text)
    assets = [str(a) for a in doc.xpath("//link[@rel='stylesheet']/@href | //script/@src")]
    counted = [a for a in assets if a not in HASHING_ASSETS]
    total = len(response.content) + sum(len(client.get(a).content) for a in counted)
    return total, assets


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_page_is_under_the_weight_budget_and_hashing_loads_only_where_it_is_used(
        portal_client: Any, flows: dict[str, dict[str, Any]], lang: str) -> None:
    for name, response in flows[lang].items():
        total, assets = _weight(portal_client, response)
        assert "/static/portal/portal.css" in assets and "/static/portal/portal.js" in assets
        assert total < PAGE_BUDGET, f"/{lang} {name}: {total} bytes"
        has_fieldset = "data-hash-on-device" in response.text
        assert bool(HASHING_ASSETS & set(assets)) is has_fieldset, f"/{lang} {name}"
    # The hashing page itself, with its scripts, stays under the budget too (stricter than
    # the issue asks), and the pages that offer hashing are exactly the two report forms.
    offering = sorted(n for n, r in flows[lang].items() if "data-hash-on-device" in r.text)
    assert offering == ["report", "report/danger", "report/danger?country=FR",
                        "report: a problem (422)"]
    page = flows[lang]["report"]
    with_hashing = len(page.content) + sum(len(portal_client.get(a).content)
                                           for a in _weight(portal_client, page)[1])
    assert with_hashing < PAGE_BUDGET, f"{with_hashing} bytes"
