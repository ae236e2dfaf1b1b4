"""A match in a bank that asks for it opens a triage item, once per (hash, entry), never for
suppressed matches or banks that do not ask."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from safeguard.auth import service as auth
from safeguard.banks import service as banks
from safeguard.cases import triage
from safeguard.cases.models import ItemStatus, TriageItem
from safeguard.db.engine import Database
from safeguard.matching import service as matching
from safeguard.matching.index_manager import IndexManager
from tests.banks.support import ACTOR, flip_bits, random_pdq


@pytest.fixture
def mgr(db: Database, tmp_path: Path) -> Iterator[IndexManager]:
    manager = IndexManager(db, tmp_path / "data").start()
    yield manager
    manager.stop()


def _items(db: Database) -> list[TriageItem]:
    with db.session() as s:
        items = list(s.query(TriageItem).order_by(TriageItem.id))
        s.expunge_all()
        return items


def test_matches_open_items_only_where_asked(db: Database, mgr: IndexManager) -> None:
    rng = random.Random(3)
    watched, quiet, false_pos = random_pdq(rng), random_pdq(rng), random_pdq(rng)
    with db.session() as s:
        banks.create_bank(s, ACTOR, "partner-list", triage_on_match=True)
        banks.create_bank(s, ACTOR, "reference", triage_on_match=False)
        banks.create_bank(s, ACTOR, "reviewed", kind="negative", pdq_threshold=10)
        banks.add_hash(s, ACTOR, "partner-list", "pdq", watched, source="hotline-x")
        banks.add_hash(s, ACTOR, "partner-list", "pdq", false_pos)
        banks.add_hash(s, ACTOR, "reference", "pdq", quiet)
        banks.add_hash(s, ACTOR, "reviewed", "pdq", false_pos)
    query = flip_bits(watched, 6, rng)
    with db.session() as s:
        matching.match_hashes(s, mgr, [("pdq", query), ("pdq", quiet), ("pdq", false_pos)],
                              ACTOR)
    [item] = _items(db)
    assert item.source == "hash_match" and item.known_content and item.status == "queued"
    assert item.details["bank"] == "partner-list" and item.details["distance"] == 6
    assert item.details["provenance"]["source"] == "hotline-x"
    assert item.content_keys == [f"pdq:{query}"]
    with db.session() as s:  # the same match again joins the same item
        matching.match_hashes(s, mgr, [("pdq", query)], ACTOR)
    assert len(_items(db)) == 1


def test_assessed_content_is_not_shown_again(db: Database, mgr: IndexManager) -> None:
    rng = random.Random(4)
    h = random_pdq(rng)
    with db.session() as s:
        banks.create_bank(s, ACTOR, "partner-list", triage_on_match=True)
        first = banks.add_hash(s, ACTOR, "partner-list", "pdq", h)
        analyst = auth.actor_for_user(auth.create_user(s, ACTOR, "ana", "correct horse battery",
                                                       "analyst"))
    with db.session() as s:
        matching.match_hashes(s, mgr, [("pdq", h)], ACTOR)
    with db.session() as s:
        item = triage.claim_next(s, analyst)
        assert item is not None
        triage.assess(s, analyst, item.id, "baseline")
    with db.session() as s:  # a second entry for the same hash, from another source
        banks.create_bank(s, ACTOR, "second-list", triage_on_match=True)
        second = banks.add_hash(s, ACTOR, "second-list", "pdq", h)
        assert second.id != first.id
    with db.session() as s:
        matching.match_hashes(s, mgr, [("pdq", h)], ACTOR)
    items = _items(db)
    assert [i.status for i in items] == [ItemStatus.ASSESSED, ItemStatus.AUTO_CLASSIFIED]
    assert items[1].classification == "baseline"
