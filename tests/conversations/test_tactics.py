"""Layer 2b: the tactic model (softmax regression on hashed words, word pairs and character
n-grams), its training files, its .npz model file and its use by the streaming scorer. Every
text here is non-explicit."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.conversations.indicators import default_matcher
from safeguard.conversations.layers import build_layers
from safeguard.conversations.normalize import normalize
from safeguard.conversations.scoring import ChatMessage, ConversationWatcher, ScoringConfig
from safeguard.conversations.tactics import (
    SHIPPED_MODEL,
    TacticModel,
    files_digest,
    load_examples,
    parse_examples,
    token_features,
    train_from_files,
    train_tactics,
    training_files,
)
from safeguard.errors import InvalidInput

FAMILIES = [f.name for f in default_matcher().lexicon.families]

TRAIN = {
    "age_probe": ["how old are you", "what grade r u in", "u in middle school?",
                  "whats ur age", "which school do you go to"],
    "secrecy": ["dont tell your mom about us", "keep this between us ok", "delete our chat",
                "nobody needs to know we talk", "dont mention me to your parents"],
    "platform_move": ["add me on snap", "lets move to whatsapp", "text me on telegram instead",
                      "got discord? dm me there", "make a second account for us"],
    "none": ["see you at practice", "did you finish the homework", "gg that was close",
             "my dog ate my sock", "the bus is late again", "dont tell sara about the party",
             "mum sent the holiday photos", "nice goal today", "what time is dinner",
             "lol same"],
}


def tokens(text: str) -> tuple[str, ...]:
    return normalize(text).tokens


@pytest.fixture(scope="module")
def model() -> TacticModel:
    texts = [(t, lab) for lab, items in TRAIN.items() for t in items]
    m, report = train_tactics([tokens(t) for t, _ in texts], [lab for _, lab in texts],
                              bits=14, epochs=150)
    assert report.train_accuracy == 1.0
    assert report.per_class["none"] == 10
    return m


def test_recognises_unseen_phrasings_and_explains_with_words(model: TacticModel) -> None:
    pred = model.predict(tokens("how old r you"))
    assert pred is not None and pred.family == "age_probe"
    assert "old" in pred.words
    pred = model.predict(tokens("dont tell ur parents about this chat"))
    assert pred is not None and pred.family == "secrecy"
    assert model.predict(tokens("see you at the bus")) is None  # ordinary: no tactic


def test_features_credit_each_word() -> None:
    feats, owner = token_features(("dont", "tell"))
    assert "w:dont" in feats and "c:<do" in feats and "b:dont tell" in feats
    assert owner[feats.index("b:dont tell")] == -1  # a pair: credit split over words 0 and 1
    assert {owner[i] for i, f in enumerate(feats) if f.startswith("c:") and "ell" in f} == {1}


def test_training_is_deterministic() -> None:
    texts = [(t, lab) for lab, items in TRAIN.items() for t in items]
    a, _ = train_tactics([tokens(t) for t, _ in texts], [lab for _, lab in texts], bits=12,
                         epochs=20)
    b, _ = train_tactics([tokens(t) for t, _ in texts], [lab for _, lab in texts], bits=12,
                         epochs=20)
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.bias, b.bias)


def test_training_needs_two_labels() -> None:
    with pytest.raises(InvalidInput, match="two or more labels"):
        train_tactics([("a",), ("b",)], ["none", "none"])


def test_model_file_round_trips_without_pickle(model: TacticModel, tmp_path: Path) -> None:
    path = tmp_path / "tactics.npz"
    model.save(path)
    loaded = TacticModel.load(path)
    assert loaded.classes == model.classes and loaded.bits == model.bits
    for text in ("how old are you", "add me on snap", "nice goal"):
        a, b = model.predict(tokens(text)), loaded.predict(tokens(text))
        assert (a is None) == (b is None)
        if a and b:
            assert a.family == b.family and abs(a.probability - b.probability) < 0.01


@pytest.mark.parametrize("content, message", [
    (b"not a zip", "not a tactic model"),
    (b"", "not a tactic model"),
])
def test_bad_model_files_are_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message):
        TacticModel.load(path)


def test_a_pickled_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    buf = io.BytesIO()
    np.savez(buf, weights=np.array([object()], dtype=object), bias=np.zeros(2),
             meta=np.array("{}"))
    path.write_bytes(buf.getvalue())
    with pytest.raises(InvalidInput, match="not a tactic model"):
        TacticModel.load(path)
    assert pickle  # the refusal above is numpy's allow_pickle=False


def test_wrong_shapes_and_formats_are_named(model: TacticModel, tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    np.savez(path, weights=np.zeros((16, 3), np.float16), bias=np.zeros(3, np.float32),
             meta=np.array('{"format": "safeguard-conversations-tactics", "version": 1, '
                           '"bits": 8, "classes": ["a", "b", "none"]}'))
    with pytest.raises(InvalidInput, match="do not fit"):
        TacticModel.load(path)
    np.savez(path, weights=np.zeros((256, 2)), bias=np.zeros(2),
             meta=np.array('{"format": "other"}'))
    with pytest.raises(InvalidInput, match="not a safeguard-conversations-tactics file"):
        TacticModel.load(path)
    with pytest.raises(InvalidInput, match="cannot read"):
        TacticModel.load(tmp_path / "missing.npz")


def test_training_file_problems_are_all_named() -> None:
    text = ("# header\n\nage_probe\thow old are you\nnotalabel\thi\nsecrecy\n"
            "none\t   \n")
    with pytest.raises(InvalidInput) as err:
        parse_examples(text, "en", "en.txt", FAMILIES)
    message = str(err.value)
    assert "line 4: unknown label 'notalabel'" in message
    assert "line 5: expected <label><TAB><message>" in message
    assert "line 6: empty message" in message
    good = parse_examples("age_probe\thow old are you\n# c\nnone\tgg\n", "en", "en.txt",
                          FAMILIES)
    assert [(e.label, e.where) for e in good] == [("age_probe", "en.txt:1"), ("none", "en.txt:3")]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_parser_never_crashes(text: str) -> None:
    try:
        out = parse_examples(text, "xx", "f.txt", FAMILIES)
    except InvalidInput as exc:
        assert str(exc).startswith("f.txt: line ")
    else:
        assert all(e.label in {*FAMILIES, "none"} and e.text.strip() for e in out)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), max_size=12))
def test_prediction_is_a_distribution_for_any_tokens(model: TacticModel,
                                                     words: list[str]) -> None:
    probs = model.probabilities(words)
    assert probs.shape == (len(model.classes),)
    assert abs(float(probs.sum()) - 1.0) < 1e-6 and float(probs.min()) >= 0.0


def test_train_from_files_records_a_digest(tmp_path: Path) -> None:
    en = tmp_path / "en.txt"
    en.write_text("".join(f"{lab}\t{t}\n" for lab, items in TRAIN.items() for t in items),
                  encoding="utf-8")
    m, report = train_from_files([en], FAMILIES, tokens, bits=12, epochs=10)
    assert m.meta["training_sha256"] == files_digest([en])
    assert m.meta["languages"] == ["en"] and report.examples == 25
    en.write_text("none\tgg\n", encoding="utf-8")
    assert files_digest([en]) != m.meta["training_sha256"]


# ---------------------------------------------------------------------- the shipped model
def test_shipped_model_is_trained_on_the_shipped_examples() -> None:
    """Rebuild with `safeguard conversations train-tactics -o
    safeguard/conversations/data/tactics.npz` after changing data/families/."""
    model = TacticModel.load(SHIPPED_MODEL)
    assert model.meta["training_sha256"] == files_digest(training_files())
    assert set(model.classes) - {"none"} <= set(FAMILIES)
    examples = load_examples(training_files(), FAMILIES)
    assert {e.lang for e in examples} >= {"en", "es", "fr"}
    for family in FAMILIES:  # every family is taught in every language
        for lang in ("en", "es", "fr"):
            assert sum(e.label == family and e.lang == lang for e in examples) >= 20, \
                (family, lang)


def test_shipped_model_is_loaded_by_default_and_can_be_switched_off() -> None:
    assert build_layers("none").tactics is not None
    assert build_layers("none", tactics=None).tactics is None
    layers = build_layers("none", tactics=Path("/nonexistent/tactics.npz"))
    assert layers.tactics is None
    assert any(n.startswith("tactic model unavailable") for n in layers.notes)


# ---------------------------------------------------------------------- in the watcher
def test_watcher_counts_a_tactic_the_lexicon_lacks(model: TacticModel) -> None:
    cfg = ScoringConfig(tactic_probability=0.3)
    watcher = ConversationWatcher(cfg, tactics=model)
    # phrased so that no indicator fires; the model still recognises the tactic
    score = watcher.push(ChatMessage("A", "nobody needs 2 know we talk lol"))
    assert not [i for i in score.indicators if i.family == "secrecy"]
    assert score.tactic is not None and score.tactic.family == "secrecy"
    pair = next(p for p in watcher.pair_risks() if p.author == "A")
    assert pair.families.get("secrecy", 0) > 0
    reason = next(r for r in pair.reasons if r.layer == "tactics")
    assert reason.family == "secrecy" and reason.words.startswith("tactic model ")
    assert watcher.report().layers[-1] == model.name
    assert score.as_dict()["tactic"]["family"] == "secrecy"


def test_below_the_probability_nothing_is_added(model: TacticModel) -> None:
    watcher = ConversationWatcher(ScoringConfig(tactic_probability=1.0), tactics=model)
    watcher.push(ChatMessage("A", "nobody needs 2 know we talk lol"))
    assert all(p.risk == 0 for p in watcher.pair_risks())


def test_config_rejects_out_of_range_tactic_settings() -> None:
    with pytest.raises(InvalidInput, match="tactic"):
        ScoringConfig(tactic_probability=0)
    with pytest.raises(InvalidInput, match="tactic"):
        ScoringConfig(tactic_evidence=1.5)


def test_cli_trains_a_model_that_scoring_can_use(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from safeguard.cli.main import app
    from safeguard.config import Settings
    from safeguard.conversations.layers import layers_for

    en = tmp_path / "en-ours.txt"
    en.write_text("".join(f"{lab}\t{t}\n" for lab, items in TRAIN.items() for t in items),
                  encoding="utf-8")
    out = tmp_path / "ours.npz"
    runner = CliRunner()
    result = runner.invoke(app, ["conversations", "train-tactics", str(en), "-o", str(out),
                                 "--epochs", "30"])
    assert result.exit_code == 0, result.output
    assert "trained on 25 messages" in result.stdout and out.is_file()
    layers = layers_for(Settings(conversations_embedding="none",
                                 conversations_tactics_model=out))
    assert layers.tactics is not None and layers.tactics.name == "tactics:ours.npz"
    assert layers.tactics.meta["languages"] == ["en"]
    off = layers_for(Settings(conversations_embedding="none", conversations_tactics=False))
    assert off.tactics is None

    bad = tmp_path / "fr.txt"
    bad.write_text("age_probe\tquel âge\nflirting\tsalut\n", encoding="utf-8")
    refused = runner.invoke(app, ["conversations", "train-tactics", str(bad), "-o",
                                  str(tmp_path / "x.npz")])
    assert refused.exit_code != 0 and "line 2: unknown label 'flirting'" in refused.output
    wrong = runner.invoke(app, ["conversations", "train-tactics", str(en), "-o",
                                str(tmp_path / "x.json")])
    assert wrong.exit_code != 0 and ".npz" in wrong.output
    assert not (tmp_path / "x.npz").exists() and not (tmp_path / "x.json").exists()
