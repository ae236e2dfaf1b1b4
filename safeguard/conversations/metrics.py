"""Evaluation metrics, as pure functions (unit-tested on hand-computed examples).

- Predator identification (PAN 2012): precision, recall, F1 and F0.5 over author ids (the
  official ranking used F0.5, weighting precision).
- Early detection (Vogt et al., ACL 2021): at each new message the last 50 messages (the
  window) are classified; a warning is raised once at least ``s`` (the skepticism) of the last
  10 window classifications are positive; the latency is the number of messages read when the
  warning is raised. penalty(k) = -1 + 2 / (1 + exp(-p (k - 1))), p = ln 3 / 89 (so a warning
  after 90 messages costs 0.5); speed = 1 - median penalty over the true positives;
  F_latency = F1 x speed.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from safeguard.errors import InvalidInput

WINDOW = 50
LAST = 10
_P = math.log(3) / 89


def f_beta(precision: float, recall: float, beta: float) -> float:
    b2 = beta * beta
    denom = b2 * precision + recall
    return (1 + b2) * precision * recall / denom if denom else 0.0


def identification(predicted: Iterable[str], truth: Iterable[str]) -> dict[str, Any]:
    """P, R, F0.5, F1 of a set of predicted author ids against the true ones."""
    pred, true = set(predicted), set(truth)
    tp = len(pred & true)
    fp, fn = len(pred - true), len(true - pred)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r,
            "f05": f_beta(p, r, 0.5), "f1": f_beta(p, r, 1.0)}


def vogt_penalty(k: int) -> float:
    """Latency penalty of a warning raised after reading k messages."""
    return -1.0 + 2.0 / (1.0 + math.exp(-_P * (k - 1)))


def warning_latency(window_positive: Iterable[bool], skepticism: int,
                    last: int = LAST) -> int | None:
    """Messages read when the warning is raised: the first message at which at least
    `skepticism` of the last `last` window classifications were positive (None: never)."""
    if not 1 <= skepticism <= last:
        raise InvalidInput(f"skepticism must be 1..{last}, got {skepticism}")
    recent: deque[bool] = deque(maxlen=last)
    positives = 0
    for k, flag in enumerate(window_positive, 1):
        if len(recent) == last and recent[0]:
            positives -= 1
        recent.append(bool(flag))
        positives += bool(flag)
        if positives >= skepticism:
            return k
    return None


def early_detection(outcomes: Sequence[tuple[bool, int | None]]) -> dict[str, Any]:
    """`outcomes`: one (is a predator conversation, warning latency or None) per conversation.
    Precision, recall, F1 over conversations; median latency, speed and F_latency over the
    true positives."""
    tp = [lat for pos, lat in outcomes if pos and lat is not None]
    fn = sum(1 for pos, lat in outcomes if pos and lat is None)
    fp = sum(1 for pos, lat in outcomes if not pos and lat is not None)
    p = len(tp) / (len(tp) + fp) if tp or fp else 0.0
    r = len(tp) / (len(tp) + fn) if tp or fn else 0.0
    f1 = f_beta(p, r, 1.0)
    speed = 1.0 - statistics.median(vogt_penalty(k) for k in tp) if tp else 0.0
    return {"conversations": len(outcomes), "tp": len(tp), "fp": fp, "fn": fn,
            "precision": p, "recall": r, "f1": f1,
            "median_latency": statistics.median(tp) if tp else None,
            "speed": speed, "f_latency": f1 * speed}
