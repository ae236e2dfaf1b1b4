"""Rendering of child-portal pages: one Jinja environment with the translation globals, and
the context every page of ``templates/portal/base.html`` needs (language, quick exit, help box).

Every portal route renders through :func:`render_portal`, so the layout's promises (quick exit
first, help in the same place, the language chooser) hold on every page without each route
remembering them.
"""

from __future__ import annotations

from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response

from safeguard.web.i18n import (
    LANGUAGES,
    jinja_gettext,
    jinja_ngettext,
    request_language,
)
from safeguard.web.templating import TEMPLATES_DIR

DEFAULT_EXIT_URL = "https://www.wikipedia.org/"

portal_templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
portal_templates.env.globals["_"] = jinja_gettext
portal_templates.env.globals["ngettext"] = jinja_ngettext
portal_templates.env.globals["LANGUAGES"] = LANGUAGES

# Portal pages hold nothing worth caching and a child may share the device: keep them out of
# the browser's disk cache, so quick exit leaves less behind.
NO_STORE = {"cache-control": "no-store", "x-robots-tag": "noindex"}


def path_in_language(request: Request, lang: str) -> str:
    """The same page in another language: swap the ``/{lang}/`` prefix (``/`` maps to
    ``/{lang}/``). Query strings are kept, so a chosen country survives the switch."""
    path = request.url.path
    current = request.path_params.get("lang")
    if current and path.startswith(f"/{current}/"):
        rest = path[len(current) + 1:]
    elif current and path == f"/{current}":
        rest = "/"
    else:
        rest = "/" if path == "/" else path
    query = request.url.query
    return f"/{lang}{rest}" + (f"?{query}" if query else "")


def portal_context(request: Request, **extra: Any) -> dict[str, Any]:
    from safeguard.help.directory import countries_for_chooser

    lang = request_language(request)
    settings = request.app.state.settings
    context: dict[str, Any] = {
        "lang": lang,
        "language": LANGUAGES[lang],
        "dir": LANGUAGES[lang].direction,
        "languages": [(code, language, path_in_language(request, code))
                      for code, language in LANGUAGES.items()],
        "exit_url": getattr(settings, "portal_quick_exit_url", "") or DEFAULT_EXIT_URL,
        "help_countries": countries_for_chooser(lang, settings.help_directory),
        "country": None,
    }
    context.update(extra)
    return context


def render_portal(request: Request, template: str, *, status_code: int = 200,
                  headers: dict[str, str] | None = None, **context: Any) -> Response:
    """Render a template that extends ``portal/base.html`` in the request's language."""
    return portal_templates.TemplateResponse(
        request, template, portal_context(request, **context), status_code=status_code,
        headers={**NO_STORE, **(headers or {})})
