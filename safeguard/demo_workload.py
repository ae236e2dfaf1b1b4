"""Demo work for the console: reports, a grooming lead, ad networks and a case, so that a newcomer
who runs `make run` sees every part of the product with something in it.

Everything goes through the same service functions the API and the CLI use, and everything is
benign: the reports point at example.org, the conversation comes from the project's
non-explicit evaluation set, and the ads are the synthetic neutral-services corpus. Loading twice
adds nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safeguard.ads import service as ads
from safeguard.ads.synthetic import generate
from safeguard.audit.service import Actor
from safeguard.banks import service as banks
from safeguard.cases import service as cases
from safeguard.cases.vocabulary import INCIDENT_TYPES
from safeguard.conversations import service as conversations
from safeguard.conversations.evaluate import load_eval_set
from safeguard.db.encryption import FieldCipher
from safeguard.reports import service as reports
from safeguard.reports.inputs import HashIn
from safeguard.reports.models import Report, ReportSource
from safeguard.reports.service import ChildReportIn, PlatformReportIn

DEMO_PLATFORM = Actor("system", "demo-platform")
DEMO_ADS = 400
DEMO_CASE_TITLE = "Demo: pictures of a known series shared on example.org"


@dataclass(frozen=True)
class WorkloadResult:
    reports_added: int
    child_code: str | None  # shown once, so the newcomer can try the status page
    child_pin: str | None
    grooming_items: int
    ads_added: int
    networks: int
    case_reference: str | None


def load_workload(session: Session, actor: Actor, cipher: FieldCipher,
                  known_bank: str) -> WorkloadResult:
    added, code, pin = _reports(session, cipher, known_bank)
    grooming = _grooming_leads(session, actor)
    ads_added, networks = _ads(session, actor)
    case_ref = _case(session, actor, cipher)
    return WorkloadResult(added, code, pin, grooming, ads_added, networks, case_ref)


def _reports(session: Session, cipher: FieldCipher, known_bank: str
             ) -> tuple[int, str | None, str | None]:
    known = banks.list_entries(session, known_bank, limit=1, signal_type="pdq")
    hashes = [HashIn("pdq", e.value, e.quality) for e in known]
    added = 0
    _, fresh = reports.submit_platform(session, DEMO_PLATFORM, PlatformReportIn(
        incident_type=INCIDENT_TYPES[0],
        urls=["https://example.org/gallery/123"], hashes=hashes,
        reported_account="demo-uploader-42", details="Demo report: a user flagged an album; "
        "one picture matches the demo bank.", age_band="13_15", external_ref="demo-1"),
        cipher=cipher)
    added += fresh
    has_child = session.scalar(select(func.count()).select_from(Report).where(
        Report.source == ReportSource.CHILD_PORTAL.value))
    if has_child:
        return added, None, None
    receipt = reports.submit_child(session, ChildReportIn(
        what=["asked_for_images"], details="Demo report: someone in a game chat keeps "
        "asking me to send photos and says not to tell anyone.",
        urls=["https://example.org/profile/demo"], age_band="13_15", in_danger=False,
        language="en"), cipher=cipher)
    return added + 1, receipt.code, receipt.pin


def _grooming_leads(session: Session, actor: Actor) -> int:
    chosen = [c for c in load_eval_set(("dev",)) if c.label == "grooming"][:2]
    items = 0
    for conv in chosen:
        _, ids = conversations.score_and_raise(session, actor, f"demo-{conv.id}", conv.messages)
        items += len(ids)
    return items


def _ads(session: Session, actor: Actor) -> tuple[int, int]:
    corpus = [planted.ad for planted in generate(DEMO_ADS, seed=11)]
    result = ads.ingest(session, actor, corpus)
    total, largest = ads.list_networks(session, limit=1)
    if largest:  # the console's "open as triage item" action, so the queue shows an ad lead
        ads.open_triage(session, actor, largest[0].id)
    return result.new, total


def _case(session: Session, actor: Actor, cipher: FieldCipher) -> str | None:
    if any(c.title == DEMO_CASE_TITLE for c in cases.list_cases(session, limit=200)):
        return None
    case = cases.create_case(session, actor, DEMO_CASE_TITLE, [
        ("url", "https://example.org/gallery/123"), ("account", "demo-uploader-42")],
        cipher=cipher, incident_type=INCIDENT_TYPES[0])
    return case.reference
