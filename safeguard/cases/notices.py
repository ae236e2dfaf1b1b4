"""Notice-and-takedown: notices per URL, sent grouped per abuse contact, re-checked on a
schedule and re-sent after an interval until the content is gone; time to removal recorded.
Failed sends are recorded and retried with back-off; nothing is dropped."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard.audit.service import Actor, record
from safeguard.cases import service as cases
from safeguard.cases.content_keys import url_key
from safeguard.cases.delivery import Checker, DeliveryError, Letter, Sender
from safeguard.cases.notice_models import Notice, NoticeAttempt, NoticeStatus
from safeguard.config import Settings
from safeguard.db.base import utcnow
from safeguard.db.engine import Database
from safeguard.errors import ConflictError, InvalidInput, NotFoundError

SYSTEM = Actor("system", "notices")


@dataclass(frozen=True)
class Schedule:
    @classmethod
    def from_settings(cls, settings: Settings) -> Schedule:
        return cls(renotify=timedelta(hours=settings.notice_renotify_hours),
                   recheck=timedelta(hours=settings.notice_recheck_hours))

    renotify: timedelta = timedelta(hours=48)  # re-send while the content stays up
    recheck: timedelta = timedelta(hours=6)
    retry_base: timedelta = timedelta(minutes=5)  # after a failed send, doubling
    retry_max: timedelta = timedelta(hours=6)

    def retry_after(self, failures: int) -> timedelta:
        return min(self.retry_max, self.retry_base * (2 ** max(0, failures - 1)))


def channel_of(contact: str) -> str:
    contact = contact.strip()
    if contact.startswith("https://") or contact.startswith("http://"):
        return "webhook"
    if "@" in contact and " " not in contact and "." in contact.partition("@")[2]:
        return "email"
    raise InvalidInput(f"an abuse contact is an email address or an http(s) URL, got "
                       f"{contact[:80]!r}")


def create_notice(session: Session, actor: Actor, case_id: int, url: str,
                  contact: str) -> Notice:
    case = cases.get_case(session, case_id)
    url_key(url)  # validates: an http(s) URL
    channel = channel_of(contact)
    open_same = session.scalars(select(Notice).where(
        Notice.case_id == case.id, Notice.url == url.strip(), Notice.contact == contact.strip(),
        Notice.status == NoticeStatus.OPEN.value)).first()
    if open_same is not None:
        raise ConflictError(f"notice {open_same.id} for this URL and contact is still open")
    now = utcnow()
    notice = Notice(case_id=case.id, url=url.strip(), contact=contact.strip(),
                    channel=channel, created_at=now, next_send_at=now)
    session.add(notice)
    session.flush()
    record(session, actor, "notice.create", "case", case.id, notice_id=notice.id,
           contact=notice.contact)
    return notice


def withdraw(session: Session, actor: Actor, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFoundError(f"no notice {notice_id}")
    if notice.status != NoticeStatus.OPEN:
        raise ConflictError(f"notice {notice_id} is already {notice.status}")
    notice.status = NoticeStatus.WITHDRAWN.value
    record(session, actor, "notice.withdraw", "case", notice.case_id, notice_id=notice.id)
    return notice


def letter_for(notices: list[Notice], org_name: str, reply_to: str) -> Letter:
    urls = [n.url for n in notices]
    first = min(n.sent_count for n in notices) == 0
    subject = ("Removal request: child sexual abuse material" if first
               else "Reminder: removal request, content still available")
    lines = [
        f"{org_name or 'A child-protection hotline'} asks you to remove the content at the "
        f"address{'es' if len(urls) > 1 else ''} below, which was assessed by a trained "
        "analyst as child sexual abuse material.",
        "", *urls, "",
        "Please preserve any data you hold about it for law enforcement, and do not forward "
        "the content.",
        f"Reply to {reply_to or 'this message'} quoting the reference.",
    ]
    return Letter(notices[0].contact, subject, "\n".join(lines), urls,
                  "notices " + ",".join(str(n.id) for n in notices))


def send_due(session: Session, senders: dict[str, Sender], *, org_name: str, reply_to: str,
             schedule: Schedule, now: datetime | None = None) -> dict[str, int]:
    """Send every notice that is due, one message per abuse contact."""
    now = now or utcnow()
    due = list(session.scalars(select(Notice).where(
        Notice.status == NoticeStatus.OPEN.value, Notice.next_send_at <= now)
        .order_by(Notice.id).with_for_update(skip_locked=True)))
    groups: dict[tuple[str, str], list[Notice]] = defaultdict(list)
    for notice in due:
        groups[(notice.channel, notice.contact)].append(notice)
    counts = {"sent": 0, "failed": 0}
    for (channel, _contact), group in groups.items():
        letter = letter_for(group, org_name, reply_to)
        try:
            senders[channel].send(letter)
        except (DeliveryError, KeyError) as exc:
            detail = str(exc) if not isinstance(exc, KeyError) else f"no {channel} sender"
            for notice in group:
                notice.failed_sends += 1
                notice.next_send_at = now + schedule.retry_after(notice.failed_sends)
                session.add(NoticeAttempt(notice_id=notice.id, kind="send", at=now, ok=False,
                                          detail=detail[:500]))
            counts["failed"] += len(group)
            continue
        for notice in group:
            notice.sent_count += 1
            notice.failed_sends = 0
            notice.first_sent_at = notice.first_sent_at or now
            notice.last_sent_at = now
            notice.next_send_at = now + schedule.renotify
            notice.next_check_at = now + schedule.recheck
            session.add(NoticeAttempt(notice_id=notice.id, kind="send", at=now, ok=True,
                                      detail=f"{channel} to {notice.contact}"))
            record(session, SYSTEM, "notice.sent", "case", notice.case_id,
                   notice_id=notice.id, count=notice.sent_count)
        counts["sent"] += len(group)
    return counts


def check_due(session: Session, checker: Checker, *, schedule: Schedule,
              now: datetime | None = None) -> dict[str, int]:
    """Re-check every sent notice whose check is due; a URL that is gone closes its notice
    and records the time from the first notice to removal."""
    now = now or utcnow()
    due = list(session.scalars(select(Notice).where(
        Notice.status == NoticeStatus.OPEN.value, Notice.next_check_at <= now)
        .order_by(Notice.id).with_for_update(skip_locked=True)))
    counts = {"removed": 0, "still_up": 0, "check_failed": 0}
    for notice in due:
        notice.next_check_at = now + schedule.recheck
        try:
            gone = checker.is_gone(notice.url)
        except DeliveryError as exc:
            session.add(NoticeAttempt(notice_id=notice.id, kind="check", at=now, ok=False,
                                      detail=str(exc)[:500]))
            counts["check_failed"] += 1
            continue
        session.add(NoticeAttempt(notice_id=notice.id, kind="check", at=now, ok=True,
                                  detail="gone" if gone else "still available"))
        if not gone:
            counts["still_up"] += 1
            continue
        notice.status = NoticeStatus.REMOVED.value
        notice.removed_at = now
        notice.next_send_at = None
        notice.seconds_to_removal = int((now - (notice.first_sent_at or notice.created_at))
                                        .total_seconds())
        record(session, SYSTEM, "notice.removed", "case", notice.case_id,
               notice_id=notice.id, seconds_to_removal=notice.seconds_to_removal)
        counts["removed"] += 1
    return counts


def attempts(session: Session, notice_id: int) -> list[NoticeAttempt]:
    return list(session.scalars(select(NoticeAttempt).where(
        NoticeAttempt.notice_id == notice_id).order_by(NoticeAttempt.id)))


def for_case(session: Session, case_id: int) -> list[Notice]:
    return list(session.scalars(select(Notice).where(Notice.case_id == case_id)
                                .order_by(Notice.id)))


def run_once(db: Database, senders: dict[str, Sender], checker: Checker, *, org_name: str,
             reply_to: str, schedule: Schedule) -> dict[str, int]:
    """One pass of the notice job: send what is due, then re-check what is due (separate
    transactions, so a failing check never undoes a recorded send)."""
    counts: dict[str, int] = {}
    with db.session() as session:
        counts |= send_due(session, senders, org_name=org_name, reply_to=reply_to,
                           schedule=schedule)
    with db.session() as session:
        counts |= check_due(session, checker, schedule=schedule)
    return counts
