"""Outreach (CR-14): poster (PDF, PNG, CLI) with a QR code to the portal in a chosen language,
the embeddable report button and its no-JavaScript snippet, guides."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from lxml import html
from PIL import Image
from typer.testing import CliRunner

from safeguard.cli.main import app as cli
from safeguard.web.poster import HEIGHT, WIDTH, _qr_image, poster_for

pytestmark = pytest.mark.cr("CR-14")


@pytest.fixture
def cli_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    """The CLI with default settings (posters need no database), run from an empty folder."""
    from safeguard.config import get_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SAFEGUARD_PUBLIC_URL", raising=False)
    monkeypatch.setenv("SAFEGUARD_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def _contains_qr_for(image: Image.Image, target: str) -> bool:
    """True if the exact QR code of `target` (as the poster draws it) is in the image."""
    page = np.asarray(image.convert("L"))
    qr = np.asarray(_qr_image(target, 640).convert("L"))
    h, w = qr.shape
    x = (WIDTH - w) // 2
    rows = np.where((page[:, x:x + w] == qr[0]).all(axis=1))[0]
    return any(np.array_equal(page[y:y + h, x:x + w], qr) for y in rows if y + h <= HEIGHT)


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_png_poster_has_the_qr_code_to_the_portal_in_that_language(portal_client,
                                                                    lang: str) -> None:
    response = portal_client.get(f"/poster.png?lang={lang}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (WIDTH, HEIGHT)
    assert _contains_qr_for(image, f"https://report.example.org/{lang}/")
    assert not _contains_qr_for(image, "https://report.example.org/en/")


def test_pdf_poster(portal_client) -> None:
    response = portal_client.get("/poster.pdf?lang=es")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert b"/MediaBox" in response.content


def test_posters_differ_by_language() -> None:
    assert poster_for("https://r.example.org", "fr", "png") != \
        poster_for("https://r.example.org", "pt", "png")


@pytest.mark.parametrize("query", ["lang=xx", "lang=", "lang=" + "e" * 9])
def test_bad_poster_language_is_refused(portal_client, query: str) -> None:
    response = portal_client.get(f"/poster.png?{query}")
    assert response.status_code in (400, 422)
    if response.status_code == 400:
        assert "unknown language" in response.text


def test_cli_poster_writes_the_same_poster(cli_settings, tmp_path: Path) -> None:
    out = tmp_path / "poster.png"
    result = CliRunner().invoke(cli, ["portal", "poster", "--lang", "fr", "--out", str(out),
                                      "--url", "https://report.example.org"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == poster_for("https://report.example.org", "fr", "png")
    pdf = tmp_path / "poster.pdf"
    result = CliRunner().invoke(cli, ["portal", "poster", "--lang", "ar", "--out", str(pdf),
                                      "--url", "https://report.example.org"])
    assert result.exit_code == 0 and pdf.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(("args", "message"), [
    (["--lang", "xx", "--out", "p.pdf", "--url", "https://r.example.org"], "unknown language"),
    (["--lang", "fr", "--out", "p.svg", "--url", "https://r.example.org"], ".pdf or .png"),
    (["--lang", "fr", "--out", "p.pdf"], "no portal address"),
    (["--lang", "fr", "--out", "p.pdf", "--url", "ftp://r.example.org"], "http:// or https://"),
    (["--lang", "fr", "--out", "/nonexistent-dir/p.pdf", "--url", "https://r.example.org"],
     "cannot write"),
])
def test_cli_poster_bad_input(cli_settings, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["portal", "poster", *args])
    assert result.exit_code == 1
    assert message in result.output


def test_cli_help_check(cli_settings, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["portal", "help-check"])
    assert result.exit_code == 0 and "0800 1111" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[[countries]]\ncode = "GB"\n[[countries.contacts]]\nkind = "helpline"\n'
                   'name = "x"\nphone = "1"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["portal", "help-check", "--file", str(bad)])
    assert result.exit_code == 1 and "source is missing" in result.output


def test_embed_script_only_styles_the_link(portal_client) -> None:
    response = portal_client.get("/embed/button.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "set-cookie" not in response.headers
    code = response.text
    for tracking in ("cookie", "fetch(", "XMLHttpRequest", "sendBeacon", "localStorage",
                     "new Image", "navigator."):
        assert tracking not in code.replace("sets no cookies", "")
    assert "safeguard-report-button" in code


def test_share_page_gives_a_plain_link_snippet_and_posters(portal_client) -> None:
    doc = html.fromstring(portal_client.get("/fr/share").text)
    snippet = doc.get_element_by_id("snippet-link").text_content()
    link = html.fromstring(snippet)
    assert link.tag == "a" and link.get("class") == "safeguard-report-button"
    assert link.get("href") == "https://report.example.org/fr/"
    assert link.get("rel") == "noreferrer"
    assert link.text_content() == "Signaler quelque chose en ligne"
    script = doc.get_element_by_id("snippet-script").text_content()
    assert script == '<script src="https://report.example.org/embed/button.js" async></script>'
    hrefs = doc.xpath("//a/@href")
    assert {"/poster.pdf?lang=ar", "/poster.png?lang=pt"} <= set(hrefs)


@pytest.mark.parametrize("reader", ["parents", "teachers"])
def test_guides(portal_client, reader: str) -> None:
    response = portal_client.get(f"/en/guides/{reader}")
    assert response.status_code == 200
    assert "Do not" in response.text and "save" in response.text
