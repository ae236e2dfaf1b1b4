"""On-device hashing in Chromium (issue 3, CR-07): the portal's JavaScript hashes the child's
files in the page, its PDQ stays within a few bits of the Python hasher on the same PNG/JPEG
file (the decoders differ, the arithmetic does not: tests/media/test_pdq_vectors.py proves
bit-exactness on the same pixels), its MD5 is exact, and the file's bytes never leave the page.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from typing import Any

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import FilePayload, Page, Request, Route, expect
from sqlalchemy import text

from safeguard.media import hamming_hex, hash_bytes
from tests.support.browser import assert_accessible
from tests.support.live_server import LiveServer

MAX_PDQ_DRIFT = 8  # bits out of 256, for two different PNG/JPEG decoders (PIL vs Chromium)


def _picture(name: str) -> np.ndarray:
    skimage_data = pytest.importorskip("skimage.data")
    return np.ascontiguousarray(np.asarray(getattr(skimage_data, name)())[..., :3])


def _encode(rgb: np.ndarray, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **params)
    return buf.getvalue()


def _rotated_jpeg(rgb: np.ndarray) -> bytes:
    """The picture stored sideways with EXIF Orientation=6 ("rotate 90 clockwise to view"),
    as phones save it: both hashers must apply the tag."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return _encode(np.ascontiguousarray(np.rot90(rgb, 1)), "JPEG", quality=92, exif=exif)


def _hash_page(server: LiveServer, page: Page, lang: str = "en") -> str:
    """The report form: the portal page that carries the hashing fieldset."""
    path = f"/{lang}/report"
    response = page.goto(f"{server.url}{path}")
    assert response is not None and response.ok
    expect(page.locator("fieldset[data-hash-on-device]")).to_have_count(1)
    return path


def _hash_files(page: Page, files: list[FilePayload]) -> dict[str, str]:
    page.locator("#device-files").set_input_files(files)
    expect(page.locator("[data-hash-status]")).to_have_text(
        re.compile("Only the codes will be sent"), timeout=60_000)
    lines = page.locator("textarea[name=hashes]").input_value().splitlines()
    return {line.split()[0] + ":" + line.split()[1]: line for line in lines}


def _file(name: str, mime: str, data: bytes) -> FilePayload:
    return {"name": name, "mimeType": mime, "buffer": data}


def test_pdq_within_a_few_bits_and_md5_exact_on_png_and_jpeg(
    live_server: LiveServer, page: Page, save_screenshot: Any,
) -> None:
    astronaut, coffee = _picture("astronaut"), _picture("coffee")
    files = {
        "astronaut.png": _encode(astronaut, "PNG"),
        "astronaut.jpg": _encode(astronaut, "JPEG", quality=90),
        "coffee.jpg": _encode(coffee, "JPEG", quality=85),
        "coffee-sideways.jpg": _rotated_jpeg(coffee),
    }
    _hash_page(live_server, page)
    mime = {"png": "image/png", "jpg": "image/jpeg"}
    lines = _hash_files(page, [_file(n, mime[n.rsplit(".", 1)[1]], d) for n, d in files.items()])

    assert page.locator("[data-hash-list] li").count() == len(files)
    for name, data in files.items():
        ours = {r.signal_type: r for r in hash_bytes(data, label=name,
                                                     signal_types=("pdq", "md5"), fast=False)}
        assert f"md5:{ours['md5'].value}" in lines, name  # exact
        item = page.locator("[data-hash-list] li").filter(has_text=name)
        expect(item).to_contain_text(ours["md5"].value)
        shown = item.locator("code").first.inner_text()
        distance = hamming_hex(shown, ours["pdq"].value)
        assert distance <= MAX_PDQ_DRIFT, f"{name}: {distance} bits from the Python hasher"
        line = lines[f"pdq:{shown}"].split()
        assert abs(int(line[2]) - (ours["pdq"].quality or 0)) <= 5, name
    # The sideways JPEG was turned upright (else it would be ~128 bits from the upright one).
    assert hamming_hex(lines_pdq(page, "coffee-sideways.jpg"), lines_pdq(page, "coffee.jpg")) <= 16
    assert_accessible(page)
    save_screenshot(page, "portal-hashing-done")


def lines_pdq(page: Page, name: str) -> str:
    item = page.locator("[data-hash-list] li").filter(has_text=name)
    return item.locator("code").first.inner_text()


