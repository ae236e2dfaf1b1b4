"""Metric functions, checked on examples worked out by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeguard.conversations.metrics import (
    early_detection,
    f_beta,
    identification,
    vogt_penalty,
    warning_latency,
)
from safeguard.errors import InvalidInput


def test_identification_by_hand() -> None:
    # predicted {a, b, c}, truth {b, c, d, e}: TP 2, FP 1, FN 2
    m = identification(["a", "b", "c"], ["b", "c", "d", "e"])
    assert (m["tp"], m["fp"], m["fn"]) == (2, 1, 2)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(1 / 2)
    assert m["f1"] == pytest.approx(4 / 7)  # 2PR/(P+R) = (2/3)/(7/6)
    assert m["f05"] == pytest.approx(0.625)  # 1.25PR/(0.25P+R) = (5/12)/(2/3)
    assert identification([], ["x"])["f05"] == 0.0
    assert identification(["x"], ["x"])["f1"] == 1.0


def test_f_beta_weights_precision_below_one() -> None:
    assert f_beta(1.0, 0.5, 0.5) > f_beta(0.5, 1.0, 0.5)
    assert f_beta(0.0, 0.0, 1.0) == 0.0


def test_vogt_penalty_by_hand() -> None:
    assert vogt_penalty(1) == 0.0
    assert vogt_penalty(90) == pytest.approx(0.5)  # p = ln 3 / 89: 2/(1+1/3) - 1
    assert math.isclose(vogt_penalty(10), -1 + 2 / (1 + 3 ** (-9 / 89)))


def test_warning_latency_over_the_last_ten_windows() -> None:
    flags = [True] + [False] * 9 + [True, True]
    assert warning_latency(flags, 1) == 1
    # at message 11 the first positive has left the last-10 window: 1 positive; at 12: 2
    assert warning_latency(flags, 2) == 12
    assert warning_latency(flags, 3) is None
    assert warning_latency([False, True, False, True, True], 3) == 5
    assert warning_latency([], 1) is None
    with pytest.raises(InvalidInput, match="skepticism"):
        warning_latency(flags, 0)
    with pytest.raises(InvalidInput, match="skepticism"):
        warning_latency(flags, 11)


@given(st.lists(st.booleans(), max_size=60), st.integers(1, 10))
def test_warning_latency_matches_a_direct_count(flags: list[bool], s: int) -> None:
    expected = next((k for k in range(1, len(flags) + 1)
                     if sum(flags[max(0, k - 10):k]) >= s), None)
    assert warning_latency(flags, s) == expected


def test_early_detection_by_hand() -> None:
    outcomes = [(True, 1), (True, 90), (True, None), (False, 5), (False, None)]
    m = early_detection(outcomes)
    assert (m["tp"], m["fp"], m["fn"]) == (2, 1, 1)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["median_latency"] == 45.5
    assert m["speed"] == pytest.approx(0.75)  # 1 - median(0, 0.5)
    assert m["f_latency"] == pytest.approx(0.5)
    nothing = early_detection([(True, None), (False, None)])
    assert nothing["f_latency"] == 0.0 and nothing["median_latency"] is None
