"""Printable poster for schools and youth groups (CR-14): A4, a QR code that opens the portal in
the chosen language, a few words in that language, PNG or PDF.

Drawn with Pillow (which writes PDF too) and DejaVu fonts from Debian's fonts-dejavu-core, so no
font is downloaded; Arabic is shaped right to left by Pillow's raqm layout when present. The
CLI (`safeguard portal poster`) and the web routes (`/poster.pdf`, `/poster.png`) both call
:func:`poster_for`.
"""

from __future__ import annotations

import io
import logging
import re
from functools import lru_cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont, features

from safeguard.web.i18n import LANGUAGES, gettext

log = logging.getLogger(__name__)

POSTER_FORMATS = {"pdf": "application/pdf", "png": "image/png"}
DPI = 150
WIDTH, HEIGHT = 1240, 1754  # A4 at 150 dpi
MARGIN = 90
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
_URL = re.compile(r"^https?://[^\s\"'<>]{1,200}$")
INK = (26, 26, 46)
ACCENT = (29, 78, 137)


class PosterError(ValueError):
    """Bad poster request (language, format or address); the message says which."""


FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _font(bold: bool, size: int) -> FontType:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return ImageFont.truetype(str(folder / name), size,
                                      layout_engine=ImageFont.Layout.RAQM
                                      if features.check("raqm") else ImageFont.Layout.BASIC)
    # Without fonts-dejavu-core the poster still renders (Latin text only), and says why.
    log.warning("poster: DejaVu fonts not found (apt-get install fonts-dejavu-core); "
                "using Pillow's built-in font")
    return ImageFont.load_default(size=size)


def _direction(lang: str) -> str | None:
    # raqm needed for right-to-left shaping; without it Pillow refuses the direction argument.
    if LANGUAGES[lang].direction == "rtl" and features.check("raqm"):
        return "rtl"
    return None


def _width(font: FontType, text: str, direction: str | None) -> float:
    if isinstance(font, ImageFont.FreeTypeFont):
        return font.getlength(text, direction=direction)
    return font.getlength(text)


def _wrap(text: str, font: FontType, width: int, direction: str | None) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and _width(font, trial, direction) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def _paragraph(draw: ImageDraw.ImageDraw, top: int, text: str, font: FontType, lang: str,
               fill: tuple[int, int, int], width: int = WIDTH - 2 * MARGIN) -> int:
    """Draw centred, wrapped text; returns the y below it."""
    direction = _direction(lang)
    size = getattr(font, "size", 20)
    for line in _wrap(text, font, width, direction):
        x = (WIDTH - _width(font, line, direction)) / 2
        if direction:
            draw.text((x, top), line, font=font, fill=fill, direction=direction, language=lang)
        else:
            draw.text((x, top), line, font=font, fill=fill)
        top += int(size * 1.35)
    return top


def _qr_image(target: str, size: int) -> Image.Image:
    qr = segno.make(target, error="m")
    buffer = io.BytesIO()
    modules = qr.symbol_size(scale=1, border=4)[0]
    qr.save(buffer, kind="png", scale=max(1, size // modules), border=4)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def render_poster(portal_url: str, lang: str) -> Image.Image:
    if lang not in LANGUAGES:
        raise PosterError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
    if not _URL.match(portal_url):
        raise PosterError(f"portal address must start with http:// or https://, got "
                          f"{portal_url!r}")

    def _(msgid: str) -> str:
        return gettext(lang, msgid)

    target = f"{portal_url.rstrip('/')}/{lang}/"
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 420), fill=ACCENT)
    _paragraph(draw, 110, _("Is something online hurting you?"), _font(True, 76), lang,
               (255, 255, 255))
    y = _paragraph(draw, 480, _("You can tell us. You do not need to give your name."),
                   _font(False, 44), lang, INK)
    qr = _qr_image(target, 640)
    image.paste(qr, ((WIDTH - qr.width) // 2, y + 30))
    y += 30 + qr.height + 20
    y = _paragraph(draw, y, _("Scan the code or go to:"), _font(False, 38), lang, INK)
    y = _paragraph(draw, y, target, _font(True, 40), "en", ACCENT)
    draw.line((MARGIN, HEIGHT - 300, WIDTH - MARGIN, HEIGHT - 300), fill=ACCENT, width=4)
    _paragraph(draw, HEIGHT - 270,
               _("Are you in danger now? Call your emergency number."),
               _font(True, 40), lang, INK)
    _paragraph(draw, HEIGHT - 150, _("We never ask you to send pictures or videos."),
               _font(False, 34), lang, INK)
    return image


@lru_cache(maxsize=32)
def poster_for(portal_url: str, lang: str, fmt: str) -> bytes:
    """The poster as file bytes in `fmt` ("pdf" or "png")."""
    if fmt not in POSTER_FORMATS:
        raise PosterError(f"unknown poster format {fmt!r}: use pdf or png")
    image = render_poster(portal_url, lang)
    buffer = io.BytesIO()
    if fmt == "pdf":
        image.save(buffer, format="PDF", resolution=DPI, title="Safeguard poster")
    else:
        image.save(buffer, format="PNG", dpi=(DPI, DPI), optimize=True)
    return buffer.getvalue()