def test_videos_and_unreadable_files_get_md5_only_with_a_message(
    live_server: LiveServer, page: Page,
) -> None:
    rng = np.random.default_rng(3)
    # Over two 4 MiB slices, so the streamed MD5 crosses slice boundaries.
    video = b"\x00\x00\x00\x18ftypmp42" + rng.integers(0, 256, 9_000_000, np.uint8).tobytes()
    broken = b"\x89PNG\r\n\x1a\n" + b"not really a picture"
    _hash_page(live_server, page)
    lines = _hash_files(page, [_file("holiday.mp4", "video/mp4", video),
                               _file("broken.png", "image/png", broken)])
    assert set(lines) == {f"md5:{hashlib.md5(video).hexdigest()}",
                          f"md5:{hashlib.md5(broken).hexdigest()}"}
    expect(page.locator("[data-hash-list] li").filter(has_text="holiday.mp4")).to_contain_text(
        "This is a video, so it gets a file code only.")
    expect(page.locator("[data-hash-list] li").filter(has_text="broken.png")).to_contain_text(
        "We could not open broken.png as a picture. It still has a file code.")

    # Taking a file off takes its codes out of what is sent.
    page.get_by_role("button", name="Remove holiday.mp4").click()
    assert page.locator("textarea[name=hashes]").input_value() == (
        f"md5 {hashlib.md5(broken).hexdigest()}")
    expect(page.locator("[data-hash-status]")).to_contain_text("was taken off")
    assert_accessible(page)


def _fill_report(page: Page) -> None:
    """Answer what the report form needs, so the report is really sent."""
    page.locator("input[name=what]").first.check()
    page.locator("input[name=age_band]").last.check()


def test_file_bytes_never_leave_the_page(live_server: LiveServer, page: Page) -> None:
    """Every request of the whole flow (page, scripts, styles, proof-of-work, the report post)
    is intercepted and its URL, headers and body searched for the picture's bytes; only the
    hashes may go, and they arrive in the reports store."""
    picture = _encode(_picture("astronaut")[::-1], "PNG")  # upside down: unique to this test
    chunk = picture[len(picture) // 2: len(picture) // 2 + 48]  # deep in the pixel data
    needles = [chunk, base64.b64encode(chunk), chunk.hex().encode(),
               base64.b64encode(picture[:3000])[:400]]
    seen: list[tuple[str, str, bytes]] = []

    def record(route: Route, request: Request) -> None:
        headers = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
        seen.append((request.method, request.url, (request.post_data_buffer or b"")
                     + headers.encode()))
        route.fallback()  # on to the network guard of the `page` fixture

    page.route("**/*", record)
    path = _hash_page(live_server, page)
    lines = _hash_files(page, [_file("me.png", "image/png", picture)])
    md5 = hashlib.md5(picture).hexdigest()
    pdq = next(line.split() for line in lines.values() if line.startswith("pdq "))
    assert f"md5:{md5}" in lines
    _fill_report(page)
    before_submit = len(seen)
    with page.expect_request(lambda r: r.method == "POST", timeout=60_000) as posted:
        page.locator("form").filter(has=page.locator("[data-hash-on-device]")).locator(
            "button[type=submit]").last.click()
    post = posted.value
    page.wait_for_load_state()
    expect(page.locator("#case-code")).to_be_visible(timeout=30_000)
    with live_server.db.session() as session:
        stored = {tuple(row) for row in session.execute(text(
            "SELECT kind, value, quality FROM report_hashes WHERE value IN (:m, :p)"),
            {"m": md5, "p": pdq[1]})}
    assert stored == {("md5", md5, None), ("pdq", pdq[1], int(pdq[2]))}

    assert len(seen) > before_submit and any(url.endswith(path) for _, url, _ in seen)
    for method, url, body in seen:
        for needle in needles:
            assert needle not in body and needle.decode("latin-1") not in url, (
                f"{method} {url} carried the file's bytes")
    sent = (post.post_data_buffer or b"").decode("utf-8", "replace")
    assert md5 in sent and pdq[1] in sent
    assert "me.png" not in sent  # not even the file name
    assert len(post.post_data_buffer or b"") < 4096 < len(picture)


def test_without_javascript_the_page_says_hashing_needs_it(
    live_server: LiveServer, new_page: Any,
) -> None:
    page: Page = new_page(java_script_enabled=False)
    _hash_page(live_server, page)
    expect(page.get_by_text("Making codes needs JavaScript, and it is off.")).to_be_visible()
    expect(page.locator("#device-files")).to_be_hidden()
    expect(page.get_by_text("Codes cannot find pictures inside those locked chats.")
           ).to_be_visible()
    # No axe here: it is injected as JavaScript, which this page refuses (the page hangs);
    # the markup is the same as the JavaScript page checked below, minus the file controls.


def test_file_input_cannot_be_submitted(live_server: LiveServer, page: Page) -> None:
    _hash_page(live_server, page)
    file_input = page.locator("#device-files")
    expect(file_input).to_be_visible()
    expect(page.get_by_text("Making codes needs JavaScript")).to_be_hidden()
    assert file_input.get_attribute("name") is None
    assert file_input.get_attribute("multiple") is not None
    expect(page.get_by_text("Do not send the pictures or videos. Not to us, and not to anyone.")
           ).to_be_visible()
    assert_accessible(page)
