"""Many analysts claiming at the same instant: no item is held twice and none is lost."""

from __future__ import annotations

import threading
from collections import Counter

from safeguard.audit.service import Actor
from safeguard.auth import service as auth
from safeguard.cases import triage
from safeguard.cases.models import Source
from safeguard.db.engine import Database

ITEMS = 60
CLAIMERS = 8


def test_simultaneous_claimers_never_share_an_item(db: Database) -> None:
    root = Actor("cli", "test")
    with db.session() as s:
        actors = [auth.actor_for_user(auth.create_user(s, root, f"analyst{i}",
                                                       "correct horse battery", "analyst"))
                  for i in range(CLAIMERS)]
        for n in range(ITEMS):
            triage.intake(s, root, triage.Lead(Source.PLATFORM_REPORT, f"r{n}", f"report {n}",
                                               severity=n % 4))
    start = threading.Barrier(CLAIMERS)
    claimed: dict[str, list[int]] = {a.name: [] for a in actors}
    errors: list[BaseException] = []

    def work(actor: Actor) -> None:
        try:
            start.wait()
            while True:
                with db.session() as s:
                    item = triage.claim_next(s, actor)
                    if item is None:
                        return
                    claimed[actor.name].append(item.id)
        except BaseException as exc:  # surfaced below, with the thread's error
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    counts = Counter(i for ids in claimed.values() for i in ids)
    assert len(counts) == ITEMS, "an item was lost"
    assert max(counts.values()) == 1, "an item was held twice"
    assert sum(1 for ids in claimed.values() if ids) > 1, "only one claimer ever won"
    with db.session() as s:
        holders = {i.id: i.claimed_by for i in triage.held_by(s, actors[0])}
        assert set(holders) == set(claimed[actors[0].name])


def test_many_claimers_with_expiring_leases(db: Database) -> None:
    """Sixteen analysts work the queue at once; some walk away from their items. When those
    leases run out the items come back, are taken again by exactly one analyst each, and in
    the end every item was assessed exactly once."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from safeguard.audit.models import AuditEvent
    from safeguard.cases.models import TriageItem
    from safeguard.db.base import utcnow

    claimers, items = 16, 120
    root = Actor("cli", "test")
    with db.session() as s:
        actors = [auth.actor_for_user(auth.create_user(s, root, f"worker{i}",
                                                       "correct horse battery", "analyst"))
                  for i in range(claimers)]
        for n in range(items):
            triage.intake(s, root, triage.Lead(Source.PLATFORM_REPORT, f"w{n}", f"w {n}",
                                               severity=n % 4, urgent=n % 17 == 0))

    def run_round(abandon_odd: bool) -> tuple[Counter[int], list[BaseException]]:
        start = threading.Barrier(claimers)
        taken: Counter[int] = Counter()
        lock = threading.Lock()
        errors: list[BaseException] = []

        def work(actor: Actor) -> None:
            try:
                start.wait()
                while True:
                    with db.session() as s:
                        item = triage.claim_next(s, actor)
                        if item is None:
                            return
                        with lock:
                            taken[item.id] += 1
                        if not (abandon_odd and item.id % 2):
                            triage.assess(s, actor, item.id, "not_illegal")
            except BaseException as exc:  # surfaced below, with the thread's error
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(a,)) for a in actors]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        return taken, errors

    first, errors = run_round(abandon_odd=True)
    assert not errors, errors
    assert len(first) == items and max(first.values()) == 1
    abandoned = {i for i in first if i % 2}
    with db.session() as s:  # their leases run out
        s.execute(update(TriageItem).where(TriageItem.status == "claimed")
                  .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    second, errors = run_round(abandon_odd=False)
    assert not errors, errors
    assert set(second) == abandoned and max(second.values()) == 1
    with db.session() as s:
        statuses = Counter(s.scalars(select(TriageItem.status)))
        assert statuses == Counter({"assessed": items})
        per_item = Counter(s.scalars(select(AuditEvent.target_id).where(
            AuditEvent.action == "triage.assess")))
        assert len(per_item) == items and set(per_item.values()) == {1}
