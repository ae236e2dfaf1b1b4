"""Property-based tests of what the portal parses: hash lines, links, case codes, PINs, network
prefixes, the proof-of-work and form tokens; and the access-log filter (no client address for
public pages)."""

from __future__ import annotations

import ipaddress
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeguard.errors import InvalidInput
from safeguard.reports import codes
from safeguard.reports.inputs import MAX_HASHES, parse_hash_lines, parse_urls
from safeguard.web.access_log import RedactPublicClients
from safeguard.web.portal_guard import FormTokens, network_prefix, pow_ok, solve_pow

hex64 = st.text("0123456789abcdefABCDEF", min_size=64, max_size=64)
hex32 = st.text("0123456789abcdef", min_size=32, max_size=32)


@given(st.lists(st.one_of(
    st.tuples(st.just("pdq"), hex64, st.integers(0, 100)),
    st.tuples(st.just("md5"), hex32)), max_size=MAX_HASHES))
def test_hash_lines_round_trip(items: list[tuple]) -> None:
    text = "\n".join(" ".join(str(x) for x in item) for item in items)
    parsed = parse_hash_lines(text)
    expected = []
    for item in items:
        key = (item[0], item[1].lower())
        if key not in expected:
            expected.append(key)
    assert [(h.kind, h.value) for h in parsed] == expected


@given(st.text(max_size=300))
def test_hash_lines_never_crash(text: str) -> None:
    try:
        parsed = parse_hash_lines(text)
    except InvalidInput as exc:
        assert str(exc)
    else:
        assert all(h.kind in ("pdq", "md5") for h in parsed)


@pytest.mark.parametrize("text, problem", [
    ("pdq " + "0" * 64, "expected"), ("pdq " + "0" * 64 + " 101", "quality"),
    ("sha1 " + "0" * 40, "expected"), ("md5 " + "g" * 32, "non-hex"),
    ("\n".join(["md5 " + f"{i:032x}" for i in range(MAX_HASHES + 1)]), "too many"),
])
def test_bad_hash_lines_are_named(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        parse_hash_lines(text)


@given(st.text(max_size=200))
def test_links_parse_or_say_why(text: str) -> None:
    try:
        urls = parse_urls(text)
    except InvalidInput as exc:
        assert str(exc)
    else:
        assert all(u.startswith(("http://", "https://")) for u in urls)


@given(st.integers(0, 2**60 - 1), st.sampled_from(["", "-", " "]), st.booleans())
def test_codes_survive_how_children_copy_them(value: int, sep: str, lower: bool) -> None:
    code = "".join(codes.ALPHABET[(value >> (5 * i)) & 31] for i in range(codes.CODE_LENGTH))
    shown = codes.format_code(code).replace("-", sep)
    typed = shown.lower() if lower else shown
    assert codes.normalize_code(typed) == code
    assert codes.normalize_code(typed.replace("0", "O").replace("1", "I")) == code


@given(st.text(max_size=40))
def test_code_and_pin_normalisers_never_crash(text: str) -> None:
    code = codes.normalize_code(text)
    assert code is None or (len(code) == codes.CODE_LENGTH and set(code) <= set(codes.ALPHABET))
    pin = codes.normalize_pin(text)
    assert pin is None or (len(pin) == codes.PIN_LENGTH and pin.isdigit())


@given(st.ip_addresses())
def test_network_prefix_is_coarse_and_contains_the_address(address: object) -> None:
    prefix = network_prefix(str(address))
    network = ipaddress.ip_network(prefix)
    assert network.prefixlen in (24, 56)
    plain = address
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        plain = address.ipv4_mapped
    assert plain in network
    assert str(plain) != prefix.split("/")[0] or int(plain) == int(network.network_address)  # type: ignore[arg-type]


def test_network_prefix_of_nonsense_is_unknown() -> None:
    assert network_prefix("testclient") == network_prefix(None) == "unknown"
    assert network_prefix("2001:db8:1234:5678::1") == "2001:db8:1234:5600::/56"
    assert network_prefix("::ffff:198.51.100.9") == "198.51.100.0/24"


@given(st.text(min_size=1, max_size=40))
def test_pow_checker_accepts_exactly_the_solution(token: str) -> None:
    nonce = solve_pow(token, 6)
    assert pow_ok(token, nonce, 6)
    assert not pow_ok(token, "not-a-number", 6) and not pow_ok(token, "", 6)


def test_form_tokens_are_signed_and_expire() -> None:
    tokens = FormTokens()
    token = tokens.issue(now=1_000_000)
    assert tokens.check(token, now=1_000_010) == "ok"
    assert tokens.check(token, now=1_000_000 + 3 * 3600) == "expired"
    assert FormTokens().check(token, now=1_000_010) == "invalid"  # another key
    assert tokens.check(token[:-1] + ("0" if token[-1] != "0" else "1")) == "invalid"
    assert tokens.spend(token, 1_000_010) and not tokens.spend(token, 1_000_011)


@pytest.mark.cr("CR-08")
@pytest.mark.parametrize("path, kept", [("/en/report", False), ("/ar/status", False),
                                        ("/", False), ("/console/reports", True),
                                        ("/v1/reports", True)])
def test_access_log_drops_client_address_on_public_pages(path: str, kept: bool) -> None:
    # Uvicorn's access record: (client, method, path, http version, status).
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("203.0.113.77:5555", "POST", path, "1.1", 200), None)
    assert RedactPublicClients().filter(record)
    assert ("203.0.113.77" in record.getMessage()) is kept


def test_the_app_installs_the_access_log_filter(app_client: object) -> None:
    logger = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, RedactPublicClients) for f in logger.filters)
