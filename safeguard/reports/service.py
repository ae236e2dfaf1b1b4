"""The reports domain: submit (child portal, platforms, partners), status in plain words, add
information, withdraw, and reading for analysts. The portal pages, the HTTP API and the CLI
all call these functions.

Every report lands in triage through `safeguard.cases.triage.intake`; the triage item carries
no reporter text (that stays encrypted here), only choices, links and hashes.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor, record
from safeguard.cases import triage
from safeguard.cases.case_models import CaseItem
from safeguard.cases.content_keys import hash_key, url_key
from safeguard.cases.models import ItemStatus, Source, TriageItem
from safeguard.db.base import utcnow
from safeguard.db.encryption import FieldCipher
from safeguard.errors import FeatureDisabled, InvalidInput, NotFoundError, SafeguardError
from safeguard.reports import codes
from safeguard.reports.inputs import (
    MAX_ACCOUNT,
    MAX_CONTACT,
    MAX_DETAILS,
    MAX_EXTERNAL_REF,
    HashIn,
    check_age_band,
    check_choices,
    check_hashes,
    check_incident_type,
    check_text,
    incident_and_severity,
    parse_urls,
)
from safeguard.reports.models import (
    Report,
    ReportAddition,
    ReportHash,
    ReportSource,
    ReportTombstone,
)

PORTAL = Actor("anonymous", "child-portal")
MAX_PIN_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MAX_ADDITIONS = 20
READ_SCOPE = "reports:read"
LANGUAGES = ("en", "fr", "es", "pt", "ar")


class DecryptionNotAllowed(FeatureDisabled):
    """Reading reporter text needs the analyst role (reports:read); answered with 403."""


class CodeRejected(SafeguardError):
    """A case code and PIN did not open a report. The same message whether the code exists
    or not, so nobody can learn which codes exist."""

    def __init__(self, locked: bool) -> None:
        self.locked = locked
        super().__init__("too many wrong tries: wait 15 minutes and try again" if locked
                         else "the case code or the PIN is not right")


# ------------------------------------------------------------------------------- submitting


@dataclass(frozen=True)
class ChildReportIn:
    what: Sequence[str] = ()
    details: str = ""
    urls: Sequence[str] = ()
    age_band: str = "unknown"
    in_danger: bool = False
    hashes: Sequence[HashIn] = ()
    reported_account: str = ""
    language: str = "en"


@dataclass(frozen=True)
class PlatformReportIn:
    source: ReportSource = ReportSource.PLATFORM
    incident_type: str | None = None
    urls: Sequence[str] = ()
    hashes: Sequence[HashIn] = ()
    reported_account: str = ""
    urgent: bool = False
    details: str = ""
    age_band: str = "unknown"
    external_ref: str | None = None


@dataclass(frozen=True)
class Receipt:
    """What the child sees once: the code and the PIN exist nowhere else in clear."""

    report: Report
    code: str
    pin: str

    @property
    def display_code(self) -> str:
        return codes.format_code(self.code)


def _encrypt(cipher: FieldCipher, value: str) -> str | None:
    return cipher.encrypt(value) if value else None


def submit_child(session: Session, data: ChildReportIn, *, cipher: FieldCipher) -> Receipt:
    """Store a report from the portal and take it into triage. No account, no IP address."""
    what = check_choices(data.what)
    details = check_text(data.details, MAX_DETAILS, "what happened")
    account = check_text(data.reported_account, MAX_ACCOUNT, "the account")
    urls = parse_urls(data.urls)
    hashes = check_hashes(data.hashes)
    age_band = check_age_band(data.age_band)
    language = data.language if data.language in LANGUAGES else "en"
    if not (what or details or urls or hashes or account or data.in_danger):
        raise InvalidInput("tell us something about what happened before you send")
    incident_type, severity = incident_and_severity(what)
    code, pin = _unused_code(session), codes.new_pin()
    report = Report(
        ref=secrets.token_hex(16), source=ReportSource.CHILD_PORTAL.value,
        submitted_by="anonymous", incident_type=incident_type, what=what,
        details=_encrypt(cipher, details), urls=urls, age_band=age_band,
        in_danger=data.in_danger, urgent=data.in_danger,
        reported_account=_encrypt(cipher, account), language=language,
        code_digest=codes.code_digest(code), pin_hash=codes.hash_pin(pin))
    _add_hashes(report, hashes)
    session.add(report)
    session.flush()
    record(session, PORTAL, "report.submitted", "report", report.id, source=report.source,
           urgent=report.urgent, hashes=len(hashes), urls=len(urls))
    _to_triage(session, PORTAL, report, severity, Source.CHILD_REPORT)
    return Receipt(report, code, pin)


def _unused_code(session: Session) -> str:
    # 2^60 codes: a clash is astronomically unlikely, but checking costs one indexed lookup.
    while True:
        code = codes.new_code()
        digest = codes.code_digest(code)
        if session.scalar(select(Report.id).where(Report.code_digest == digest)) is None:
            return code


def submit_platform(session: Session, actor: Actor, data: PlatformReportIn, *,
                    cipher: FieldCipher) -> tuple[Report, bool]:
    """Store a report from a platform or partner (API token). Idempotent on the caller's
    `external_ref`: a retry returns the first report and False."""
    if data.source == ReportSource.CHILD_PORTAL:
        raise SafeguardError("platform reports cannot claim to come from the child portal")
    incident_type = check_incident_type(data.incident_type)
    urls = parse_urls(data.urls)
    hashes = check_hashes(data.hashes)
    details = check_text(data.details, MAX_DETAILS, "details")
    account = check_text(data.reported_account, MAX_ACCOUNT, "reported_account")
    age_band = check_age_band(data.age_band)
    external_ref = check_text(data.external_ref or "", MAX_EXTERNAL_REF, "external_ref") or None
    if not (urls or hashes or account or details):
        raise InvalidInput("a report needs at least one of urls, hashes, reported_account "
                             "or details")
    submitted_by = str(actor)[:128]
    if external_ref is not None:
        earlier = _by_external_ref(session, submitted_by, external_ref)
        if earlier is not None:
            return earlier, False
    report = Report(
        ref=secrets.token_hex(16), source=data.source.value, submitted_by=submitted_by,
        external_ref=external_ref, incident_type=incident_type, what=[],
        details=_encrypt(cipher, details), urls=urls, age_band=age_band, in_danger=False,
        urgent=data.urgent, reported_account=_encrypt(cipher, account), language="en")
    _add_hashes(report, hashes)
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:  # the same external_ref arrived concurrently
        again = _by_external_ref(session, submitted_by, external_ref or "")
        if again is None:
            raise
        return again, False
    record(session, actor, "report.submitted", "report", report.id, source=report.source,
           urgent=report.urgent, hashes=len(hashes), urls=len(urls))
    _to_triage(session, actor, report, 2 if data.urgent else 1, Source.PLATFORM_REPORT)
    return report, True


def _by_external_ref(session: Session, submitted_by: str, external_ref: str) -> Report | None:
    return session.scalars(select(Report).where(Report.submitted_by == submitted_by,
                                                Report.external_ref == external_ref)).first()


def _add_hashes(report: Report, hashes: Sequence[HashIn]) -> None:
    for h in hashes:
        report.hashes.append(ReportHash(kind=h.kind, value=h.value, quality=h.quality))


def _to_triage(session: Session, actor: Actor, report: Report, severity: int,
               source: Source) -> None:
    keys = [hash_key(h.kind, h.value) for h in report.hashes]
    keys += [url_key(u) for u in report.urls]
    who = "a child (portal)" if source == Source.CHILD_REPORT else report.submitted_by
    what = report.incident_type or "incident type not given"
    summary = "; ".join(filter(None, [
        "IN DANGER NOW" if report.in_danger else "",
        f"choices: {', '.join(report.what)}" if report.what else "",
        f"{len(report.urls)} link(s)" if report.urls else "",
        f"{len(report.hashes)} hash(es)" if report.hashes else "",
        "reporter text kept encrypted in the report" if report.details else "",
    ]))
    result = triage.intake(session, actor, triage.Lead(
        source=source, source_ref=f"report:{report.ref}",
        title=f"Report from {who}: {what}"[:200], summary=summary, urgent=report.urgent,
        severity=severity, age_band=report.age_band, content_keys=keys,
        details={"report_id": report.id, "source": report.source}))
    report.triage_item_id = result.item.id
    session.flush()


# ------------------------------------------------------------------- the child's case code


class _UnknownCodeFailures:
    """Wrong tries against codes that do not exist, counted in memory, so they lock out
    exactly like a real code does (otherwise the lockout would reveal which codes exist).
    Bounded: the oldest entries go first."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()
        self._lock = threading.Lock()
        self._capacity = capacity

    def locked(self, digest: str, now: datetime) -> bool:
        with self._lock:
            _, until = self._entries.get(digest, (0, None))
            return until is not None and until > now

    def fail(self, digest: str, now: datetime) -> None:
        with self._lock:
            count, _ = self._entries.pop(digest, (0, None))
            count += 1
            self._entries[digest] = (0, now + LOCKOUT) if count >= MAX_PIN_FAILURES \
                else (count, None)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


