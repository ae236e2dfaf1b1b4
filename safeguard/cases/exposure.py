"""Wellness: how much material an analyst has assessed, so each can see their own load.

Counted from the audit log (the assessments it already records), so nothing new is stored
about the analyst and the figure cannot drift from what happened. Only the analyst's own
figure is shown to them; this is not a productivity metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeguard.audit.models import AuditEvent
from safeguard.audit.service import Actor
from safeguard.db.base import utcnow

# Each is one item of reported material an analyst looked at and decided on.
EXPOSING_ACTIONS = ("triage.assess", "case.item_assessed")


@dataclass(frozen=True)
class Exposure:
    today: int  # since 00:00 UTC
    week: int  # the last seven days


def exposure(session: Session, actor: Actor, now: datetime | None = None) -> Exposure:
    now = now or utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week_ago = now - timedelta(days=7)

    def count(since: datetime) -> int:
        return int(session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.in_(EXPOSING_ACTIONS), AuditEvent.actor == str(actor),
            AuditEvent.at >= since)) or 0)

    return Exposure(today=count(midnight), week=count(week_ago))
