"""Bad input through every layer (indicators, the WordLlama affinity, a trained classifier)
and every entry point: clear errors or clear degradation, never a crash or a silent zero."""

from __future__ import annotations

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
