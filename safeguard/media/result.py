"""The value every hasher returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HashResult:
    signal_type: str  # one of signals.SIGNAL_TYPES
    value: str  # canonical form (lowercase hex, or vPDQ JSON)
    quality: int | None = None  # PDQ quality 0-100; None for exact hashes
    variant: str = "original"  # which transform of the media this hash describes
