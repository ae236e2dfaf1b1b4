"""Scoring: patterns over time warn, single hard-negative phrases never do, streaming equals
batch, urgent items, constant state."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.conversations.scoring import (
    ChatMessage,
    ConversationWatcher,
    ScoringConfig,
    score_conversation,
)
from safeguard.errors import InvalidInput

GROOMING = [
    ("A", "gg nice round"), ("B", "thx"), ("A", "how old r u"), ("B", "12"),
    ("A", "ur so mature for ur age"), ("A", "dont tell ur parents we talk ok"),
    ("A", "add me on snap its more private"), ("B", "ok"), ("A", "send me a pic of u"),
]


def msgs(pairs: list[tuple[str, str]]) -> list[ChatMessage]:
    return [ChatMessage(a, t) for a, t in pairs]


def test_grooming_pattern_warns_with_index_author_target_and_reasons() -> None:
    report = score_conversation(msgs(GROOMING))
    assert report.warned
    w = report.warnings[0]
    assert (w.author, w.target) == ("A", "B")
    assert w.message_index == 5  # age + trust + secrecy: three stages
    assert {r.family for r in w.reasons} == {"age_probe", "trust_building", "secrecy"}
    assert report.participants["A"].risk > 0.8
    assert report.participants["B"].risk == 0
    assert report.messages[5].warning is w
    assert report.notes == ("embedding unavailable: indicators only",)


HARD_NEGATIVES = [
    "don't tell anyone, it's a surprise party for jess!", "it's our secret till saturday",
    "how old are you?", "what grade are you in", "add me on discord", "whats ur number",
    "i'll give you 300 robux for the dragon", "i'll pick you up at 5", "meet at the field at 9",
    "no le digas a nadie, es una sorpresa", "cuantos años tienes", "te paso a buscar a las 6",
    "dis rien à personne, c'est une surprise", "t'as quel âge", "je passe te chercher à 18h",
    "send me a picture of the poster", "you played really well, you're special",
]


@pytest.mark.parametrize("phrase", HARD_NEGATIVES)
def test_a_hard_negative_phrase_never_warns_even_repeated(phrase: str) -> None:
    convo = [("A", phrase), ("B", "ok")] * 10
    report = score_conversation(msgs(convo))
    assert not report.warned, report.warnings
    assert report.risk < 0.5


def test_pattern_split_between_two_people_does_not_add_up() -> None:
    convo = [("A", "how old are you"), ("B", "its a secret lol dont tell anyone"),
             ("A", "add me on snap"), ("B", "send me a pic of your cat"),
             ("A", "are your parents home"), ("B", "ur so mature haha")]
    report = score_conversation(msgs(convo))
    # each author alone shows at most two stages
    assert not report.warned


def test_evidence_decays_over_a_long_benign_stretch() -> None:
    cfg = ScoringConfig(half_life_messages=20)
    spread = [("A", "how old are you")] + [("B", "lol")] * 200 + \
        [("A", "ur so mature")] + [("B", "lol")] * 200 + [("A", "dont tell anyone")]
    assert not score_conversation(msgs(spread), cfg).warned
    close = [("A", "how old are you"), ("A", "ur so mature"), ("A", "dont tell anyone")]
    assert score_conversation(msgs(close), cfg).warned


def test_sextortion_threat_is_urgent_at_once() -> None:
    report = score_conversation(msgs([("P", "hi"), ("Q", "hey"),
                                      ("P", "pay or i'll send your pics to all your friends")]))
    assert report.warned and report.warning_index == 2
    assert [u.kind for u in report.urgent] == ["sextortion_threat"]
    assert report.urgent[0].urgent


def test_meeting_is_urgent_only_when_the_pair_is_already_elevated() -> None:
    alone = score_conversation(msgs([("M", "i'll pick you up at 5"), ("K", "ok")]))
    assert not alone.urgent
    convo = GROOMING + [("A", "lets meet at the mall saturday, come alone")]
    report = score_conversation(msgs(convo))
    assert [u.kind for u in report.urgent] == ["meeting"]
    assert report.urgent[0].message_index == len(GROOMING)


POOL = [t for _, t in GROOMING] + HARD_NEGATIVES + ["lol", "ok", "😀", "", "brb"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(POOL)),
                min_size=0, max_size=40))
def test_streaming_equals_batch_at_every_prefix(convo: list[tuple[str, str]]) -> None:
    watcher = ConversationWatcher()
    live = [watcher.push(m) for m in msgs(convo)]
    batch = score_conversation(msgs(convo))
    assert [(m.score, m.pair_risk, m.warning) for m in live] == \
        [(m.score, m.pair_risk, m.warning) for m in batch.messages]
    for k in (len(convo) // 3, len(convo) // 2):
        prefix = score_conversation(msgs(convo[:k]))
        assert prefix.warning_index == next(
            (m.index for m in live[:k] if m.warning), None)
        assert prefix.risk == pytest.approx(max((m.pair_risk for m in live[:k]), default=0.0))


def test_state_is_bounded_whatever_the_length_and_the_crowd() -> None:
    cfg = ScoringConfig(max_pairs=8, reasons_per_family=2)
    watcher = ConversationWatcher(cfg)
    for i in range(3000):
        watcher.push(ChatMessage(f"user{i % 50}", "dont tell anyone, how old are you"))
    assert len(watcher._pairs) <= 8
    assert all(len(rs) <= 2 for p in watcher._pairs.values() for rs in p.reasons)
    assert len(watcher._last_other) <= 16


def test_repeated_threats_and_a_crowd_of_authors_keep_the_state_bounded() -> None:
    cfg = ScoringConfig(max_pairs=4, max_kept_warnings=5)
    watcher = ConversationWatcher(cfg)
    threat = "pay me 100 or i will send your photos to all your friends"
    for i in range(2000):  # the same threat, again and again, from a crowd of authors
        event = watcher.push(ChatMessage(f"user{i % 300}", threat))
        assert event.urgent is not None  # every one is still signalled live
    assert len(watcher.urgent) <= 5 and len(watcher.warnings) <= 5
    assert len(watcher._last_other) <= 8 and len(watcher._pairs) <= 4
    notes = " ".join(watcher.report().notes)
    assert "repeated urgent signal" in notes and "not listed" in notes
    # the first urgent signal of each (author, target, kind) is kept, repeats are not
    solo = ConversationWatcher()
    for _ in range(10):
        solo.push(ChatMessage("X", threat, to="Y"))
    assert [(u.author, u.target, u.message_index) for u in solo.urgent] == [("X", "Y", 0)]
    assert "9 repeated urgent signal(s)" in " ".join(solo.report().notes)


def test_bad_and_odd_input_is_named_or_noted() -> None:
    assert score_conversation([]).notes[0] == "empty conversation: nothing to score"
    one = score_conversation([{"author": "a", "text": "hi"}])
    assert "one-message conversation" in one.notes[0]
    ooo = score_conversation([{"author": "a", "text": "hi", "time": "2024-01-02T10:00:00Z"},
                              {"author": "b", "text": "yo", "time": "2024-01-01T10:00:00Z"}])
    assert any("earlier than the previous" in n for n in ooo.notes)
    big = score_conversation([{"author": "a", "text": "x" * 1_000_000}])
    assert any("truncated" in n for n in big.notes)
    with pytest.raises(InvalidInput, match="message 1: 'author' is required"):
        score_conversation([{"author": "a", "text": "hi"}, {"text": "no author"}])
    with pytest.raises(InvalidInput, match="cannot read time"):
        score_conversation([{"author": "a", "text": "hi", "time": "yesterday-ish"}])
    with pytest.raises(InvalidInput):
        ScoringConfig(threshold=0)


def test_report_serialises() -> None:
    data = score_conversation(msgs(GROOMING)).as_dict()
    assert data["warned"] and data["warning_index"] == 5
    assert data["participants"]["A"]["target"] == "B"
    assert data["messages"][2]["indicators"][0]["family"] == "age_probe"