unknown_code_failures = _UnknownCodeFailures()


def open_with_code(session: Session, code_text: str, pin_text: str, *,
                   now: datetime | None = None) -> Report:
    """The report the code and PIN open. Wrong tries are counted per code and lock it for
    15 minutes after five; the answer never says whether the code exists. Commits the failure
    count before refusing, so a refusal cannot roll it back."""
    now = now or utcnow()
    code = codes.normalize_code(code_text[:64])
    pin = codes.normalize_pin(pin_text[:64]) or ""
    digest = codes.code_digest(code or code_text[:64].strip().upper())
    report = None
    if code is not None:
        report = session.scalars(select(Report).where(Report.code_digest == digest)).first()
    if report is not None and not hmac.compare_digest(report.code_digest or "", digest):
        report = None
    locked = (report.locked_until is not None and report.locked_until > now) if report \
        else unknown_code_failures.locked(digest, now)
    ok = codes.pin_matches(report.pin_hash if report else None, pin) and bool(pin)
    if locked:
        raise CodeRejected(locked=True)
    if ok and report is not None:
        report.failed_pins = 0
        return report
    if report is None:
        unknown_code_failures.fail(digest, now)
        raise CodeRejected(locked=False)
    report.failed_pins += 1
    if report.failed_pins >= MAX_PIN_FAILURES:
        report.locked_until = now + LOCKOUT
        report.failed_pins = 0
    record(session, PORTAL, "report.wrong_pin", "report", report.id)
    session.commit()
    raise CodeRejected(locked=False)


