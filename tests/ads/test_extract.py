from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.ads.extract import extract, linking_keys
from safeguard.ads.records import make_ad


def entities(text: str, **fields):
    ad = make_ad({"site": "s", "id": "1", "text": text, "region": "US", **fields})
    return ad, extract(ad)


def values(found, kind):
    return [e.value for e in found if e.kind == kind]


def test_emails_plain_and_spelled_out():
    _, found = entities("Write to Anna.B@Example.com or anna at example dot co dot uk")
    assert values(found, "email") == ["anna.b@example.com", "anna@example.co.uk"]
    spelled = [e for e in found if e.kind == "email" and e.obfuscated]
    assert len(spelled) == 1


def test_at_in_ordinary_sentence_is_not_an_email():
    _, found = entities("Meet me at the station at noon, tea dot com later")
    assert values(found, "email") == []


def test_spans_point_at_the_raw_text():
    ad, found = entities("Gardening help. Text two oh one 555 0123. insta: green_thumb")
    for entity in found:
        if entity.span is not None:
            assert ad.full_text[entity.span[0]:entity.span[1]] == entity.raw


def test_handles_payments_and_crypto():
    _, found = entities(
        "Follow insta: tidy_home and @tidyhome2. Pay by cashapp $TidyPay or venmo @tidy-v. "
        "BTC 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2, ETH 0x52908400098527886E0F7030069857D2E4169EE7")
    assert "instagram:tidy_home" in values(found, "handle")
    assert "@:tidyhome2" in values(found, "handle")
    assert "@:tidy" not in values(found, "handle")  # part of the venmo handle
    assert {"cashapp:tidypay", "venmo:tidy-v"} <= set(values(found, "payment"))
    assert "btc:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2" in values(found, "crypto")
    assert "eth:0x52908400098527886e0f7030069857d2e4169ee7" in values(found, "crypto")


def test_bad_bitcoin_checksum_is_only_possible():
    _, found = entities("btc 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3")
    [crypto] = [e for e in found if e.kind == "crypto"]
    assert crypto.status == "possible"
    assert not any(k.startswith("crypto:") for k in linking_keys(found))


def test_prices_ages_locations():
    _, found = entities("Tutoring in Leeds, age 24. 40$ per hour or £30/h.", location="Leeds, UK")
    assert "40 USD/hour" in values(found, "price")
    assert "30 GBP/h" in values(found, "price")
    assert values(found, "age") == ["24"]
    assert "leeds" in values(found, "location")
    assert "leeds uk" in values(found, "location")


def test_contact_fields_and_images_are_entities_without_spans():
    hash_ = "f" * 64
    _, found = entities("Ironing service", phone="917-555-0142", image_hashes=[hash_])
    keys = linking_keys(found)
    assert "phone:+19175550142" in keys
    assert f"image:{hash_}" in keys
    assert all(e.span is None for e in found if e.source != "text")


def test_html_is_stripped_before_extraction():
    ad, found = entities(
        "<div>Call <b>201</b>-555-0123<script>var x = '917 555 0142';</script></div>")
    assert "<" not in ad.text
    assert values(found, "phone") == ["+12015550123"]
    assert "HTML removed" in ad.notes


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_extraction_never_crashes(text):
    ad = make_ad({"site": "s", "id": "x", "text": text})
    for entity in extract(ad):
        if entity.span is not None:
            assert 0 <= entity.span[0] <= entity.span[1] <= len(ad.full_text)


@settings(max_examples=100, deadline=None)
@given(user=st.from_regex(r"[a-z][a-z0-9]{2,10}", fullmatch=True),
       host=st.from_regex(r"[a-z]{3,10}", fullmatch=True),
       tld=st.sampled_from(["com", "net", "org", "co"]),
       at=st.sampled_from([" at ", " (at) ", "[at]", " arroba ", "@"]),
       dot=st.sampled_from([" dot ", " (dot) ", ".", " punto "]))
def test_any_email_spelling_normalises_back(user, host, tld, at, dot):
    _, found = entities(f"Contact {user}{at}{host}{dot}{tld} for bookings")
    assert f"{user}@{host}.{tld}" in values(found, "email")


def test_urls_are_normalised_with_spans():
    text = "See https://Example.com/Book?x=1, or www.tidy-homes.co.uk/ and http://a.io."
    _, found = entities(text)
    urls = [e for e in found if e.kind == "url"]
    assert [e.value for e in urls] == ["example.com/book?x=1", "tidy-homes.co.uk", "a.io"]
    assert [text[e.span[0]:e.span[1]] for e in urls] == [
        "https://Example.com/Book?x=1", "www.tidy-homes.co.uk/", "http://a.io"]
