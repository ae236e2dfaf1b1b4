"""CyberTipline-style XML: schema-valid, complete, redacted, and a clear list of what a case
still lacks."""

from __future__ import annotations

import pytest
from lxml import etree

from safeguard.audit.service import Actor
from safeguard.cases import cybertipline
from safeguard.cases import service as cases
from safeguard.db.encryption import FieldCipher, generate_key
from safeguard.db.engine import Database

ANA = Actor("user", "ana", 1)
CIPHER = FieldCipher([generate_key()])
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
ENTICEMENT = "Online Enticement of Children for Sexual Acts"


def test_report_is_schema_valid_and_complete(db: Database) -> None:
    with db.session() as s:
        case = cases.create_case(s, ANA, "case", [
            ("url", "https://example.org/page"), ("hash", f"md5:{MD5}"),
            ("account", "@someone"), ("account", "+442079460958"),
            ("text", "private words")], cipher=CIPHER, incident_type=ENTICEMENT)
        hash_item = cases.items(s, case.id)[1]
        cases.assess_item(s, ANA, hash_item.id, "baseline", age_group="pubescent",
                          industry_class="B1")
        data = cybertipline.build_report(s, ANA, case.id, org_name="Hotline X",
                                         reporter_email="reports@hotline.example",
                                         urgent=True)
    assert cybertipline.validate(data) == []
    root = etree.fromstring(data)
    assert root.findtext("incidentSummary/incidentType") == ENTICEMENT
    assert root.findtext("incidentSummary/escalateToHighPriority")
    assert root.findtext("internetDetails/webPageIncident/url") == "https://example.org/page"
    assert [p.findtext("screenName") or p.findtext("phone")
            for p in root.findall("personOrUserReported")] == ["someone", "+442079460958"]
    assert root.findtext("victim/ageGroup") == "pubescent"
    file = root.find("fileDetails")
    assert file.find("originalFileHash").get("hashType") == "MD5"
    assert file.findtext("industryClassification") == "B1"
    assert b"private words" not in data


def test_missing_fields_are_all_listed(db: Database) -> None:
    with db.session() as s:
        case = cases.create_case(s, ANA, "case", [("text", "only words")], cipher=CIPHER)
        with pytest.raises(cybertipline.IncompleteReport) as caught:
            cybertipline.build_report(s, ANA, case.id, org_name="", reporter_email=" ")
    assert caught.value.missing == [
        "incident type (set it on the case)",
        "reporter organisation (SAFEGUARD_REPORTER_ORG_NAME)",
        "reporter email (SAFEGUARD_REPORTER_EMAIL)",
        "at least one URL or hash item"]


def test_validate_rejects_bad_and_hostile_xml() -> None:
    assert cybertipline.validate(b"<report/>")[0].startswith("line 1")
    assert "well-formed" in cybertipline.validate(b"<report>")[0]
    bomb = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><report>&b;</report>')
    assert cybertipline.validate(bomb)  # refused, not expanded
    external = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b"<report>&x;</report>")
    assert all("root:" not in e for e in cybertipline.validate(external))


def test_http_export(app_client: object) -> None:
    from tests.conftest import issue_token

    client = app_client
    auth = {"Authorization": f"Bearer {issue_token(client, 'ana', ['triage'])}"}
    case = client.post("/v1/cases", headers=auth, json={  # type: ignore[attr-defined]
        "title": "t", "items": [{"kind": "url", "value": "https://example.org/x"}]}).json()
    r = client.get(f"/v1/cases/{case['id']}/cybertipline", headers=auth)  # type: ignore
    assert r.status_code == 422 and "incident type" in r.json()["detail"]
    client.app.state.settings.reporter_org_name = "Hotline X"  # type: ignore[attr-defined]
    client.app.state.settings.reporter_email = "r@x.example"  # type: ignore[attr-defined]
    r = client.patch(f"/v1/cases/{case['id']}", headers=auth,  # type: ignore[attr-defined]
                     json={"incident_type": "Not a type"})
    assert r.status_code == 422
    client.patch(f"/v1/cases/{case['id']}", headers=auth,  # type: ignore[attr-defined]
                 json={"incident_type": ENTICEMENT})
    r = client.get(f"/v1/cases/{case['id']}/cybertipline", headers=auth)  # type: ignore
    assert r.status_code == 200 and cybertipline.validate(r.content) == []
