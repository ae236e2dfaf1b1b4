"""The match log: every match, suppressed ones included, with who asked and how."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor, record
from safeguard.errors import InvalidInput
from safeguard.matching.models import MatchLogEntry

SOURCES = ("api", "file", "cli", "scan", "console")
MAX_PAGE = 1000


def write(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(MatchLogEntry), list(rows))


@dataclass(frozen=True)
class LogPage:
    items: list[MatchLogEntry]
    total: int
    offset: int
    limit: int


def search(session: Session, actor: Actor, *, bank: str | int | None = None,
           since: datetime | None = None, until: datetime | None = None,
           suppressed: bool | None = None, source: str | None = None,
           actor_name: str | None = None, entry_id: int | None = None,
           query_value: str | None = None, offset: int = 0, limit: int = 100) -> LogPage:
    """Newest first. Reading the log is audited (it shows who matched what)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    if offset < 0:
        raise InvalidInput("offset must not be negative")
    if source is not None and source not in SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(SOURCES)}")
    query = select(MatchLogEntry)
    if bank is not None:
        from safeguard.banks.service import get_bank

        query = query.where(MatchLogEntry.bank_id == get_bank(session, bank).id)
    if since is not None:
        query = query.where(MatchLogEntry.at >= since)
    if until is not None:
        query = query.where(MatchLogEntry.at < until)
    if suppressed is not None:
        query = query.where(MatchLogEntry.suppressed == suppressed)
    if source is not None:
        query = query.where(MatchLogEntry.source == source)
    if actor_name is not None:
        query = query.where(MatchLogEntry.actor == actor_name)
    if entry_id is not None:
        query = query.where(MatchLogEntry.entry_id == entry_id)
    if query_value is not None:
        query = query.where(MatchLogEntry.query_value == query_value.strip().lower())
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    items = list(session.scalars(query.order_by(MatchLogEntry.id.desc())
                                 .offset(offset).limit(limit)))
    record(session, actor, "matchlog.read", "match_log", "", returned=len(items),
           bank=str(bank or ""), source=source or "")
    return LogPage(items, total, offset, limit)
