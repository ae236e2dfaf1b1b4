"""What a law-enforcement liaison sees: only the cases referred to their partner.

The referral directory names each partner's liaison accounts (`liaisons = [...]`); a case is
visible to a liaison when one of its referrals went to a partner that names them (matched on
the partner's name and contact, as the referral recorded them). Access follows the directory:
removing a name there ends that person's access at once. Each read is audited. Free text and
notes never reach a liaison (they do not hold the personal_data scope), so exports made for
them are the redacted ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor, record
from safeguard.auth.models import User
from safeguard.cases import notices, personal_data
from safeguard.cases import service as cases
from safeguard.cases.case_models import Case, CaseItem
from safeguard.cases.notice_models import Notice, Referral
from safeguard.cases.referral import Directory, Partner
from safeguard.db.encryption import FieldCipher
from safeguard.errors import InvalidInput, NotFoundError


@dataclass(frozen=True)
class ReferredCase:
    case: Case
    referrals: list[Referral]  # the referrals to the liaison's partner(s) only


@dataclass(frozen=True)
class LiaisonView:
    case: Case
    referrals: list[Referral]
    items: list[tuple[CaseItem, str]]  # values as the liaison may see them
    notices: list[Notice]


def partners_of(session: Session, actor: Actor, directory: Directory) -> list[Partner]:
    """The partners whose directory entry names the actor's user as a liaison."""
    if actor.user_id is None:
        raise InvalidInput("only a signed-in user (or a user's API token) can see referrals")
    user = session.get(User, actor.user_id)
    if user is None:
        return []
    everyone = [*directory.hotlines.values(), *([directory.police] if directory.police else [])]
    return [p for p in everyone if user.username in p.liaisons]


def _theirs(partners: list[Partner]) -> ColumnElement[bool]:
    if not partners:
        return false()
    return or_(*(and_(Referral.partner_name == p.name, Referral.contact == p.contact)
                 for p in partners))


def referred_cases(session: Session, actor: Actor, directory: Directory, *,
                   limit: int = 200) -> list[ReferredCase]:
    """Cases referred to the actor's partner(s), most recent referral first."""
    partners = partners_of(session, actor, directory)
    rows = list(session.scalars(select(Referral).where(_theirs(partners))
                                .order_by(Referral.at.desc(), Referral.id.desc())))
    by_case: dict[int, list[Referral]] = {}
    for r in rows:
        by_case.setdefault(r.case_id, []).append(r)
    ids = list(by_case)[:limit]
    found = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))}
    record(session, actor, "liaison.cases_listed", "user", actor.user_id or 0, count=len(ids))
    return [ReferredCase(found[cid], by_case[cid]) for cid in ids if cid in found]


def check_referred(session: Session, actor: Actor, directory: Directory,
                   case_id: int) -> list[Referral]:
    """The actor's referrals of the case; "not found" when there are none, so a liaison
    cannot even learn that other cases exist."""
    referrals = list(session.scalars(select(Referral).where(
        Referral.case_id == case_id, _theirs(partners_of(session, actor, directory)))
        .order_by(Referral.id)))
    if not referrals:
        raise NotFoundError(f"no case {case_id} was referred to you")
    return referrals


def referred_case(session: Session, actor: Actor, directory: Directory, case_id: int, *,
                  cipher: FieldCipher) -> LiaisonView:
    referrals = check_referred(session, actor, directory, case_id)
    case = cases.get_case(session, case_id)
    items = cases.items(session, case_id)
    values = personal_data.item_values(session, actor, case_id, items, cipher=cipher)
    record(session, actor, "liaison.case_read", "case", case_id,
           referrals=[r.id for r in referrals])
    return LiaisonView(case, referrals, list(zip(items, values, strict=True)),
                       notices.for_case(session, case_id))
