"""Bad input must fail clearly, naming the file; limits hold before pixels are decoded."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from safeguard.media import CorruptMedia, MediaError, MediaTooLarge, UnsupportedMedia, decode_image
from safeguard.media import _pdq_kernels as kernels
from safeguard.media.decode import decode_rgb_luma
from tests.media.conftest import encode, scene


def huge_png(width: int, height: int) -> bytes:
    """A valid, tiny PNG whose header claims ``width`` x ``height`` (a decompression bomb)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 4)  # a few rows; never fully read
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(
        b"IEND", b"")


def test_decodes_rgb_uint8() -> None:
    rgb = decode_image(encode(scene(), "PNG"), label="ok.png")
    assert rgb.dtype == np.uint8 and rgb.shape == (240, 320, 3)
    assert rgb.flags["C_CONTIGUOUS"]


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "CMYK", "I;16"])
def test_every_mode_becomes_rgb(mode: str) -> None:
    image = Image.fromarray(scene()).convert(mode if mode != "I;16" else "L")
    if mode == "I;16":
        image = Image.fromarray(np.asarray(image).astype(np.uint16) * 256)
    fmt = "JPEG" if mode == "CMYK" else "TIFF" if mode == "I;16" else "PNG"
    buf = io.BytesIO()
    image.save(buf, fmt)
    assert decode_image(buf.getvalue(), label="m").shape == (240, 320, 3)


def test_zero_bytes_names_the_file() -> None:
    with pytest.raises(CorruptMedia, match=r"^empty\.jpg: empty file"):
        decode_image(b"", label="empty.jpg")


def test_truncated_jpeg() -> None:
    data = encode(scene(), quality=90)
    with pytest.raises(CorruptMedia, match="cut.jpg: truncated"):
        decode_image(data[: len(data) // 2], label="cut.jpg")


def test_corrupt_png_body() -> None:
    data = bytearray(encode(scene(), "PNG"))
    data[60:400] = bytes(340)
    with pytest.raises(CorruptMedia, match="bad.png"):
        decode_image(bytes(data), label="bad.png")


@pytest.mark.parametrize("data", [b"hello, not an image", b"%PDF-1.7\n" + bytes(200)])
def test_non_image(data: bytes) -> None:
    with pytest.raises(UnsupportedMedia, match="notes.txt: not an image"):
        decode_image(data, label="notes.txt")


def test_pixel_limit_checked_on_header_before_decoding() -> None:
    # 81 M pixels: under Pillow's own guard, over ours (50 M); only the header is read.
    with pytest.raises(MediaTooLarge, match="bomb.png: 9000x9000 = 81,000,000 pixels"):
        decode_image(huge_png(9000, 9000), label="bomb.png")
    with pytest.raises(MediaTooLarge, match="bomb.png: decompression bomb"):
        decode_image(huge_png(30_000, 30_000), label="bomb.png")


def test_pillow_bomb_guard_becomes_media_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    data = encode(scene(), "PNG")  # 76,800 pixels: above 2x Pillow's limit -> its error
    with pytest.raises(MediaTooLarge, match="decompression bomb"):
        decode_image(data, label="p.png", max_pixels=10**9)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50_000)  # between 1x and 2x -> warning
    with pytest.raises(MediaTooLarge, match="decompression bomb"):
        decode_image(data, label="p.png", max_pixels=10**9)


def test_byte_limit() -> None:
    with pytest.raises(MediaTooLarge, match="big.png: .* over the 100-byte limit"):
        decode_image(encode(scene(), "PNG"), label="big.png", max_bytes=100)


@pytest.mark.parametrize(("orientation", "shape"), [(1, (240, 320)), (3, (240, 320)),
                                                    (6, (320, 240)), (8, (320, 240))])
def test_exif_orientation_applied(orientation: int, shape: tuple[int, int]) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    rgb = scene()
    data = encode(rgb, quality=95, exif=exif.tobytes())
    decoded = decode_image(data, label="o.jpg")
    assert decoded.shape[:2] == shape
    if orientation == 6:  # camera turned: stored picture is shown turned 90° clockwise
        expected = np.rot90(rgb, -1)
        assert np.abs(decoded.astype(int) - expected).mean() < 6


def test_draft_decodes_jpeg_smaller() -> None:
    data = encode(scene(0, (1024, 768)), quality=90)
    assert decode_image(data, label="d.jpg", draft=True).shape == (384, 512, 3)
    assert decode_image(encode(scene(), "PNG"), label="d.png", draft=True).shape == (240, 320, 3)


def test_all_errors_are_value_errors() -> None:
    assert issubclass(MediaError, ValueError)
    for cls in (CorruptMedia, MediaTooLarge, UnsupportedMedia):
        error = cls("file.bin", "problem")
        assert isinstance(error, MediaError)
        assert str(error) == "file.bin: problem" and error.label == "file.bin"


@pytest.mark.parametrize(("fmt", "mode", "size"), [
    ("JPEG", "RGB", (320, 240)), ("JPEG", "L", (320, 240)), ("JPEG", "CMYK", (320, 240)),
    ("PNG", "RGBA", (320, 240)), ("PNG", "P", (320, 240)), ("PNG", "RGB", (2600, 2000)),
])
def test_decode_rgb_luma_is_the_luma_of_decode_image(
    fmt: str, mode: str, size: tuple[int, int],
) -> None:
    buf = io.BytesIO()
    Image.fromarray(scene(4, size)).convert(mode).save(buf, fmt)
    data = buf.getvalue()
    luma = decode_rgb_luma(data, label="l")
    assert luma.dtype == np.float32
    assert np.array_equal(luma, kernels.luma_from_rgb(decode_image(data, label="l")))


def test_decode_rgb_luma_applies_exif_orientation_and_limits() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(scene(), quality=95, exif=exif.tobytes())
    luma = decode_rgb_luma(data, label="o.jpg")
    assert luma.shape == (320, 240)
    assert np.array_equal(luma, kernels.luma_from_rgb(decode_image(data, label="o.jpg")))
    with pytest.raises(MediaTooLarge, match="bomb.png"):
        decode_rgb_luma(huge_png(9000, 9000), label="bomb.png")
    with pytest.raises(CorruptMedia, match="cut.jpg"):
        decode_rgb_luma(data[: len(data) // 2], label="cut.jpg")
