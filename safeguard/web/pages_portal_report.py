"""The child's report flow: the form (works with JavaScript off), the "in danger now" path, the
confirmation with the case code and PIN shown once, the optional contact step, and the status
page (status in plain words, add information, withdraw). Every action calls
safeguard.reports.service, like the API and the CLI.

Forms are protected by a double-submit cookie (CSRF), a signed one-time form token (replays),
per-network rate limits in memory, and a proof-of-work the browser computes (stricter limit
without it). No IP address is stored anywhere (CR-08): see safeguard/web/portal_guard.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from safeguard.db.encryption import FieldCipher
from safeguard.db.engine import DatabaseUnavailable
from safeguard.errors import InvalidInput
from safeguard.help.directory import country_name, help_for, is_country
from safeguard.reports import service
from safeguard.reports.inputs import (
    MAX_ACCOUNT,
    MAX_CONTACT,
    MAX_DETAILS,
    MAX_HASHES,
    MAX_URLS,
    WHAT_CHOICES,
    check_text,
    parse_hash_lines,
    parse_urls,
)
from safeguard.reports.models import Report
from safeguard.web.deps import get_cipher
from safeguard.web.i18n import translator
from safeguard.web.portal_guard import (
    CSRF_COOKIE,
    csrf_ok,
    guard_of,
    network_prefix,
    new_csrf,
    pow_ok,
)
from safeguard.web.portal_templating import render_portal

router = APIRouter(include_in_schema=False)

MAX_FORM_BYTES = 64 * 1024  # a report form is a few KB; anything bigger is not a child typing
AGE_CHOICES = ("under_13", "13_15", "16_17", "adult", "unknown")


# ------------------------------------------------------------------------------ helpers


def _csrf_for(request: Request) -> tuple[str, bool]:
    """The double-submit value: the cookie's, or a new one to set."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and 16 <= len(existing) <= 64:
        return existing, False
    return new_csrf(), True


def _page(request: Request, template: str, *, status_code: int = 200,
          **context: Any) -> Response:
    """Render a report-flow page with a CSRF value and a fresh form token."""
    csrf, is_new = _csrf_for(request)
    guard = guard_of(request.app.state)
    response = render_portal(request, template, status_code=status_code, csrf_token=csrf,
                             form_token=guard.tokens.issue(), pow_bits=guard.pow_bits,
                             max_details=MAX_DETAILS, max_account=MAX_ACCOUNT,
                             max_contact=MAX_CONTACT, what_choices=list(WHAT_CHOICES),
                             age_choices=AGE_CHOICES, **context)
    if is_new:
        settings = request.app.state.settings
        # A random value, not an identifier: no expiry (gone when the browser closes).
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict",
                            secure=settings.cookie_secure, path="/")
    return response


