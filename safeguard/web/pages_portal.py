"""Child portal: the first screen, help, "what happens next", quick exit, scope, guides and the
outreach material (embeddable button, poster). The report flow itself is in the reports pages.

URLs: ``/`` is the first screen (English, with the language chooser); every other page lives
under ``/{lang}/`` with ``lang`` one of ``safeguard.web.i18n.LANGUAGES`` (see
docs/decisions/027-portal-urls-and-i18n.md). The console stays under ``/console``.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from safeguard.help.directory import country_name, directory, is_country
from safeguard.web.i18n import DEFAULT_LANGUAGE, LANGUAGES
from safeguard.web.portal_templating import NO_STORE, render_portal
from safeguard.web.poster import POSTER_FORMATS, PosterError, poster_for
from safeguard.web.templating import STATIC_DIR

router = APIRouter(include_in_schema=False)

_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
# Guides, one template each; the URL names the reader.
GUIDES = ("parents", "teachers")


_LANG_PREFIX = re.compile(r"^/(" + "|".join(LANGUAGES) + r")(?:/|$)")


def portal_error_page(request: Request, status_code: int) -> Response | None:
    """The portal's own page for an address under ``/{lang}/`` that does not exist (404), or a
    form's address opened with a link, the history or a reload (405): the child keeps quick
    exit, the help box and their language instead of a bare error. None elsewhere."""
    if request.method not in ("GET", "HEAD") or status_code not in (404, 405):
        return None
    found = _LANG_PREFIX.match(request.url.path)
    if found is None:
        return None
    request.state.lang = found.group(1)
    return render_portal(request, "portal/not_found.html", status_code=status_code)


def portal_url(request: Request) -> str:
    """Where children reach the portal: the configured public address, else this request's."""
    configured = request.app.state.settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


@router.get("/")
def first_screen(request: Request) -> Response:
    return render_portal(request, "portal/home.html", first_screen=True)


@router.get("/{lang:lang}")
def language_root(lang: str) -> Response:
    return RedirectResponse(f"/{lang}/", status_code=status.HTTP_308_PERMANENT_REDIRECT)


@router.get("/{lang:lang}/")
def home(request: Request, lang: str) -> Response:
    return render_portal(request, "portal/home.html", first_screen=False)


@router.get("/{lang:lang}/help")
def help_page(request: Request, lang: str,
              country: Annotated[str, Query(max_length=64)] = "") -> Response:
    settings = request.app.state.settings
    chosen = country.strip()
    if chosen and not (_COUNTRY.match(chosen) and is_country(chosen.upper())):
        # Bad input gets the help page anyway (a child looking for help must never hit a wall),
        # with a message instead of contacts.
        return render_portal(request, "portal/help.html", status_code=400, country=None,
                             entry=None, bad_country=True, country_label=None,
                             reviewed=directory(settings.help_directory).reviewed)
    code = chosen.upper() or None
    entry = directory(settings.help_directory).help_for(code)
    return render_portal(request, "portal/help.html", country=code, entry=entry,
                         bad_country=False,
                         country_label=country_name(code, lang) if code else None,
                         reviewed=directory(settings.help_directory).reviewed)


@router.get("/{lang:lang}/what-happens-next")
def what_happens_next(request: Request, lang: str) -> Response:
    return render_portal(request, "portal/what_happens_next.html")


@router.get("/{lang:lang}/quick-exit")
def quick_exit(request: Request, lang: str) -> Response:
    return render_portal(request, "portal/quick_exit.html")


@router.get("/{lang:lang}/scope")
def scope(request: Request, lang: str) -> Response:
    return render_portal(request, "portal/scope.html")


@router.get("/{lang:lang}/guides/{reader}")
def guide(request: Request, lang: str, reader: str) -> Response:
    if reader not in GUIDES:
        return render_portal(request, "portal/not_found.html",
                             status_code=status.HTTP_404_NOT_FOUND)
    return render_portal(request, f"portal/guide_{reader}.html")


@router.get("/{lang:lang}/share")
def share(request: Request, lang: str) -> Response:
    """For schools and organisations: the embeddable button and the poster."""
    return render_portal(request, "portal/share.html", portal=portal_url(request))


# ---- outreach: embeddable button and poster (CR-14) ---------------------------------------


@router.get("/embed/button.js")
def embed_button() -> Response:
    """A script a school's site may add next to the plain link from /{lang}/share: it only
    styles that link as a button. No cookies, no requests, nothing counted."""
    body = (STATIC_DIR / "portal" / "embed-button.js").read_text(encoding="utf-8")
    return PlainTextResponse(body, media_type="text/javascript; charset=utf-8",
                             headers={"cache-control": "public, max-age=86400",
                                      "cross-origin-resource-policy": "cross-origin"})


def _poster(request: Request, lang: str, fmt: str) -> Response:
    if lang not in LANGUAGES:
        return PlainTextResponse(
            f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}",
            status_code=status.HTTP_400_BAD_REQUEST, headers=NO_STORE)
    try:
        data = poster_for(portal_url(request), lang, fmt)
    except PosterError as exc:
        return PlainTextResponse(str(exc), status_code=status.HTTP_400_BAD_REQUEST)
    filename = f"safeguard-poster-{lang}.{fmt}"
    return Response(data, media_type=POSTER_FORMATS[fmt],
                    headers={"content-disposition": f'inline; filename="{filename}"',
                             "cache-control": "public, max-age=3600"})


@router.get("/poster.pdf")
def poster_pdf(request: Request,
               lang: Annotated[str, Query(max_length=8)] = DEFAULT_LANGUAGE) -> Response:
    return _poster(request, lang, "pdf")


@router.get("/poster.png")
def poster_png(request: Request,
               lang: Annotated[str, Query(max_length=8)] = DEFAULT_LANGUAGE) -> Response:
    return _poster(request, lang, "png")

