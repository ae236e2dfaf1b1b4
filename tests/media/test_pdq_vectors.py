"""One set of PDQ/MD5 vectors, two hashers: the Python one (safeguard.media.pdq) and the child
portal's on-device JavaScript (safeguard/web/static/portal/pdq.js, md5.js) run under Node.
Both must give the same hex and quality bit for bit on the same pixels."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pdqhash
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from safeguard.media.pdq import pdq_from_pixels
from tests.media import make_pdq_vectors as vectors

RUNNER = Path(__file__).with_name("run_pdq_vectors.js")
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None, reason="node is not installed (make system-deps installs it); the on-device "
    "JavaScript hasher cannot be checked without it",
)


def _manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((vectors.VECTORS_DIR / vectors.MANIFEST).read_text())
    return data


def _load(item: dict[str, Any]) -> np.ndarray:
    raw = zlib.decompress((vectors.VECTORS_DIR / item["file"]).read_bytes())
    return vectors.unsub_filter(raw, item["height"], item["width"])


def _run_node(directory: Path) -> tuple[int, dict[str, Any]]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(RUNNER), str(directory)], capture_output=True, text=True, timeout=120,
        check=False,
    )
    assert done.stdout, f"node printed nothing; stderr:\n{done.stderr}"
    return done.returncode, json.loads(done.stdout)


def _reference_hex(bits: np.ndarray) -> str:
    return f"{int(''.join(str(b) for b in bits), 2):064x}"


ITEMS = _manifest()["vectors"]


@pytest.mark.parametrize("item", ITEMS, ids=[i["name"] for i in ITEMS])
def test_python_hasher_matches_vector(item: dict[str, Any]) -> None:
    rgba = _load(item)
    assert rgba.shape == (item["height"], item["width"], 4)
    assert pdq_from_pixels(rgba[..., :3]) == (item["pdq"], item["quality"])
    assert hashlib.md5(rgba.tobytes()).hexdigest() == item["md5"]
    # The expected values are also the field's: pdqhash (threatexchange's C++) agrees.
    if min(rgba.shape[:2]) >= 5:
        bits, quality = pdqhash.compute(np.ascontiguousarray(rgba[..., :3]))
        assert (_reference_hex(bits), quality) == (item["pdq"], item["quality"])


def test_vectors_are_what_the_generator_makes() -> None:
    names = [item["name"] for item in ITEMS]
    assert names == list(vectors.CASES)
    for item in ITEMS:
        assert np.array_equal(_load(item), vectors.CASES[item["name"]]()), item["name"]
    assert _manifest()["dct_float32_le_sha256"] == vectors.dct_sha256()


def test_vectors_cover_the_hard_cases_and_stay_small() -> None:
    sizes = {(item["width"], item["height"]) for item in ITEMS}
    assert (64, 64) in sizes  # the unfiltered path
    assert any(min(s) == 5 for s in sizes) and any(min(s) < 5 for s in sizes)
    assert any(w != h for w, h in sizes) and any(w * h > 800_000 for w, h in sizes)
    assert any(item["quality"] == 0 and item["pdq"] != "0" * 64 for item in ITEMS)  # flat
    total = sum(p.stat().st_size for p in vectors.VECTORS_DIR.iterdir())
    assert total < 300_000


@needs_node
def test_javascript_hasher_matches_every_vector() -> None:
    code, report = _run_node(vectors.VECTORS_DIR)
    assert report["failures"] == [] and code == 0
    assert report["checked"] == len(ITEMS)
    assert {r["name"]: r["pdq"] for r in report["results"]} == {i["name"]: i["pdq"] for i in ITEMS}


@needs_node
def test_runner_reports_a_wrong_expectation(tmp_path: Path) -> None:
    """The Node check can fail: flip one bit of one expected hash and it must say so."""
    manifest = _manifest()
    for item in manifest["vectors"]:
        shutil.copy(vectors.VECTORS_DIR / item["file"], tmp_path / item["file"])
    victim = manifest["vectors"][-1]
    victim["pdq"] = f"{int(victim['pdq'], 16) ^ 1:064x}"
    (tmp_path / vectors.MANIFEST).write_text(json.dumps(manifest))
    code, report = _run_node(tmp_path)
    assert code == 1
    assert report["failures"] == [{"name": victim["name"], "field": "pdq",
                                   "expected": victim["pdq"],
                                   "got": f"{int(victim['pdq'], 16) ^ 1:064x}"}]


def _picture(kind: str, rgba: np.ndarray) -> np.ndarray:
    if kind == "smooth":  # cumulative sums make gradients: near-median ties
        return np.cumsum(rgba, axis=1, dtype=np.uint8)
    if kind == "flat":
        return np.broadcast_to(rgba[:1, :1], rgba.shape).copy()
    if kind == "steps":  # few grey levels, repeated: exact ties in the DCT
        return (rgba // 64) * 64
    return rgba


pictures = st.builds(
    _picture,
    st.sampled_from(["noise", "smooth", "flat", "steps"]),
    st.one_of(
        st.tuples(st.integers(1, 140), st.integers(1, 140)),
        st.just((64, 64)),
        st.tuples(st.integers(5, 8), st.integers(100, 400)),
    ).flatmap(lambda hw: arrays(np.uint8, (hw[0], hw[1], 4), elements=st.integers(0, 255))),
)


@needs_node
@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(st.lists(pictures, min_size=8, max_size=20),
       st.lists(st.binary(min_size=0, max_size=300), max_size=12))
def test_javascript_and_python_agree_on_random_batches(
    tmp_path: Path, images: list[np.ndarray], blobs: list[bytes],
) -> None:
    """Hypothesis makes a batch of pictures; Node hashes the batch in one run (one process per
    example keeps it quick), and every hash must equal Python's bit for bit."""
    for stale in tmp_path.iterdir():
        stale.unlink()
    vectors.write_raw_batch(images, tmp_path, tuple(blobs))
    code, report = _run_node(tmp_path)
    assert code == 0, report
    results = report["results"]
    assert len(results) == len(images) + len(blobs)
    for rgba, got in zip(images, results, strict=False):
        value, quality = pdq_from_pixels(np.ascontiguousarray(rgba[..., :3]))
        assert (got["pdq"], got["quality"]) == (value, quality), got["name"]
        assert got["md5"] == hashlib.md5(rgba.tobytes()).hexdigest()
    for blob, got in zip(blobs, results[len(images):], strict=True):
        assert got["md5"] == hashlib.md5(blob).hexdigest()
