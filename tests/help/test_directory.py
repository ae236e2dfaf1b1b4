"""Help directory (CR-06): shipped data is cited and valid; the loader refuses bad files with a
message naming the problem; help_for answers by country or says there is no entry."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.help.directory import (
    DirectoryError,
    countries_for_chooser,
    help_for,
    is_country,
    load_directory,
    parse_directory,
)

pytestmark = pytest.mark.cr("CR-06")


def test_shipped_directory_is_valid_and_every_contact_is_cited() -> None:
    directory = load_directory()
    assert directory.reviewed
    shipped = {"GB", "US", "FR", "ES", "PT", "BR", "CA", "AU", "IE", "DE", "MA", "JO"}
    assert shipped <= set(directory.countries)
    for code, entry in directory.countries.items():
        assert is_country(code)
        assert entry.contacts
        for contact in entry.contacts:
            assert contact.source.startswith("https://")
            assert contact.phone or contact.url


def test_help_for_known_and_unknown_countries() -> None:
    uk = help_for("gb")
    assert uk is not None
    assert [c.phone for c in uk.emergency] == ["999"]
    assert "0800 1111" in [c.phone for c in uk.support]
    us = help_for("US")
    assert us is not None and "988" in [c.phone for c in us.contacts]
    assert help_for("JP") is None
    assert help_for("") is None and help_for(None) is None


def test_region_contacts_are_added_after_the_countrys_own() -> None:
    france = help_for("FR")
    assert france is not None
    assert [c.phone for c in france.contacts] == ["119", "112"]
    italy = help_for("IT")  # no entry of its own: the EU's 112 only
    assert italy is not None and [c.phone for c in italy.contacts] == ["112"]


def test_chooser_names_countries_in_the_readers_language() -> None:
    names = dict(countries_for_chooser("fr"))
    assert names["DE"] == "Allemagne" and names["GB"] == "Royaume-Uni"
    assert dict(countries_for_chooser("ar"))["FR"] == "فرنسا"


VALID = """
reviewed = "2026-01-01"
[[countries]]
code = "NZ"
[[countries.contacts]]
kind = "helpline"
name = "Example line"
phone = "0800 000 000"
source = "https://example.org/line"
"""


def test_custom_directory_file(tmp_path: Path) -> None:
    path = tmp_path / "help.toml"
    path.write_text(VALID, encoding="utf-8")
    directory = load_directory(path)
    assert directory.help_for("nz") is not None
    assert directory.help_for("nz").contacts[0].tel == "0800000000"


@pytest.mark.parametrize(("text", "problem"), [
    (VALID.replace('source = "https://example.org/line"\n', ""), "source is missing"),
    (VALID.replace("https://example.org/line", "http://example.org/line"), "https://"),
    (VALID.replace('kind = "helpline"', 'kind = "pager"'), "kind must be one of"),
    (VALID.replace('code = "NZ"', 'code = "nzl"'), "two capital letters"),
    (VALID.replace('phone = "0800 000 000"', 'phone = "call us"'), "phone must be digits"),
    (VALID.replace('phone = "0800 000 000"\n', ""), "give a phone, a url or both"),
    (VALID + VALID.split("reviewed = \"2026-01-01\"")[1], "listed twice"),
    (VALID.replace('name = "Example line"', 'name = "x"\ncolour = "red"'), "unknown field"),
    ("countries = [", "not valid TOML"),
])
def test_bad_directory_is_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(DirectoryError, match=problem):
        parse_directory(text)


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError, match="cannot read"):
        load_directory(tmp_path / "absent.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes("name = \"caf\xe9\"".encode("latin-1"))
    with pytest.raises(DirectoryError, match="not UTF-8"):
        load_directory(bad)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_parsed_or_refused_with_directory_error(text: str) -> None:
    with contextlib.suppress(DirectoryError):
        parse_directory(text)


_contact = st.fixed_dictionaries(
    {"kind": st.sampled_from(["emergency", "helpline", "chat", "text"]),
     "name": st.text(alphabet="abcdefgh ", min_size=1, max_size=20).filter(str.strip),
     "phone": st.from_regex(r"\A[0-9][0-9 \-]{1,12}\Z"),
     "source": st.from_regex(r"\Ahttps://[a-z]{1,10}\.org/[a-z]{0,8}\Z")})


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["GB", "FR", "NZ", "CL", "KE"]),
                       st.lists(_contact, min_size=1, max_size=3), min_size=1))
def test_generated_valid_directories_round_trip(entries: dict) -> None:
    lines = ['reviewed = "x"']
    for code, contacts in entries.items():
        lines += ["[[countries]]", f"code = {json.dumps(code)}"]
        for contact in contacts:
            lines.append("[[countries.contacts]]")
            lines += [f"{key} = {json.dumps(value)}" for key, value in contact.items()]
    text = "\n".join(lines)
    directory = parse_directory(text)
    for code, contacts in entries.items():
        got = directory.help_for(code)
        assert got is not None
        assert [c.phone for c in got.contacts] == [c["phone"] for c in contacts]


def test_a_broken_operator_file_leaves_the_portal_working(tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture
                                                           ) -> None:
    from safeguard.help.directory import directory

    bad = tmp_path / "broken.toml"
    bad.write_text("countries = [", encoding="utf-8")
    with caplog.at_level("ERROR", logger="safeguard.help.directory"):
        assert directory(bad).countries == {}
        assert help_for("GB", bad) is None
    assert "help directory unusable" in caplog.text
