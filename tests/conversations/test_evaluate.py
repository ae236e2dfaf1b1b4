"""The evaluation harness and the project's own evaluation set."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from safeguard.conversations.evaluate import (
    evaluate,
    evaluate_splits,
    load_eval_set,
    parse_eval_text,
    vogt_penalty,
)
from safeguard.conversations.layers import build_layers
from safeguard.errors import InvalidInput


def test_eval_set_is_balanced_multilingual_and_split() -> None:
    convs = load_eval_set()
    grooming = [c for c in convs if c.label == "grooming"]
    benign = [c for c in convs if c.label == "benign"]
    assert len(grooming) >= 40 and len(benign) >= 40
    assert {c.language for c in grooming} == {c.language for c in benign} == {"en", "es", "fr"}
    assert {c.split for c in convs} == {"dev", "heldout", "heldout2", "heldout3", "heldout4",
                                        "heldout5", "heldout6", "heldout7", "heldout8",
                                        "heldout9", "heldout10"}
    assert len({c.id for c in convs}) == len(convs)
    for c in grooming:
        assert c.offender in {m.author for m in c.messages}, c.id
    kinds = {c.kind for c in benign}
    assert {"surprise_party", "parent_pickup", "teens_age", "gamers_trading", "teacher",
            "coach", "friends_app_move"} <= kinds


def test_vogt_penalty() -> None:
    assert vogt_penalty(1) == 0
    assert vogt_penalty(90) == pytest.approx(0.5)
    assert vogt_penalty(10_000) == pytest.approx(1.0)
    assert math.isclose(vogt_penalty(45), -1 + 2 / (1 + math.exp(-math.log(3) / 89 * 44)))


def test_metrics_count_the_offender_not_just_the_conversation() -> None:
    text = """
=== g1 grooming en offender=B
A: how old are you
A: ur so mature
A: dont tell anyone
=== n1 benign en
A: hi
"""
    result = evaluate(parse_eval_text(text))
    m = result.metrics()
    # a warning is raised, but for A, not for the annotated offender B: a miss, and no FP
    assert (m["tp"], m["fn"], m["fp"], m["tn"]) == (0, 1, 0, 1)


def test_floors_on_both_halves() -> None:
    """Regression floors, below the figures in docs/conversations.md (held-out 4 was never
    tuned on: its floor guards against getting worse, it is not a target)."""
    results = evaluate_splits()
    for split, floor_p, floor_r in (("dev", 0.9, 0.9), ("heldout", 0.8, 0.7),
                                    ("heldout2", 0.8, 0.7), ("heldout3", 0.8, 0.7),
                                    ("heldout4", 0.6, 0.3), ("heldout5", 0.8, 0.7),
                                    ("heldout6", 0.5, 0.3)):
        m = results[split].metrics()
        assert m["precision"] >= floor_p and m["recall"] >= floor_r, (split, m)
        assert m["median_latency"] is not None and m["median_latency"] <= 12


def test_tactic_model_floors_on_the_files_written_blind() -> None:
    """Held-out 7, 8, 9 and 10 were scored once with the tactic model frozen (decision 035):
    P / R 0.89 / 0.80, 0.95 / 0.90, 0.76 / 0.65 and 0.75 / 0.75, against R 0.20, 0.25, 0.15
    and 0.30 without it.
    Floors below those figures guard against getting worse; they are not targets to tune to."""
    layers = build_layers("none")
    assert layers.tactics is not None
    splits = ("heldout7", "heldout8", "heldout9", "heldout10")
    with_model = evaluate_splits(splits, layers=layers)
    without = evaluate_splits(splits, layers=replace(layers, tactics=None))
    for split, floor_p, floor_r, urgent_fp in (("heldout7", 0.8, 0.7, 0),
                                                ("heldout8", 0.85, 0.8, 0),
                                                ("heldout9", 0.65, 0.55, 2),
                                                ("heldout10", 0.65, 0.65, 3)):
        m, base = with_model[split].metrics(), without[split].metrics()
        assert m["precision"] >= floor_p and m["recall"] >= floor_r, (split, m)
        assert m["recall"] >= base["recall"] + 0.3, (split, m, base)
        assert len([o for o in with_model[split].outcomes
                    if o.conversation.label == "benign" and o.report.urgent]) <= urgent_fp


def test_malformed_eval_text_names_lines() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_eval_text("=== x maybe en\nA: hi\nno colon here\n=== g grooming en\nA: hi\n")
    msg = str(err.value)
    assert "<text>:1" in msg and "<text>:3" in msg and "without offender" in msg
