"""Hash media bytes: exact (MD5, SHA-256) for any file, PDQ for images, vPDQ for videos.

Everything runs in memory. PDQ values are bit-for-bit what threatexchange's ``PdqSignal``
and ``pdqhash`` produce for the same pixels; ``fast=True`` hashes the same luma of the
decoded RGB but filters only where PDQ samples, which equals the full hash unless a
coefficient ties the median within float rounding (decision 005; benchmarks/bench_hashing.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from safeguard.media.decode import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    check_size,
    decode_image,
    decode_rgb_luma,
)
from safeguard.media.errors import UnsupportedMedia
from safeguard.media.pdq import (
    pdq_dihedral_from_pixels,
    pdq_from_pixels,
    pdq_sampled_from_luma,
)
from safeguard.media.result import HashResult
from safeguard.media.signals import SIGNAL_TYPES, hamming_hex, normalize_hash
from safeguard.media.variants import bank_variants, query_variants
from safeguard.media.video import VPDQ_MISSING, hash_video, looks_like_video

__all__ = [
    "SIGNAL_TYPES", "HashResult", "bank_variants", "hamming_hex", "hash_bytes", "hash_video",
    "normalize_hash", "pdq_dihedral_from_pixels", "pdq_from_pixels", "query_variants",
]

_EXACT = {"md5": hashlib.md5, "sha256": hashlib.sha256}


def _image_pdq(
    data: bytes, label: str, fast: bool, max_pixels: int, max_bytes: int,
) -> HashResult:
    # Both paths hash the same luma of the decoded RGB (so clipped saturated colours count
    # the same); the fast one reads it straight from Pillow's buffer and evaluates the tent
    # filter only at PDQ's 64x64 samples (decision 005).
    if fast:
        luma = decode_rgb_luma(data, label=label, max_pixels=max_pixels, max_bytes=max_bytes)
        value, quality = pdq_sampled_from_luma(luma)
    else:
        rgb = decode_image(data, label=label, max_pixels=max_pixels, max_bytes=max_bytes)
        value, quality = pdq_from_pixels(rgb)
    return HashResult("pdq", value, quality)


def _perceptual(
    data: bytes, label: str, wanted: set[str], fast: bool, max_pixels: int, max_bytes: int,
) -> list[HashResult]:
    if "pdq" in wanted:
        try:
            return [_image_pdq(data, label, fast, max_pixels, max_bytes)]
        except UnsupportedMedia:
            if not looks_like_video(data):
                raise
    if not looks_like_video(data):
        raise UnsupportedMedia(label, "vPDQ needs a video; this file is not one")
    try:
        return hash_video(data, label=label, max_bytes=max_bytes)
    except UnsupportedMedia as exc:
        if "vpdq" in wanted or exc.problem != VPDQ_MISSING:
            raise
        return []  # pdq was asked for a video and vpdq is not installed: exact hashes only


def missing_hash_note(data: bytes, signal_types: Iterable[str]) -> str | None:
    """Why a file got no perceptual hash, when a person should be told: a video hashed
    without the optional vpdq package gets only MD5/SHA-256."""
    if looks_like_video(data) and not {"pdq", "vpdq"} & set(signal_types):
        return f"{VPDQ_MISSING}; only MD5 and SHA-256 were computed for this video"
    return None


def hash_bytes(
    data: bytes, *, label: str, signal_types: Iterable[str] = ("pdq", "md5", "sha256"),
    fast: bool = True, max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[HashResult]:
    """Hash ``data`` with each requested signal type that applies to it.

    MD5/SHA-256 apply to any file; "pdq" to images (a video gets vPDQ instead when the
    ``vpdq`` package is installed); "vpdq" to videos. A file that is not media still gets
    its exact hashes, unless only perceptual types were requested (then UnsupportedMedia).
    Empty, damaged, oversized images raise the matching ``MediaError`` naming ``label``.
    """
    wanted = set(signal_types)
    unknown = wanted - set(SIGNAL_TYPES)
    if unknown:
        raise ValueError(f"unknown signal types {sorted(unknown)}; expected {SIGNAL_TYPES}")
    check_size(data, label, max_bytes)
    results = [
        HashResult(name, _EXACT[name](data).hexdigest()) for name in sorted(wanted & set(_EXACT))
    ]
    if wanted & {"pdq", "vpdq"}:
        try:
            results += _perceptual(data, label, wanted, fast, max_pixels, max_bytes)
        except UnsupportedMedia:
            if not results:
                raise
    return results


