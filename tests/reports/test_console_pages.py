"""Analysts' console pages for reports: behind login, the list shows no reporter text, the
report page decrypts it and the read is audited."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from safeguard.audit.models import AuditEvent
from tests.conftest import PASSWORD, issue_token


def _sign_in(client: Any, username: str) -> None:
    r = client.post("/login", data={"username": username, "password": PASSWORD,
                                     "next": "/console"})
    assert r.status_code == 200, r.text[:500]


@pytest.mark.cr("CR-09")
def test_analyst_lists_and_reads_reports_in_the_console(app_client: Any) -> None:
    writer = issue_token(app_client, "admin", ["reports:write"])
    created = app_client.post("/v1/reports", headers={"Authorization": f"Bearer {writer}"},
                              json={"urls": ["https://example.com/a"],
                                    "details": "words only analysts may read"}).json()
    anonymous = app_client.get("/console/reports", follow_redirects=False)
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    _sign_in(app_client, "ana")
    listing = app_client.get("/console/reports")
    assert listing.status_code == 200
    assert f'/console/reports/{created["id"]}' in listing.text
    assert "words only analysts may read" not in listing.text
    page = app_client.get(f'/console/reports/{created["id"]}')
    assert page.status_code == 200 and "words only analysts may read" in page.text
    with app_client.app.state.db.session() as s:
        reads = s.scalars(select(AuditEvent).where(AuditEvent.action == "report.read")).all()
        assert [e.actor for e in reads] == ["user:ana"]
    assert app_client.get("/console/reports/99999").status_code == 404
