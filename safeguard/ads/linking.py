"""Link ads into networks.

Evidence that two ads belong together:
- a shared normalised identifier: phone (E.164), email, handle, payment handle, crypto address,
  or photo (PDQ hashes within `image_radius` bits are one photo: `images.ImageGroups`, on the
  matching domain's PDQ index);
- near-duplicate text: MinHash (datasketch, fixed seed) over word 2-shingles with digits
  removed (word pairs), candidates from MinHash LSH (14 bands of 4 rows, band keys in one flat
  dict), confirmed by the estimated Jaccard similarity.

Hubs are capped: an identifier shared by more than `hub_cap` ads (a site's own number, an agency
switchboard) and a text that matches more than `text_cap` others (a site-wide boilerplate) stop
linking; they are listed, not followed. Networks are the connected components (union-find).

Incremental: `add()` takes new ads and joins them to existing networks; only when an identifier
crosses the hub cap are components recomputed from the stored edges (cheap: no hashing).
Deterministic: the same ads in the same order give the same networks and ids; a network's id is
derived from its smallest member key, so it is stable while the network grows.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from datasketch import MinHash

from safeguard.ads.extract import Entity, linking_keys
from safeguard.ads.images import DEFAULT_RADIUS, ImageGroups
from safeguard.ads.records import Ad
from safeguard.ads.template import TemplateView, template_view
from safeguard.ads.text import fold
from safeguard.ads.unionfind import UnionFind

_WORD = re.compile(r"[^\W\d_]+")
_ROWS = 4096


@dataclass(frozen=True, slots=True)
class LinkConfig:
    num_perm: int = 64
    threshold: float = 0.5  # LSH and confirmation threshold on Jaccard of word 2-shingles
    # 14 bands of 4 rows: what datasketch's MinHashLSH picks for 64 permutations at 0.5, kept so
    # the measured precision / recall still hold (docs/decisions/023-ads-storage-and-bands.md).
    bands: int = 14
    rows: int = 4
    shingle: int = 2
    hub_cap: int = 50  # an identifier in more ads than this links nothing
    text_cap: int = 200  # a text with more near-duplicates than this links nothing
    seed: int = 1
    keep_texts: bool = True  # needed for template views; off to save memory at scale
    # PDQ hashes within this many bits are one photo (safeguard.ads.images, matching's index)
    image_radius: int = DEFAULT_RADIUS


@dataclass(frozen=True, slots=True)
class Evidence:
    kind: str  # "phone", "email", ..., or "text"
    value: str  # the shared value, or "a~b" for a text edge
    ads: tuple[str, ...]
    similarity: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "value": self.value, "ads": list(self.ads),
                "similarity": self.similarity}


@dataclass(frozen=True, slots=True)
class Network:
    id: str
    ads: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    template: TemplateView | None

    def as_dict(self) -> dict[str, object]:
        template = None
        if self.template is not None:
            template = {"template": self.template.template,
                        "slots": [list(s) for s in self.template.slots],
                        "texts_compared": self.template.texts_compared}
        return {"id": self.id, "size": len(self.ads), "ads": list(self.ads),
                "evidence": [e.as_dict() for e in self.evidence], "template": template}


@dataclass
class _Store:
    keys: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    postings: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    hubs: set[str] = field(default_factory=set)
    text_edges: list[tuple[int, int, float]] = field(default_factory=list)
    boilerplate: set[int] = field(default_factory=set)


class Linker:
    """Links ads as they are added; `networks()` reads the current state."""

    def __init__(self, config: LinkConfig | None = None) -> None:
        self.config = config or LinkConfig()
        self._store = _Store()
        self._sets = UnionFind()
        if self.config.bands * self.config.rows > self.config.num_perm:
            raise ValueError("bands x rows must not exceed num_perm")
        # Band key -> item, or a list of items once two ads share it. One flat dict of ints
        # instead of datasketch's per-band dicts of bytes -> lists: about a third of the memory.
        self._bands: dict[int, int | list[int]] = {}
        self._signatures = np.zeros((0, self.config.num_perm), dtype=np.uint32)
        self._hasher = Signer(self.config)
        self._images = ImageGroups(self.config.image_radius)

    def __len__(self) -> int:
        return len(self._store.keys)

    @property
    def hubs(self) -> frozenset[str]:
        return frozenset(self._store.hubs)

    def add(self, ads: Sequence[Ad], entities: Sequence[list[Entity]]) -> int:
        """Add ads (with their extracted entities); returns how many were new. An ad already
        added (same site and id) is skipped."""
        if len(ads) != len(entities):
            raise ValueError("ads and entities must have the same length")
        return self.add_prepared(
            (ad.key, linking_keys(found), self._hasher.signature(ad.full_text),
             ad.full_text if self.config.keep_texts else "")
            for ad, found in zip(ads, entities, strict=True) if ad.key not in self._store.index)

    def add_prepared(self, items: Iterable[tuple[str, Iterable[str], np.ndarray | None, str]]
                     ) -> int:
        """Add ads already reduced to (key, linking keys, MinHash signature from `Signer`, text
        kept for template views or ""): the per-ad work (extraction, hashing) can then run in
        other processes or on Dask, and only this bookkeeping stays serial. Returns how many
        were new."""
        store, added, rebuild = self._store, 0, False
        for ad_key, keys, signature, text in items:
            if ad_key in store.index:
                continue
            added += 1
            item = self._sets.add()
            store.keys.append(ad_key)
            store.index[ad_key] = item
            store.texts.append(text if self.config.keep_texts else "")
            for key in sorted(self._image_groups(keys)):
                posting = store.postings[key]
                posting.append(item)
                if key in store.hubs:
                    continue
                if len(posting) > self.config.hub_cap:
                    store.hubs.add(key)
                    rebuild = True
                elif len(posting) > 1:
                    self._sets.union(posting[0], item)
            self._link_signature(item, signature)
        if rebuild:
            self._rebuild()
        return added

    def _image_groups(self, keys: Iterable[str]) -> set[str]:
        """Image hashes become the representative of their group of near-identical photos."""
        out, images = set(), []
        for key in keys:
            if key.startswith("image:"):
                images.append(key[6:])
            else:
                out.add(key)
        out.update(f"image:{m.representative}" for m in self._images.add(sorted(images)))
        return out

    def network_of(self, key: str) -> str | None:
        item = self._store.index.get(key)
        if item is None:
            return None
        root = self._sets.find(item)
        members = [k for i, k in enumerate(self._store.keys) if self._sets.find(i) == root]
        return _network_id(members) if len(members) > 1 else None

    def labels(self) -> dict[str, int]:
        """Ad key -> component root (an opaque integer); for benchmarks and bulk export."""
        return {key: self._sets.find(i) for i, key in enumerate(self._store.keys)}

    def networks(self, min_size: int = 2, *, with_template: bool = True) -> list[Network]:
        """Networks of at least `min_size` ads, largest first, each with its evidence."""
        store = self._store
        groups: dict[int, list[int]] = defaultdict(list)
        for item in range(len(store.keys)):
            groups[self._sets.find(item)].append(item)
        shared: dict[int, list[Evidence]] = defaultdict(list)
        for key, posting in store.postings.items():
            if key in store.hubs or len(posting) < 2:
                continue
            by_root: dict[int, list[int]] = defaultdict(list)
            for item in posting:
                by_root[self._sets.find(item)].append(item)
            kind, _, value = key.partition(":")
            for root, items in by_root.items():
                if len(items) > 1:
                    shared[root].append(Evidence(kind, value,
                                                 tuple(store.keys[i] for i in items)))
        for a, b, similarity in store.text_edges:
            shared[self._sets.find(a)].append(Evidence(
                "text", f"{store.keys[a]}~{store.keys[b]}", (store.keys[a], store.keys[b]),
                round(similarity, 3)))
        out = []
        for root, items in groups.items():
            if len(items) < min_size:
                continue
            keys = tuple(sorted(store.keys[i] for i in items))
            view = None
            if with_template and self.config.keep_texts:
                view = template_view([store.texts[i] for i in sorted(items)])
            out.append(Network(_network_id(keys), keys, tuple(shared[root]), view))
        out.sort(key=lambda n: (-len(n.ads), n.id))
        return out

    # ----------------------------------------------------------------- internals

    def _link_signature(self, item: int, signature: np.ndarray | None) -> None:
        if item >= len(self._signatures):
            grown = np.zeros((len(self._signatures) + _ROWS, self.config.num_perm), np.uint32)
            grown[: len(self._signatures)] = self._signatures
            self._signatures = grown
        if signature is None:
            return
        self._signatures[item] = signature
        candidates: set[int] = set()
        for band in self._hasher.bands(signature):
            found = self._bands.get(band)
            if found is None:
                self._bands[band] = item
            elif isinstance(found, int):
                candidates.add(found)
                self._bands[band] = [found, item]
            else:
                candidates.update(found)
                found.append(item)
        if not candidates:
            return
        others = np.fromiter(sorted(candidates), dtype=np.int64)
        similarity = (self._signatures[others] == signature).mean(axis=1)
        near = similarity >= self.config.threshold
        # Boilerplate is judged on confirmed near-duplicates, not on LSH candidates: the
        # candidates of an ordinary ad grow with the corpus (about 5 per ad at 100 k, 50 at
        # 1 M on the synthetic corpus) and capping them cut recall at scale.
        if int(near.sum()) > self.config.text_cap:
            self._store.boilerplate.add(item)
            return
        for other, value in zip(others[near].tolist(), similarity[near].tolist(), strict=True):
            if other not in self._store.boilerplate:
                self._store.text_edges.append((other, item, value))
                self._sets.union(other, item)

    def _rebuild(self) -> None:
        """Recompute components from stored edges, skipping hub identifiers."""
        self._sets.reset()
        store = self._store
        for key, posting in store.postings.items():
            if key in store.hubs:
                continue
            for item in posting[1:]:
                self._sets.union(posting[0], item)
        for a, b, _ in store.text_edges:
            self._sets.union(a, b)


class Signer:
    """MinHash signatures (datasketch, fixed seed) over word 2-shingles with digits removed, and
    their LSH band keys as signed 64-bit integers (so they fit a BIGINT column as they are)."""

    def __init__(self, config: LinkConfig | None = None) -> None:
        self.config = config or LinkConfig()
        self._template = MinHash(num_perm=self.config.num_perm, seed=self.config.seed)

    def signature(self, text: str) -> np.ndarray | None:
        words = _WORD.findall(fold(text)[0].lower())
        if not words:
            return None
        size = self.config.shingle
        shingles = {" ".join(words[i:i + size]) for i in range(max(1, len(words) - size + 1))}
        minhash = self._template.copy()
        minhash.update_batch([s.encode("utf-8") for s in sorted(shingles)])
        return np.asarray(minhash.hashvalues, dtype=np.uint32)

    def bands(self, signature: np.ndarray) -> list[int]:
        rows = self.config.rows
        raw = signature[: self.config.bands * rows].astype("<u4").tobytes()
        width = rows * 4
        return [int.from_bytes(hashlib.blake2b(bytes([band]) + raw[band * width:(band + 1) * width],
                                               digest_size=8).digest(), "little", signed=True)
                for band in range(self.config.bands)]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float((a == b).mean())


def network_id(keys: Sequence[str]) -> str:
    """Deterministic: derived from the smallest member key, so stable while a network grows."""
    return "net-" + hashlib.sha256(min(keys).encode("utf-8")).hexdigest()[:12]


_network_id = network_id
