from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from safeguard.db.base import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"  # users, tokens, settings; everything
    SUPERVISOR = "supervisor"  # an analyst who also reads the audit log
    ANALYST = "analyst"  # triage, banks, matching
    CHILD_SAFETY_ANALYST = "child_safety_analyst"  # triage and matching only; no bank changes
    LE_LIAISON = "le_liaison"  # law enforcement: only what was referred to them
    AUDITOR = "auditor"  # reads the audit log, nothing else


class Scope(enum.StrEnum):
    """What an API token may do. Tokens carry scopes; users carry roles."""

    MATCH = "match"
    BANKS_READ = "banks:read"
    BANKS_WRITE = "banks:write"
    MATCHLOG_READ = "matchlog:read"
    TRIAGE = "triage"
    CONVERSATIONS = "conversations"
    ADS = "ads"  # submit ads, read networks and leads
    AUDIT_READ = "audit:read"
    REFERRALS_READ = "referrals:read"
    # Decrypt personal fields of cases (text items, notes); every decryption is audited.
    PERSONAL_DATA = "personal_data"
    REPORTS_READ = "reports:read"  # list and read reports (decrypts: audited)
    REPORTS_WRITE = "reports:write"  # platforms and partners submit reports
    ADMIN = "admin"


# What each role may do, expressed in scopes, so one check serves sessions and tokens.
_ANALYST = frozenset({Scope.MATCH, Scope.BANKS_READ, Scope.BANKS_WRITE, Scope.MATCHLOG_READ,
                      Scope.TRIAGE, Scope.CONVERSATIONS, Scope.ADS, Scope.REPORTS_READ,
                      Scope.PERSONAL_DATA})
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: frozenset(Scope),
    Role.SUPERVISOR: _ANALYST | {Scope.AUDIT_READ},
    Role.ANALYST: _ANALYST,
    Role.CHILD_SAFETY_ANALYST: frozenset({Scope.MATCH, Scope.BANKS_READ, Scope.TRIAGE,
                                          Scope.REPORTS_READ, Scope.PERSONAL_DATA}),
    Role.LE_LIAISON: frozenset({Scope.REFERRALS_READ}),
    Role.AUDITOR: frozenset({Scope.AUDIT_READ}),
}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Two-step sign-in: the TOTP secret, encrypted with the field key (see db/encryption.py);
    # set but not enabled while enrolment waits for the first code.
    totp_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # no replays

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def scopes(self) -> frozenset[Scope]:
        return ROLE_SCOPES.get(Role(self.role), frozenset())


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user: Mapped[User] = relationship(back_populates="tokens")


class ConsoleSession(Base):
    """Server-side login sessions: the cookie holds a random token, the table its SHA-256."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
