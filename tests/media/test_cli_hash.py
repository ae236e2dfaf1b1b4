"""`safeguard hash`: whole hashes, clear errors, a note when a video gets no vPDQ."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeguard.cli.main import app
from safeguard.demo import draw_scene
from safeguard.media.hashers import pdq_from_pixels

runner = CliRunner()


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    buf = io.BytesIO()
    draw_scene(3).save(buf, "PNG")
    path = tmp_path / "scene.png"
    path.write_bytes(buf.getvalue())
    return path


def test_prints_whole_hashes_one_per_line(picture: Path) -> None:
    import numpy as np
    from PIL import Image

    result = runner.invoke(app, ["hash", str(picture)])
    assert result.exit_code == 0, result.output
    rows = {line.split("\t")[0]: line.split("\t") for line in result.stdout.splitlines()}
    data = picture.read_bytes()
    assert rows["sha256"][1] == hashlib.sha256(data).hexdigest()
    assert rows["md5"][1] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    expected_pdq, quality = pdq_from_pixels(np.asarray(Image.open(picture).convert("RGB")))
    assert rows["pdq"][1] == expected_pdq and rows["pdq"][2] == str(quality)
    assert rows["pdq"][3] == str(picture)


def test_jsonl_and_a_bad_file_among_good_ones(picture: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    result = runner.invoke(app, ["hash", "--jsonl", str(empty), str(picture)])
    assert result.exit_code == 1
    assert "empty.jpg" in result.stderr and "empty" in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["signal_type"] for r in records} == {"pdq", "md5", "sha256"}
    assert all(r["file"] == str(picture) for r in records)


def test_video_without_vpdq_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from safeguard.media import video

    monkeypatch.setattr(video, "_load_vpdq", lambda: None)  # as when vpdq is not installed
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(512))
    result = runner.invoke(app, ["hash", str(clip)])
    assert result.exit_code == 0, result.output
    assert "pip install vpdq" in result.stderr
    assert {line.split("\t")[0] for line in result.stdout.splitlines()} == {"md5", "sha256"}
