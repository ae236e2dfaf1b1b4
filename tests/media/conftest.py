"""Benign test pictures: bundled scikit-image files (read from the wheel) or generated."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def scene(seed: int = 0, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    """Smooth gradients plus blocks: enough structure for a quality >= 50 PDQ."""
    rng = np.random.default_rng(seed)
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w]
    image = np.zeros((h, w, 3), np.float64)
    for channel in range(3):
        fx, fy = rng.uniform(1, 6, 2)
        image[..., channel] = 127 + 100 * np.sin(xs / w * fx * np.pi + channel) * np.cos(
            ys / h * fy * np.pi)
    for _ in range(6):
        x, y = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 40))
        image[y:y + int(rng.integers(10, 40)), x:x + int(rng.integers(10, 40))] = rng.integers(
            0, 256, 3)
    return np.clip(image, 0, 255).astype(np.uint8)


def encode(rgb: np.ndarray, fmt: str = "JPEG", **params: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **params)
    return buf.getvalue()


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    skimage_data = pytest.importorskip("skimage.data")
    path = Path(skimage_data.__file__).parent / "astronaut.png"
    if not path.is_file():
        pytest.skip("scikit-image wheel without bundled astronaut.png")
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))
