"""Retention: how long each kind of record is kept, a purge job, and legal hold.

Rules are per data type (settings, `SAFEGUARD_RETENTION`, e.g.
"match_log=365,closed_cases=730,assessed_triage=365,notice_attempts=365,reports=730"); a type
without a rule is kept. A case under legal hold is never purged, nor the triage items it came from.
Every purge writes one audit event per data type with the cut-off and the count, and a dry
run says what would go without deleting anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from safeguard.audit.service import Actor, record
from safeguard.cases.case_models import Case, CaseItem, CaseStatus
from safeguard.cases.models import ItemStatus, TriageItem
from safeguard.cases.notice_models import NoticeAttempt
from safeguard.db.base import utcnow
from safeguard.errors import InvalidInput, NotFoundError
from safeguard.matching.models import MatchLogEntry

DATA_TYPES = ("match_log", "closed_cases", "assessed_triage", "notice_attempts", "ads",
              "reports")


def parse_policy(text: str) -> dict[str, int]:
    """"match_log=365,closed_cases=730" → {"match_log": 365, "closed_cases": 730}."""
    policy: dict[str, int] = {}
    problems = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, days = part.partition("=")
        name = name.strip()
        if name not in DATA_TYPES:
            problems.append(f"unknown data type {name!r} (known: {', '.join(DATA_TYPES)})")
        elif not days.strip().isdigit() or int(days) < 1:
            problems.append(f"{name}: days must be a whole number of at least 1")
        else:
            policy[name] = int(days)
    if problems:
        raise InvalidInput("retention rules: " + "; ".join(problems))
    return policy


def _held_triage_ids() -> Select[int | None]:
    return (select(CaseItem.triage_item_id).join(Case, Case.id == CaseItem.case_id)
            .where(Case.legal_hold.is_(True), CaseItem.triage_item_id.is_not(None)))


def _targets(data_type: str, cutoff: datetime) -> tuple[type, list[ColumnElement[bool]]]:
    if data_type == "match_log":
        return MatchLogEntry, [MatchLogEntry.at < cutoff]
    if data_type == "closed_cases":
        return Case, [Case.status == CaseStatus.CLOSED.value, Case.updated_at < cutoff,
                      Case.legal_hold.is_(False)]
    if data_type == "assessed_triage":
        return TriageItem, [TriageItem.status.in_([ItemStatus.ASSESSED.value,
                                                   ItemStatus.AUTO_CLASSIFIED.value]),
                            TriageItem.assessed_at < cutoff,
                            TriageItem.id.not_in(_held_triage_ids())]
    return NoticeAttempt, [NoticeAttempt.at < cutoff]


@dataclass(frozen=True)
class PurgeResult:
    data_type: str
    cutoff: datetime
    count: int


def purge(session: Session, actor: Actor, policy: dict[str, int], *, dry_run: bool = False,
          now: datetime | None = None) -> list[PurgeResult]:
    now = now or utcnow()
    results = []
    for data_type in DATA_TYPES:
        if data_type not in policy:
            continue
        cutoff = now - timedelta(days=policy[data_type])
        if data_type == "ads":
            # The ads domain purges its own rows: the networks of purged ads are recomputed.
            from safeguard.ads.service import purge_ads

            count = purge_ads(session, cutoff, dry_run=dry_run)
        elif data_type == "reports":
            # Reports keep their own children; one still waiting in triage or held is kept.
            from safeguard.reports.service import purge_reports

            count = purge_reports(session, cutoff, held_triage_ids=_held_triage_ids(),
                                  dry_run=dry_run)
        else:
            model, where = _targets(data_type, cutoff)
            count = int(session.scalar(select(func.count()).select_from(model).where(*where))
                        or 0)
            if count and not dry_run:
                session.execute(delete(model).where(*where).execution_options(
                    synchronize_session=False))
        if not dry_run:
            record(session, actor, "retention.purge", data_type, "", cutoff=cutoff.isoformat(),
                   count=count, days=policy[data_type])
        results.append(PurgeResult(data_type, cutoff, count))
    return results


def set_legal_hold(session: Session, actor: Actor, case_id: int, hold: bool,
                   reason: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError(f"no case {case_id}")
    if not reason.strip() or len(reason) > 500:
        raise InvalidInput("a legal hold needs a reason (at most 500 characters)")
    case.legal_hold = hold
    record(session, actor, "case.legal_hold" if hold else "case.legal_hold_released", "case",
           case.id, reason=reason)
    return case
