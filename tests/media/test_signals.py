"""Hash strings: validation, canonical form and distance (property tests)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeguard.media import SIGNAL_TYPES, hamming_hex, normalize_hash

hex64 = st.binary(min_size=32, max_size=32).map(bytes.hex)


@given(st.binary(min_size=32, max_size=32), st.booleans(), st.sampled_from(["", " ", "\n"]))
def test_pdq_and_sha256_normalise_to_lowercase(raw: bytes, upper: bool, pad: str) -> None:
    text = raw.hex().upper() if upper else raw.hex()
    for kind in ("pdq", "sha256"):
        assert normalize_hash(kind, pad + text + pad) == raw.hex()


@given(st.binary(min_size=16, max_size=16))
def test_md5(raw: bytes) -> None:
    assert normalize_hash("md5", raw.hex().upper()) == raw.hex()


def test_agrees_with_threatexchange_validators() -> None:
    from threatexchange.signal_type.md5 import VideoMD5Signal
    from threatexchange.signal_type.pdq.signal import PdqSignal
    from threatexchange.signal_type.sha256 import VideoSHA256Signal as SHA256Signal

    for example in PdqSignal.get_examples():
        assert normalize_hash("pdq", example) == PdqSignal.validate_signal_str(example)
    for example in VideoMD5Signal.get_examples():
        assert normalize_hash("md5", example) == VideoMD5Signal.validate_signal_str(example)
    for example in SHA256Signal.get_examples():
        assert normalize_hash("sha256", example) == SHA256Signal.validate_signal_str(example)


@given(st.text(max_size=70))
def test_rejects_anything_else_with_a_clear_message(text: str) -> None:
    stripped = text.strip().lower()
    valid = len(stripped) == 64 and all(c in "0123456789abcdef" for c in stripped)
    if valid:
        assert normalize_hash("pdq", text) == stripped
    else:
        with pytest.raises(ValueError, match="invalid pdq hash"):
            normalize_hash("pdq", text)


@pytest.mark.parametrize(("kind", "value", "message"), [
    ("pdq", "ab" * 31, "expected 64 hex characters, got 62"),
    ("md5", "zz" * 16, "non-hex"),
    ("sha256", "", "got 0"),
    ("phash", "00", "unknown signal type"),
    ("vpdq", "{", "not a JSON list"),
    ("vpdq", json.dumps(["00,50,1.0"]), "expected 64 hex"),
    ("vpdq", json.dumps(["0" * 64 + ",101,1.0"]), "not in 0-100"),
    ("vpdq", json.dumps(["0" * 64 + ",50,-1"]), "negative"),
    ("vpdq", json.dumps([1]), "not a string"),
])
def test_error_messages(kind: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize_hash(kind, value)


def test_vpdq_round_trip_matches_threatexchange_format() -> None:
    frames = [f"{'AB' * 32},100,0.0", f"{'cd' * 32},87,1.0"]
    assert json.loads(normalize_hash("vpdq", json.dumps(frames))) == [
        f"{'ab' * 32},100,0.0", f"{'cd' * 32},87,1.0"]
    assert normalize_hash("vpdq", "[]") == "[]"
    assert set(SIGNAL_TYPES) == {"pdq", "md5", "sha256", "vpdq"}


@given(hex64, hex64, hex64)
def test_hamming_is_a_metric(a: str, b: str, c: str) -> None:
    assert hamming_hex(a, a) == 0
    assert hamming_hex(a, b) == hamming_hex(b, a) == bin(int(a, 16) ^ int(b, 16)).count("1")
    assert hamming_hex(a, c) <= hamming_hex(a, b) + hamming_hex(b, c)
    assert hamming_hex(a.upper(), b) == hamming_hex(a, b)


@given(hex64, hex64)
def test_hamming_equals_threatexchange(a: str, b: str) -> None:
    from threatexchange.signal_type.pdq.pdq_utils import simple_distance

    assert hamming_hex(a, b) == simple_distance(a, b)


@pytest.mark.parametrize(("a", "b"), [("ab", "abc"), ("0x12", "0012"), ("1_23", "0123"),
                                      ("zz", "00")])
def test_hamming_rejects_non_hex(a: str, b: str) -> None:
    with pytest.raises(ValueError):
        hamming_hex(a, b)
