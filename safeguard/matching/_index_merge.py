"""Which segments of a `PDQIndex` to merge next (size-tiered, as in an LSM tree).

Every search probes every segment, so segments must not pile up; but rewriting a 10 M segment
for every few thousand additions would cost more than it saves. Segments are grouped in tiers
of sizes growing by FANOUT; FANOUT segments of one tier merge into one of the next, so a row is
rewritten about log_FANOUT(n / delta size) times in its life and the big segment rarely.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from safeguard.matching._index_segment import BRUTE_FORCE_MAX_ROWS, Segment

FANOUT = 4
# Past this share of tombstones a segment is rewritten: dead rows still cost probes and memory.
MAX_DEAD_SHARE = 0.3


def tier(rows: int) -> int:
    return max(0, int(math.log(max(rows, 1) / BRUTE_FORCE_MAX_ROWS, FANOUT)) + 1)


def plan_merge(segments: Sequence[Segment]) -> list[Segment] | None:
    """The segments to merge into one next, or None when the layout is fine as it is."""
    for segment in segments:
        if len(segment) and segment.live_count < (1 - MAX_DEAD_SHARE) * len(segment):
            return [segment]
    tiers: dict[int, list[Segment]] = {}
    for segment in segments:
        tiers.setdefault(tier(segment.live_count), []).append(segment)
    for level in sorted(tiers):
        if len(tiers[level]) >= FANOUT:
            return tiers[level]
    return None
