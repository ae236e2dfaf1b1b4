"""Scores become triage leads (urgent ones first), over HTTP and the CLI; text is never
stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from safeguard.audit.models import AuditEvent
from safeguard.cases.models import TriageItem
from safeguard.config import Settings
from safeguard.db.engine import Database
from tests.conftest import issue_token

# Non-explicit, as every text in this project.
GROOMING = [
    ("A", "how old r u btw"), ("B", "12"),
    ("A", "ur really mature for ur age, way smarter than my friends"),
    ("A", "i can send you some robux if u want"),
    ("A", "dont tell ur parents ok, this is our secret"),
    ("A", "add me on snap its easier to talk there"),
    ("A", "send me a pic of u so i know its really you"),
]
THREAT = [("X", "hi"), ("Y", "who is this"),
          ("X", "pay me 100 or i will send your photos to all your friends")]
SURPRISE = [("P", "its a surprise party for mum, dont tell anyone"), ("Q", "ok my lips are sealed")]


def _messages(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"author": a, "text": t, "id": f"m{i}"} for i, (a, t) in enumerate(pairs)]


def test_score_endpoint_raises_leads_without_storing_text(app_client: Any) -> None:
    auth = {"Authorization": f"Bearer {issue_token(app_client, 'ana', ['conversations'])}"}
    body = {"conversations": [
        {"id": "chat-1", "messages": _messages(GROOMING)},
        {"id": "chat-2", "messages": _messages(THREAT)},
        {"id": "chat-3", "messages": _messages(SURPRISE)}]}
    r = app_client.post("/v1/conversations/score", headers=auth, json=body)
    assert r.status_code == 200, r.text
    by_id = {c["id"]: c for c in r.json()}
    assert by_id["chat-1"]["report"]["warned"] and by_id["chat-1"]["triage_items"]
    assert "A" in by_id["chat-1"]["report"]["participants"]
    assert by_id["chat-2"]["report"]["urgent"][0]["kind"] == "sextortion_threat"
    assert not by_id["chat-3"]["report"]["warned"] and by_id["chat-3"]["triage_items"] == []
    with app_client.app.state.db.session() as s:
        items = s.query(TriageItem).order_by(TriageItem.priority.desc()).all()
        assert items[0].urgent and items[0].source == "grooming_alert"
        stored = json.dumps([i.details for i in items]) + json.dumps(
            [e.details for e in s.query(AuditEvent)])
    assert "surprise party" not in stored and "pay me 100" not in stored
    # scoring the same chat again does not duplicate its leads
    again = app_client.post("/v1/conversations/score", headers=auth, json=body).json()
    assert {c["id"]: c["triage_items"] for c in again} == {
        c["id"]: c["triage_items"] for c in r.json()}


def test_watch_endpoint_streams_events_and_reports_bad_lines(app_client: Any) -> None:
    auth = {"Authorization": f"Bearer {issue_token(app_client, 'ana', ['conversations'])}"}
    lines = [json.dumps({"conversation": "c", **m}) for m in _messages(GROOMING)]
    lines.insert(2, "{not json")
    r = app_client.post("/v1/conversations/watch", headers=auth,
                        content="\n".join(lines).encode())
    events = [json.loads(line) for line in r.text.splitlines()]
    assert events[2] == {"event": "error", "line": 3, "error": events[2]["error"]}
    warned = [e for e in events if e.get("warning")]
    assert warned and warned[0]["warning"]["author"] == "A"
    assert all("text" not in e for e in events)


def test_bad_input_is_refused_clearly(app_client: Any) -> None:
    auth = {"Authorization": f"Bearer {issue_token(app_client, 'ana', ['conversations'])}"}
    assert app_client.post("/v1/conversations/score", headers=auth,
                           json={"conversations": []}).status_code == 422
    r = app_client.post("/v1/conversations/score", headers=auth, json={"conversations": [
        {"id": "x", "messages": [{"author": "", "text": "hi"}]}]})
    assert r.status_code == 422
    empty = app_client.post("/v1/conversations/score", headers=auth, json={"conversations": [
        {"id": "x", "messages": []}]})
    assert empty.status_code == 200 and not empty.json()[0]["report"]["warned"]
    assert app_client.post("/v1/conversations/score", json={}).status_code == 401


def test_cli_score_watch_evaluate(db: Database, cli_env: Settings, tmp_path: Path) -> None:
    from safeguard.cli.main import app

    path = tmp_path / "chats.jsonl"
    path.write_text("\n".join(json.dumps({"conversation": "c1", **m})
                              for m in _messages(GROOMING)) + "\nnot json\n")
    runner = CliRunner()
    result = runner.invoke(app, ["conversations", "score", str(path), "--json", "--triage"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.splitlines()[0])
    assert report["conversation"] == "c1" and report["warned"]
    assert "line 8" in result.stderr
    with db.session() as s:
        assert s.query(TriageItem).count() >= 1
    watched = runner.invoke(app, ["conversations", "watch"], input=path.read_text())
    assert watched.exit_code == 0 and '"event": "error", "line": 8' in watched.stdout
    evaluated = runner.invoke(app, ["conversations", "evaluate"])
    assert evaluated.exit_code == 0 and "heldout" in evaluated.stdout


def test_text_is_stored_only_when_the_operator_chooses(db: Database) -> None:
    from safeguard.audit.service import Actor
    from safeguard.conversations.service import MAX_STORED_TEXT, score_and_raise

    actor = Actor("system", "test", None, frozenset({"conversations"}))
    long_threat = THREAT[:2] + [("X", THREAT[2][1] + " ok" * 1000)]
    with db.session() as s:
        _, default_items = score_and_raise(s, actor, "chat-default", _messages(GROOMING))
        _, stored_items = score_and_raise(s, actor, "chat-stored", _messages(long_threat),
                                          store_text=True)
    with db.session() as s:
        default = [s.get(TriageItem, i).details for i in default_items]
        stored = [s.get(TriageItem, i).details for i in stored_items]
    assert default and all("texts" not in d for d in default)
    assert "dont tell ur parents" not in json.dumps(default)
    (threat,) = [d for d in stored if d["kind"] == "sextortion_threat"]
    assert threat["texts_stored_by"] == "operator setting conversations_store_text"
    kept = threat["texts"][str(threat["message_index"])]
    assert kept.startswith("pay me 100 or i will send your photos")
    assert kept.endswith(" [cut]") and len(kept) == MAX_STORED_TEXT + len(" [cut]")
