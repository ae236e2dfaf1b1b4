"""Stored ads: batch ingest (idempotent on site and id), incremental linking into networks,
queries, exports and "open as triage item". The CLI and the HTTP API both call these.

Incremental linking: a batch finds its neighbours through the database (shared non-hub
identifiers on `ad_entities`, shared LSH band keys on `ad_bands`, confirmed by the stored MinHash
signatures), then only the networks those neighbours belong to are recomputed, from stored edges;
no other ad is hashed or read again. Network ids come from the smallest member key
(`linking.network_id`), so the same corpus gives the same networks and a network keeps its id
while it grows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, select, text, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safeguard.ads.exports import EvidenceRow, LeadRow, NetworkRow
from safeguard.ads.extract import LINKING_KINDS, Entity, extract
from safeguard.ads.images import ImageGroups
from safeguard.ads.indicators import DISCLAIMER, RuleSet, assess, default_rules
from safeguard.ads.linking import LinkConfig, Signer, network_id
from safeguard.ads.models import (
    AdAssessment,
    AdBand,
    AdEntity,
    AdEvidence,
    AdNetwork,
    AdRecord,
    AdTextEdge,
)
from safeguard.ads.records import Ad
from safeguard.ads.template import template_view
from safeguard.ads.unionfind import UnionFind
from safeguard.audit.service import Actor, record
from safeguard.cases import triage
from safeguard.cases.models import Source
from safeguard.db.base import utcnow
from safeguard.errors import InvalidInput, NotFoundError

MAX_BATCH = 1_000
_CHUNK = 500  # bound on IN (...) lists: SQLite allows 32766 variables, keep far below
_MAX_SITE = 200
# Bulk UPDATE / DELETE without scanning the session's objects: nothing here reads them after.
_NO_SYNC = {"synchronize_session": False}
_LINK_LOCK = 0x5AFE_0AD5  # advisory lock key of ads linking on PostgreSQL


@dataclass
class IngestResult:
    received: int = 0
    new: int = 0
    duplicates: int = 0
    networks: list[str] = field(default_factory=list)  # ids of networks created or changed
    ads: list[dict[str, Any]] = field(default_factory=list)  # per new ad: key, score, network


@dataclass(frozen=True)
class MemberView:
    key: str
    site: str
    ad_id: str
    title: str
    text: str
    score: float
    reasons: tuple[str, ...]
    entities: tuple[tuple[str, str], ...]  # (kind, value) of the identifiers that may link


@dataclass(frozen=True)
class NetworkView:
    row: NetworkRow
    members: tuple[MemberView, ...]
    created_at: str
    updated_at: str


def ingest(session: Session, actor: Actor, ads: Sequence[Ad], *,
           entities: Sequence[list[Entity]] | None = None, rules: RuleSet | None = None,
           config: LinkConfig | None = None) -> IngestResult:
    """Store new ads with their entities and assessment, then link them. An ad already stored
    (same site and id) is counted as a duplicate and left unchanged. `entities`, when given,
    are the ads' extracted entities (e.g. computed on Dask workers)."""
    if len(ads) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} ads per batch, got {len(ads)}")
    if entities is not None and len(entities) != len(ads):
        raise InvalidInput("entities must be given for every ad")
    long_sites = sorted({a.site[:40] for a in ads if len(a.site) > _MAX_SITE})
    if long_sites:
        raise InvalidInput(f"site longer than {_MAX_SITE} characters: {long_sites[0]!r}")
    config = config or LinkConfig()
    rules = rules or default_rules()
    result = IngestResult(received=len(ads))
    fresh: dict[tuple[str, str], int] = {}
    for index, ad in enumerate(ads):
        fresh.setdefault((ad.site, ad.ad_id), index)
    stored = _existing(session, list(fresh))
    todo = [i for key, i in fresh.items() if key not in stored]
    signer = Signer(config)
    records: list[tuple[AdRecord, Ad, list[Entity], list[int]]] = []
    for index in todo:
        ad = ads[index]
        found = list(entities[index]) if entities is not None else extract(ad)
        signature = signer.signature(ad.full_text)
        row = AdRecord(site=ad.site, external_id=ad.ad_id, posted_at=ad.posted_at,
                       title=ad.title, text=ad.text, location=ad.location, region=ad.region,
                       notes=list(ad.notes),
                       signature=None if signature is None else signature.astype("<u4").tobytes())
        bands = [] if signature is None else sorted(set(signer.bands(signature)))
        records.append((row, ad, found, bands))
    records = _insert_ads(session, records)
    result.duplicates = len(ads) - len(records)
    if any(e.kind == "image" for _, _, found, _ in records for e in found):
        _serialise_linking(session)  # groups of photos grow in one order, like networks
        groups = _image_groups(session, config)  # taken out of the cache until stored
        records = [(row, ad, _with_image_groups(found, groups), bands)
                   for row, ad, found, bands in records]
    else:
        groups = None
    # Bulk inserts (no unit of work per row): a batch of 1,000 ads has ~20,000 child rows.
    assessments: list[dict[str, Any]] = []
    entity_rows: list[dict[str, Any]] = []
    band_rows: list[dict[str, Any]] = []
    scores: dict[int, float] = {}
    now = utcnow()
    for row, ad, found, bands in records:
        assessment = assess(ad, found, rules)
        scores[row.id] = assessment.score
        assessments.append({"ad_id": row.id, "score": assessment.score,
                            "hits": [h.as_dict() for h in assessment.hits],
                            "rules_version": rules.version, "assessed_at": now})
        entity_rows += [_entity_row(row.id, e) for e in found]
        band_rows += [{"band": b, "ad_id": row.id} for b in bands]
    for model, rows in ((AdAssessment, assessments), (AdEntity, entity_rows),
                        (AdBand, band_rows)):
        if rows:
            session.execute(insert(model), rows)
    if groups is not None:
        _keep_image_groups(session, config, groups)
    result.new = len(records)
    if records:
        result.networks = link(session, [r[0].id for r in records], config)
        record(session, actor, "ads.ingest", "ads", "", new=result.new,
               duplicates=result.duplicates, networks=len(result.networks))
        networks: dict[int, str | None] = {}
        for chunk in _chunks([r[0].id for r in records]):
            networks.update(session.execute(select(AdRecord.id, AdRecord.network_id).where(
                AdRecord.id.in_(chunk))).all())
        for row, _, _, _ in records:
            result.ads.append({"key": row.key, "score": round(scores[row.id], 4),
                               "network": networks.get(row.id)})
    return result


