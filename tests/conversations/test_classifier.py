"""Layer 3: the trainable classifier (numpy logistic regression on hashed features), its JSON
model file, and its use by the streaming scorer. Training data here is synthetic and
non-explicit."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from safeguard.conversations.classifier import Classifier, Document, documents_from, train
from safeguard.conversations.loaders import Conversation
from safeguard.conversations.normalize import normalize
from safeguard.conversations.scoring import ChatMessage, ConversationWatcher, score_conversation
from safeguard.errors import InvalidInput

OFFENDER = ["how old are you", "are your parents home", "dont tell anyone about us",
            "add me on snap", "you are so mature", "where do you live"]
ORDINARY = ["gg", "did you do the homework", "see you at practice", "lol that was funny",
            "what time is the bus", "my dog ate my sock", "nice goal today"]


def corpus(n: int, seed: int = 3) -> tuple[list[Conversation], frozenset[str]]:
    rng = random.Random(seed)
    convs, offenders = [], set()
    for c in range(n):
        bad = c % 4 == 0
        if bad:
            offenders.add(f"u{c}a")
        msgs = []
        for i in range(10):
            author = f"u{c}a" if i % 2 == 0 else f"u{c}b"
            pool = OFFENDER if bad and author.endswith("a") and i % 4 != 2 else ORDINARY
            msgs.append(ChatMessage(author, rng.choice(pool)))
        convs.append(Conversation(f"c{c}", tuple(msgs)))
    return convs, frozenset(offenders)


@pytest.fixture(scope="module")
def model() -> Classifier:
    convs, offenders = corpus(80)
    docs, y, keys = documents_from(convs, offenders)
    assert len(docs) == 160 and int(y.sum()) == 20 and keys[0] == ("c0", "u0a")
    clf, report = train(docs, y, epochs=150)
    assert report.train_recall == 1.0 and report.train_precision == 1.0
    return clf


def test_learns_to_separate_held_out_conversations(model: Classifier) -> None:
    convs, offenders = corpus(40, seed=99)
    docs, y, _ = documents_from(convs, offenders)
    p = np.array([model.score_document(d) for d in docs])
    assert p[y == 1].min() > 0.5 > p[y == 0].max()


def test_model_file_is_json_and_round_trips(model: Classifier, tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    model.save(path)
    body = json.loads(path.read_text())  # plain JSON: loading it cannot run code
    assert body["format"] == "safeguard-conversations-classifier" and body["meta"]["positives"]
    again = Classifier.load(path)
    doc = Document()
    doc.add_text(normalize("are your parents home").tokens)
    assert again.score_document(doc.freeze()) == pytest.approx(
        model.score_document(doc.freeze()), abs=1e-5)


@pytest.mark.parametrize(("body", "error"), [
    ("not json", "not a JSON model file"),
    ('{"format": "other"}', "not a safeguard-conversations-classifier"),
    ('{"format": "safeguard-conversations-classifier", "version": 9}', "version"),
    ('{"format": "safeguard-conversations-classifier", "version": 1, "bits": 40}', "bits"),
    ('{"format": "safeguard-conversations-classifier", "version": 1, "bits": 10, '
     '"index": [5000], "weight": [1.0], "bias": 0, "threshold": 0.5}', "out of range"),
    ('{"format": "safeguard-conversations-classifier", "version": 1, "bits": 10, '
     '"index": [1], "weight": [NaN], "bias": 0, "threshold": 0.5}', "finite"),
    ('{"format": "safeguard-conversations-classifier", "version": 1, "bits": 10, '
     '"index": [1, 2], "weight": [1.0], "bias": 0, "threshold": 0.5}', "equal length"),
    ('{"format": "safeguard-conversations-classifier", "version": 1, "bits": 10, '
     '"index": [1], "weight": [1.0], "bias": 0, "threshold": 2}', "threshold"),
])
def test_bad_model_files_are_named(tmp_path: Path, body: str, error: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(body)
    with pytest.raises(InvalidInput, match=error):
        Classifier.load(path)


def test_training_needs_both_classes() -> None:
    convs, _ = corpus(8)
    docs, y, _ = documents_from(convs, frozenset())
    with pytest.raises(InvalidInput, match="both classes"):
        train(docs, y)
    with pytest.raises(InvalidInput, match="no training documents"):
        train([], np.zeros(0, np.float32))


def test_streaming_pair_probability_equals_the_whole_document(model: Classifier) -> None:
    """The score is linear in frequencies, so two running sums per pair give exactly the
    probability of the author's whole side of the conversation."""
    convs, offenders = corpus(12, seed=5)
    for conv in convs:
        watcher = ConversationWatcher(classifier=model)
        for msg in conv.messages:
            watcher.push(msg)
        docs, _, keys = documents_from([conv], offenders)
        whole = {author: model.score_document(d) for d, (_, author) in zip(docs, keys)}
        assert watcher._pairs
        for (author, _), pair in watcher._pairs.items():
            assert pair.model is not None
            assert pair.model.probability == pytest.approx(whole[author], abs=1e-4)


def test_scorer_uses_the_classifier_as_third_layer_with_reasons(model: Classifier) -> None:
    # no single indicator family is enough here; the trained model carries the warning
    messages = [ChatMessage("A" if i % 2 == 0 else "B", t) for i, t in enumerate(
        ["where do you live", "london", "where do you live", "why", "where do you live",
         "ok", "where do you live"])]
    without = score_conversation(messages)
    with_model = score_conversation(messages, classifier=model)
    assert not without.warned
    assert with_model.warned and with_model.warnings[0].author == "A"
    assert with_model.layers[-1] == model.name
    model_reasons = [r for r in with_model.warnings[0].reasons if r.layer == "model"]
    assert model_reasons and "strongest features" in model_reasons[0].words
    assert "where" in model_reasons[0].words or "live" in model_reasons[0].words
