"""Signal types, hash-string validation and Hamming distance.

Accepts what threatexchange's signal types accept (PdqSignal, VideoMD5/MD5, SHA256, vPDQ)
and returns one canonical lowercase form, so stored and imported hashes compare as strings.
"""

from __future__ import annotations

import json
import re

SIGNAL_TYPES = ("pdq", "md5", "sha256", "vpdq")
HEX_LENGTHS = {"pdq": 64, "md5": 32, "sha256": 64}
PDQ_MATCH_THRESHOLD = 31
PDQ_MIN_QUALITY = 50
_HEX = re.compile(r"[0-9a-f]+")


def _normalize_hex(signal_type: str, value: str) -> str:
    expected = HEX_LENGTHS[signal_type]
    text = value.strip().lower()
    if len(text) != expected:
        raise ValueError(
            f"invalid {signal_type} hash: expected {expected} hex characters, got {len(text)}"
        )
    if not _HEX.fullmatch(text):
        raise ValueError(f"invalid {signal_type} hash: {value!r} has non-hex characters")
    return text


def _normalize_vpdq_feature(item: object, index: int) -> str:
    if not isinstance(item, str):
        raise ValueError(f"invalid vpdq hash: frame {index} is not a string")
    parts = item.split(",")
    if len(parts) != 3:
        raise ValueError(f"invalid vpdq hash: frame {index} is not 'pdq,quality,timestamp'")
    pdq, quality, timestamp = (p.strip() for p in parts)
    pdq = _normalize_hex("pdq", pdq)
    try:
        quality_value = int(quality)
        timestamp_value = float(timestamp)
    except ValueError as exc:
        raise ValueError(f"invalid vpdq hash: frame {index} quality/timestamp: {exc}") from exc
    if not 0 <= quality_value <= 100:
        raise ValueError(f"invalid vpdq hash: frame {index} quality {quality_value} not in 0-100")
    if not timestamp_value >= 0:  # also rejects NaN
        raise ValueError(f"invalid vpdq hash: frame {index} timestamp {timestamp} is negative")
    return f"{pdq},{quality_value},{timestamp}"


def _normalize_vpdq(value: str) -> str:
    try:
        frames = json.loads(value or "[]")
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid vpdq hash: not a JSON list ({exc.msg})") from exc
    if not isinstance(frames, list):
        raise ValueError("invalid vpdq hash: expected a JSON list of frame strings")
    return json.dumps([_normalize_vpdq_feature(item, i) for i, item in enumerate(frames)])


def normalize_hash(signal_type: str, value: str) -> str:
    """Validate ``value`` as a ``signal_type`` hash and return its canonical form.

    Raises ValueError naming the problem (unknown type, wrong length, non-hex characters).
    """
    if signal_type not in SIGNAL_TYPES:
        raise ValueError(f"unknown signal type {signal_type!r}; expected one of {SIGNAL_TYPES}")
    if not isinstance(value, str):
        raise ValueError(f"invalid {signal_type} hash: expected a string, got {type(value)!r}")
    if signal_type == "vpdq":
        return _normalize_vpdq(value)
    return _normalize_hex(signal_type, value)


def hamming_hex(a: str, b: str) -> int:
    """Number of differing bits between two equal-length hex strings."""
    if len(a) != len(b):
        raise ValueError(f"cannot compare hashes of different lengths ({len(a)} vs {len(b)})")
    for text in (a, b):
        # int(..., 16) alone would also accept "0x", "_" and spaces
        if text and not _HEX.fullmatch(text.lower()):
            raise ValueError(f"not a hex hash: {text!r}")
    return (int(a, 16) ^ int(b, 16)).bit_count() if a else 0
