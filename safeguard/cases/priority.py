"""The triage priority: a number the queue sorts by, and the reasons an analyst reads.

Order: an urgent flag (a child in danger now, a sextortion threat, a meeting) first, then
severity, then the child's age band (younger first), then content already known from a bank;
ties go to whoever has waited longest. Each factor is a digit of the number, so no amount of
a lower factor outranks a higher one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

AGE_BANDS = ("under_13", "13_15", "16_17", "adult", "unknown")
# Younger children first; "unknown" ranks above "adult" because it may be a child.
_AGE_RANK = {"under_13": 4, "13_15": 3, "16_17": 2, "unknown": 1, "adult": 0}
MAX_SEVERITY = 3


@dataclass(frozen=True)
class PriorityInputs:
    urgent: bool
    severity: int
    age_band: str
    known_content: bool


def priority_of(p: PriorityInputs) -> int:
    return (int(p.urgent) * 10_000 + p.severity * 1_000 + _AGE_RANK[p.age_band] * 100
            + int(p.known_content) * 10)


def explain(p: PriorityInputs, received_at: datetime, now: datetime) -> list[str]:
    reasons = []
    if p.urgent:
        reasons.append("urgent: flagged as danger now")
    reasons.append(f"severity {p.severity} of {MAX_SEVERITY}")
    reasons.append(f"age band {p.age_band.replace('_', '–')}" if p.age_band != "unknown"
                   else "age unknown (ranked above adults)")
    if p.known_content:
        reasons.append("known content: matches a hash bank")
    reasons.append(f"waiting {_duration(now - received_at)}")
    return reasons


def _duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} days"
