"""Leads as CSV / JSON lines, networks as GraphML / JSON.

Both the stored path (service) and the in-memory path (`safeguard ads scan --no-store`) build
the same plain rows, so the files look the same whichever produced them. The network graph is
bipartite: ads are nodes, every shared identifier is a node joined to the ads that carry it, and
near-duplicate texts are ad-to-ad edges with their similarity; a graph tool then shows why ads
were linked, not just that they were.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from safeguard.ads.extract import Entity
from safeguard.ads.indicators import DISCLAIMER, Assessment
from safeguard.ads.linking import Network
from safeguard.ads.records import Ad

LEAD_COLUMNS = ("site", "id", "score", "network", "reasons", "phones", "emails", "handles",
                "posted_at", "title")


@dataclass(frozen=True, slots=True)
class LeadRow:
    site: str
    ad_id: str
    score: float
    network: str | None
    reasons: tuple[str, ...]  # "label: reason" per indicator hit
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    posted_at: str | None = None
    title: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.site, "id": self.ad_id, "score": round(self.score, 4),
                "network": self.network, "reasons": list(self.reasons),
                "phones": list(self.phones), "emails": list(self.emails),
                "handles": list(self.handles), "posted_at": self.posted_at,
                "title": self.title, "disclaimer": DISCLAIMER}


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    kind: str
    value: str
    ads: tuple[str, ...]
    similarity: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "ads": list(self.ads),
                "similarity": self.similarity}


@dataclass(frozen=True, slots=True)
class NetworkRow:
    id: str
    ads: tuple[str, ...]
    evidence: tuple[EvidenceRow, ...]
    template: dict[str, Any] | None = None
    max_score: float = 0.0
    titles: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "size": len(self.ads), "max_score": round(self.max_score, 4),
                "ads": list(self.ads), "evidence": [e.as_dict() for e in self.evidence],
                "template": self.template}


def leads_csv(rows: Iterable[LeadRow]) -> Iterator[str]:
    """CSV text in chunks (one per row); multi-valued cells are joined with " | "."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(LEAD_COLUMNS)
    for row in rows:
        writer.writerow([row.site, row.ad_id, f"{row.score:.4f}", row.network or "",
                         " | ".join(row.reasons), " | ".join(row.phones),
                         " | ".join(row.emails), " | ".join(row.handles), row.posted_at or "",
                         _cell(row.title)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


def leads_jsonl(rows: Iterable[LeadRow]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row.as_dict(), ensure_ascii=False) + "\n"


def networks_json(networks: Iterable[NetworkRow]) -> str:
    return json.dumps({"disclaimer": DISCLAIMER,
                       "networks": [n.as_dict() for n in networks]}, ensure_ascii=False,
                      indent=1)


def network_graph(networks: Sequence[NetworkRow]) -> nx.Graph:
    graph = nx.Graph()
    for network in networks:
        for ad in network.ads:
            graph.add_node(f"ad:{ad}", type="ad", label=ad, network=network.id,
                           title=network.titles.get(ad, ""))
        for evidence in network.evidence:
            if evidence.kind == "text" and len(evidence.ads) == 2:
                a, b = evidence.ads
                graph.add_edge(f"ad:{a}", f"ad:{b}", kind="text",
                               similarity=float(evidence.similarity or 0.0))
                continue
            node = f"{evidence.kind}:{evidence.value}"
            graph.add_node(node, type=evidence.kind, label=evidence.value, network=network.id,
                           title="")
            for ad in evidence.ads:
                graph.add_edge(f"ad:{ad}", node, kind=evidence.kind, similarity=1.0)
    return graph


def networks_graphml(networks: Sequence[NetworkRow]) -> bytes:
    """GraphML (networkx writer; opens in Gephi, Cytoscape, yEd)."""
    out = io.BytesIO()
    nx.write_graphml(network_graph(networks), out, encoding="utf-8")
    return out.getvalue()


def _cell(value: str) -> str:
    # A cell starting with = + - @ is a formula in spreadsheet programs: neutralise it.
    value = " ".join(value.split())
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def lead_from(ad: Ad, entities: Sequence[Entity], assessment: Assessment,
              network: str | None) -> LeadRow:
    """A lead from an in-memory ad (the `--no-store` path)."""
    def values(kind: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.value for e in entities
                                   if e.kind == kind and e.status == "valid"))

    return LeadRow(ad.site, ad.ad_id, assessment.score, network,
                   tuple(f"{h.label}: {h.reason}" for h in assessment.hits), values("phone"),
                   values("email"), values("handle"),
                   ad.posted_at.isoformat() if ad.posted_at else None, ad.title)


def network_from(network: Network, max_score: float = 0.0,
                 titles: dict[str, str] | None = None) -> NetworkRow:
    """A network row from the in-memory linker."""
    template = None
    if network.template is not None:
        template = {"template": network.template.template,
                    "slots": [list(s) for s in network.template.slots],
                    "texts_compared": network.template.texts_compared}
    return NetworkRow(network.id, network.ads,
                      tuple(EvidenceRow(e.kind, e.value, e.ads, e.similarity)
                            for e in network.evidence), template, max_score, titles or {})
