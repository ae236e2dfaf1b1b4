"""Whom to refer a case to: the hotline of the hosting country when the operator configured
one, otherwise the police contact. The directory is data the operator edits (TOML); nothing
is shipped that cannot be cited."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor, record
from safeguard.cases import service as cases
from safeguard.cases.case_models import CaseStatus
from safeguard.cases.hosting import Hosting
from safeguard.cases.notice_models import Referral
from safeguard.errors import InvalidInput


@dataclass(frozen=True)
class Partner:
    country: str
    name: str
    kind: str  # "hotline" or "police"
    contact: str  # email address or https URL of the partner's intake
    source: str  # where the operator took the entry from
    # Console accounts (role le_liaison) of this partner's people: they see the cases
    # referred to this partner and nothing else (safeguard.cases.liaison).
    liaisons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Proposal:
    url: str
    country: str | None
    partner: Partner | None
    reason: str


@dataclass(frozen=True)
class Directory:
    hotlines: dict[str, Partner]
    police: Partner | None

    @classmethod
    def load(cls, path: Path | None) -> Directory:
        """`path` is a TOML file:

            [police]
            name = "National police, online child abuse unit"
            contact = "referrals@police.example"
            source = "agreement of 2026-03-01"

            [[hotline]]
            country = "NL"
            name = "..."
            contact = "..."
            source = "https://www.inhope.org/EN/our-members (2026-11)"
            liaisons = ["nl-liaison"]   # optional: their le_liaison console accounts
        """
        if path is None:
            return cls({}, None)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInput(f"cannot read the referral directory {path}: {exc}") from exc
        problems: list[str] = []
        hotlines: dict[str, Partner] = {}
        entries = data.get("hotline", [])
        if not isinstance(entries, list):
            problems.append("hotline must be a list of [[hotline]] tables")
            entries = []
        for n, entry in enumerate(entries, start=1):
            partner = _partner(entry, "hotline", f"hotline {n}", problems)
            if partner:
                hotlines[partner.country] = partner
        police = _partner(data["police"], "police", "police", problems) \
            if "police" in data else None
        if problems:
            raise InvalidInput(f"{path}: " + "; ".join(problems))
        return cls(hotlines, police)

    def propose(self, hosting: Hosting) -> Proposal:
        if hosting.country and hosting.country in self.hotlines:
            return Proposal(hosting.url, hosting.country, self.hotlines[hosting.country],
                            f"hosted in {hosting.country} ({hosting.how}); that country's "
                            "hotline is in the directory")
        why = (f"hosted in {hosting.country} ({hosting.how}) but no hotline is configured "
               "for it" if hosting.country else f"hosting country unknown ({hosting.how})")
        if self.police is None:
            return Proposal(hosting.url, hosting.country, None,
                            why + "; no police contact configured either")
        return Proposal(hosting.url, hosting.country, self.police, why + "; refer to police")


def _partner(entry: object, kind: str, where: str, problems: list[str]) -> Partner | None:
    if not isinstance(entry, dict):
        problems.append(f"{where} must be a table (name = ..., contact = ..., source = ...)")
        return None
    fields = {k: str(entry.get(k, "")).strip() for k in ("country", "name", "contact",
                                                          "source")}
    needed = (["country"] if kind == "hotline" else []) + ["name", "contact", "source"]
    missing = [k for k in needed if not fields[k]]
    if missing:
        problems.append(f"{where} lacks {', '.join(missing)}")
        return None
    if kind == "hotline" and (len(fields["country"]) != 2 or not fields["country"].isalpha()):
        problems.append(f"{where}: country must be a two-letter ISO code")
        return None
    liaisons = entry.get("liaisons", [])
    if not isinstance(liaisons, list) or not all(
            isinstance(u, str) and u.strip() for u in liaisons):
        problems.append(f"{where}: liaisons must be a list of usernames")
        return None
    return Partner(fields["country"].upper(), fields["name"], kind, fields["contact"],
                   fields["source"], tuple(u.strip() for u in liaisons))


def refer(session: Session, actor: Actor, case_id: int, partner: Partner, *,
          url: str | None = None, country: str | None = None, reason: str = "") -> Referral:
    """Record that the case went to `partner`, and move an assessed case to "referred"."""
    case = cases.get_case(session, case_id)
    referral = Referral(case_id=case.id, url=url, country=country, partner_name=partner.name,
                        partner_kind=partner.kind, contact=partner.contact,
                        reason=reason[:500], by=str(actor))
    session.add(referral)
    session.flush()
    record(session, actor, "case.referred", "case", case.id, referral_id=referral.id,
           partner=partner.name, kind=partner.kind, country=country)
    if case.status == CaseStatus.ASSESSED:
        cases.change_status(session, actor, case.id, CaseStatus.REFERRED.value,
                            reason=f"referred to {partner.name}")
    return referral


def referrals(session: Session, case_id: int) -> list[Referral]:
    return list(session.scalars(select(Referral).where(Referral.case_id == case_id)
                                .order_by(Referral.id)))
