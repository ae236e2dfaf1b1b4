"""Translation of the child portal: gettext-style, the English source text is the msgid.

Catalogues are PO files read with Babel when first needed (no compile step):
``safeguard/web/locales/<lang>/LC_MESSAGES/messages.po``. English needs no catalogue.

Templates call ``{{ _("Text") }}``, ``{{ _("Call %(number)s", number=n) }}`` and
``{{ ngettext("%(num)d day", "%(num)d days", n) }}``; both read the language of the request
(set by the ``/{lang}/`` URL prefix). Placeholders use ``%(name)s`` as Jinja's i18n extension
does, so translators see the same syntax everywhere.

A missing translation falls back to English. In production it is logged once per message and
language; with ``Settings.i18n_strict`` (the tests set it) it is wrapped in a visible marker, so
a page that forgot a string cannot pass a test unnoticed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).with_name("locales")
DEFAULT_LANGUAGE = "en"
MISSING_MARK = "⟦untranslated⟧"


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # in the language itself: a child looks for the word they can read, not a flag
    english_name: str
    direction: str  # "ltr" or "rtl"


LANGUAGES: dict[str, Language] = {
    lang.code: lang for lang in (
        Language("en", "English", "English", "ltr"),
        Language("fr", "Français", "French", "ltr"),
        Language("es", "Español", "Spanish", "ltr"),
        Language("pt", "Português", "Portuguese", "ltr"),
        Language("ar", "العربية", "Arabic", "rtl"),
    )
}


class LanguageConvertor(Convertor[str]):
    """``{lang:lang}`` in a route matches only a supported language, so portal routes such as
    ``/{lang}/help`` can never shadow ``/console/...`` or ``/v1/...``."""

    regex = "|".join(LANGUAGES)

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("lang", LanguageConvertor())


@dataclass(frozen=True)
class Catalogue:
    singular: dict[str, str]
    plural: dict[str, tuple[str, ...]]
    plural_index: Any  # n -> index into a plural tuple, from the PO header's Plural-Forms


@cache
def catalogue(lang: str) -> Catalogue:
    """The PO file of `lang`, read once. Fuzzy or empty entries count as missing."""
    from babel.messages.pofile import read_po

    path = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
    singular: dict[str, str] = {}
    plural: dict[str, tuple[str, ...]] = {}
    if not path.exists():
        return Catalogue(singular, plural, lambda n: 0 if n == 1 else 1)
    with path.open("rb") as handle:
        cat = read_po(handle, locale=lang)
    for message in cat:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple | list):
            forms = tuple(message.string or ())
            if forms and all(forms):
                plural[message.id[0]] = forms
        elif isinstance(message.string, str) and message.string:
            singular[message.id] = message.string
    # gettext's own compiler for the C-like Plural-Forms expression (it refuses anything else).
    from gettext import c2py

    return Catalogue(singular, plural, c2py(cat.plural_expr))


_logged_missing: set[tuple[str, str]] = set()


def _missing(lang: str, msgid: str, strict: bool) -> str:
    if strict:
        return f"{MISSING_MARK} {msgid}"
    if (lang, msgid) not in _logged_missing:
        _logged_missing.add((lang, msgid))
        log.warning("portal: no %s translation for %r; showing English", lang, msgid)
    return msgid


def _format(text: str, values: dict[str, Any]) -> str:
    return text % values if values else text


def gettext(lang: str, msgid: str, *, strict: bool = False, **values: Any) -> str:
    if lang == DEFAULT_LANGUAGE:
        return _format(msgid, values)
    found = catalogue(lang).singular.get(msgid)
    return _format(found if found is not None else _missing(lang, msgid, strict), values)


def ngettext(lang: str, singular: str, plural: str, n: int, *, strict: bool = False,
             **values: Any) -> str:
    values = {"num": n, **values}
    if lang == DEFAULT_LANGUAGE:
        return _format(singular if n == 1 else plural, values)
    cat = catalogue(lang)
    forms = cat.plural.get(singular)
    if forms is None:
        return _format(_missing(lang, singular if n == 1 else plural, strict), values)
    index = min(int(cat.plural_index(n)), len(forms) - 1)
    return _format(forms[index], values)


# ---- the request's language, for templates and routes ---------------------------------------


def request_language(request: Request) -> str:
    """From the ``/{lang}/`` prefix; pages outside it (``/``, the poster) may set
    ``request.state.lang``; anything else is English."""
    lang = request.path_params.get("lang") or getattr(request.state, "lang", None)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def _strict(request: Request) -> bool:
    settings = getattr(request.app.state, "settings", None)
    return bool(getattr(settings, "i18n_strict", False))


@pass_context
def jinja_gettext(context: Context, msgid: str, **values: Any) -> str:
    request: Request = context["request"]
    return gettext(request_language(request), msgid, strict=_strict(request), **values)


@pass_context
def jinja_ngettext(context: Context, singular: str, plural: str, n: int, **values: Any) -> str:
    request: Request = context["request"]
    return ngettext(request_language(request), singular, plural, n, strict=_strict(request),
                    **values)


def translator(request: Request) -> Any:
    """``_`` for Python code that builds messages for a page (error messages, flash text)."""
    lang, strict = request_language(request), _strict(request)

    def _(msgid: str, **values: Any) -> str:
        return gettext(lang, msgid, strict=strict, **values)

    return _
