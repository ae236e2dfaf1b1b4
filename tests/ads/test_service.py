"""Stored ads (both databases): idempotent ingest, incremental linking equal to one batch,
deterministic network ids, hub caps, exports, and a network handed to triage with reasons."""

from __future__ import annotations

import csv
import io
import itertools
import json
import shutil
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from safeguard.ads import service
from safeguard.ads.exports import leads_csv, leads_jsonl, networks_graphml, networks_json
from safeguard.ads.extract import extract
from safeguard.ads.linking import LinkConfig, Linker
from safeguard.ads.models import AdEntity, AdRecord
from safeguard.ads.records import make_ad
from safeguard.ads.synthetic import generate
from safeguard.audit.service import Actor
from safeguard.cases.models import Source, TriageItem
from safeguard.db.engine import Database
from safeguard.errors import InvalidInput, NotFoundError

ROOT = Actor("cli", "test")
BASE = ("Friendly {} service in {} open on weekdays with calm staff and free parking nearby "
        "please book a visit today and enjoy a quiet afternoon")


def ad(i: int, text: str, site: str = "s", **fields: object):
    return make_ad({"site": site, "id": str(i), "text": text, "region": "US", **fields})


def networks(db: Database) -> list[tuple[str, tuple[str, ...]]]:
    with db.session() as s:
        return [(n.id, n.ads) for n in service.network_rows(s)]


def test_ingest_is_idempotent_on_site_and_id(db: Database) -> None:
    ads = [ad(1, "Ironing service, call 201-555-0123"), ad(2, "Tailoring, call 201 555 0123"),
           ad(1, "Ironing service, call 201-555-0123")]
    with db.session() as s:
        first = service.ingest(s, ROOT, ads)
    assert (first.received, first.new, first.duplicates) == (3, 2, 1)
    with db.session() as s:
        again = service.ingest(s, ROOT, ads[:2] + [ad(1, "changed text", site="other")])
        assert (again.new, again.duplicates) == (1, 2)
        assert s.scalar(select(func.count()).select_from(AdRecord)) == 3
        # the stored text of a duplicate is not overwritten
        stored = s.scalar(select(AdRecord.text).where(AdRecord.site == "s",
                                                      AdRecord.external_id == "1"))
        assert stored == "Ironing service, call 201-555-0123"
    [(nid, members)] = networks(db)
    assert members == ("s:1", "s:2") and nid.startswith("net-")


def test_entities_keep_spans_and_possible_numbers(db: Database) -> None:
    one = ad(1, "Call two zero one five five five zero one two three or 555-01")
    with db.session() as s:
        service.ingest(s, ROOT, [one])
        rows = s.execute(select(AdEntity.kind, AdEntity.value, AdEntity.status,
                                AdEntity.span_start, AdEntity.span_end, AdEntity.obfuscated)
                         .where(AdEntity.kind == "phone")).all()
    valid = [r for r in rows if r[2] == "valid"]
    assert valid and valid[0][1] == "+12015550123" and valid[0][5] is True
    start, end = valid[0][3], valid[0][4]
    assert "two zero one" in one.full_text[start:end]


def test_incremental_batches_give_the_same_networks_as_the_in_memory_linker(
        db: Database) -> None:
    corpus = [p.ad for p in generate(240, seed=5)]
    with db.session() as s:
        for start in range(0, len(corpus), 70):
            service.ingest(s, ROOT, corpus[start:start + 70])
    stored = networks(db)
    linker = Linker()
    linker.add(corpus, [extract(a) for a in corpus])
    expected = [(n.id, n.ads) for n in linker.networks(with_template=False)]
    assert len(expected) > 5
    assert sorted(stored) == sorted(expected)


def test_a_new_ad_joins_and_merges_networks_keeping_the_smallest_members_id(
        db: Database) -> None:
    with db.session() as s:
        service.ingest(s, ROOT, [ad(1, "Garden care, call 201-555-0123"),
                                 ad(2, "Lawn mowing, call 2015550123")])
        service.ingest(s, ROOT, [ad(3, "House painting, email pat@example.org"),
                                 ad(4, "Wall painting, write to pat at example dot org")])
    before = dict((m, n) for n, m in networks(db))
    assert len(before) == 2
    with db.session() as s:
        result = service.ingest(s, ROOT, [ad(5, "Call 201 555 0123 or mail pat@example.org")])
    [(nid, members)] = networks(db)
    assert members == ("s:1", "s:2", "s:3", "s:4", "s:5")
    assert nid == before[("s:1", "s:2")]  # the id comes from the smallest member
    assert result.networks == [nid]
    with db.session() as s:
        view = service.get_network(s, nid)
    kinds = {(e.kind, e.value) for e in view.row.evidence}
    assert ("phone", "+12015550123") in kinds and ("email", "pat@example.org") in kinds


