"""Safe, in-memory image decoding.

Limits are checked on the header before any pixel is decoded, Pillow's own bomb guard is
turned into ``MediaTooLarge``, and every failure names the file. Nothing touches the disk.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from safeguard.media import _pdq_kernels as kernels
from safeguard.media.errors import CorruptMedia, MediaError, MediaTooLarge, UnsupportedMedia

DEFAULT_MAX_PIXELS = 50_000_000
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
# Reduced-size JPEG decode keeps at least this many pixels on the short side, so PDQ's
# 64x64 decimation still averages several source pixels per cell (measured in
# docs/benchmarks-media.md: 1/2 scale keeps p99 drift within the 8-bit budget).
DRAFT_MIN_SIDE = 256
DRAFT_MAX_REDUCTION = 2


def check_size(data: bytes, label: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    if not data:
        raise CorruptMedia(label, "empty file (0 bytes)")
    if len(data) > max_bytes:
        raise MediaTooLarge(label, f"{len(data):,} bytes is over the {max_bytes:,}-byte limit")


@contextmanager
def open_image(
    data: bytes, label: str, max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[Image.Image]:
    """Open (header only) with every limit enforced; errors become ``MediaError``."""
    check_size(data, label, max_bytes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise MediaTooLarge(label, f"decompression bomb refused ({exc})") from exc
        except UnidentifiedImageError as exc:
            raise UnsupportedMedia(label, "not an image format Safeguard can read") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise CorruptMedia(label, f"damaged image header ({exc})") from exc
    if any(issubclass(w.category, Image.DecompressionBombWarning) for w in caught):
        image.close()
        raise MediaTooLarge(label, "decompression bomb refused (Pillow pixel limit)")
    with image:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise CorruptMedia(label, f"image claims a size of {width}x{height}")
        if width * height > max_pixels:
            raise MediaTooLarge(
                label, f"{width}x{height} = {width * height:,} pixels is over the "
                f"{max_pixels:,}-pixel limit (possible decompression bomb)",
            )
        yield image


def apply_draft(image: Image.Image, mode: str) -> None:
    """Ask libjpeg for a reduced-size decode (1/2 at most, never below DRAFT_MIN_SIDE)."""
    if image.format != "JPEG":
        return
    width, height = image.size
    reduction = DRAFT_MAX_REDUCTION
    while reduction > 1 and min(width, height) // reduction < DRAFT_MIN_SIDE:
        reduction //= 2
    if reduction > 1 or mode != image.mode:
        image.draft(mode, (width // reduction, height // reduction))


def load_oriented(image: Image.Image, label: str) -> Image.Image:
    """Decode pixels and apply the EXIF orientation in place (no copy of an upright
    picture); damaged data becomes ``CorruptMedia``."""
    try:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
    except MediaError:
        raise
    except MemoryError as exc:
        raise MediaTooLarge(label, "not enough memory to decode") from exc
    except Exception as exc:  # Pillow raises many types for damaged data
        problem = "truncated image data" if "truncated" in str(exc) else f"damaged image ({exc})"
        raise CorruptMedia(label, problem) from exc
    return image


def to_rgb_array(image: Image.Image) -> np.ndarray:
    """HxWx3 uint8, C-contiguous. An RGB image costs one copy (Pillow keeps 4 bytes a
    pixel and packs them); other modes are converted first."""
    if image.mode in ("P", "PA") and "transparency" in image.info:
        image = image.convert("RGBA")
    # RGBA -> RGB drops alpha, as threatexchange does when it hashes RGBA pixels.
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def decode_image(
    data: bytes, *, label: str = "<upload>", max_pixels: int = DEFAULT_MAX_PIXELS,
    draft: bool = False, max_bytes: int = DEFAULT_MAX_BYTES,
) -> np.ndarray:
    """Decode image bytes to RGB uint8 HxWx3 with EXIF orientation applied.

    ``draft=True`` lets libjpeg decode JPEGs at reduced size (faster; pixels differ).
    Raises ``MediaError`` subclasses naming ``label`` for empty, truncated, corrupt,
    non-image or oversized input.
    """
    with open_image(data, label, max_pixels, max_bytes) as image:
        if draft:
            apply_draft(image, "RGB")
        return to_rgb_array(load_oriented(image, label))


def decode_rgb_luma(
    data: bytes, *, label: str = "<upload>", max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> np.ndarray:
    """PDQ's float32 luma of the decoded RGB with EXIF orientation applied: exactly
    ``luma_from_rgb(decode_image(data))`` (pdqhash's formula). Same errors as
    ``decode_image``."""
    with open_image(data, label, max_pixels, max_bytes) as image:
        load_oriented(image, label)
        return kernels.luma_from_rgb(to_rgb_array(image))
