"""Wellness by construction: the console shows no media at all (Safeguard holds hashes, not
files), so no analyst is exposed to an image by opening a page. If a page ever needs a
preview, it must come with the blurred, greyscale, reveal-one-at-a-time (audited) treatment
that issue 4 asks for; this test is the reminder."""

from __future__ import annotations

import re
from pathlib import Path

import safeguard.web

TEMPLATES = Path(safeguard.web.__file__).parent / "templates" / "console"
MEDIA = re.compile(r"<\s*(img|video|audio|picture|source|canvas|object|embed|iframe)\b"
                   r"|url\(\s*['\"]?data:image", re.IGNORECASE)


def test_console_templates_show_no_media() -> None:
    pages = sorted(TEMPLATES.glob("*.html"))
    assert len(pages) >= 10  # the folder is where this test thinks it is
    offending = {p.name: m.group(0) for p in pages if (m := MEDIA.search(p.read_text()))}
    assert not offending, f"media elements in console pages: {offending}"


def test_the_pattern_finds_media() -> None:
    assert MEDIA.search('<img src="/x.png" alt="">')
    assert MEDIA.search("<VIDEO muted>")
    assert MEDIA.search("background: url('data:image/png;base64,AAAA')")
    assert not MEDIA.search("<svg class=\"link-graph\"><text>phone</text></svg>")
