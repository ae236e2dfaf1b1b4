"""Each analyst sees their own exposure count: items they assessed today and this week."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from safeguard.audit.service import Actor
from safeguard.auth import service as auth
from safeguard.cases import service as cases
from safeguard.cases import triage
from safeguard.cases.exposure import exposure
from safeguard.cases.models import Source
from safeguard.db.base import utcnow
from safeguard.db.encryption import FieldCipher, generate_key
from safeguard.db.engine import Database
from tests.cases.test_personal_data import login
from tests.conftest import PASSWORD


def test_counts_only_the_analysts_own_assessments(db: Database) -> None:
    root = Actor("cli", "test")
    with db.session() as s:
        ana = auth.actor_for_user(auth.create_user(s, root, "ana", PASSWORD, "analyst"))
        bo = auth.actor_for_user(auth.create_user(s, root, "bo", PASSWORD, "analyst"))
        for n in range(3):
            triage.intake(s, root, triage.Lead(Source.PLATFORM_REPORT, f"r{n}", f"r{n}"))
        for who in (ana, ana, bo):
            item = triage.claim_next(s, who)
            assert item is not None
            triage.assess(s, who, item.id, "not_illegal")
        case = cases.create_case(s, ana, "c", [("url", "https://x.example/")],
                                 cipher=FieldCipher([generate_key()]))
        cases.assess_item(s, ana, cases.items(s, case.id)[0].id, "doubtful")
        triage.intake(s, root, triage.Lead(Source.PLATFORM_REPORT, "r9", "not assessed"))
        assert exposure(s, ana) == exposure(s, ana, utcnow())
        mine = exposure(s, ana)
        assert (mine.today, mine.week) == (3, 3)
        assert (exposure(s, bo).today, exposure(s, bo).week) == (1, 1)
        # eight days on, nothing is from today or this week
        later = exposure(s, ana, utcnow() + timedelta(days=8))
        assert (later.today, later.week) == (0, 0)


def test_triage_page_shows_the_count(app_client: Any) -> None:
    login(app_client, "ana")
    assert "You assessed 0 items today and 0 in the last seven days" in app_client.get(
        "/console/triage").text
