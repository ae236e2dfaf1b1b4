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
