"""Hosting country (DNS, then an mmdb database; overrides win) and the referral proposal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from safeguard.cases.hosting import CountryDatabase, locate
from safeguard.cases.referral import Directory
from safeguard.errors import FeatureDisabled, InvalidInput


@pytest.fixture
def geo(tmp_path: Path) -> CountryDatabase:
    """A tiny country database in MaxMind format, on documentation address ranges."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-Country")
    writer.insert_network(IPSet(["192.0.2.0/24"]), {"country": {"iso_code": "NL"}})
    writer.insert_network(IPSet(["198.51.100.0/24"]), {"country": {"iso_code": "de"}})
    writer.insert_network(IPSet(["2001:db8::/32"]), {"registered_country": {"iso_code": "FR"}})
    path = tmp_path / "country.mmdb"
    writer.to_db_file(str(path))
    return CountryDatabase(path)


def fake_dns(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str) -> list[str]:
        if host not in table:
            raise OSError(f"{host}: name does not resolve")
        return table[host]
    return resolve


def test_country_from_dns_then_database(geo: CountryDatabase) -> None:
    dns = fake_dns({"nl.example": ["192.0.2.7"], "de.example": ["203.0.113.1", "198.51.100.9"],
                    "v6.example": ["2001:db8::1"], "nowhere.example": ["203.0.113.5"]})
    assert locate("https://NL.example/a", geo, resolver=dns).country == "NL"
    de = locate("http://de.example/", geo, resolver=dns)
    assert (de.country, de.how, de.addresses) == ("DE", "ip-database",
                                                   ["203.0.113.1", "198.51.100.9"])
    assert locate("https://v6.example/", geo, resolver=dns).country == "FR"
    assert locate("https://192.0.2.1/x", geo, resolver=dns).country == "NL"
    unknown = locate("https://nowhere.example/", geo, resolver=dns)
    assert (unknown.country, unknown.how) == (None, "not found")
    failed = locate("https://gone.example/", geo, resolver=dns)
    assert failed.country is None and failed.how.startswith("dns failed")
    manual = locate("https://nl.example/", geo, override="be", resolver=dns)
    assert (manual.country, manual.how) == ("BE", "override")
    with pytest.raises(InvalidInput):
        locate("https://nl.example/", geo, override="Belgium", resolver=dns)
    with pytest.raises(InvalidInput):
        locate("not a url", geo, resolver=dns)


def test_missing_or_broken_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FeatureDisabled, match="SAFEGUARD_GEOIP_DATABASE"):
        CountryDatabase(tmp_path / "absent.mmdb")
    junk = tmp_path / "junk.mmdb"
    junk.write_bytes(b"not a database")
    with pytest.raises(InvalidInput, match="not a MaxMind-format database"):
        CountryDatabase(junk)


def test_referral_goes_to_the_hosting_countrys_hotline_else_police(
        tmp_path: Path, geo: CountryDatabase) -> None:
    path = tmp_path / "partners.toml"
    path.write_text('''
[police]
name = "Online child abuse unit"
contact = "referrals@police.example"
source = "agreement 2026-03"

[[hotline]]
country = "nl"
name = "Hotline NL (example)"
contact = "intake@hotline-nl.example"
source = "test data"
''')
    directory = Directory.load(path)
    dns = fake_dns({"nl.example": ["192.0.2.7"], "de.example": ["198.51.100.9"]})
    nl = directory.propose(locate("https://nl.example/", geo, resolver=dns))
    assert nl.partner is not None and nl.partner.kind == "hotline"
    assert "hotline is in the directory" in nl.reason
    de = directory.propose(locate("https://de.example/", geo, resolver=dns))
    assert de.partner is not None and de.partner.kind == "police"
    assert "no hotline is configured" in de.reason
    nobody = Directory.load(None).propose(locate("https://de.example/", geo, resolver=dns))
    assert nobody.partner is None and "no police contact" in nobody.reason


def test_bad_directory_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "partners.toml"
    path.write_text('[[hotline]]\ncountry = "Netherlands"\nname = "x"\ncontact = "y"\n'
                    'source = "z"\n[[hotline]]\nname = "no country"\n')
    with pytest.raises(InvalidInput) as caught:
        Directory.load(path)
    assert "hotline 1: country must be a two-letter ISO code" in str(caught.value)
    assert "hotline 2 lacks country, contact, source" in str(caught.value)
    path.write_text("not [toml")
    with pytest.raises(InvalidInput, match="cannot read the referral directory"):
        Directory.load(path)


def test_refer_over_http_moves_an_assessed_case(app_client: Any, tmp_path: Path,
                                                geo: CountryDatabase) -> None:
    from tests.conftest import issue_token

    directory = tmp_path / "partners.toml"
    directory.write_text('[[hotline]]\ncountry = "NL"\nname = "Hotline NL (example)"\n'
                         'contact = "intake@hotline-nl.example"\nsource = "test data"\n')
    settings = app_client.app.state.settings
    settings.referral_directory = directory
    settings.geoip_database = tmp_path / "country.mmdb"  # written by the geo fixture
    app_client.app.state.dns_resolver = fake_dns({"nl.example": ["192.0.2.7"]})
    auth = {"Authorization": f"Bearer {issue_token(app_client, 'ana', ['triage'])}"}
    case = app_client.post("/v1/cases", headers=auth, json={"title": "t", "items": [
        {"kind": "url", "value": "https://nl.example/page"}]}).json()
    path = f"/v1/cases/{case['id']}"
    [proposal] = app_client.get(f"{path}/referral-proposals", headers=auth).json()
    assert proposal["country"] == "NL" and proposal["partner"]["kind"] == "hotline"
    for status in ("in_triage", "assessed"):
        app_client.post(f"{path}/status", headers=auth, json={"status": status})
    r = app_client.post(f"{path}/referrals", headers=auth, json={})
    assert r.status_code == 201 and r.json()["partner_name"] == "Hotline NL (example)"
    assert app_client.get(path, headers=auth).json()["status"] == "referred"
    r = app_client.post(f"{path}/referrals", headers=auth, json={"country_override": "DE"})
    assert r.status_code == 422 and "no hotline is configured" in r.json()["detail"]
