"""Normalisation: obfuscations undone, spans kept, bad input degraded clearly, never a crash."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeguard.conversations.normalize import Normalizer, normalize
from safeguard.errors import InvalidInput
from safeguard.jsonlines import decode_text


@pytest.mark.parametrize(("raw", "expected"), [
    ("How old r u?", "how old are you"),
    ("wyd", "what are you doing"),
    ("s e c r e t", "secret"),
    ("s.e.c.r.e.t", "secret"),
    ("s-e-c-r-e-t", "secret"),
    ("ѕесrеt", "secret"),  # Cyrillic look-alikes
    ("ｓｅｃｒｅｔ", "secret"),  # fullwidth
    ("𝐬𝐞𝐜𝐫𝐞𝐭", "secret"),  # mathematical bold
    ("s3cr3t", "secret"),
    ("p@rents", "parents"),
    ("$nap", "snap"),
    ("seeeeecret", "secret"),
    ("sekret", "secret"),  # substitution
    ("secert", "secret"),  # transposition
    ("secrt", "secret"),  # deletion
    ("se cret", "secret"),  # split word
    ("se\u200bcr\u200bet", "secret"),  # zero-width spaces
    ("plzzz", "please"),
    ("don't", "dont"),
    ("don t", "dont"),
    ("T'as quel âge ?", "tas quel age"),
    ("¿Cuántos años tienes?", "cuantos anos tienes"),
    ("k edad tienes", "que edad tienes"),
])
def test_obfuscations_are_undone(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


def test_real_words_near_indicator_words_are_left_alone() -> None:
    assert normalize("a nature walk with the parties").text == "a nature walk with the parties"


def test_non_latin_words_are_not_mapped_to_latin() -> None:
    # Russian "hello" has letters with no Latin look-alike: it must stay Cyrillic.
    assert normalize("привет").text == "привет"


def test_numbers_with_units_are_not_leetspeak() -> None:
    assert normalize("im 13yo, home at 10pm").text == "im 13yo home at 10pm"


def test_spans_point_at_what_was_written() -> None:
    raw = "ok so... dont   t e l l   ur p4rents!!"
    norm = normalize(raw)
    i = norm.text.index("tell")
    a, b = norm.original_span(i, i + 4)
    assert raw[a:b] == "t e l l"
    j = norm.text.index("parents")
    a, b = norm.original_span(j, j + len("parents"))
    assert raw[a:b] == "p4rents"


def test_megabyte_message_is_truncated_with_a_note_and_quickly() -> None:
    raw = "lol " * 500_000  # 2 MB
    t = time.perf_counter()
    norm = normalize(raw)
    assert time.perf_counter() - t < 2.0
    assert norm.truncated and norm.original_length == len(raw)
    assert any("truncated from 2,000,000" in n for n in norm.notes)
    assert len(norm.text) <= 20_000


def test_emoji_only_and_empty() -> None:
    emoji = normalize("😀😀🙈")
    assert emoji.tokens == () and emoji.notes == ("no words: emoji or symbols only",)
    assert normalize("").tokens == () and normalize("").notes == ()
    assert normalize(None).text == ""
    assert normalize("🤫").text == "shh"  # meaningful emoji become words


def test_unknown_encodings_are_decoded_and_said() -> None:
    assert decode_text("secret".encode("utf-16")) == ("secret", None)
    assert decode_text("café".encode()) == ("café", None)
    text, note = decode_text("café".encode("cp1252"))
    assert text == "café" and note and "Windows-1252" in note
    text, note = decode_text(b"\x81\x8d secret")  # undefined in cp1252
    assert note and "Latin-1" in note and text.endswith("secret")
    assert normalize(b"dont tell ur p\xe4rents").text.startswith("dont tell your")


def test_wrong_type_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="must be a string"):
        normalize(12)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Normalizer(max_chars=0)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_never_crashes_and_output_is_well_formed(raw: str) -> None:
    norm = normalize(raw)
    assert norm.text == " ".join(norm.tokens)
    assert all(t and " " not in t for t in norm.tokens)
    assert len(norm.starts) == len(norm.ends) == len(norm.tokens)
    assert all(0 <= a <= b <= len(raw) for a, b in zip(norm.starts, norm.ends, strict=True))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_decoded(raw: bytes) -> None:
    norm = normalize(raw)
    assert norm.text == " ".join(norm.tokens)


_WORDS = st.sampled_from(["how", "old", "are", "you", "secret", "parents", "dont", "tell",
                          "snap", "lol", "ok", "pic", "meet", "alone", "hey", "game", "13",
                          "cuantos", "anos", "tienes", "quel", "age", "mature", "robux"])
_SEPARATORS = st.sampled_from([" ", "  ", ", ", "! ", "? ", " - ", "\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_WORDS, _SEPARATORS), min_size=1, max_size=15))
def test_idempotent_on_chat_text(parts: list[tuple[str, str]]) -> None:
    raw = "".join(w + s for w, s in parts)
    once = normalize(raw).text
    assert normalize(once).text == once


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=200))
def test_idempotent_on_ascii_noise(raw: str) -> None:
    once = normalize(raw).text
    assert normalize(once).text == once


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_idempotent_on_any_unicode(raw: str) -> None:
    once = normalize(raw).text
    assert normalize(once).text == once
