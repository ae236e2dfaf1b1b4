"""Write the shared PDQ/MD5 test vectors that pytest (Python hasher) and Node (the portal's
on-device hasher, safeguard/web/static/portal/pdq.js) both check.

    .venv/bin/python -m tests.media.make_pdq_vectors   # rewrites tests/media/pdq_vectors/

Every picture is benign and generated here (flat fields, gradients, stripes, checkerboards,
smooth "scenes", noise) or a small crop of a scikit-image sample. The cases are chosen where
float32 bits decide hash bits: flat and symmetric pictures put many DCT coefficients at or
next to the median; minimum-size, non-square and odd sizes exercise every box-filter branch;
exactly 64x64 skips the filter; a large picture uses wide filter windows.

File format (``encoding: "rgba-sub-deflate"``): the RGBA bytes, row by row, each byte replaced
by its difference (mod 256) from the byte 4 places earlier in the row (PNG's "Sub" filter),
then zlib-compressed. Smooth pictures shrink a lot, and a Node decoder is ten lines.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from safeguard.media import _pdq_kernels as kernels
from safeguard.media.pdq import pdq_from_pixels

VECTORS_DIR = Path(__file__).with_name("pdq_vectors")
MANIFEST = "vectors.json"


def _rgba(rgb: np.ndarray, alpha: int | np.ndarray = 255) -> np.ndarray:
    h, w = rgb.shape[:2]
    out = np.empty((h, w, 4), np.uint8)
    out[..., :3] = rgb
    out[..., 3] = alpha
    return out


def _grey(values: np.ndarray) -> np.ndarray:
    v = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return np.repeat(v[..., None], 3, axis=2)


def flat(h: int, w: int, level: int) -> np.ndarray:
    return _rgba(np.full((h, w, 3), level, np.uint8))


def gradient(h: int, w: int, axis: str) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    field = {"x": xs / max(w - 1, 1), "y": ys / max(h - 1, 1),
             "xy": (xs / max(w - 1, 1) + ys / max(h - 1, 1)) / 2}[axis]
    return _rgba(_grey(field * 255))


def colour_gradient(h: int, w: int) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    rgb = np.stack([xs / (w - 1) * 255, ys / (h - 1) * 255, (1 - xs / (w - 1)) * 200], axis=2)
    return _rgba(np.clip(np.rint(rgb), 0, 255).astype(np.uint8))


def stripes(h: int, w: int, period: int) -> np.ndarray:
    xs = np.arange(w)[None, :].repeat(h, 0)
    return _rgba(_grey(np.where((xs // period) % 2 == 0, 40, 215)))


def checker(h: int, w: int, cell: int) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w]
    return _rgba(_grey(np.where(((ys // cell) + (xs // cell)) % 2 == 0, 0, 255)))


def scene(h: int, w: int, seed: int) -> np.ndarray:
    """Smooth sinusoids plus a few solid blocks (like tests/media/conftest.scene)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    image = np.zeros((h, w, 3))
    for channel in range(3):
        fx, fy = rng.uniform(1, 6, 2)
        image[..., channel] = 127 + 100 * np.sin(xs / w * fx * np.pi + channel) * np.cos(
            ys / h * fy * np.pi)
    for _ in range(6):
        bh = int(rng.integers(h // 20 + 1, h // 4 + 2))
        bw = int(rng.integers(w // 20 + 1, w // 4 + 2))
        y, x = int(rng.integers(0, max(h - bh, 1))), int(rng.integers(0, max(w - bw, 1)))
        image[y:y + bh, x:x + bw] = rng.integers(0, 256, 3)
    return _rgba(np.clip(np.rint(image), 0, 255).astype(np.uint8))


def noise(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return _rgba(rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
                 rng.integers(0, 256, (h, w), dtype=np.uint8))


def skimage_crop(name: str, top: int, left: int, h: int, w: int) -> np.ndarray:
    from skimage import data as skdata

    picture = np.asarray(getattr(skdata, name)())
    if picture.ndim == 2:
        picture = np.repeat(picture[..., None], 3, axis=2)
    return _rgba(np.ascontiguousarray(picture[top:top + h, left:left + w, :3]))


CASES: dict[str, Callable[[], np.ndarray]] = {
    "below-minimum-4x4": lambda: noise(4, 4, 1),
    "below-minimum-300x4": lambda: gradient(4, 300, "x"),
    "minimum-5x5-noise": lambda: noise(5, 5, 2),
    "minimum-5x5-flat": lambda: flat(5, 5, 128),
    "minimum-5x200-gradient": lambda: gradient(5, 200, "x"),
    "flat-black-100x100": lambda: flat(100, 100, 0),
    "flat-grey-257x129": lambda: flat(129, 257, 127),
    "flat-white-64x64": lambda: flat(64, 64, 255),
    "exact-64x64-gradient": lambda: gradient(64, 64, "xy"),
    "exact-64x64-scene": lambda: scene(64, 64, 3),
    "64x65-gradient-y": lambda: gradient(65, 64, "y"),
    "gradient-x-256x128": lambda: gradient(128, 256, "x"),
    "gradient-y-97x301": lambda: gradient(301, 97, "y"),
    "gradient-xy-129x129": lambda: gradient(129, 129, "xy"),
    "colour-gradient-200x150": lambda: colour_gradient(150, 200),
    "stripes-period-3-130x260": lambda: stripes(130, 260, 3),
    "stripes-period-64-128x256": lambda: stripes(128, 256, 64),
    "checker-8-128x128": lambda: checker(128, 128, 8),
    "checker-1-63x63": lambda: checker(63, 63, 1),
    "scene-320x240": lambda: scene(240, 320, 0),
    "scene-odd-201x131": lambda: scene(131, 201, 7),
    "scene-tall-70x517": lambda: scene(517, 70, 11),
    "noise-alpha-77x51": lambda: noise(51, 77, 5),
    # Blown up 5x (nearest neighbour) so it compresses; still filtered with wide windows.
    "large-scene-1100x830": lambda: scene(166, 220, 21).repeat(5, 0).repeat(5, 1),
    "skimage-camera-crop-160x120": lambda: skimage_crop("camera", 100, 180, 120, 160),
    "skimage-coffee-crop-150x110": lambda: skimage_crop("coffee", 150, 200, 110, 150),
}


def sub_filter(rgba: np.ndarray) -> bytes:
    rows = rgba.reshape(rgba.shape[0], -1).astype(np.int16)
    out = rows.copy()
    out[:, 4:] = rows[:, 4:] - rows[:, :-4]
    return (out % 256).astype(np.uint8).tobytes()


def unsub_filter(data: bytes, height: int, width: int) -> np.ndarray:
    rows = np.frombuffer(data, np.uint8).reshape(height, width * 4).astype(np.int64)
    out = np.empty_like(rows)
    for c in range(4):
        out[:, c::4] = np.cumsum(rows[:, c::4], axis=1) % 256
    return out.astype(np.uint8).reshape(height, width, 4)


def dct_sha256() -> str:
    """Digest of the DCT table's little-endian float32 bytes, for Node to compare with."""
    table = kernels.dct_matrix().astype("<f4")
    return hashlib.sha256(table.tobytes()).hexdigest()


def expected(rgba: np.ndarray) -> dict[str, object]:
    value, quality = pdq_from_pixels(rgba[..., :3])
    return {"pdq": value, "quality": quality, "md5": hashlib.md5(rgba.tobytes()).hexdigest()}


def write_raw_batch(
    images: list[np.ndarray], directory: Path, blobs: tuple[bytes, ...] = (),
) -> Path:
    """A batch for the Node runner without expected values (hypothesis tests compare):
    RGBA pictures (PDQ and MD5) and plain byte strings (MD5 only)."""
    items: list[dict[str, object]] = []
    for n, rgba in enumerate(images):
        name = f"case-{n}.rgba"
        (directory / name).write_bytes(np.ascontiguousarray(rgba).tobytes())
        items.append({"name": name, "file": name, "encoding": "rgba",
                      "width": int(rgba.shape[1]), "height": int(rgba.shape[0])})
    for n, blob in enumerate(blobs):
        name = f"blob-{n}.bytes"
        (directory / name).write_bytes(blob)
        items.append({"name": name, "file": name, "encoding": "bytes"})
    manifest = directory / MANIFEST
    manifest.write_text(json.dumps({"vectors": items}), encoding="utf-8")
    return manifest


def main(directory: Path = VECTORS_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.bin"):
        stale.unlink()
    items = []
    for name, make in CASES.items():
        rgba = make()
        file = f"{name}.bin"
        (directory / file).write_bytes(zlib.compress(sub_filter(rgba), 9))
        items.append({"name": name, "file": file, "encoding": "rgba-sub-deflate",
                      "width": int(rgba.shape[1]), "height": int(rgba.shape[0]),
                      **expected(rgba)})
    manifest = {
        "about": "PDQ/MD5 vectors shared by pytest and Node; "
                 "made by tests/media/make_pdq_vectors.py",
        "dct_float32_le_sha256": dct_sha256(),
        "vectors": items,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in directory.iterdir())
    print(f"{len(items)} vectors, {total:,} bytes in {directory}")


if __name__ == "__main__":
    main()
