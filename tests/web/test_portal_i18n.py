"""Translations: every portal string in every language; missing ones visible in tests and
logged (not hidden) in production; plurals; placeholders survive translation."""

from __future__ import annotations

import logging
import re

import pytest
from babel.messages.pofile import read_po
from fastapi import Request
from fastapi.responses import Response

from safeguard.web import i18n
from safeguard.web.i18n_extract import collect, missing_translations, msgids, po_path

pytestmark = pytest.mark.cr("CR-05")

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def test_every_portal_string_is_translated_in_every_language() -> None:
    messages = collect()
    assert len(msgids(messages)) > 100  # the extractor really finds the portal's strings
    missing = missing_translations(messages)
    report = {lang: gaps[:10] for lang, gaps in missing.items() if gaps}
    assert not report, (
        "untranslated portal strings (run python -m safeguard.web.i18n_extract, then fill in "
        f"the msgstr): {report}")


@pytest.mark.parametrize("lang", [code for code in i18n.LANGUAGES if code != "en"])
def test_translations_keep_their_placeholders(lang: str) -> None:
    with po_path(lang).open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    wrong = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        source = message.id[0] if isinstance(message.id, tuple) else message.id
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        for target in targets:
            if set(_PLACEHOLDER.findall(source)) != set(_PLACEHOLDER.findall(target)):
                wrong.append((source, target))
    assert wrong == []


def test_extractor_finds_template_python_and_directory_strings() -> None:
    found = {m.msgid: m.location[0] for m in collect() if isinstance(m.msgid, str)}
    assert found["Quick exit"].endswith("portal/base.html")
    assert found["Scan the code or go to:"].endswith("web/poster.py")
    assert found["24 hours, every day"].endswith("help_directory.toml")


def test_missing_translation_is_marked_in_strict_mode() -> None:
    text = i18n.gettext("fr", "A sentence nobody translated.", strict=True)
    assert text == "⟦untranslated⟧ A sentence nobody translated."


def test_missing_translation_falls_back_to_english_and_is_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="safeguard.web.i18n"):
        text = i18n.gettext("pt", "Another sentence nobody translated.")
        again = i18n.gettext("pt", "Another sentence nobody translated.")
    assert text == again == "Another sentence nobody translated."
    logged = [r for r in caplog.records if "Another sentence" in r.getMessage()]
    assert len(logged) == 1  # once per message and language, not on every page view


def test_strict_mode_shows_on_a_rendered_page(portal_client_strict) -> None:
    response = portal_client_strict.get("/fr/test-untranslated")
    assert "⟦untranslated⟧ A heading nobody translated" in response.text
    assert "Sortie rapide" in response.text  # translated strings stay translated


def test_english_and_placeholders() -> None:
    assert i18n.gettext("en", "Help in %(country)s", country="Chile") == "Help in Chile"
    assert i18n.gettext("fr", "Help in %(country)s", country="Chili") == "Aide : Chili"
    assert i18n.gettext("ar", "Quick exit") == "خروج سريع"


def test_plural_forms_follow_each_language() -> None:
    assert i18n.ngettext("en", "%(num)d day", "%(num)d days", 1) == "1 day"
    assert i18n.ngettext("en", "%(num)d day", "%(num)d days", 3) == "3 days"
    # no catalogue entry: English plural rule, marked in strict mode
    assert i18n.ngettext("fr", "%(num)d day", "%(num)d days", 0, strict=True) \
        == "⟦untranslated⟧ 0 days"


def test_plural_index_comes_from_the_catalogue_header() -> None:
    french = i18n.catalogue("fr").plural_index
    assert [french(n) for n in (0, 1, 2)] == [0, 0, 1]  # French: 0 is singular
    arabic = i18n.catalogue("ar").plural_index
    assert len({arabic(n) for n in (0, 1, 2, 3, 11, 100)}) == 6  # six Arabic forms


@pytest.fixture
def portal_client_strict(tmp_path, sqlite_template):
    """The app plus one extra test route rendering a template with an untranslated string."""
    import shutil

    from fastapi.testclient import TestClient
    from jinja2 import ChoiceLoader, DictLoader

    from safeguard.config import Settings
    from safeguard.web.app import create_app
    from safeguard.web.portal_templating import portal_templates, render_portal

    shutil.copyfile(sqlite_template, tmp_path / "safeguard.db")
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'safeguard.db'}",
                        data_dir=tmp_path / "data", i18n_strict=True)
    app = create_app(settings)
    original = portal_templates.env.loader
    portal_templates.env.loader = ChoiceLoader([DictLoader({
        "portal/_test.html": '{% extends "portal/base.html" %}{% block title %}x{% endblock %}'
                             '{% block content %}<h1>{{ _("A heading nobody translated") }}'
                             '</h1>{% endblock %}'}), original])

    @app.get("/{lang:lang}/test-untranslated")
    def untranslated(request: Request, lang: str) -> Response:
        return render_portal(request, "portal/_test.html")

    try:
        with TestClient(app) as client:
            yield client
    finally:
        portal_templates.env.loader = original
