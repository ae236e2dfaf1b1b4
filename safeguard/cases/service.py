"""Cases: create, add items and assessments, notes (encrypted), status decisions with a short
undo window, and links to other cases through shared URLs, domains, hashes and accounts."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from safeguard.audit.service import Actor, record
from safeguard.cases.case_models import (
    AgeGroup,
    Case,
    CaseDecision,
    CaseItem,
    CaseLinkKey,
    CaseNote,
    CaseStatus,
    IndustryClass,
    ItemKind,
    Outcome,
)
from safeguard.cases.link_keys import keys_for
from safeguard.cases.models import Classification, TriageItem
from safeguard.cases.vocabulary import INCIDENT_TYPES
from safeguard.cases.workflow import check_transition
from safeguard.db.base import utcnow
from safeguard.db.encryption import FieldCipher
from safeguard.errors import ConflictError, InvalidInput, NotFoundError

UNDO_WINDOW = timedelta(minutes=2)
MAX_TEXT = 20_000


E = TypeVar("E", bound=enum.StrEnum)


def _enum(kind: type[E], value: str | None, what: str) -> E:
    try:
        return kind(value or "")
    except ValueError as exc:
        allowed = ", ".join(v.value for v in kind)
        raise InvalidInput(f"{what} must be one of {allowed}") from exc


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError(f"no case {case_id}")
    return case


def list_cases(session: Session, *, status: str | None = None, offset: int = 0,
               limit: int = 50) -> list[Case]:
    query = select(Case).order_by(Case.updated_at.desc(), Case.id.desc())
    if status is not None:
        query = query.where(Case.status == _enum(CaseStatus, status, "status"))
    return list(session.scalars(query.offset(offset).limit(limit)))


def _incident_type(value: str | None) -> str | None:
    if value is not None and value not in INCIDENT_TYPES:
        raise InvalidInput("incident type must be one of: " + "; ".join(INCIDENT_TYPES))
    return value


def create_case(session: Session, actor: Actor, title: str,
                items: Iterable[tuple[str, str]] = (), *, cipher: FieldCipher,
                triage_item_id: int | None = None, region: str | None = None,
                incident_type: str | None = None) -> Case:
    title = title.strip()
    if not title or len(title) > 200:
        raise InvalidInput("a case title must be 1–200 characters")
    now = utcnow()
    case = Case(reference="pending", title=title, created_by=str(actor), created_at=now,
                updated_at=now, incident_type=_incident_type(incident_type))
    session.add(case)
    session.flush()
    case.reference = f"SG-{now:%Y}-{case.id:06d}"
    record(session, actor, "case.create", "case", case.id, reference=case.reference)
    for kind, value in items:
        add_item(session, actor, case.id, kind, value, cipher=cipher,
                 triage_item_id=triage_item_id, region=region)
    return case


def update_case(session: Session, actor: Actor, case_id: int, *, title: str | None = None,
                incident_type: str | None = None) -> Case:
    case = get_case(session, case_id)
    if title is not None:
        if not title.strip() or len(title) > 200:
            raise InvalidInput("a case title must be 1–200 characters")
        case.title = title.strip()
    if incident_type is not None:
        case.incident_type = _incident_type(incident_type)
    case.updated_at = utcnow()
    record(session, actor, "case.update", "case", case.id, title=title,
           incident_type=incident_type)
    return case


def add_item(session: Session, actor: Actor, case_id: int, kind: str, value: str, *,
             cipher: FieldCipher, triage_item_id: int | None = None,
             region: str | None = None) -> CaseItem:
    case = get_case(session, case_id)
    item_kind = _enum(ItemKind, kind, "item kind")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"an item may hold at most {MAX_TEXT} characters")
    keys = keys_for(item_kind, value, region=region)
    if triage_item_id is not None and session.get(TriageItem, triage_item_id) is None:
        raise NotFoundError(f"no triage item {triage_item_id}")
    stored = cipher.encrypt(value) if item_kind == ItemKind.TEXT else value.strip()
    item = CaseItem(case_id=case.id, kind=item_kind.value, value=stored,
                    triage_item_id=triage_item_id)
    session.add(item)
    session.flush()
    for key in dict.fromkeys(keys):
        session.add(CaseLinkKey(item_id=item.id, key=key, case_id=case.id))
    case.updated_at = utcnow()
    record(session, actor, "case.item_added", "case", case.id, item_id=item.id,
           kind=item_kind.value, keys=len(keys))
    return item


def item_value(item: CaseItem, cipher: FieldCipher) -> str:
    return cipher.decrypt(item.value) if item.kind == ItemKind.TEXT else item.value


def assess_item(session: Session, actor: Actor, item_id: int, classification: str, *,
                age_group: str | None = None, industry_class: str | None = None) -> CaseItem:
    item = session.get(CaseItem, item_id)
    if item is None:
        raise NotFoundError(f"no case item {item_id}")
    verdict = _enum(Classification, classification, "classification")
    if age_group is not None:
        _enum(AgeGroup, age_group, "age group")
    if industry_class is not None:
        _enum(IndustryClass, industry_class, "industry class")
        if verdict not in (Classification.BASELINE, Classification.NATIONAL):
            raise InvalidInput("an industry class applies only to baseline or national items")
    item.classification, item.age_group, item.industry_class = (
        verdict.value, age_group, industry_class)
    item.assessed_by, item.assessed_at = str(actor), utcnow()
    record(session, actor, "case.item_assessed", "case", item.case_id, item_id=item.id,
           classification=verdict.value, age_group=age_group, industry_class=industry_class)
    return item


def add_note(session: Session, actor: Actor, case_id: int, text: str, *,
             cipher: FieldCipher) -> CaseNote:
    case = get_case(session, case_id)
    if not text.strip() or len(text) > MAX_TEXT:
        raise InvalidInput(f"a note must be 1–{MAX_TEXT} characters")
    note = CaseNote(case_id=case.id, author=str(actor), text=cipher.encrypt(text))
    session.add(note)
    case.updated_at = utcnow()
    session.flush()
    record(session, actor, "case.note_added", "case", case.id, note_id=note.id)
    return note


def list_notes(session: Session, case_id: int) -> list[CaseNote]:
    """Notes as stored (text still encrypted)."""
    get_case(session, case_id)
    return list(session.scalars(select(CaseNote).where(CaseNote.case_id == case_id)
                                .order_by(CaseNote.at, CaseNote.id)))


def read_notes(session: Session, actor: Actor, case_id: int, *,
               cipher: FieldCipher) -> list[tuple[CaseNote, str]]:
    """Notes with their decrypted text; reading them is audited."""
    notes = list_notes(session, case_id)
    record(session, actor, "case.notes_read", "case", case_id, count=len(notes))
    return [(n, cipher.decrypt(n.text)) for n in notes]


def change_status(session: Session, actor: Actor, case_id: int, target: str, *,
                  outcome: str | None = None, reason: str = "") -> CaseDecision:
    case = get_case(session, case_id)
    to = _enum(CaseStatus, target, "status")
    result = _enum(Outcome, outcome, "outcome") if outcome else None
    problem = check_transition(CaseStatus(case.status), to, result)
    if problem:
        raise ConflictError(problem)
    if len(reason) > 500:
        raise InvalidInput("a reason may hold at most 500 characters")
    decision = CaseDecision(case_id=case.id, from_status=case.status, to_status=to.value,
                            outcome=result.value if result else None, reason=reason,
                            by=str(actor), at=utcnow())
    session.add(decision)
    case.status = to.value
    case.outcome = result.value if result else None
    case.updated_at = decision.at
    session.flush()
    record(session, actor, "case.status", "case", case.id, to=to.value,
           outcome=case.outcome, reason=reason)
    return decision


def undo_last_decision(session: Session, actor: Actor, case_id: int, *,
                       window: timedelta = UNDO_WINDOW) -> Case:
    """Take back the case's last decision: only its author, only within `window`."""
    case = get_case(session, case_id)
    last = session.scalars(select(CaseDecision).where(
        CaseDecision.case_id == case_id, CaseDecision.undone_at.is_(None))
        .order_by(CaseDecision.id.desc()).limit(1)).first()
    if last is None:
        raise ConflictError("this case has no decision to undo")
    if last.by != str(actor):
        raise ConflictError("only the analyst who made a decision can undo it")
    if utcnow() - last.at > window:
        raise ConflictError(f"decisions can be undone for {int(window.total_seconds())} s; "
                            "make a new decision instead")
    last.undone_at = utcnow()
    case.status = last.from_status
    previous = session.scalars(select(CaseDecision).where(
        CaseDecision.case_id == case_id, CaseDecision.undone_at.is_(None),
        CaseDecision.id != last.id).order_by(CaseDecision.id.desc()).limit(1)).first()
    case.outcome = previous.outcome if previous and previous.to_status == case.status else None
    case.updated_at = utcnow()
    record(session, actor, "case.decision_undone", "case", case.id, decision_id=last.id,
           back_to=case.status)
    return case


