"""Near-identical photos across ads, through the matching domain's PDQ index.

A photo re-posted by the same people is rarely byte-identical: re-encoding, resizing or a
new watermark move its PDQ hash by a few bits. `ImageGroups` keeps every hash seen in a
`safeguard.matching.index.PDQIndex` and gives each new hash the *representative* of its nearest
earlier hash within `radius` bits (the field's PDQ convention: 31), or itself when nothing is
near. Ads then link through the representative like through any shared identifier, so hub caps,
evidence ("image <representative> shared by ads ...") and incremental recomputation work
unchanged. When a hash is near several groups, it carries every representative (up to
`MAX_GROUPS`) and so joins them.

Deterministic: the same hashes in the same order get the same representatives (nearest first,
ties by the earlier hash).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from safeguard.matching.index import PDQIndex, hex_to_array

DEFAULT_RADIUS = 31
MAX_GROUPS = 5


@dataclass(frozen=True, slots=True)
class ImageMatch:
    hash: str  # the ad's own hash (64 hex)
    representative: str  # the group it joins (64 hex); equal to `hash` for a new group
    distance: int  # Hamming distance to the nearest earlier hash of that group


class ImageGroups:
    """Groups of near-identical PDQ hashes, grown one hash at a time."""

    def __init__(self, radius: int = DEFAULT_RADIUS) -> None:
        if not 0 <= radius <= PDQIndex.MAX_RADIUS:
            raise ValueError(f"radius must be between 0 and {PDQIndex.MAX_RADIUS}")
        self.radius = radius
        self._index = PDQIndex(threads=1, auto_compact=True)
        self._representative: list[str] = []
        self._known: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._representative)

    def add(self, hashes: Iterable[str]) -> list[ImageMatch]:
        """The groups of each hash (a hash near two groups yields two matches), in order;
        the hashes become searchable for the next ones."""
        out: list[ImageMatch] = []
        for value in hashes:
            value = value.lower()
            known = self._known.get(value)
            if known is not None:
                out.append(ImageMatch(value, known, 0))
                continue
            query = hex_to_array([value])
            groups: dict[str, int] = {}
            for item, distance in self._index.search(query, self.radius)[0]:
                representative = self._representative[item]
                if representative not in groups and len(groups) < MAX_GROUPS:
                    groups[representative] = distance
            if not groups:
                groups[value] = 0
            own = next(iter(groups))
            self._index.add(np.array([len(self._representative)], dtype=np.int64), query)
            self._representative.append(own)
            self._known[value] = own
            out += [ImageMatch(value, rep, distance) for rep, distance in groups.items()]
        return out

    def load(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Restore groups from stored (hash, representative) pairs, in their original order."""
        hashes: list[str] = []
        for value, representative in pairs:
            if value in self._known:
                continue
            self._known[value] = representative
            self._representative.append(representative)
            hashes.append(value)
        if hashes:
            start = len(self._representative) - len(hashes)
            self._index.add(np.arange(start, start + len(hashes), dtype=np.int64),
                            hex_to_array(hashes))
