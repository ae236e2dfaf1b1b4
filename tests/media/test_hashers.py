"""hash_bytes, hash_video and the robust variant sets."""

from __future__ import annotations

import hashlib
import os
import sys
import types

import numpy as np
import pytest
from PIL import Image

from safeguard.media import (
    CorruptMedia,
    HashResult,
    MediaTooLarge,
    UnsupportedMedia,
    bank_variants,
    hamming_hex,
    hash_bytes,
    hash_video,
    pdq_from_pixels,
    query_variants,
)
from safeguard.media import video as video_module
from tests.media.conftest import encode, scene

MP4_HEAD = b"\x00\x00\x00\x18ftypmp42" + bytes(64)


def test_exact_and_perceptual_hashes_of_an_image() -> None:
    data = encode(scene(), quality=90)
    results = {r.signal_type: r for r in hash_bytes(data, label="a.jpg")}
    assert results["md5"] == HashResult("md5", hashlib.md5(data).hexdigest())
    assert results["sha256"].value == hashlib.sha256(data).hexdigest()
    assert results["pdq"].quality is not None and len(results["pdq"].value) == 64
    assert results["pdq"].variant == "original"


def test_non_media_file_gets_exact_hashes_only() -> None:
    results = hash_bytes(b"plain text", label="notes.txt")
    assert [r.signal_type for r in results] == ["md5", "sha256"]


def test_perceptual_only_on_non_media_raises() -> None:
    with pytest.raises(UnsupportedMedia, match="notes.txt"):
        hash_bytes(b"plain text", label="notes.txt", signal_types=("pdq",))


def test_damaged_image_raises_even_with_exact_types() -> None:
    data = encode(scene(), quality=90)
    with pytest.raises(CorruptMedia, match="cut.jpg"):
        hash_bytes(data[:300], label="cut.jpg")
    with pytest.raises(CorruptMedia, match="empty"):
        hash_bytes(b"", label="zero.jpg", signal_types=("md5",))


def test_limits_apply() -> None:
    data = encode(scene(0, (1024, 768)), quality=90)
    with pytest.raises(MediaTooLarge, match="big.jpg"):
        hash_bytes(data, label="big.jpg", max_pixels=100_000)
    with pytest.raises(MediaTooLarge, match="big.jpg"):
        hash_bytes(data, label="big.jpg", max_bytes=1000)


def test_unknown_signal_type() -> None:
    with pytest.raises(ValueError, match="unknown signal types"):
        hash_bytes(b"x", label="x", signal_types=("phash",))


@pytest.fixture
def no_vpdq(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(video_module, "_load_vpdq", lambda: None)


def test_video_without_vpdq(no_vpdq: None) -> None:
    with pytest.raises(UnsupportedMedia, match="clip.mp4: vPDQ needs the optional 'vpdq'"):
        hash_video(MP4_HEAD, label="clip.mp4")
    results = hash_bytes(MP4_HEAD, label="clip.mp4")  # pdq asked, vpdq missing: exact only
    assert [r.signal_type for r in results] == ["md5", "sha256"]
    with pytest.raises(UnsupportedMedia, match="pip install vpdq"):
        hash_bytes(MP4_HEAD, label="clip.mp4", signal_types=("vpdq",))


class FakeFeature:
    def __init__(self, hex_: str, quality: int, timestamp: float) -> None:
        self.hex, self.quality, self.timestamp = hex_, quality, timestamp


def fake_vpdq(seen: list[str], fail: bool = False) -> types.ModuleType:
    module = types.ModuleType("vpdq")

    def compute_hash(path: str, seconds_per_hash: float) -> list[FakeFeature]:
        seen.append(path)
        assert os.path.exists(path)
        if fail:
            raise RuntimeError("decoder error")
        return [FakeFeature("AB" * 32, 90, 0.0), FakeFeature("cd" * 32, 70, 1.0)]

    module.computeHash = compute_hash  # type: ignore[attr-defined]
    return module


@pytest.mark.parametrize("fail", [False, True])
def test_vpdq_temp_file_is_always_deleted(monkeypatch: pytest.MonkeyPatch, fail: bool) -> None:
    seen: list[str] = []
    monkeypatch.setitem(sys.modules, "vpdq", fake_vpdq(seen, fail))
    if fail:
        with pytest.raises(CorruptMedia, match="clip.mp4: video could not be decoded"):
            hash_video(MP4_HEAD, label="clip.mp4")
    else:
        (result,) = hash_video(MP4_HEAD, label="clip.mp4")
        assert result.signal_type == "vpdq" and result.quality == 70
        assert result.value == f'["{"ab" * 32},90,0.0", "{"cd" * 32},70,1.0"]'
    assert len(seen) == 1 and not os.path.exists(seen[0])


def test_query_variants_names_and_dihedral_first() -> None:
    rgb = scene(5, (400, 300))
    variants = query_variants(rgb)
    names = [v.variant for v in variants]
    assert names[:8] == ["original", "rotate90", "rotate180", "rotate270", "flipx", "flipy",
                         "flipplus1", "flipminus1"]
    assert variants[0].value == pdq_from_pixels(rgb)[0]
    assert all(v.signal_type == "pdq" and len(v.value) == 64 for v in variants)


def test_bordered_query_matches_original_through_trimmed_variant() -> None:
    rgb = scene(9, (400, 300))
    framed = np.asarray(Image.fromarray(rgb).crop((-40, -30, 440, 330)))  # black border
    original = pdq_from_pixels(rgb)[0]
    assert hamming_hex(pdq_from_pixels(framed)[0], original) > 31
    trimmed = {v.variant: v.value for v in query_variants(framed)}["trimmed"]
    assert hamming_hex(trimmed, original) <= 31


def test_flipped_query_matches_through_dihedral_variant() -> None:
    rgb = scene(2, (400, 300))
    flipped = np.ascontiguousarray(rgb[:, ::-1])
    original = pdq_from_pixels(rgb)[0]
    best = min(hamming_hex(v.value, original) for v in query_variants(flipped))
    assert best <= 31


def test_bank_variants_cover_a_cropped_copy() -> None:
    rgb = scene(4, (400, 300))
    names = [v.variant for v in bank_variants(rgb)]
    assert names[0] == "original" and any(n.startswith("crop") for n in names)
    assert any(n.startswith("rotate") for n in names)
    cropped = rgb[15:285, 20:380]  # 5 % cut from each side
    query = pdq_from_pixels(np.ascontiguousarray(cropped))[0]
    assert min(hamming_hex(query, v.value) for v in bank_variants(rgb)) <= 31