@dataclass(frozen=True)
class ReportStatus:
    """A status key; the portal shows it in plain words in the child's language."""

    key: str  # waiting | being_read | looked_at
    words: str
    received_at: datetime
    additions: int = 0
    urgent: bool = False
    steps: list[str] = field(default_factory=list)


STATUS_WORDS = {
    "waiting": "Your report is safe with us. It is waiting for a trained person to read it.",
    "being_read": "A trained person is reading your report now.",
    "looked_at": "A trained person has read your report and decided what to do next.",
}


def status_of(session: Session, report: Report) -> ReportStatus:
    item = session.get(TriageItem, report.triage_item_id) if report.triage_item_id else None
    if item is None or item.status == ItemStatus.QUEUED.value:
        key = "waiting"
    elif item.status == ItemStatus.CLAIMED.value:
        key = "being_read"
    else:
        key = "looked_at"
    return ReportStatus(key, STATUS_WORDS[key], report.received_at, len(report.additions),
                        report.urgent)


def add_information(session: Session, report: Report, text: str = "",
                    urls: str | Sequence[str] = (), *, cipher: FieldCipher) -> ReportAddition:
    text = check_text(text, MAX_DETAILS, "what you want to add")
    links = parse_urls(urls)
    if not text and not links:
        raise InvalidInput("write something or add a link before you send")
    if len(report.additions) >= MAX_ADDITIONS:
        raise SafeguardError(f"a report can have at most {MAX_ADDITIONS} additions")
    addition = ReportAddition(text=_encrypt(cipher, text), urls=links)
    report.additions.append(addition)
    report.updated_at = utcnow()
    session.flush()
    record(session, PORTAL, "report.information_added", "report", report.id,
           addition_id=addition.id, urls=len(links))
    return addition


def set_contact(session: Session, report: Report, contact: str, *,
                cipher: FieldCipher) -> None:
    """The optional contact, asked only after the report was sent (CR-01)."""
    contact = check_text(contact, MAX_CONTACT, "how we can reach you")
    if not contact:
        raise InvalidInput("write how we can reach you, or skip this step")
    report.contact = cipher.encrypt(contact)
    report.updated_at = utcnow()
    record(session, PORTAL, "report.contact_added", "report", report.id)


def withdraw(session: Session, report: Report, actor: Actor = PORTAL) -> ReportTombstone:
    """Delete the report with its text, links, hashes and additions, and its triage item
    (unless an analyst already put it in a case: then the item is emptied of the report's
    content). What is left is a tombstone without personal data that lists the partners who
    received the hashes and must be told."""
    tombstone = ReportTombstone(ref=report.ref, source=report.source,
                                hash_count=len(report.hashes),
                                partners_to_tell=list(report.shared_with or []))
    if report.triage_item_id is not None:
        _forget_triage_item(session, report.triage_item_id)
    report_id = report.id
    session.delete(report)
    session.add(tombstone)
    session.flush()
    record(session, actor, "report.withdrawn", "report", report_id, ref=tombstone.ref,
           partners_to_tell=len(tombstone.partners_to_tell))
    return tombstone


def _forget_triage_item(session: Session, item_id: int) -> None:
    item = session.get(TriageItem, item_id)
    if item is None:
        return
    in_case = session.scalar(select(CaseItem.id).where(CaseItem.triage_item_id == item_id)
                             .limit(1))
    if in_case is None:
        session.execute(delete(TriageItem).where(TriageItem.id == item_id))
        return
    item.summary = "withdrawn by the reporter: content deleted"
    item.content_keys = []
    item.details = {"withdrawn": True}