async def _form(request: Request) -> FormData | None:
    """The posted form, or None when it is larger than a report can be."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return None
    body = await request.body()  # cached: request.form() below reads the same bytes
    if len(body) > MAX_FORM_BYTES:
        return None
    return await request.form(max_files=0, max_fields=100)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _too_big(request: Request) -> Response:
    _ = translator(request)
    return render_portal(request, "portal/report_problem.html",
                         status_code=status.HTTP_413_CONTENT_TOO_LARGE,
                         message=_("What you sent is too big. Please make it shorter and try "
                                   "again."))


def _limited(request: Request) -> Response:
    _ = translator(request)
    return render_portal(request, "portal/report_problem.html",
                         status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                         message=_("A lot of reports came from your network just now. Please "
                                   "wait a few minutes and try again."),
                         headers={"retry-after": "300"})


def _unavailable(request: Request) -> Response:
    _ = translator(request)
    return render_portal(request, "portal/report_problem.html",
                         status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                         message=_("We could not save this just now, so nothing was kept. "
                                   "Please try again in a minute."),
                         headers={"retry-after": "60"})


def _limit(request: Request, bucket: str) -> bool:
    client = request.client.host if request.client else None
    return guard_of(request.app.state).limiter.hit(bucket, network_prefix(client))


# ------------------------------------------------------------------------- report form


def _values(form: FormData | None, in_danger: bool = False) -> dict[str, Any]:
    if form is None:
        return {"what": [], "details": "", "urls": "", "reported_account": "",
                "age_band": "", "in_danger": in_danger, "hashes": ""}
    return {"what": [w for w in form.getlist("what") if isinstance(w, str)],
            "details": _field(form, "details"), "urls": _field(form, "urls"),
            "reported_account": _field(form, "reported_account"),
            "age_band": _field(form, "age_band"), "in_danger": _field(form, "in_danger") == "yes",
            "hashes": _field(form, "hashes")}


@router.get("/{lang:lang}/report")
def report_form(request: Request, lang: str) -> Response:
    return _page(request, "portal/report_form.html", values=_values(None), errors={})


@router.get("/{lang:lang}/report/danger")
def danger(request: Request, lang: str, country: str = "") -> Response:
    """Emergency contacts at once, then a report that will be marked urgent (CR-11)."""
    chosen = country.strip().upper()[:8]
    code = chosen if len(chosen) == 2 and chosen.isalpha() and is_country(chosen) else None
    settings = request.app.state.settings
    entry = help_for(code, settings.help_directory) if code else None
    return _page(request, "portal/report_danger.html", values=_values(None, in_danger=True),
                 errors={}, country=code, entry=entry,
                 country_label=country_name(code, lang) if code else None)


def _check_report(request: Request, values: dict[str, Any]) -> tuple[dict[str, str],
                                                                       dict[str, Any]]:
    """Friendly, translated problems per field, and the parsed values."""
    _ = translator(request)
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    what = [w for w in values["what"] if w in WHAT_CHOICES]
    if len(what) != len(values["what"]):
        errors["what"] = _("Please choose from the list.")
    parsed["what"] = what
    checks: list[tuple[str, Callable[[], Any], str]] = [
        ("details", lambda: check_text(values["details"], MAX_DETAILS, "details"),
         _("What you wrote is too long. Please keep it under %(max)s letters.")
         % {"max": MAX_DETAILS}),
        ("urls", lambda: parse_urls(values["urls"]),
         _("We could not read a link. Please check it, or take it out. You can send up to "
           "%(max)s links.") % {"max": MAX_URLS}),
        ("reported_account", lambda: check_text(values["reported_account"], MAX_ACCOUNT, "a"),
         _("The name of the account is too long.")),
        ("hashes", lambda: parse_hash_lines(values["hashes"]),
         _("We could not read the picture codes. Please make them again, or send your "
           "report without them. You can send up to %(max)s codes.") % {"max": MAX_HASHES}),
    ]
    for name, check, message in checks:
        try:
            parsed[name] = check()
        except InvalidInput:
            errors[name] = message
    age = values["age_band"] or "unknown"
    if age not in AGE_CHOICES:
        errors["age_band"] = _("Please choose from the list.")
    parsed["age_band"] = age if age in AGE_CHOICES else "unknown"
    if not errors and not (what or parsed["details"] or parsed["urls"] or parsed["hashes"]
                           or parsed["reported_account"] or values["in_danger"]):
        errors["what"] = _("Please tell us something about what happened.")
    return errors, parsed


@router.post("/{lang:lang}/report")
async def submit(request: Request, lang: str) -> Response:
    form = await _form(request)
    if form is None:
        return _too_big(request)
    values = _values(form)
    template = "portal/report_danger.html" if values["in_danger"] else "portal/report_form.html"
    _ = translator(request)

    def again(message: str, code: int, errors: dict[str, str] | None = None) -> Response:
        return _page(request, template, status_code=code, values=values,
                     errors=errors or {}, problem=message, entry=None, country=None)

    if not csrf_ok(request.cookies.get(CSRF_COOKIE), _field(form, "csrf_token")):
        return again(_("We could not send this form. Please check it and send it again."),
                     status.HTTP_403_FORBIDDEN)
    guard = guard_of(request.app.state)
    token = _field(form, "form_token")
    state = guard.tokens.check(token)
    if state != "ok":
        return again(_("This form was open for a long time. Please check it and send it "
                       "again."), status.HTTP_409_CONFLICT)
    errors, parsed = _check_report(request, values)
    if errors:
        return again(_("Please fix the parts marked below."),
                     status.HTTP_422_UNPROCESSABLE_CONTENT, errors)
    with_pow = pow_ok(token, _field(form, "pow_nonce"), guard.pow_bits)
    if not _limit(request, "report_pow" if with_pow else "report_plain"):
        return _limited(request)
    if not guard.tokens.spend(token, time.time()):
        return render_portal(request, "portal/report_problem.html",
                             status_code=status.HTTP_409_CONFLICT,
                             message=_("This form was already sent. We did not send it "
                                       "twice."))
    data = service.ChildReportIn(
        what=parsed["what"], details=parsed["details"], urls=parsed["urls"],
        age_band=parsed["age_band"], in_danger=values["in_danger"], hashes=parsed["hashes"],
        reported_account=parsed["reported_account"], language=lang)
    # Argon2 and the database block: keep them off the event loop.
    try:
        code, pin, urgent = await run_in_threadpool(_store, request, data)
    except DatabaseUnavailable:  # one transaction: nothing of the report was kept
        guard.tokens.release(token)  # so sending the same form again is not called a replay
        # The form again, with what the child wrote, so sending it again is one press.
        return again(_("We could not save this just now, so nothing was kept. Please try "
                       "again in a minute."), status.HTTP_503_SERVICE_UNAVAILABLE)
    except Exception:
        guard.tokens.release(token)
        raise
    return _page(request, "portal/report_done.html", code=code, pin=pin, urgent=urgent)


def _store(request: Request, data: service.ChildReportIn) -> tuple[str, str, bool]:
    cipher: FieldCipher = request.app.state.cipher
    with request.app.state.db.session() as session:
        receipt = service.submit_child(session, data, cipher=cipher)
        return receipt.display_code, receipt.pin, receipt.report.urgent


# ---------------------------------------------------------------- code + PIN pages


def _open(request: Request, session: Session, form: FormData) -> Report | Response:
    """The report behind the posted code and PIN, or the status form again with the reason."""
    _ = translator(request)
    if not csrf_ok(request.cookies.get(CSRF_COOKIE), _field(form, "csrf_token")):
        return _page(request, "portal/report_status_form.html",
                     status_code=status.HTTP_403_FORBIDDEN,
                     problem=_("We could not send this form. Please try again."))
    if not _limit(request, "status"):
        return _limited(request)
    try:
        return service.open_with_code(session, _field(form, "code"), _field(form, "pin"))
    except service.CodeRejected as exc:
        message = (_("Too many wrong tries. Please wait 15 minutes and try again.")
                   if exc.locked else _("The case code or the PIN is not right. Please check "
                                        "them and try again."))
        return _page(request, "portal/report_status_form.html",
                     status_code=status.HTTP_429_TOO_MANY_REQUESTS if exc.locked
                     else status.HTTP_401_UNAUTHORIZED, problem=message,
                     code=_field(form, "code")[:20])


Handler = Callable[[Request, Session, Report, FormData], Response]


async def _with_report(request: Request, handler: Handler) -> Response:
    """Read the form, open the report with its code and PIN, run `handler` in a worker thread
    (Argon2 and the database block) inside one transaction."""
    form = await _form(request)
    if form is None:
        return _too_big(request)

    def run() -> Response:
        with request.app.state.db.session() as session:
            opened = _open(request, session, form)
            if isinstance(opened, Response):
                return opened
            return handler(request, session, opened, form)

    try:
        result: Response = await run_in_threadpool(run)
    except DatabaseUnavailable:
        return _unavailable(request)
    return result


def _status_page(request: Request, session: Session, report: Report, form: FormData,
                 status_code: int = 200, **extra: Any) -> Response:
    return _page(request, "portal/report_status.html", status_code=status_code,
                 status=service.status_of(session, report), code=_field(form, "code")[:20],
                 pin=_field(form, "pin")[:8], **extra)


@router.get("/{lang:lang}/status")
def status_form(request: Request, lang: str) -> Response:
    return _page(request, "portal/report_status_form.html")


@router.post("/{lang:lang}/status")
async def status_check(request: Request, lang: str) -> Response:
    return await _with_report(request, _status_page)


def _add(request: Request, session: Session, report: Report, form: FormData) -> Response:
    _ = translator(request)
    text, links = _field(form, "text"), _field(form, "urls")
    try:
        parsed_links = parse_urls(links)
        check_text(text, MAX_DETAILS, "text")
    except InvalidInput:
        return _status_page(request, session, report, form,
                            status.HTTP_422_UNPROCESSABLE_CONTENT,
                            problem=_("We could not read a link, or what you wrote is too "
                                      "long. Please check it."), text=text, urls=links)
    if not text.strip() and not parsed_links:
        return _status_page(request, session, report, form,
                            status.HTTP_422_UNPROCESSABLE_CONTENT,
                            problem=_("Please write something or add a link first."))
    service.add_information(session, report, text, parsed_links, cipher=get_cipher(request))
    return _status_page(request, session, report, form,
                        notice=_("Thank you. We added this to your report."))


@router.post("/{lang:lang}/status/add")
async def add_information(request: Request, lang: str) -> Response:
    return await _with_report(request, _add)


def _withdraw(request: Request, session: Session, report: Report, form: FormData) -> Response:
    if _field(form, "confirm") != "yes":
        return _page(request, "portal/report_withdraw.html", code=_field(form, "code")[:20],
                     pin=_field(form, "pin")[:8])
    service.withdraw(session, report)
    return render_portal(request, "portal/report_withdrawn.html")


@router.post("/{lang:lang}/status/withdraw")
async def withdraw(request: Request, lang: str) -> Response:
    return await _with_report(request, _withdraw)


def _contact(request: Request, session: Session, report: Report, form: FormData) -> Response:
    _ = translator(request)
    code, pin = _field(form, "code")[:20], _field(form, "pin")[:8]
    if _field(form, "step") != "save":
        return _page(request, "portal/report_contact.html", code=code, pin=pin, contact="")
    value = _field(form, "contact")
    if not value.strip() or len(value.strip()) > MAX_CONTACT:
        return _page(request, "portal/report_contact.html",
                     status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, code=code, pin=pin,
                     contact=value[:MAX_CONTACT * 2],
                     problem=_("Please write how we can reach you, in %(max)s letters or "
                               "fewer. Or skip this step.") % {"max": MAX_CONTACT})
    service.set_contact(session, report, value, cipher=get_cipher(request))
    return render_portal(request, "portal/report_contact_saved.html")


@router.post("/{lang:lang}/report/contact")
async def contact(request: Request, lang: str) -> Response:
    """The optional contact step, after the report was sent (CR-01)."""
    return await _with_report(request, _contact)
