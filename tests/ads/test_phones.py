import random

import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeguard.ads.phones import find_phones, normalise_phone
from safeguard.ads.synthetic import _STYLES, random_phone, write_phone


def valid(text: str, region: str | None = "US") -> list[str]:
    return [m.value for m in find_phones(text, region) if m.status == "valid"]


def test_plain_number_is_e164_with_span():
    text = "Bookings: (201) 555-0123 any day"
    [match] = find_phones(text, "US")
    assert match.value == "+12015550123"
    assert match.status == "valid"
    assert text[match.span[0]:match.span[1]] == "(201) 555-0123"
    assert not match.obfuscated


def test_spelled_out_in_three_languages():
    assert valid("two zero one five five five zero one two three") == ["+12015550123"]
    assert valid("dos cero uno cinco cinco cinco cero uno dos tres") == ["+12015550123"]
    assert valid("deux zéro un cinq cinq cinq zéro un deux trois") == ["+12015550123"]


def test_look_alike_digits_and_emoji_keycaps():
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in "2015550123")
    keycaps = "".join(f"{d}\ufe0f\u20e3" for d in "201") + " 555 0123"
    for text in (fullwidth, keycaps, "2O1-555-Ol23"):
        [match] = find_phones(f"call {text} today", "US")
        assert match.value == "+12015550123", text
        assert match.obfuscated, text


def test_region_hint_decides_national_numbers():
    assert valid("020 7946 0958", "GB") == ["+442079460958"]
    assert valid("020 7946 0958", "US") == []


def test_invalid_numbers_are_kept_as_possible():
    [match] = find_phones("ring 555 123 4567 please", "US")
    assert match.status == "possible"
    assert match.value == "+15551234567"


def test_ordinary_words_do_not_become_numbers():
    assert find_phones("No one can say two things at once", "US") == []
    assert find_phones("Open 9 to 5, one hour minimum", "US") == []


def test_normalise_phone_field():
    assert normalise_phone("+1 (917) 555-0142") == "+19175550142"
    assert normalise_phone("not a number") is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), style=st.sampled_from(_STYLES),
       before=st.sampled_from(["Call ", "Text me on ", "", "Bookings: "]),
       after=st.sampled_from([" today.", "", " (evenings)", ". Thanks"]))
def test_any_obfuscation_of_a_valid_number_normalises_back(seed, style, before, after):
    rng = random.Random(seed)
    e164, national = random_phone(rng)
    text = before + write_phone(national, style, rng) + after
    assert e164 in valid(text), (style, text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_never_crashes_and_spans_are_inside_the_text(text):
    for match in find_phones(text, "FR"):
        assert 0 <= match.span[0] < match.span[1] <= len(text)
        assert match.status in ("valid", "possible")
        if match.status == "valid":
            assert phonenumbers.is_valid_number(phonenumbers.parse(match.value))