def link(session: Session, new_ids: Sequence[int], config: LinkConfig | None = None
         ) -> list[str]:
    """Join newly stored ads to networks; returns the ids of the networks now holding them or
    changed by them (hub caps can split a network)."""
    config = config or LinkConfig()
    _serialise_linking(session)
    new = set(new_ids)
    neighbours = _text_links(session, new, config)
    keys = _link_keys(session, new)
    counts = _key_counts(session, keys)
    new_per_key: dict[tuple[str, str], int] = defaultdict(int)
    for (_, kind, value) in _entity_rows(session, new):
        new_per_key[(kind, value)] += 1
    followed = [k for k in keys if 1 < counts.get(k, 0) <= config.hub_cap]
    # An identifier that crossed the hub cap in this batch stops linking: the networks it
    # joined are recomputed without it.
    crossed = [k for k in keys if counts.get(k, 0) > config.hub_cap
               >= counts[k] - new_per_key[k]]
    touched = set(new) | neighbours
    for chunk in _chunks(followed + crossed):
        touched.update(session.scalars(select(AdEntity.ad_id).where(
            AdEntity.links.is_(True), tuple_(AdEntity.kind, AdEntity.value).in_(chunk))))
    old_networks = _networks_of(session, touched)
    for chunk in _chunks(sorted(old_networks)):
        touched.update(session.scalars(select(AdRecord.id).where(
            AdRecord.network_id.in_(chunk))))
    return _recompute(session, touched, old_networks, config)


