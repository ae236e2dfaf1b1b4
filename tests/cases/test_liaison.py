"""A law-enforcement liaison sees only the cases referred to their partner (API and console),
gets only redacted exports, and loses access when the directory stops naming them."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from safeguard.audit.service import Actor
from safeguard.auth import service as auth
from safeguard.cases import referral
from safeguard.cases import service as cases
from safeguard.cases.personal_data import REDACTED
from safeguard.cases.referral import Directory
from safeguard.errors import InvalidInput
from tests.cases.test_personal_data import login
from tests.conftest import PASSWORD, issue_token

ROOT = Actor("cli", "test")
DIRECTORY = """
[police]
name = "Police online child abuse unit (example)"
contact = "referrals@police.example"
source = "test data"
liaisons = ["officer"]

[[hotline]]
country = "NL"
name = "Hotline NL (example)"
contact = "intake@hotline-nl.example"
source = "test data"
"""


@pytest.fixture
def referred(app_client: Any, tmp_path: Path) -> dict[str, int]:
    path = tmp_path / "partners.toml"
    path.write_text(DIRECTORY)
    app_client.app.state.settings.referral_directory = path
    directory = Directory.load(path)
    cipher = app_client.app.state.cipher
    with app_client.app.state.db.session() as s:
        auth.create_user(s, ROOT, "officer", PASSWORD, "le_liaison")
        auth.create_user(s, ROOT, "other-officer", PASSWORD, "le_liaison")
        ids = {}
        for name, partner in (("police", directory.police), ("hotline", directory.hotlines["NL"]),
                              ("unreferred", None)):
            case = cases.create_case(s, ROOT, f"case for {name}", [
                ("url", f"https://{name}.example/x"), ("text", "words of the reporter")],
                cipher=cipher)
            if partner is not None:
                referral.refer(s, ROOT, case.id, partner, reason=f"to the {name}")
            ids[name] = case.id
    return ids


def test_directory_liaisons_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[police]\nname = "P"\ncontact = "p@x.example"\nsource = "s"\n'
                    'liaisons = "officer"\n')
    with pytest.raises(InvalidInput, match="liaisons must be a list of usernames"):
        Directory.load(path)


def test_api_shows_only_what_was_referred_to_them(app_client: Any,
                                                  referred: dict[str, int]) -> None:
    officer = {"Authorization": "Bearer " + issue_token(app_client, "officer",
                                                        ["referrals:read"])}
    listed = app_client.get("/v1/referred", headers=officer).json()
    assert [c["case"]["id"] for c in listed] == [referred["police"]]
    assert listed[0]["referrals"][0]["reason"] == "to the police"
    detail = app_client.get(f"/v1/referred/{referred['police']}", headers=officer).json()
    values = {i["kind"]: i["value"] for i in detail["items"]}
    assert values == {"url": "https://police.example/x", "text": REDACTED}
    for other in ("hotline", "unreferred"):
        r = app_client.get(f"/v1/referred/{referred[other]}", headers=officer)
        assert r.status_code == 404 and "referred to you" in r.json()["detail"]
        assert app_client.get(f"/v1/referred/{referred[other]}/evidence",
                              headers=officer).status_code == 404
    # the analysts' API is closed to them
    assert app_client.get(f"/v1/cases/{referred['police']}", headers=officer).status_code == 403
    assert app_client.get("/v1/cases", headers=officer).status_code == 403
    # another liaison, not named in the directory, sees nothing
    stranger = {"Authorization": "Bearer " + issue_token(app_client, "other-officer",
                                                         ["referrals:read"])}
    assert app_client.get("/v1/referred", headers=stranger).json() == []


def test_liaison_exports_are_redacted(app_client: Any, referred: dict[str, int]) -> None:
    from safeguard.cases.evidence import verify_bundle

    officer = {"Authorization": "Bearer " + issue_token(app_client, "officer",
                                                        ["referrals:read"])}
    r = app_client.get(f"/v1/referred/{referred['police']}/evidence", headers=officer)
    assert r.status_code == 200 and verify_bundle(r.content).ok
    doc = json.loads(zipfile.ZipFile(io.BytesIO(r.content)).read("case.json"))
    assert [i["value"] for i in doc["items"] if i["kind"] == "text"] == [
        "[redacted: free text]"]
    assert b"words of the reporter" not in r.content
    # include_text is not offered to them at all: the parameter is ignored
    r = app_client.get(f"/v1/referred/{referred['police']}/evidence", headers=officer,
                       params={"include_text": "true"})
    assert b"words of the reporter" not in zipfile.ZipFile(io.BytesIO(r.content)).read(
        "case.json")
    r = app_client.get(f"/v1/referred/{referred['police']}/cybertipline", headers=officer)
    assert r.status_code == 422 and "incident type" in r.json()["detail"]


def test_console_pages_for_a_liaison(app_client: Any, referred: dict[str, int],
                                     tmp_path: Path) -> None:
    login(app_client, "officer")
    page = app_client.get("/console/referred")
    assert page.status_code == 200
    assert "case for police" in page.text and "case for hotline" not in page.text
    case = app_client.get(f"/console/referred/{referred['police']}")
    assert case.status_code == 200
    assert "https://police.example/x" in case.text and "words of the reporter" not in case.text
    assert app_client.get(f"/console/referred/{referred['hotline']}").status_code == 404
    assert app_client.get("/console/cases").status_code == 403
    assert app_client.get("/console/triage").status_code == 403
    # the directory stops naming them: access ends at once
    path = tmp_path / "partners.toml"
    path.write_text(DIRECTORY.replace('liaisons = ["officer"]', ""))
    assert app_client.get(f"/console/referred/{referred['police']}").status_code == 404
    assert "No partner in the referral directory names you" in app_client.get(
        "/console/referred").text
    with app_client.app.state.db.session() as s:
        from sqlalchemy import select

        from safeguard.audit.models import AuditEvent
        actions = set(s.scalars(select(AuditEvent.action).where(
            AuditEvent.actor == "user:officer")))
    assert {"liaison.cases_listed", "liaison.case_read"} <= actions