def decisions(session: Session, case_id: int) -> list[CaseDecision]:
    return list(session.scalars(select(CaseDecision).where(CaseDecision.case_id == case_id)
                                .order_by(CaseDecision.id)))


def items(session: Session, case_id: int) -> list[CaseItem]:
    return list(session.scalars(select(CaseItem).where(CaseItem.case_id == case_id)
                                .order_by(CaseItem.id)))


@dataclass(frozen=True)
class Link:
    case: Case
    shared: list[str]  # the keys both cases hold


def linked_cases(session: Session, case_id: int, *, limit: int = 100) -> list[Link]:
    """Other cases sharing a URL, domain, hash, phone, email or handle with this one, most
    shared keys first."""
    get_case(session, case_id)
    mine, theirs = aliased(CaseLinkKey), aliased(CaseLinkKey)
    rows = session.execute(
        select(theirs.case_id, theirs.key).join(mine, mine.key == theirs.key)
        .where(mine.case_id == case_id, theirs.case_id != case_id).distinct())
    shared: dict[int, set[str]] = defaultdict(set)
    for other, key in rows:
        shared[other].add(key)
    ranked = sorted(shared.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:limit]
    cases = {c.id: c for c in session.scalars(select(Case).where(
        Case.id.in_([cid for cid, _ in ranked])))}
    return [Link(cases[cid], sorted(keys)) for cid, keys in ranked]


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(Case.status, func.count()).group_by(Case.status))
    return {status: int(n) for status, n in rows}