def _serialise_linking(session: Session) -> None:
    """One linking transaction at a time: two batches recomputing the same network would both
    write its id. PostgreSQL: a transaction-scoped advisory lock (waits, released at commit).
    SQLite already serialises writers (one write lock for the database)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LINK_LOCK})


def _text_links(session: Session, new: set[int], config: LinkConfig) -> set[int]:
    """Confirm LSH candidates of the new ads and store the text edges; returns the ads newly
    linked by text."""
    bands_of: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(sorted(new)):
        for band, ad_id in session.execute(select(AdBand.band, AdBand.ad_id).where(
                AdBand.ad_id.in_(chunk))):
            bands_of[ad_id].append(band)
    holders: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(sorted({b for bands in bands_of.values() for b in bands})):
        for band, ad_id in session.execute(select(AdBand.band, AdBand.ad_id).where(
                AdBand.band.in_(chunk))):
            holders[band].add(ad_id)
    candidates = {ad: set().union(*(holders[b] for b in bands)) - {ad}
                  for ad, bands in bands_of.items()}
    wanted = set(new).union(*candidates.values()) if candidates else set(new)
    signatures: dict[int, np.ndarray] = {}
    boilerplate: set[int] = set()
    for chunk in _chunks(sorted(wanted)):
        for ad_id, blob, is_boilerplate in session.execute(select(
                AdRecord.id, AdRecord.signature, AdRecord.boilerplate).where(
                AdRecord.id.in_(chunk))):
            if blob is not None:
                signatures[ad_id] = np.frombuffer(blob, dtype="<u4")
            if is_boilerplate:
                boilerplate.add(ad_id)
    # Candidates confirmed on the signatures; a text with very many confirmed near-duplicates
    # is site boilerplate and links nothing (judged on confirmed pairs: LSH candidates of an
    # ordinary ad grow with the corpus).
    confirmed: dict[int, dict[int, float]] = {}
    for ad, found in candidates.items():
        others = sorted(o for o in found if o in signatures)
        if ad not in signatures or not others:
            confirmed[ad] = {}
            continue
        similarity = (np.stack([signatures[o] for o in others]) == signatures[ad]).mean(axis=1)
        confirmed[ad] = {o: float(v) for o, v in zip(others, similarity.tolist(), strict=True)
                         if v >= config.threshold}
        if len(confirmed[ad]) > config.text_cap:
            boilerplate.add(ad)
    if boilerplate & new:
        session.execute(update(AdRecord).where(AdRecord.id.in_(sorted(boilerplate & new)))
                        .values(boilerplate=True), execution_options=_NO_SYNC)
    edges: dict[tuple[int, int], float] = {}
    for ad, near in confirmed.items():
        if ad in boilerplate:
            continue
        for other, value in near.items():
            if other not in boilerplate:
                edges.setdefault((min(ad, other), max(ad, other)), value)
    if edges:
        session.execute(insert(AdTextEdge), [{"ad_a": a, "ad_b": b, "similarity": round(s, 4)}
                                             for (a, b), s in sorted(edges.items())])
    return {ad for pair in edges for ad in pair}


def _recompute(session: Session, touched: set[int], old_networks: set[str],
               config: LinkConfig) -> list[str]:
    """Connected components of `touched` (a union of whole networks and new ads) from the
    stored edges; replaces the networks they had."""
    ids = sorted(touched)
    position = {ad: i for i, ad in enumerate(ids)}
    sets = UnionFind()
    for _ in ids:
        sets.add()
    rows = _entity_rows(session, touched)
    postings: dict[tuple[str, str], list[int]] = defaultdict(list)
    for ad_id, kind, value in rows:
        postings[(kind, value)].append(ad_id)
    counts = _key_counts(session, [k for k, ads in postings.items() if len(ads) > 1])
    for key, ads in postings.items():
        if len(ads) > 1 and counts.get(key, 0) <= config.hub_cap:
            for ad in ads[1:]:
                sets.union(position[ads[0]], position[ad])
    text_edges: list[tuple[int, int, float]] = []
    for chunk in _chunks(ids):
        for a, b, similarity in session.execute(select(
                AdTextEdge.ad_a, AdTextEdge.ad_b, AdTextEdge.similarity).where(
                AdTextEdge.ad_a.in_(chunk))):
            if b in position:
                text_edges.append((a, b, similarity))
                sets.union(position[a], position[b])
    info = {ad_id: (site, external, title, body) for ad_id, site, external, title, body in
            _chunked_rows(session, ids, AdRecord.id, AdRecord.site, AdRecord.external_id,
                          AdRecord.title, AdRecord.text)}
    scores = dict(_chunked_rows(session, ids, AdAssessment.ad_id, AdAssessment.score,
                                key=AdAssessment.ad_id))
    groups: dict[int, list[int]] = defaultdict(list)
    for ad in ids:
        groups[sets.find(position[ad])].append(ad)
    created = {nid: at for nid, at in _chunked_rows(
        session, sorted(old_networks), AdNetwork.id, AdNetwork.created_at, key=AdNetwork.id)}
    for chunk in _chunks(sorted(old_networks)):
        session.execute(delete(AdEvidence).where(AdEvidence.network_id.in_(chunk)),
                        execution_options=_NO_SYNC)
        session.execute(delete(AdNetwork).where(AdNetwork.id.in_(chunk)),
                        execution_options=_NO_SYNC)
    for chunk in _chunks(ids):
        session.execute(update(AdRecord).where(AdRecord.id.in_(chunk)).values(network_id=None),
                        execution_options=_NO_SYNC)
    now = utcnow()
    out: list[str] = []
    network_rows: list[dict[str, Any]] = []
    evidence_rows: list[dict[str, Any]] = []
    key_of = {ad: f"{info[ad][0]}:{info[ad][1]}" for ad in ids}
    for members in groups.values():
        if len(members) < 2:
            continue
        member_set = set(members)
        keys = sorted(key_of[m] for m in members)
        nid = network_id(keys)
        by_key = sorted(members, key=key_of.__getitem__)
        view = template_view([_full(info[m][2], info[m][3]) for m in by_key])
        network_rows.append({
            "id": nid, "size": len(members),
            "max_score": max(scores.get(m, 0.0) for m in members),
            "template": {"template": view.template, "slots": [list(s) for s in view.slots],
                         "texts_compared": view.texts_compared},
            "created_at": created.get(nid, now), "updated_at": now})
        for (kind, value), ads in sorted(postings.items()):
            shared = sorted({key_of[a] for a in ads if a in member_set})
            if len(shared) > 1 and counts.get((kind, value), 0) <= config.hub_cap:
                evidence_rows.append({"network_id": nid, "kind": kind, "value": value,
                                      "ads": shared, "similarity": None})
        for a, b, similarity in sorted(text_edges):
            if a in member_set:
                pair = sorted((key_of[a], key_of[b]))
                evidence_rows.append({"network_id": nid, "kind": "text",
                                      "value": "~".join(pair), "ads": pair,
                                      "similarity": similarity})
        for chunk in _chunks(members):
            session.execute(update(AdRecord).where(AdRecord.id.in_(chunk))
                            .values(network_id=nid), execution_options=_NO_SYNC)
        out.append(nid)
    if network_rows:
        session.execute(insert(AdNetwork), network_rows)
    if evidence_rows:
        session.execute(insert(AdEvidence), evidence_rows)
    return sorted(out)


def purge_ads(session: Session, cutoff: datetime, *, dry_run: bool = False) -> int:
    """Retention: delete ads ingested before `cutoff` (their entities, bands, text edges and
    assessments go with them) and recompute the networks they were in from what remains."""
    old = select(AdRecord.id).where(AdRecord.ingested_at < cutoff)
    count = int(session.scalar(select(func.count()).select_from(old.subquery())) or 0)
    if dry_run or not count:
        return count
    affected = {n for n in session.scalars(select(AdRecord.network_id).distinct().where(
        AdRecord.ingested_at < cutoff, AdRecord.network_id.is_not(None))) if n}
    ids = list(session.scalars(old))
    for chunk in _chunks(ids):
        # children first: SQLite enforces the cascade only with foreign keys on, PostgreSQL
        # always; deleting them explicitly works the same on both
        for model, column in ((AdEntity, AdEntity.ad_id), (AdBand, AdBand.ad_id),
                              (AdAssessment, AdAssessment.ad_id)):
            session.execute(delete(model).where(column.in_(chunk)), execution_options=_NO_SYNC)
        session.execute(delete(AdTextEdge).where(AdTextEdge.ad_a.in_(chunk)
                                                 | AdTextEdge.ad_b.in_(chunk)),
                        execution_options=_NO_SYNC)
        session.execute(delete(AdRecord).where(AdRecord.id.in_(chunk)),
                        execution_options=_NO_SYNC)
    remaining: set[int] = set()
    for chunk in _chunks(sorted(affected)):
        remaining.update(session.scalars(select(AdRecord.id).where(
            AdRecord.network_id.in_(chunk))))
    _recompute(session, remaining, affected, LinkConfig())
    _IMAGE_GROUPS.clear()  # purged photos must not keep bridging groups in this process
    return count


# ----------------------------------------------------------------- queries


def list_networks(session: Session, *, limit: int = 50, offset: int = 0, min_size: int = 2
                  ) -> tuple[int, list[AdNetwork]]:
    """Networks, largest first (then by highest lead score); the total count too."""
    query = select(AdNetwork).where(AdNetwork.size >= min_size)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AdNetwork.size.desc(), AdNetwork.max_score.desc(),
                                          AdNetwork.id).limit(limit).offset(offset)).all()
    return total, list(rows)


def get_network(session: Session, nid: str) -> NetworkView:
    network = session.get(AdNetwork, nid)
    if network is None:
        raise NotFoundError(f"no ad network {nid!r}")
    return _view(session, network)


def network_rows(session: Session, *, min_size: int = 2, limit: int | None = None
                 ) -> list[NetworkRow]:
    query = (select(AdNetwork).where(AdNetwork.size >= min_size)
             .order_by(AdNetwork.size.desc(), AdNetwork.id))
    if limit is not None:
        query = query.limit(limit)
    return [_view(session, n).row for n in session.scalars(query)]


def lead_rows(session: Session, *, min_score: float = 0.0, limit: int | None = None,
              batch: int = 1_000) -> Iterator[LeadRow]:
    """Ads scored at least `min_score`, highest first, with reasons and identifiers."""
    if not 0 <= min_score <= 1:
        raise InvalidInput("min_score must be between 0 and 1")
    query = (select(AdRecord, AdAssessment).join(AdAssessment, AdAssessment.ad_id == AdRecord.id)
             .where(AdAssessment.score >= min_score)
             .order_by(AdAssessment.score.desc(), AdRecord.id))
    if limit is not None:
        query = query.limit(limit)
    pending: list[tuple[AdRecord, AdAssessment]] = []
    for pair in session.execute(query):
        pending.append(pair)
        if len(pending) >= batch:
            yield from _leads(session, pending)
            pending = []
    yield from _leads(session, pending)


def open_triage(session: Session, actor: Actor, nid: str) -> triage.IntakeResult:
    """Hand a network to triage as one lead with its reasons; idempotent per network."""
    view = get_network(session, nid)
    row = view.row
    kinds = sorted({e.kind for e in row.evidence})
    reasons = sorted({r for m in view.members for r in m.reasons})
    shared = [f"{e.kind} {e.value} ({len(e.ads)} ads)" for e in row.evidence
              if e.kind != "text"][:10]
    texts = sum(1 for e in row.evidence if e.kind == "text")
    summary = (f"{len(row.ads)} ads linked by {', '.join(kinds) or 'nothing'}; highest "
               f"indicator score {row.max_score:.2f}. " +
               (f"Shared: {'; '.join(shared)}. " if shared else "") +
               (f"{texts} near-duplicate text pair(s). " if texts else "") + DISCLAIMER)
    lead = triage.Lead(
        source=Source.AD_LEAD, source_ref=f"ads:{nid}",
        title=f"Ad network {nid}: {len(row.ads)} ads, score {row.max_score:.2f}",
        summary=summary[:2000], severity=2 if row.max_score >= 0.5 else 1,
        # Flat strings: the triage page lists details as they are; the full structure is one
        # click away on the network page (and at GET /v1/ads/networks/{id}).
        details={"network": nid, "network_page": f"/console/ads/{nid}",
                 "size": len(row.ads), "max_score": round(row.max_score, 4),
                 "linked_by": ", ".join(kinds),
                 "shared_identifiers": "; ".join(shared) or "none",
                 "near_duplicate_text_pairs": texts,
                 "indicator_reasons": "; ".join(reasons[:20]) or "none",
                 "ads": ", ".join(row.ads[:50]) + (" …" if len(row.ads) > 50 else ""),
                 "template": (row.template or {}).get("template", "")[:1000],
                 "disclaimer": DISCLAIMER})
    result = triage.intake(session, actor, lead)
    if result.created:
        record(session, actor, "ads.triage", "ad_network", nid,
               triage_item=result.item.id)
    return result


# ----------------------------------------------------------------- internals


def _view(session: Session, network: AdNetwork) -> NetworkView:
    members = session.execute(
        select(AdRecord, AdAssessment).outerjoin(AdAssessment, AdAssessment.ad_id == AdRecord.id)
        .where(AdRecord.network_id == network.id)).all()
    ids = [m.id for m, _ in members]
    entities: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for ad_id, kind, value in _entity_rows(session, set(ids)):
        entities[ad_id].append((kind, value))
    views = sorted((MemberView(
        key=m.key, site=m.site, ad_id=m.external_id, title=m.title, text=m.text,
        score=a.score if a else 0.0, reasons=_reasons(a),
        entities=tuple(sorted(set(entities[m.id])))) for m, a in members), key=lambda v: v.key)
    evidence = session.scalars(select(AdEvidence).where(AdEvidence.network_id == network.id)
                               .order_by(AdEvidence.id)).all()
    row = NetworkRow(
        id=network.id, ads=tuple(v.key for v in views),
        evidence=tuple(EvidenceRow(e.kind, e.value, tuple(e.ads), e.similarity)
                       for e in evidence),
        template=network.template, max_score=network.max_score,
        titles={v.key: v.title for v in views})
    return NetworkView(row, tuple(views), network.created_at.isoformat(),
                       network.updated_at.isoformat())


def _leads(session: Session, pairs: list[tuple[AdRecord, AdAssessment]]) -> Iterator[LeadRow]:
    found: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for chunk in _chunks([ad.id for ad, _ in pairs]):
        for ad_id, kind, value in session.execute(select(
                AdEntity.ad_id, AdEntity.kind, AdEntity.value).where(
                AdEntity.ad_id.in_(chunk), AdEntity.kind.in_(("phone", "email", "handle")),
                AdEntity.status == "valid").order_by(AdEntity.id)):
            if value not in found[ad_id][kind]:
                found[ad_id][kind].append(value)
    for ad, assessment in pairs:
        mine = found[ad.id]
        yield LeadRow(ad.site, ad.external_id, assessment.score, ad.network_id,
                      _reasons(assessment), tuple(mine["phone"]), tuple(mine["email"]),
                      tuple(mine["handle"]),
                      ad.posted_at.isoformat() if ad.posted_at else None, ad.title)


def _reasons(assessment: AdAssessment | None) -> tuple[str, ...]:
    if assessment is None:
        return ()
    return tuple(f"{h['label']}: {h['reason']}" for h in assessment.hits)


def _existing(session: Session, pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for chunk in _chunks(pairs, 200):
        found.update(session.execute(select(AdRecord.site, AdRecord.external_id).where(
            tuple_(AdRecord.site, AdRecord.external_id).in_(chunk))))
    return found


def _insert_ads(session: Session, records: list[tuple[AdRecord, Ad, list[Entity], list[int]]]
                ) -> list[tuple[AdRecord, Ad, list[Entity], list[int]]]:
    """Insert the new ad rows; if another writer stored one meanwhile, fall back to one
    savepoint per ad and keep the ones that are still new."""
    try:
        with session.begin_nested():
            session.add_all(r[0] for r in records)
            session.flush()
        return records
    except IntegrityError:
        pass
    kept = []
    for item in records:
        fresh = AdRecord(**{c: getattr(item[0], c) for c in (
            "site", "external_id", "posted_at", "title", "text", "location", "region", "notes",
            "signature")})
        try:
            with session.begin_nested():
                session.add(fresh)
                session.flush()
        except IntegrityError:
            continue
        kept.append((fresh, item[1], item[2], item[3]))
    return kept


def _entity_row(ad_id: int, e: Entity) -> dict[str, Any]:
    return {"ad_id": ad_id, "kind": e.kind, "value": e.value[:300], "raw": e.raw[:300],
            "status": e.status, "span_start": e.span[0] if e.span else None,
            "span_end": e.span[1] if e.span else None, "source": e.source[:32],
            "obfuscated": e.obfuscated, "detail": e.detail[:300],
            # a value cut to fit the column must not link unrelated ads
            "links": (e.kind in LINKING_KINDS and e.status == "valid" and len(e.value) <= 300
                      # a photo links through its group's representative (image_match rows)
                      and not (e.kind == "image" and e.source == "image_hashes"))}


# Per database and radius: the groups of near-identical photos and the last entity row read.
# Refreshed from `ad_entities` (rows of source "image_match": own hash -> representative) under
# the linking lock, so every process sees the groups in the order they were stored.
# The last row read is remembered with its hash: if that row is gone or different (retention,
# a rolled-back batch, a recreated database), the groups are rebuilt from the table.
_IMAGE_GROUPS: dict[tuple[str, int], tuple[ImageGroups, int, str]] = {}


def _image_groups(session: Session, config: LinkConfig) -> ImageGroups:
    bind = session.get_bind()
    cache_key = (bind.engine.url.render_as_string(hide_password=True), config.image_radius)
    groups, last, last_raw = _IMAGE_GROUPS.pop(cache_key, (None, 0, ""))
    if groups is None or (last and session.scalar(select(AdEntity.raw).where(
            AdEntity.id == last, AdEntity.source == "image_match")) != last_raw):
        groups, last, last_raw = ImageGroups(config.image_radius), 0, ""
    rows = session.execute(select(AdEntity.id, AdEntity.raw, AdEntity.value).where(
        AdEntity.source == "image_match", AdEntity.id > last).order_by(AdEntity.id)).all()
    groups.load((raw, value) for _, raw, value in rows)
    return groups


def _keep_image_groups(session: Session, config: LinkConfig, groups: ImageGroups) -> None:
    """Cache the groups with the newest stored row: if this transaction rolls back, that row
    is missing next time and the groups are rebuilt without what it added."""
    bind = session.get_bind()
    cache_key = (bind.engine.url.render_as_string(hide_password=True), config.image_radius)
    newest = session.execute(select(AdEntity.id, AdEntity.raw).where(
        AdEntity.source == "image_match").order_by(AdEntity.id.desc()).limit(1)).first()
    if newest is not None:
        _IMAGE_GROUPS[cache_key] = (groups, newest[0], newest[1])


def _with_image_groups(found: list[Entity], groups: ImageGroups) -> list[Entity]:
    hashes = sorted({e.value for e in found if e.kind == "image" and e.source == "image_hashes"})
    if not hashes:
        return found
    return found + [Entity("image", m.representative, None, m.hash, source="image_match",
                           detail=("same photo" if m.distance == 0 else
                                   f"near-identical photo ({m.distance} bits)"))
                    for m in groups.add(hashes)]


def _link_keys(session: Session, ads: set[int]) -> list[tuple[str, str]]:
    return sorted({(kind, value) for _, kind, value in _entity_rows(session, ads)})


def _entity_rows(session: Session, ads: set[int]) -> list[tuple[int, str, str]]:
    """(ad id, kind, value) of the identifiers that may link, ordered by ad."""
    out: list[tuple[int, str, str]] = []
    for chunk in _chunks(sorted(ads)):
        out += session.execute(select(AdEntity.ad_id, AdEntity.kind, AdEntity.value).where(
            AdEntity.ad_id.in_(chunk), AdEntity.links.is_(True))
            .order_by(AdEntity.ad_id, AdEntity.id)).all()
    return sorted(set(out))


def _key_counts(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """How many ads carry each identifier (all stored ads): the hub test."""
    counts: dict[tuple[str, str], int] = {}
    for chunk in _chunks(sorted(set(keys)), 200):
        for kind, value, count in session.execute(
                select(AdEntity.kind, AdEntity.value, func.count(func.distinct(AdEntity.ad_id)))
                .where(AdEntity.links.is_(True), tuple_(AdEntity.kind, AdEntity.value).in_(chunk))
                .group_by(AdEntity.kind, AdEntity.value)):
            counts[(kind, value)] = count
    return counts


def _networks_of(session: Session, ads: set[int]) -> set[str]:
    out: set[str] = set()
    for chunk in _chunks(sorted(ads)):
        out.update(n for n in session.scalars(select(AdRecord.network_id).where(
            AdRecord.id.in_(chunk), AdRecord.network_id.is_not(None))) if n)
    return out


def _chunked_rows(session: Session, ids: Sequence[Any], *columns: Any, key: Any = None
                  ) -> list[tuple[Any, ...]]:
    key = columns[0] if key is None else key
    out: list[tuple[Any, ...]] = []
    for chunk in _chunks(list(ids)):
        out += [tuple(r) for r in session.execute(select(*columns).where(key.in_(chunk)))]
    return out


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _full(title: str, text: str) -> str:
    return f"{title}\n{text}" if title else text
