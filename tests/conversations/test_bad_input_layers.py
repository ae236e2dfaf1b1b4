"""Bad input through every layer (indicators, the WordLlama affinity, a trained classifier)
and every entry point: clear errors or clear degradation, never a crash or a silent zero."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from safeguard.conversations.classifier import Classifier, slot
from safeguard.conversations.layers import Layers, build_layers
from safeguard.conversations.loaders import iter_pan_xml
from safeguard.conversations.scoring import ChatMessage
from safeguard.conversations.service import score_with
from tests.conftest import issue_token


@pytest.fixture(scope="module")
def all_layers() -> Layers:
    weights = np.zeros(1 << 18, np.float32)
    weights[slot("alone")] = 30.0
    return replace(build_layers("wordllama"), classifier=Classifier(weights, -3.0))


def test_megabyte_message_is_truncated_with_a_note(all_layers: Layers) -> None:
    big = "see you at practice " * 60_000  # 1.2 MB
    report = score_with(all_layers, [{"author": "A", "text": big},
                                     {"author": "B", "text": "ok"}])
    assert any("truncated" in n for n in report.messages[0].notes)
    assert any("1 message(s) truncated" in n for n in report.notes)
    assert report.messages[0].affinity.score is not None  # the embedding saw the cut text


def test_unknown_encoding_emoji_only_and_out_of_order(all_layers: Layers) -> None:
    messages = [
        ChatMessage("A", b"caf\xe9 \x80 r u alone", time=100.0),  # Windows-1252
        ChatMessage("B", "😀😀🙈", time=50.0),
        ChatMessage("A", b"\xff\xfe\x00\x81 ok", time=120.0),
    ]
    report = score_with(all_layers, messages)
    first, emoji, junk = report.messages
    assert any("Windows-1252" in n or "cp1252" in n.lower() for n in first.notes), first.notes
    assert "no words: emoji or symbols only" in emoji.notes
    assert emoji.affinity.note == "no words"  # not a silent zero: it says why
    assert any("timestamp earlier" in n for n in emoji.notes)
    assert any("earlier than the previous one" in n for n in report.notes)
    assert junk.notes  # undecodable bytes are decoded with a note, never a crash
    assert report.layers[-1].startswith("classifier")


def test_empty_and_one_line_conversations(all_layers: Layers) -> None:
    assert "empty conversation: nothing to score" in score_with(all_layers, []).notes
    one = score_with(all_layers, [{"author": "A", "text": "r u alone"}])
    assert any("one-message conversation" in n for n in one.notes)
    assert not one.warned  # the classifier waits for a few messages from the pair


def test_pan_message_of_megabytes_is_loaded_and_truncated_when_scored(tmp_path: Path,
                                                                      all_layers: Layers
                                                                      ) -> None:
    path = tmp_path / "pan.xml"
    path.write_text("<conversations><conversation id='1'><message line='1'><author>a</author>"
                    "<time>25:99</time><text>" + "hello there " * 200_000 + "</text></message>"
                    "</conversation></conversations>")
    (conv,) = list(iter_pan_xml(path))
    assert conv.messages[0].time is None  # an impossible time is dropped, not guessed
    report = score_with(all_layers, conv.messages)
    assert any("truncated" in n for n in report.notes)


def test_api_megabyte_message_is_truncated_with_a_note(app_client: Any) -> None:
    auth = {"Authorization": f"Bearer {issue_token(app_client, 'ana', ['conversations'])}"}
    body = {"conversations": [{"id": "big", "messages": [
        {"author": "A", "text": "see you at practice " * 45_000}]}], "include_messages": True}
    r = app_client.post("/v1/conversations/score", headers=auth, json=body)
    assert r.status_code == 200, r.text
    report = r.json()[0]["report"]
    assert any("truncated" in n for n in report["notes"])
    assert report["layers"][:2] == ["indicators", "affinity:wordllama-l2-256"]
    too_big = {"conversations": [{"id": "x", "messages": [
        {"author": "A", "text": "x" * 1_000_001}]}]}
    r = app_client.post("/v1/conversations/score", headers=auth, json=too_big)
    assert r.status_code in (413, 422) and "text" in r.text


def test_lines_in_an_unknown_encoding_are_decoded_and_said_everywhere(tmp_path: Path) -> None:
    from safeguard.conversations.loaders import iter_jsonl_conversations
    from safeguard.conversations.stream import StreamWatcher

    # Windows-1252 bytes in a JSON line: "café" and a euro sign, not valid UTF-8
    line = b'{"conversation": "c", "author": "A", "text": "caf\xe9 \x80 how old r u"}'
    (event,) = list(StreamWatcher().feed([line]))
    assert event["event"] == "message"
    assert "line 1: not UTF-8: decoded as Windows-1252" in event["notes"]
    assert [i["family"] for i in event["indicators"]] == ["age_probe"]  # still scored
    clean = list(StreamWatcher().feed([line.replace(b"\xe9 \x80", b"e")]))[0]
    assert not any("UTF-8" in n for n in clean["notes"])
    path = tmp_path / "chats.jsonl"
    path.write_bytes(line + b"\n" + line.replace(b'"A"', b'"B"') + b"\n")
    notes: list[str] = []
    (conv,) = list(iter_jsonl_conversations(path, notes))
    assert conv.messages[0].text == "café € how old r u"
    assert len(notes) == 2 and notes[0].endswith(":1: not UTF-8: decoded as Windows-1252")


def test_a_line_nested_too_deeply_is_one_error_event_and_the_stream_goes_on() -> None:
    from safeguard.conversations.stream import StreamWatcher

    deep = b"[" * 200_000 + b"]" * 200_000  # json.loads raises RecursionError on this
    ok = b'{"conversation": "c", "author": "A", "text": "how old r u"}'
    events = list(StreamWatcher().feed([deep, ok]))
    assert events[0] == {"event": "error", "line": 1,
                         "error": "not valid JSON: nested too deeply"}
    assert events[1]["event"] == "message" and events[1]["conversation"] == "c"


def test_cli_score_reads_pan_xml_and_notes_guessed_encodings(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from safeguard.cli.main import app

    xml = tmp_path / "chats.xml"
    xml.write_text("<conversations><conversation id='x1'>"
                   "<message line='1'><author>a</author><time>10:00</time>"
                   "<text>how old r u</text></message>"
                   "<message line='2'><author>b</author><time>10:01</time>"
                   "<text>12 &amp;lt;3</text></message></conversation></conversations>")
    runner = CliRunner()
    result = runner.invoke(app, ["conversations", "score", str(xml), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.splitlines()[0])
    assert report["conversation"] == "x1" and report["participants"]["a"]["target"] == "b"
    jsonl = tmp_path / "chats.jsonl"
    jsonl.write_bytes(b'{"conversation": "c", "author": "A", "text": "caf\xe9"}\n')
    result = runner.invoke(app, ["conversations", "score", str(jsonl), "--json"])
    assert result.exit_code == 0, result.output
    assert "line 1: not UTF-8: decoded as Windows-1252 (kept)" in result.stderr
    bad = tmp_path / "bad.xml"
    bad.write_text('<?xml version="1.0"?><!DOCTYPE c [<!ENTITY e "x">]><conversations/>')
    result = runner.invoke(app, ["conversations", "score", str(bad)])
    assert result.exit_code != 0 and "DOCTYPE/ENTITY" in result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr
