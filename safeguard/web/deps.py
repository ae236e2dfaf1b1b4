"""Request dependencies shared by every domain's routes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request, status
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor
from safeguard.auth import service as auth
from safeguard.config import Settings
from safeguard.db.base import MAX_ID
from safeguard.db.encryption import FieldCipher
from safeguard.db.engine import Database

SESSION_COOKIE = "sg_session"

# Use for every numeric id and offset: out-of-range values are a 422, never a database error.
EntityId = Annotated[int, Path(ge=1, le=MAX_ID)]
EntityIdQuery = Annotated[int, Query(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_cipher(request: Request) -> FieldCipher:
    cipher: FieldCipher = request.app.state.cipher
    return cipher


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _session(request: Request) -> Iterator[Session]:
    with get_database(request).session() as session:
        yield session


# scope="function": the transaction commits before the response is sent, so a failed commit
# becomes an error response instead of a silently lost write.
DbSession = Annotated[Session, Depends(_session, scope="function")]
get_db_session = _session


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def resolve_actor(request: Request, session: Session) -> Actor | None:
    """The caller, from an API token or a console session cookie; None if anonymous."""
    token = _bearer(request)
    if token is not None:
        try:
            return auth.token_actor(auth.resolve_token(session, token))
        except auth.AuthError as exc:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc),
                                headers={"WWW-Authenticate": "Bearer"}) from None
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        console = auth.resolve_session(session, cookie)
    except auth.AuthError:
        return None
    request.state.csrf_token = console.csrf_token
    if request.method in UNSAFE_METHODS:
        _check_csrf(request, console.csrf_token)
    actor = auth.actor_for_user(console.user)
    if auth.must_enrol_totp(console.user, get_settings(request).totp_required_roles):
        # Signed in, but may do nothing until two-step sign-in is set up.
        request.state.must_enrol = True
        return Actor(actor.kind, actor.name, actor.user_id, frozenset())
    return actor


def _check_csrf(request: Request, expected: str) -> None:
    given = request.headers.get(CSRF_HEADER) or getattr(request.state, "form_csrf", None)
    if not auth.csrf_matches(expected, given):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "missing or wrong CSRF token (send the X-CSRF-Token header or the "
                            "csrf_token form field from the page)")


async def _load_form_csrf(request: Request) -> None:
    """Console forms carry the CSRF token as a field; read it (Starlette caches the parsed form
    for the route) before the synchronous auth check runs."""
    if request.method in UNSAFE_METHODS and _bearer(request) is None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            request.state.form_csrf = value if isinstance(value, str) else None


FormCsrf = Annotated[None, Depends(_load_form_csrf)]


def has_scope(actor: Actor, scope: str) -> bool:
    # "admin" can create users and tokens with any scope, so it implies every scope.
    return scope in actor.scopes or "admin" in actor.scopes


def require_scope(scope: str) -> Callable[..., Actor]:
    """Dependency: the caller must be signed in (session or token) and hold `scope`."""

    def dependency(request: Request, session: DbSession, _csrf: FormCsrf) -> Actor:
        actor = resolve_actor(request, session)
        if actor is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                                "authentication required: send 'Authorization: Bearer <token>' "
                                "or sign in to the console",
                                headers={"WWW-Authenticate": "Bearer"})
        if not has_scope(actor, scope):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {scope!r} permission")
        request.state.actor = actor
        return actor

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency


class LoginRequired(Exception):
    """Raised by console pages; the app turns it into a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class EnrolmentRequired(LoginRequired):
    """Signed in, but the role requires two-step sign-in and it is not set up yet."""


TWO_STEP_PAGE = "/console/account/two-step"


def console_user(scope: str | None = "banks:read") -> Callable[..., Actor]:
    """Dependency for HTML pages: redirect to /login instead of a JSON 401. `scope=None`
    admits any signed-in user."""

    def dependency(request: Request, session: DbSession, _csrf: FormCsrf) -> Actor:
        actor = resolve_actor(request, session)
        if actor is None or actor.kind != "user":
            raise LoginRequired(request.url.path)
        if getattr(request.state, "must_enrol", False):
            raise EnrolmentRequired(request.url.path)
        request.state.actor = actor  # also for the "forbidden" page's navigation
        if scope is not None and not has_scope(actor, scope):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this page needs the {scope!r} "
                                "permission")
        return actor

    return dependency


def signed_in_user(request: Request, session: DbSession, _csrf: FormCsrf) -> Actor:
    """Dependency for account pages: any signed-in console user, also one who still has to
    set up two-step sign-in."""
    actor = resolve_actor(request, session)
    if actor is None or actor.kind != "user":
        raise LoginRequired(request.url.path)
    request.state.actor = actor
    return actor


def template_context(request: Request, **extra: Any) -> dict[str, Any]:
    return {"request": request, "actor": getattr(request.state, "actor", None),
            "csrf_token": getattr(request.state, "csrf_token", ""), **extra}
