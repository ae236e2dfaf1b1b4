"""Assemble the FastAPI application: one process serves the console, the API and (later) the
child portal, all over the same service functions the CLI uses."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from safeguard import __version__
from safeguard.config import Settings, get_settings
from safeguard.db.encryption import cipher_for
from safeguard.db.engine import Database
from safeguard.db.migrate import upgrade
from safeguard.web import access_log
from safeguard.web.errors import install_error_handlers
from safeguard.web.middleware import BodySizeLimit, SecurityHeaders
from safeguard.web.templating import STATIC_DIR

log = logging.getLogger(__name__)

DESCRIPTION = """
Safeguard's HTTP API for platforms, hotlines and partner organisations.

Authenticate with an API token (`Authorization: Bearer sgt_...`, issued by an admin, shown once,
scoped) or, from the console, with the session cookie plus the `X-CSRF-Token` header.
Hashes are 64 hex characters for PDQ and SHA-256, 32 for MD5.
"""


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    settings = settings or get_settings()
    db = Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            upgrade(db)
        services = _start_services(app, db, settings)
        try:
            yield
        finally:
            for stop in services:
                stop()
            db.dispose()

    _keep_uploads_in_memory(settings.max_upload_bytes)
    app = FastAPI(title="Safeguard", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.db = db
    app.state.cipher = cipher_for(settings)
    install_error_handlers(app)
    access_log.install()  # no client addresses for the public pages (CR-08)
    _include_routers(app)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders)

    @app.get("/healthz", tags=["meta"], summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app


def _keep_uploads_in_memory(max_bytes: int) -> None:
    """Console forms upload files as multipart, which Starlette spools to a temporary file on
    disk above 1 MB; media must never touch the disk. BodySizeLimit caps a request at
    `max_bytes`, so holding a whole part in memory is bounded."""
    from starlette.formparsers import MultiPartParser

    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, max_bytes)


def _include_routers(app: FastAPI) -> None:
    from safeguard.ads.routes import router as ads_router
    from safeguard.audit.routes import router as audit_router
    from safeguard.auth.routes import router as auth_router
    from safeguard.banks.routes import router as banks_router
    from safeguard.cases.case_routes import router as cases_router
    from safeguard.cases.notice_routes import router as notices_router
    from safeguard.cases.routes import router as triage_router
    from safeguard.conversations.routes import router as conversations_router
    from safeguard.matching.routes import router as matching_router
    from safeguard.reports.routes import router as reports_router
    from safeguard.web.console import router as console_router
    from safeguard.web.pages_account import router as account_pages_router
    from safeguard.web.pages_ads import router as ad_pages_router
    from safeguard.web.pages_audit import router as audit_pages_router
    from safeguard.web.pages_banks import router as bank_pages_router
    from safeguard.web.pages_cases import router as case_pages_router
    from safeguard.web.pages_matching import router as matching_pages_router
    from safeguard.web.pages_portal import router as portal_pages_router
    from safeguard.web.pages_triage import router as triage_pages_router

    for router in (auth_router, audit_router, banks_router, matching_router, triage_router,
                   cases_router, notices_router, conversations_router,
                   console_router, account_pages_router, bank_pages_router,
                   matching_pages_router, audit_pages_router, triage_pages_router,
                   case_pages_router):
        app.include_router(router)
    app.include_router(ads_router)
    app.include_router(ad_pages_router)
    # The child portal owns `/` and `/{lang}/...` (decision 027); its language segment only
    # matches a supported language, so it can never shadow the console or the API.
    app.include_router(portal_pages_router)
    app.include_router(reports_router)
    from safeguard.web.pages_portal_report import router as portal_report_router
    from safeguard.web.pages_reports import router as report_pages_router

    app.include_router(portal_report_router)  # the child's report flow (issue 3)
    app.include_router(report_pages_router)  # analysts: reports list and report page
    from safeguard.cases.liaison_routes import router as referred_router
    from safeguard.web.pages_referred import router as referred_pages_router

    app.include_router(referred_router)  # law-enforcement liaisons (issue 4)
    app.include_router(referred_pages_router)


def _start_services(app: FastAPI, db: Database,
                    settings: Settings) -> list[Callable[[], None]]:
    """Background parts (index refresh, webhook delivery); each returns its stop function."""
    from safeguard.matching.runtime import start_matching

    return start_matching(app.state, db, settings)