def test_near_duplicate_texts_link_with_a_template_view(db: Database) -> None:
    texts = [BASE.format(a, b) for a, b in [("cleaning", "Leeds"), ("cleaning", "York"),
                                             ("ironing", "Leeds")]]
    with db.session() as s:
        service.ingest(s, ROOT, [ad(1, texts[0]), ad(2, texts[1])])
        service.ingest(s, ROOT, [ad(3, texts[2]), ad(4, "Hedges trimmed and lawns mowed")])
    [(nid, members)] = networks(db)
    assert members == ("s:1", "s:2", "s:3")
    with db.session() as s:
        view = service.get_network(s, nid)
    assert {e.kind for e in view.row.evidence} == {"text"}
    assert all(e.similarity is not None and e.similarity >= 0.5 for e in view.row.evidence)
    template = view.row.template
    assert template is not None and template["template"].startswith("Friendly {1} service in")


def test_an_identifier_crossing_the_hub_cap_splits_its_network(db: Database) -> None:
    config = LinkConfig(hub_cap=3)
    words = ["apple", "river", "stone", "cloud", "maple", "amber", "cedar", "delta"]
    with db.session() as s:
        service.ingest(s, ROOT, [ad(i, f"{words[i]} offer, call 212-555-0100")
                                 for i in range(3)], config=config)
    assert len(networks(db)) == 1
    with db.session() as s:
        service.ingest(s, ROOT, [ad(3, "cedar offer, call 212-555-0100")], config=config)
    assert networks(db) == []


def test_exports_carry_reasons_and_evidence(db: Database) -> None:
    corpus = [p.ad for p in generate(120, seed=2)]
    with db.session() as s:
        service.ingest(s, ROOT, corpus)
        leads = list(service.lead_rows(s, min_score=0.0))
        rows = service.network_rows(s)
    assert len(leads) == 120
    assert [r.score for r in leads] == sorted((r.score for r in leads), reverse=True)
    parsed = list(csv.DictReader(io.StringIO("".join(leads_csv(leads)))))
    assert len(parsed) == 120 and parsed[0]["reasons"] == " | ".join(leads[0].reasons)
    lines = [json.loads(line) for line in leads_jsonl(leads)]
    assert lines[0]["reasons"] == list(leads[0].reasons) and "disclaimer" in lines[0]
    graph = nx.read_graphml(io.BytesIO(networks_graphml(rows)))
    ad_nodes = [n for n, d in graph.nodes(data=True) if d["type"] == "ad"]
    assert len(ad_nodes) == sum(len(r.ads) for r in rows)
    assert json.loads(networks_json(rows))["networks"][0]["id"] == rows[0].id


def test_open_as_triage_item_carries_reasons_and_is_idempotent(db: Database) -> None:
    with db.session() as s:
        service.ingest(s, ROOT, [ad(1, "Trusted and discreet, call 201-555-0123"),
                                 ad(2, "Tailoring, call 201 555 0123")])
    [(nid, _)] = networks(db)
    with db.session() as s:
        first = service.open_triage(s, ROOT, nid)
        again = service.open_triage(s, ROOT, nid)
        assert first.created and not again.created and first.item.id == again.item.id
        item = s.get(TriageItem, first.item.id)
        assert item is not None and item.source == Source.AD_LEAD.value
        assert "phone +12015550123 (2 ads)" in item.summary
        assert item.details["shared_identifiers"] == "phone +12015550123 (2 ads)"
        assert item.details["network_page"] == f"/console/ads/{nid}"
        assert "Trustworthy-provider language" in item.details["indicator_reasons"]
        assert "not proof" in item.details["disclaimer"]
        with pytest.raises(NotFoundError):
            service.open_triage(s, ROOT, "net-000000000000")


def test_bad_batches_are_refused(db: Database) -> None:
    with db.session() as s, pytest.raises(InvalidInput, match="at most"):
        service.ingest(s, ROOT, [ad(i, "x") for i in range(service.MAX_BATCH + 1)])
    with db.session() as s, pytest.raises(InvalidInput, match="site longer"):
        service.ingest(s, ROOT, [ad(1, "x", site="s" * 300)])
    with db.session() as s, pytest.raises(InvalidInput, match="min_score"):
        list(service.lead_rows(s, min_score=2))


