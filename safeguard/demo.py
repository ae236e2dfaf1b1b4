"""Demo data for `make run`: accounts, a bank of hashes of generated, benign images, and those
images on disk so a newcomer can try matching (including altered copies that plain PDQ misses).

Everything here is drawn by code: coloured shapes, gradients and text. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps
from sqlalchemy import select

from safeguard.audit.service import Actor
from safeguard.auth import service as auth
from safeguard.auth.models import Role, User
from safeguard.auth.passwords import generate_password
from safeguard.banks import service as banks
from safeguard.banks.formats import ParsedEntry
from safeguard.db.encryption import FieldCipher
from safeguard.db.engine import Database
from safeguard.demo_workload import WorkloadResult, load_workload
from safeguard.media.hashers import pdq_from_pixels

DEMO_ACTOR = Actor("system", "demo-loader")
KNOWN_BANK = "demo-known-images"
NEGATIVE_BANK = "demo-false-positives"
KNOWN_COUNT = 12
UNKNOWN_COUNT = 6


@dataclass(frozen=True)
class DemoCredentials:
    username: str
    password: str | None  # None when the account already existed (shown only once)
    role: str


@dataclass(frozen=True)
class DemoResult:
    accounts: list[DemoCredentials]
    images_dir: Path | None
    bank_entries: int
    work: WorkloadResult | None = None


def draw_scene(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A benign synthetic picture: gradient sky, shapes and a caption, different per seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = np.linspace(0.0, 1.0, h)[:, None, None]
    sky = (top * (1 - t) + bottom * t).astype(np.uint8).repeat(w, axis=1)
    image = Image.fromarray(sky, "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(4, 9))):
        x0, y0 = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 40))
        x1, y1 = x0 + int(rng.integers(30, w // 2)), y0 + int(rng.integers(30, h // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    draw.text((12, h - 24), f"Safeguard demo picture {seed}", fill=(255, 255, 255))
    return image


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _altered_copies(image: Image.Image) -> dict[str, Image.Image]:
    w, h = image.size
    return {
        "flipped": ImageOps.mirror(image),
        "bordered": ImageOps.expand(image, border=w // 12, fill=(0, 0, 0)),
        "resized": image.resize((w // 2, h // 2)),
    }


def _ensure_account(session: object, username: str, role: Role) -> DemoCredentials:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    if session.scalar(select(User).where(User.username == username)) is not None:
        return DemoCredentials(username, None, role.value)
    password = generate_password()
    auth.create_user(session, DEMO_ACTOR, username, password, role, display_name=username)
    return DemoCredentials(username, password, role.value)


def load_demo(db: Database, images_dir: Path | None = None,
              cipher: FieldCipher | None = None) -> DemoResult:
    """Idempotent: a second run adds nothing and reveals no password. With a field cipher, also
    the demo work for the console (reports, leads, ad networks, a case)."""
    with db.session() as session:
        accounts = [_ensure_account(session, "demo-analyst", Role.ANALYST),
                    _ensure_account(session, "demo-admin", Role.ADMIN)]
        existing = {s.bank.name for s in banks.list_banks(session)}
        if KNOWN_BANK not in existing:
            banks.create_bank(session, DEMO_ACTOR, KNOWN_BANK, pdq_threshold=31,
                              triage_on_match=True,
                              description="Hashes of generated, benign demo pictures; a "
                              "match opens a triage item.")
        if NEGATIVE_BANK not in existing:
            banks.create_bank(session, DEMO_ACTOR, NEGATIVE_BANK, kind="negative",
                              pdq_threshold=20,
                              description="Known false positives: a match here suppresses "
                              "positive matches.")
        entries: list[ParsedEntry] = []
        for seed in range(KNOWN_COUNT):
            data = _jpeg(draw_scene(seed))
            pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
            pdq, quality = pdq_from_pixels(pixels)
            entries += [
                ParsedEntry(line=seed + 1, signal_type=signal_type, value=value, quality=q,
                            tags=("demo", "benign"), source="safeguard-demo",
                            source_id=f"demo-{seed}")
                for signal_type, value, q in (
                    ("pdq", pdq, quality),
                    ("md5", hashlib.md5(data, usedforsecurity=False).hexdigest(), None),
                    ("sha256", hashlib.sha256(data).hexdigest(), None))
            ]
        added = banks.add_entries(session, DEMO_ACTOR, KNOWN_BANK, entries,
                                  action="demo.load").added
        # The last demo picture is also a reviewed false positive, so the demo shows a
        # suppressed match and its reason.
        false_positive = entries[-3]
        banks.add_entries(session, DEMO_ACTOR, NEGATIVE_BANK, [ParsedEntry(
            line=1, signal_type="pdq", value=false_positive.value, quality=false_positive.quality,
            tags=("demo", "reviewed-not-abuse"), source="safeguard-demo-review",
            source_id=false_positive.source_id)], action="demo.load")
        work = load_workload(session, DEMO_ACTOR, cipher, KNOWN_BANK) if cipher else None
    if images_dir is not None:
        _write_images(images_dir)
    return DemoResult(accounts, images_dir, added, work)


def _write_images(root: Path) -> None:
    known, altered, unknown = root / "known", root / "altered", root / "unknown"
    for folder in (known, altered, unknown):
        folder.mkdir(parents=True, exist_ok=True)
    for seed in range(KNOWN_COUNT):
        scene = draw_scene(seed)
        (known / f"demo-{seed}.jpg").write_bytes(_jpeg(scene))
        for name, copy in _altered_copies(scene).items():
            (altered / f"demo-{seed}-{name}.jpg").write_bytes(_jpeg(copy))
    for seed in range(1000, 1000 + UNKNOWN_COUNT):
        (unknown / f"other-{seed}.jpg").write_bytes(_jpeg(draw_scene(seed)))
