"""vPDQ video hashing through the optional ``vpdq`` package.

vpdq's decoder only reads a path, so the bytes go to a private temporary file (in RAM
under /dev/shm when available) that is always deleted; see
docs/decisions/006-media-vpdq-tempfile.md.
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile
from types import ModuleType

from safeguard.media.decode import DEFAULT_MAX_BYTES, check_size
from safeguard.media.errors import CorruptMedia, UnsupportedMedia
from safeguard.media.result import HashResult

VPDQ_MISSING = "vPDQ needs the optional 'vpdq' package: pip install vpdq"
SECONDS_PER_HASH = 1.0
_RAM_DIR = "/dev/shm"  # noqa: S108 - only a memory-backed place for mkstemp

# Leading bytes of common containers; enough to tell "a video" from "not an image".
_VIDEO_SIGNATURES = (b"\x1a\x45\xdf\xa3", b"FLV", b"OggS")


def looks_like_video(data: bytes) -> bool:
    head = data[:16]
    if head[4:8] == b"ftyp" and head[8:12] not in (b"avif", b"avis", b"heic", b"heix", b"mif1"):
        return True  # MP4 / MOV / 3GP, but not the still-image HEIF family
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return True
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return True  # MPEG program / elementary stream
    return head.startswith(_VIDEO_SIGNATURES) or (len(data) > 188 and data[0] == data[188] == 0x47)


def _load_vpdq() -> ModuleType:
    try:
        return importlib.import_module("vpdq")
    except ImportError:
        return None  # type: ignore[return-value]


def _temp_dir() -> str | None:
    return _RAM_DIR if os.path.isdir(_RAM_DIR) and os.access(_RAM_DIR, os.W_OK) else None


def hash_video(
    data: bytes, *, label: str, max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[HashResult]:
    """vPDQ of a video: one HashResult whose value is threatexchange's vPDQ JSON."""
    vpdq = _load_vpdq()
    if vpdq is None:
        raise UnsupportedMedia(label, VPDQ_MISSING)
    check_size(data, label, max_bytes)
    fd, path = tempfile.mkstemp(prefix="safeguard-", suffix=".video", dir=_temp_dir())
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        try:
            features = vpdq.computeHash(path, seconds_per_hash=SECONDS_PER_HASH)
        except Exception as exc:  # the decoder reports damage in its own ways
            raise CorruptMedia(label, f"video could not be decoded ({exc})") from exc
    finally:
        os.unlink(path)
    if not features:
        raise CorruptMedia(label, "no video frames could be decoded")
    frames = [f"{f.hex.lower()},{int(f.quality)},{float(f.timestamp):.3}" for f in features]
    quality = min(int(f.quality) for f in features)
    return [HashResult("vpdq", json.dumps(frames), quality, "original")]
