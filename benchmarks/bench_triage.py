"""Triage at scale: "claim next" and the queue page with 1 M items in PostgreSQL.

Target (issue 4): p95 of "claim next" under 50 ms on a 2-core machine. The anchors, measured in
the same run on the same rows, are the naive versions: "claim next" without the queue index (a
plain ORDER BY priority), and the queue page with an exact count of waiting items instead of
the capped one.

    bash scripts/postgres.sh start
    SAFEGUARD_TEST_POSTGRES_URL=$(bash scripts/postgres.sh url) .venv/bin/python \
        benchmarks/bench_triage.py [--items 1000000] [--claims 400]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from safeguard.audit.service import Actor
from safeguard.auth import service as auth
from safeguard.cases import triage
from safeguard.cases.models import Source, TriageItem
from safeguard.cases.priority import AGE_BANDS, PriorityInputs, priority_of
from safeguard.db.base import utcnow
from safeguard.db.engine import Database
from safeguard.db.migrate import upgrade

console = Console()
BATCH = 20_000


def fresh_database(server_url: str) -> str:
    from tests.support.postgres import admin_execute

    name = f"bench_triage_{uuid.uuid4().hex[:8]}"
    admin_execute(server_url, f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def populate(db: Database, n: int, rng: random.Random) -> None:
    now = utcnow()
    with Progress(console=console) as progress:
        task = progress.add_task(f"inserting {n:,} items", total=n)
        for start in range(0, n, BATCH):
            rows = []
            for i in range(start, min(n, start + BATCH)):
                p = PriorityInputs(rng.random() < 0.01, rng.randrange(4), rng.choice(AGE_BANDS),
                                   rng.random() < 0.3)
                rows.append({
                    "source": Source.PLATFORM_REPORT.value, "source_ref": f"bench-{i}",
                    "title": f"benchmark item {i}", "summary": "", "urgent": p.urgent,
                    "severity": p.severity, "age_band": p.age_band,
                    "known_content": p.known_content, "content_keys": [], "details": {},
                    "priority": priority_of(p), "status": "queued", "assessment_note": "",
                    "received_at": now - timedelta(seconds=rng.randrange(30 * 86400))})
            with db.session() as s:
                s.execute(insert(TriageItem), rows)
            progress.advance(task, len(rows))
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def exact_queue_page(db: Database) -> None:
    with db.session() as s:
        s.scalar(select(func.count()).select_from(TriageItem)
                 .where(TriageItem.status == "queued"))
        triage.queue(s, limit=50)


def measure(db: Database, actors: list[Actor], claims: int) -> dict[str, list[float]]:
    def claim_next() -> None:
        actor = random.choice(actors)
        with db.session() as s:
            item = triage.claim_next(s, actor)
            assert item is not None

    def queue_page() -> None:
        with db.session() as s:
            total, entries = triage.queue(s, limit=50)
            assert len(entries) == 50 and total > 0

    return {"claim next": timed(claim_next, claims),
            "queue page (50 items + total)": timed(queue_page, max(20, claims // 10))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=400)
    args = parser.parse_args()
    server = os.environ.get("SAFEGUARD_TEST_POSTGRES_URL")
    if not server:
        raise SystemExit("start PostgreSQL: bash scripts/postgres.sh start; export "
                         "SAFEGUARD_TEST_POSTGRES_URL=$(bash scripts/postgres.sh url)")
    rng = random.Random(1)
    url = fresh_database(server)
    db = Database(url)
    try:
        upgrade(db)
        with db.session() as s:
            root = Actor("cli", "bench")
            actors = [auth.actor_for_user(auth.create_user(s, root, f"bench{i}",
                                                           "correct horse battery", "analyst"))
                      for i in range(8)]
        populate(db, args.items, rng)
        ours = measure(db, actors, args.claims)
        anchor = {"queue page (50 items + total)": timed(lambda: exact_queue_page(db),
                                                         max(20, args.claims // 10))}
        with db.engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_triage_items_queue"))
            conn.execute(text("ANALYZE triage_items"))
        anchor["claim next"] = measure(db, actors, max(40, args.claims // 10))["claim next"]
    finally:
        db.dispose()
        from tests.support.postgres import drop_postgres_database

        drop_postgres_database(url)
    table = Table(title=f"triage on PostgreSQL, {args.items:,} items (ms)")
    for col in ("operation", "p50", "p95", "anchor p95 (naive)", "anchor / ours",
                "target", "status"):
        table.add_column(col)
    for name, values in ours.items():
        ours95, anchor95 = p(values, 95), p(anchor[name], 95)
        target = "p95 < 50 ms" if name == "claim next" else ""
        status = ("PASS" if ours95 < 50 else "FAIL") if target else ""
        table.add_row(name, f"{p(values, 50):.1f}", f"{ours95:.1f}", f"{anchor95:.1f}",
                      f"{anchor95 / ours95:.1f}×", target, status)
    console.print(table)


if __name__ == "__main__":
    main()
