"""Bad input on the console's triage and case forms: forged posts (no token, a token from
another site) and stale ones (a token from a session that ended) are refused and change
nothing; a lease taken in another tab and a state change the workflow does not allow are
refused with the reason, and nothing of the action is stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from safeguard.audit.models import AuditEvent
from safeguard.audit.service import Actor
from safeguard.cases import service as cases
from safeguard.cases import triage
from safeguard.cases.case_models import CaseDecision
from safeguard.cases.models import Source, TriageItem
from tests.cases.test_personal_data import login

FORMS = [
    ("/console/triage/next", {}),
    ("/console/triage/{item}/claim", {}),
    ("/console/cases", {"title": "forged", "kind": "url", "value": "https://x.example/"}),
    ("/console/cases/{case}/status", {"target": "in_triage"}),
    ("/console/cases/{case}/notes", {"text": "forged note"}),
    ("/console/cases/{case}/refer", {"country_override": "NL"}),
]


def _setup(client: Any) -> dict[str, int]:
    root = Actor("cli", "test")
    with client.app.state.db.session() as s:
        item = triage.intake(s, root, triage.Lead(Source.PLATFORM_REPORT, "p", "p")).item.id
        case = cases.create_case(s, root, "case", [("url", "https://x.example/")],
                                 cipher=client.app.state.cipher).id
    return {"item": item, "case": case}


def _state(client: Any) -> tuple[int, ...]:
    with client.app.state.db.session() as s:
        # writes only: showing a page again after a refusal audits its reads, as it should
        return (int(s.scalar(select(func.count()).where(
                    AuditEvent.action.not_like("%read%"))) or 0),
                int(s.scalar(select(func.count()).select_from(CaseDecision)) or 0),
                int(s.scalar(select(func.count()).where(
                    TriageItem.status == "claimed")) or 0))


@pytest.mark.parametrize("path, data", FORMS)
def test_forged_and_stale_posts_are_refused(app_client: Any, path: str,
                                            data: dict[str, str]) -> None:
    ids = _setup(app_client)
    stale = login(app_client, "ana")
    app_client.post("/logout", data={"csrf_token": stale})
    fresh = login(app_client, "ana")
    assert fresh != stale
    before = _state(app_client)
    for token in (None, "forged-token", stale):
        body = dict(data) if token is None else {**data, "csrf_token": token}
        r = app_client.post(path.format(**ids), data=body, follow_redirects=False)
        assert r.status_code == 403 and "CSRF token" in r.text, (token, r.text[:200])
    assert _state(app_client) == before
    # the same post with the page's current token goes through
    r = app_client.post(path.format(**ids), data={**data, "csrf_token": fresh},
                        follow_redirects=False)
    assert r.status_code in (303, 409), r.text[:300]


def test_invalid_transition_and_stolen_lease_are_refused_with_the_reason(
        app_client: Any) -> None:
    ids = _setup(app_client)
    with app_client.app.state.db.session() as s:
        bo = triage.claim(s, Actor("user", "admin", 1), ids["item"])
        assert bo.claimed_by == 1
    csrf = login(app_client, "ana")
    before = _state(app_client)
    r = app_client.post(f"/console/triage/{ids['item']}/assess",
                        data={"csrf_token": csrf, "classification": "baseline"})
    assert r.status_code == 409 and "you do not hold triage item" in r.text
    r = app_client.post(f"/console/triage/{ids['item']}/claim", data={"csrf_token": csrf})
    assert r.status_code == 409 and "held by another analyst" in r.text
    r = app_client.post(f"/console/cases/{ids['case']}/status",
                        data={"csrf_token": csrf, "target": "referred"})
    assert r.status_code == 409 and "cannot become referred" in r.text
    assert _state(app_client) == before


def test_console_sign_in_locks_after_repeated_failures(app_client: Any) -> None:
    from tests.conftest import PASSWORD

    limit = app_client.app.state.settings.login_max_failures
    for _ in range(limit):
        r = app_client.post("/login", data={"username": "ana", "password": "not it at all"})
        assert r.status_code == 401
    r = app_client.post("/login", data={"username": "ana", "password": PASSWORD},
                        follow_redirects=False)
    assert r.status_code == 401 and "try again later" in r.text
    assert "sg_session" not in r.cookies
    with app_client.app.state.db.session() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.actor == "user:ana").order_by(AuditEvent.seq)))
    assert actions.count("login.failed") == limit and actions[-1] == "login.refused_locked"


def test_referral_page_proposes_and_stores_nothing_until_the_analyst_refers(
        app_client: Any, tmp_path: Any) -> None:
    from safeguard.cases import referral

    partners = tmp_path / "partners.toml"
    partners.write_text('[police]\nname = "Police unit (example)"\n'
                        'contact = "referrals@police.example"\nsource = "test data"\n')
    app_client.app.state.settings.referral_directory = partners
    ids = _setup(app_client)
    csrf = login(app_client, "ana")
    page = app_client.get(f"/console/cases/{ids['case']}/referral",
                          params={"url": "http://203.0.113.9/x"})
    assert page.status_code == 200
    assert "no ip database configured" in page.text and "Refer to Police unit" in page.text
    r = app_client.get(f"/console/cases/{ids['case']}/referral",
                       params={"url": "http://203.0.113.9/x", "country_override": "1x"})
    assert r.status_code == 422 and "two-letter ISO code" in r.text
    with app_client.app.state.db.session() as s:
        assert referral.referrals(s, ids["case"]) == []
    r = app_client.post(f"/console/cases/{ids['case']}/refer", data={
        "csrf_token": csrf, "url": "http://203.0.113.9/x", "country_override": ""})
    assert r.status_code == 200 and "Police unit (example)" in r.text
    with app_client.app.state.db.session() as s:
        [made] = referral.referrals(s, ids["case"])
        assert (made.partner_name, made.url) == ("Police unit (example)", "http://203.0.113.9/x")
