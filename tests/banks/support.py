"""Helpers shared by the banks, matching and jobs tests (imported, not a conftest, because
tests/matching/conftest.py is not ours)."""

from __future__ import annotations

import random

import pytest

from safeguard.audit.service import Actor
from safeguard.db.base import Base
from safeguard.db.engine import Database

ACTOR = Actor("user", "tester", 1, frozenset({"admin", "match", "banks:read", "banks:write",
                                              "matchlog:read"}))


@pytest.fixture
def db(db: Database) -> Database:
    """The shared migrated database; `create_all` adds our tables until the regenerated
    initial migration carries them (then it is a no-op)."""
    import safeguard.db.models  # noqa: F401  - registers every domain's tables

    Base.metadata.create_all(db.engine)
    return db


def random_pdq(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def flip_bits(hex_hash: str, bits: int, rng: random.Random) -> str:
    value = int(hex_hash, 16)
    for position in rng.sample(range(256), bits):
        value ^= 1 << position
    return f"{value:064x}"


def benign_image(seed: int, size: tuple[int, int] = (320, 240), fmt: str = "PNG") -> bytes:
    """A generated picture of smooth colour blobs (benign, deterministic, PDQ quality high)."""
    import io

    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(seed)
    w, h = size
    image = Image.new("RGB", size, tuple(int(c) for c in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(20, w // 2)), y0 + int(rng.integers(20, h // 2))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(2))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()
