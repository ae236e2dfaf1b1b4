"""Safe media decoding and hashing (PDQ, MD5, SHA-256, vPDQ). See docs/media.md."""

from safeguard.media.decode import decode_image
from safeguard.media.errors import CorruptMedia, MediaError, MediaTooLarge, UnsupportedMedia
from safeguard.media.hashers import (
    SIGNAL_TYPES,
    HashResult,
    bank_variants,
    hamming_hex,
    hash_bytes,
    hash_video,
    normalize_hash,
    pdq_dihedral_from_pixels,
    pdq_from_pixels,
    query_variants,
)

__all__ = [
    "SIGNAL_TYPES", "CorruptMedia", "HashResult", "MediaError", "MediaTooLarge",
    "UnsupportedMedia", "bank_variants", "decode_image", "hamming_hex", "hash_bytes",
    "hash_video", "normalize_hash", "pdq_dihedral_from_pixels", "pdq_from_pixels",
    "query_variants",
]
