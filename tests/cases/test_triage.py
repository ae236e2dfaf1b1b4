"""Triage: one intake, a readable priority, exclusive leases, auto-classification."""

from __future__ import annotations

from datetime import timedelta

import pytest

from safeguard.audit.service import Actor
from safeguard.auth import service as auth
from safeguard.cases import triage
from safeguard.cases.content_keys import hash_key, url_key
from safeguard.cases.models import ItemStatus, Source, TriageItem
from safeguard.db.base import utcnow
from safeguard.db.engine import Database
from safeguard.errors import ConflictError, InvalidInput, NotFoundError

ROOT = Actor("cli", "test")
PW = "correct horse battery"


@pytest.fixture
def analysts(db: Database) -> tuple[Actor, Actor]:
    with db.session() as s:
        a = auth.create_user(s, ROOT, "ana", PW, "analyst")
        b = auth.create_user(s, ROOT, "bo", PW, "analyst")
        return auth.actor_for_user(a), auth.actor_for_user(b)


def lead(ref: str, **kw: object) -> triage.Lead:
    return triage.Lead(source=kw.pop("source", Source.PLATFORM_REPORT),  # type: ignore[arg-type]
                       source_ref=ref, title=f"report {ref}", **kw)  # type: ignore[arg-type]


def test_queue_order_follows_the_stated_priority(db: Database) -> None:
    with db.session() as s:
        for ref, kw in [("old-low", {"severity": 0}), ("teen", {"age_band": "13_15"}),
                        ("child", {"age_band": "under_13"}), ("urgent", {"urgent": True}),
                        ("severe", {"severity": 3}), ("known", {"known_content": True}),
                        ("adult", {"age_band": "adult"})]:
            triage.intake(s, ROOT, lead(ref, **kw))
    with db.session() as s:
        total, entries = triage.queue(s)
        order = [e.item.source_ref for e in entries]
        assert total == 7
        assert order == ["urgent", "severe", "child", "teen", "known", "adult", "old-low"]
        assert entries[0].reasons[0].startswith("urgent")
        assert any("age band under" in r for r in entries[2].reasons)
        assert any(r.startswith("waiting") for r in entries[-1].reasons)


def test_equal_priority_goes_to_the_longest_waiting(db: Database) -> None:
    with db.session() as s:
        first = triage.intake(s, ROOT, lead("a")).item
        first.received_at = utcnow() - timedelta(hours=3)
        triage.intake(s, ROOT, lead("b"))
    with db.session() as s:
        assert [e.item.source_ref for e in triage.queue(s)[1]] == ["a", "b"]


def test_intake_is_idempotent_per_source_ref(db: Database) -> None:
    with db.session() as s:
        one = triage.intake(s, ROOT, lead("same"))
        two = triage.intake(s, ROOT, lead("same", severity=3))
        assert one.created and not two.created and one.item.id == two.item.id
        other = triage.intake(s, ROOT, lead("same", source=Source.HASH_MATCH))
        assert other.created and other.item.id != one.item.id


@pytest.mark.parametrize("kw, message", [
    ({"severity": 7}, "severity"), ({"age_band": "twelve"}, "age_band"),
    ({"title": " "}, "title"), ({"content_keys": ("",)}, "content keys")])
def test_bad_leads_are_refused_with_the_reason(db: Database, kw: dict, message: str) -> None:
    fields = {"source": Source.AD_LEAD, "source_ref": "x", "title": "t", **kw}
    with db.session() as s, pytest.raises(InvalidInput, match=message):
        triage.intake(s, ROOT, triage.Lead(**fields))
    with db.session() as s:
        assert s.query(TriageItem).count() == 0


def test_claim_is_exclusive_until_the_lease_ends(db: Database,
                                                 analysts: tuple[Actor, Actor]) -> None:
    ana, bo = analysts
    with db.session() as s:
        item_id = triage.intake(s, ROOT, lead("r1")).item.id
    with db.session() as s:
        assert triage.claim_next(s, ana).id == item_id
    with db.session() as s:
        assert triage.claim_next(s, bo) is None
        with pytest.raises(ConflictError, match="held by another analyst"):
            triage.claim(s, bo, item_id)
    with db.session() as s:  # the lease runs out: the item returns to the queue
        s.get(TriageItem, item_id).lease_expires_at = utcnow() - timedelta(seconds=1)
    with db.session() as s:
        assert triage.claim_next(s, bo).id == item_id
    with db.session() as s, pytest.raises(ConflictError, match="do not hold"):
        triage.assess(s, ana, item_id, "baseline")  # ana's lease was taken over


def test_assess_classifies_the_same_content_next_time(db: Database,
                                                      analysts: tuple[Actor, Actor]) -> None:
    ana, _ = analysts
    keys = (hash_key("md5", "A" * 32), url_key("HTTPS://Example.org:443/a?b=1#frag"))
    assert keys[1] == "url:https://example.org/a?b=1"
    with db.session() as s:
        item_id = triage.intake(s, ROOT, lead("first", content_keys=keys)).item.id
    with db.session() as s:
        triage.claim(s, ana, item_id)
        triage.assess(s, ana, item_id, "national", note="checked against national law")
    with db.session() as s:
        again = triage.intake(s, ROOT, lead("second", content_keys=keys[:1]))
        assert again.auto_classified and again.item.classification == "national"
        assert again.item.status == ItemStatus.AUTO_CLASSIFIED
        partly_new = triage.intake(s, ROOT, lead("third", content_keys=(*keys, "url:x")))
        assert not partly_new.auto_classified
        urgent = triage.intake(s, ROOT, lead("fourth", content_keys=keys[:1], urgent=True))
        assert not urgent.auto_classified  # danger now always reaches a person
        assert [e.item.source_ref for e in triage.queue(s)[1]] == ["fourth", "third"]
        assert s.get(TriageItem, item_id).assessment_note == "checked against national law"


def test_release_renew_and_refusals(db: Database, analysts: tuple[Actor, Actor]) -> None:
    ana, bo = analysts
    with db.session() as s:
        item_id = triage.intake(s, ROOT, lead("r")).item.id
        triage.claim(s, ana, item_id)
    with db.session() as s:
        before = s.get(TriageItem, item_id).lease_expires_at
        after = triage.renew(s, ana, item_id, lease=timedelta(hours=1)).lease_expires_at
        assert after > before
        with pytest.raises(InvalidInput, match="lease"):
            triage.renew(s, ana, item_id, lease=timedelta(days=2))
        with pytest.raises(InvalidInput, match="classification"):
            triage.assess(s, ana, item_id, "maybe")
        with pytest.raises(ConflictError):
            triage.release(s, bo, item_id)
        triage.release(s, ana, item_id)
        assert s.get(TriageItem, item_id).status == ItemStatus.QUEUED
        with pytest.raises(NotFoundError):
            triage.claim(s, ana, 999_999)
        with pytest.raises(InvalidInput, match="signed-in user"):
            triage.claim_next(s, ROOT)


def test_counts_stop_at_the_cap(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(triage, "COUNT_CAP", 3)
    with db.session() as s:
        for n in range(5):
            triage.intake(s, ROOT, lead(f"r{n}"))
    with db.session() as s:
        total, entries = triage.queue(s, limit=10)
        assert total == 3 and len(entries) == 5
        assert triage.counts(s)["queued"] == 3 and triage.counts(s)["assessed"] == 0
