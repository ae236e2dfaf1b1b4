"""Account, session and token logic shared by the CLI and the HTTP API."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor, record
from safeguard.auth.models import ApiToken, ConsoleSession, Role, Scope, User
from safeguard.auth.passwords import hash_password, needs_rehash, verify_password
from safeguard.auth.totp import check_code
from safeguard.db.base import utcnow
from safeguard.db.encryption import FieldCipher
from safeguard.errors import ConflictError, InvalidInput, NotFoundError, SafeguardError

TOKEN_PREFIX = "sgt_"  # noqa: S105 - a public marker, not a secret


class AuthError(SafeguardError):
    """Credentials were missing, wrong, expired or revoked."""


class AccountLocked(AuthError):
    pass


NotFound = NotFoundError
Conflict = ConflictError


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def actor_for_user(user: User) -> Actor:
    return Actor("user", user.username, user.id, frozenset(s.value for s in user.scopes))


# ---- users -------------------------------------------------------------------------------

def create_user(session: Session, actor: Actor, username: str, password: str, role: Role | str,
                display_name: str = "") -> User:
    username = username.strip()
    if not username or len(username) > 64 or not username.replace("-", "").replace("_", "")\
            .replace(".", "").isalnum():
        raise InvalidInput("username must be 1-64 letters, digits, '.', '-' or '_'")
    if role not in {r.value for r in Role}:
        raise InvalidInput(f"unknown role {role!r}; roles: {', '.join(r.value for r in Role)}")
    if session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, display_name=display_name or username, role=Role(role).value,
                password_hash=hash_password(password))
    session.add(user)
    session.flush()
    record(session, actor, "user.create", "user", user.id, username=username, role=user.role)
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def user_of(session: Session, actor: Actor) -> User:
    """The user behind a signed-in actor (or a user's token)."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise NotFound(f"{actor} is not a user")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def set_password(session: Session, actor: Actor, username: str, password: str) -> None:
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    record(session, actor, "user.password", "user", user.id)


SIGN_IN_FAILED = ("wrong username or password (or, with two-step sign-in, a wrong or "
                  "missing code)")


def authenticate(session: Session, username: str, password: str, *, max_failures: int,
                 lockout_seconds: int, totp_code: str | None = None,
                 cipher: FieldCipher | None = None) -> User:
    """Check a password, and the one-time code when the user has two-step sign-in on; lock
    the account for a while after repeated failures.

    Every path verifies one Argon2 hash so timing does not reveal whether a user exists, and
    one message covers every failure so it does not reveal which part was wrong."""
    user = session.scalar(select(User).where(User.username == username))
    now = utcnow()
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or user.disabled:
        raise AuthError(SIGN_IN_FAILED)
    if user.locked_until and user.locked_until > now:
        record(session, Actor("user", username), "login.refused_locked", "user", user.id)
        session.commit()  # the refusal must be audited even though the caller sees an error
        raise AccountLocked("too many failed sign-ins; try again later")
    if ok and user.totp_enabled:
        ok = bool(totp_code) and cipher is not None and check_code(user, totp_code or "", cipher)
    if not ok:
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(seconds=lockout_seconds)
            user.failed_logins = 0
        record(session, Actor("user", username), "login.failed", "user", user.id)
        session.commit()  # keep the failure count and its audit entry
        raise AuthError(SIGN_IN_FAILED)
    user.failed_logins = 0
    user.locked_until = None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def must_enrol_totp(user: User, required_roles: str) -> bool:
    """True when the user's role requires two-step sign-in and it is not on yet."""
    roles = {r.strip() for r in required_roles.split(",") if r.strip()}
    return user.role in roles and not user.totp_enabled


# ---- console sessions ---------------------------------------------------------------------

@dataclass(frozen=True)
class IssuedSession:
    cookie_value: str
    csrf_token: str
    expires_at: datetime


def start_session(session: Session, user: User, max_age_seconds: int) -> IssuedSession:
    raw = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(seconds=max_age_seconds)
    session.add(ConsoleSession(token_hash=_sha256(raw), csrf_token=csrf, user_id=user.id,
                               expires_at=expires))
    record(session, actor_for_user(user), "login", "user", user.id)
    return IssuedSession(raw, csrf, expires)


def resolve_session(session: Session, cookie_value: str) -> ConsoleSession:
    row = session.scalar(
        select(ConsoleSession).where(ConsoleSession.token_hash == _sha256(cookie_value))
    )
    if row is None or row.expires_at <= utcnow() or row.user.disabled:
        raise AuthError("not signed in or the session expired")
    return row


def end_session(session: Session, cookie_value: str) -> None:
    row = session.scalar(
        select(ConsoleSession).where(ConsoleSession.token_hash == _sha256(cookie_value))
    )
    if row is not None:
        record(session, actor_for_user(row.user), "logout", "user", row.user_id)
        session.delete(row)


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


# ---- API tokens ---------------------------------------------------------------------------

@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once; only its hash is stored


def create_token(session: Session, actor: Actor, owner: User, name: str,
                 scopes: Iterable[str]) -> IssuedToken:
    wanted = set()
    for s in scopes:
        try:
            wanted.add(Scope(s))
        except ValueError:
            raise InvalidInput(
                f"unknown scope {s!r}; known scopes: {', '.join(x.value for x in Scope)}"
            ) from None
    if not wanted:
        raise InvalidInput("a token needs at least one scope")
    too_wide = wanted - owner.scopes
    if too_wide:
        raise InvalidInput(f"user {owner.username!r} (role {owner.role}) cannot grant "
                         f"{', '.join(sorted(too_wide))}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name.strip() or "token", prefix=secret[:12], token_hash=_sha256(secret),
                     scopes=sorted(s.value for s in wanted), user_id=owner.id)
    session.add(token)
    session.flush()
    record(session, actor, "token.create", "api_token", token.id, name=token.name,
           scopes=token.scopes, owner=owner.username)
    return IssuedToken(token, secret)


def resolve_token(session: Session, secret: str) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _sha256(secret)))
    if token is None or token.revoked_at is not None or token.user.disabled:
        raise AuthError("unknown or revoked API token")
    token.last_used_at = utcnow()
    return token


def token_actor(token: ApiToken) -> Actor:
    # A token never exceeds what its owner may do now, even if the owner's role shrank.
    scopes = frozenset(token.scopes) & frozenset(s.value for s in token.user.scopes)
    return Actor("token", f"{token.user.username}/{token.name}#{token.id}", token.user_id, scopes)


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no API token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(session, actor, "token.revoke", "api_token", token.id)
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