def withdrawals_to_tell(session: Session) -> list[ReportTombstone]:
    """Withdrawn reports whose hashes went to partners that were not told yet."""
    rows = session.scalars(select(ReportTombstone).where(
        ReportTombstone.partners_told_at.is_(None)).order_by(ReportTombstone.withdrawn_at))
    return [t for t in rows if t.partners_to_tell]


def mark_partners_told(session: Session, actor: Actor, ref: str) -> ReportTombstone:
    tombstone = session.scalars(select(ReportTombstone).where(
        ReportTombstone.ref == ref)).first()
    if tombstone is None:
        raise NotFoundError(f"no withdrawn report {ref}")
    tombstone.partners_told_at = utcnow()
    record(session, actor, "report.partners_told", "report_tombstone", tombstone.id)
    return tombstone


# ------------------------------------------------------------------------------- analysts


@dataclass(frozen=True)
class ReportView:
    """A report with its reporter text decrypted: only built by `read_report` (audited)."""

    report: Report
    details: str
    reported_account: str
    contact: str
    additions: list[tuple[ReportAddition, str]]


def list_reports(session: Session, *, source: ReportSource | None = None,
                 urgent: bool | None = None, offset: int = 0, limit: int = 50) -> list[Report]:
    """Newest first; nothing is decrypted."""
    q = select(Report).order_by(Report.received_at.desc(), Report.id.desc())
    if source is not None:
        q = q.where(Report.source == source.value)
    if urgent is not None:
        q = q.where(Report.urgent.is_(urgent))
    return list(session.scalars(q.offset(offset).limit(limit)))


def get_report(session: Session, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        raise NotFoundError(f"no report {report_id}")
    return report


def read_report(session: Session, actor: Actor, report_id: int, *,
                cipher: FieldCipher) -> ReportView:
    """Decrypt a report for an analyst; every call writes `report.read` to the audit log."""
    if READ_SCOPE not in actor.scopes and "admin" not in actor.scopes:
        raise DecryptionNotAllowed("reading a report needs the analyst role "
                                   f"({READ_SCOPE!r} permission)")
    report = get_report(session, report_id)
    record(session, actor, "report.read", "report", report.id)

    def clear(value: str | None) -> str:
        return cipher.decrypt(value) if value else ""

    return ReportView(report, clear(report.details), clear(report.reported_account),
                      clear(report.contact), [(a, clear(a.text)) for a in report.additions])


def rotate_keys(session: Session, actor: Actor, *, cipher: FieldCipher) -> int:
    """Re-encrypt every reporter field under the newest field key; returns the values
    rotated. Run after putting a new key first in SAFEGUARD_FIELD_KEYS."""
    rotated = 0
    for report in session.scalars(select(Report)):
        for name in ("details", "reported_account", "contact"):
            value = getattr(report, name)
            if value:
                setattr(report, name, cipher.rotate(value))
                rotated += 1
    for addition in session.scalars(select(ReportAddition)):
        if addition.text:
            addition.text = cipher.rotate(addition.text)
            rotated += 1
    record(session, actor, "report.keys_rotated", "report", "", values=rotated)
    return rotated


def purge_reports(session: Session, cutoff: datetime, *,
                  held_triage_ids: Select[int | None] | None = None,
                  dry_run: bool = False) -> int:
    """Delete reports last changed before `cutoff` with their hashes and additions (retention,
    `reports=` in SAFEGUARD_RETENTION). Kept: a report whose triage item still waits for an
    analyst, and one whose item is in a case under legal hold (`held_triage_ids`)."""
    waiting = select(TriageItem.id).where(
        TriageItem.status.in_([ItemStatus.QUEUED.value, ItemStatus.CLAIMED.value]))
    where = [Report.updated_at < cutoff,
             or_(Report.triage_item_id.is_(None), Report.triage_item_id.not_in(waiting))]
    if held_triage_ids is not None:
        where.append(or_(Report.triage_item_id.is_(None),
                         Report.triage_item_id.not_in(held_triage_ids)))
    ids = list(session.scalars(select(Report.id).where(*where)))
    if dry_run:
        return len(ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        # explicit child deletes: SQLite enforces ON DELETE CASCADE only with foreign keys on
        session.execute(delete(ReportHash).where(ReportHash.report_id.in_(chunk)))
        session.execute(delete(ReportAddition).where(ReportAddition.report_id.in_(chunk)))
        session.execute(delete(Report).where(Report.id.in_(chunk)))
    return len(ids)