def test_retention_purges_old_ads_and_recomputes_their_networks(db: Database) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from safeguard.cases.retention import purge
    from safeguard.db.base import utcnow

    with db.session() as s:
        service.ingest(s, ROOT, [ad(1, "Garden care, call 201-555-0123"),
                                 ad(2, "Lawn mowing, call 2015550123"),
                                 ad(3, "Hedge trimming, call 201 555 0123")])
        s.execute(update(AdRecord).where(AdRecord.external_id == "1")
                  .values(ingested_at=utcnow() - timedelta(days=40)))
    [(first_id, _)] = networks(db)
    with db.session() as s:
        [dry] = purge(s, ROOT, {"ads": 30}, dry_run=True)
        assert dry.count == 1
    assert networks(db)[0][1] == ("s:1", "s:2", "s:3")
    with db.session() as s:
        [done] = purge(s, ROOT, {"ads": 30})
        assert done.count == 1
        assert s.scalar(select(func.count()).select_from(AdEntity).where(
            AdEntity.ad_id.not_in(select(AdRecord.id)))) == 0
    [(nid, members)] = networks(db)
    assert members == ("s:2", "s:3") and nid != first_id  # the id follows the smallest member


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(cuts=st.lists(st.integers(min_value=1, max_value=59), max_size=6, unique=True),
       seed=st.integers(min_value=0, max_value=3))
def test_any_batch_split_gives_the_networks_of_one_batch(
        sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, cuts: list[int],
        seed: int) -> None:
    corpus = [p.ad for p in generate(60, seed=seed)]
    path = tmp_path_factory.mktemp("split") / "ads.db"
    shutil.copyfile(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    try:
        bounds = [0, *sorted(cuts), len(corpus)]
        for start, end in itertools.pairwise(bounds):
            with database.session() as s:
                service.ingest(s, ROOT, corpus[start:end])
        stored = networks(database)
    finally:
        database.dispose()
    linker = Linker()
    linker.add(corpus, [extract(a) for a in corpus])
    assert sorted(stored) == sorted((n.id, n.ads) for n in linker.networks(with_template=False))


def test_concurrent_batches_link_into_one_network(db: Database) -> None:
    import threading

    # Four writers at once, each with ads sharing one phone, some ads in two batches.
    batches = [[ad(i, f"Offer {i}, call 201-555-0123") for i in range(k, k + 4)]
               for k in (0, 3, 6, 9)]
    start = threading.Barrier(len(batches))
    errors: list[BaseException] = []

    def work(batch: list) -> None:  # type: ignore[type-arg]
        try:
            start.wait()
            with db.session() as s:
                service.ingest(s, ROOT, batch)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    [(nid, members)] = networks(db)
    assert len(members) == 13 and nid == service.network_id(["s:0"])
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AdRecord)) == 13


def test_near_identical_photos_link_in_the_store_like_in_memory(db: Database) -> None:
    rng = __import__("random").Random(11)
    photos = [rng.getrandbits(256) for _ in range(3)]

    def moved(value: int, bits: int) -> str:
        for bit in rng.sample(range(256), bits):
            value ^= 1 << bit
        return f"{value:064x}"

    texts = ["Ironing done quickly", "Gardening on weekends", "Tutoring for maths exams",
             "Carpet cleaning service", "Baking classes downtown", "Painting and decorating",
             "Bicycle repairs while you wait", "Cooking lessons at home", "Dog walking daily"]
    ads = [ad(i, text, image_hashes=[moved(photos[i % 3], i % 9)])
           for i, text in enumerate(texts)]
    for start in (0, 4, 7):  # three batches: the groups are read back from the store
        with db.session() as s:
            service.ingest(s, ROOT, ads[start:{0: 4, 4: 7, 7: 9}[start]])
    linker = Linker()
    linker.add(ads, [extract(a) for a in ads])
    expected = [(n.id, n.ads) for n in linker.networks()]
    assert len(expected) == 3 and all(len(members) == 3 for _, members in expected)
    assert networks(db) == expected
    with db.session() as s:
        view = service.get_network(s, expected[0][0])
        assert {e.kind for e in view.row.evidence} == {"image"}
        details = set(s.scalars(select(AdEntity.detail).where(AdEntity.source == "image_match")))
    assert "same photo" in details and any("bits" in d for d in details)
