"""Evaluation of the conversation scorer.

The project's own set (``data/eval/dev.txt``, ``heldout.txt`` … ``heldout10.txt``) is
non-explicit: conversations showing grooming indicators and as many hard negatives (parents
arranging pick-ups, teachers, coaches, surprise parties, teens asking each other's age, gamers
trading, friends moving to another app). ``dev`` is used while tuning; ``heldout`` was held out
until the first lexicon freeze (its first-run figures are in docs/conversations.md);
``heldout2`` was written after that run and before the fixes it motivated; ``heldout3`` was
written by another author before the next round of lexicon fixes (which its first run
motivated), and ``heldout4`` after those fixes, never tuned on; ``heldout5`` (threats and their
hard negatives) was written before the threat-composition rule but in view while writing it, and
``heldout6`` after the rule, never tuned on. ``heldout7`` and ``heldout8`` were written blind by
two other authors (who saw neither the lexicon nor the tactic model's data) before the tactic
model existed, and scored once with it frozen (decision 035); ``heldout9`` and ``heldout10``
likewise by a third and a fourth author, with nothing changed in between (10 scored at the two
operating points fixed beforehand, 0.5 and 0.4). Whoever changes the lexicon or the
tactic model next should write a fresh held-out file first and report it separately.

Metrics, per conversation:
- precision, recall, F0.5, F1: a grooming conversation counts as found when a warning is raised
  for the pair whose author is the annotated offender; a benign one is a false positive when any
  warning is raised;
- latency: the number of messages read when the first correct warning was raised (median);
- speed and F_latency after Vogt et al. (2021): penalty(k) = -1 + 2 / (1 + exp(-p (k - 1))),
  p = ln 3 / 89, speed = 1 - median penalty over true positives, F_latency = F1 x speed.

The text format: ``=== <id> <grooming|benign> <lang> [offender=<author>] [kind=<kind>]`` then
one ``<author>: <text>`` line per message; ``#`` starts a comment line.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safeguard.conversations.layers import Layers
from safeguard.conversations.metrics import vogt_penalty
from safeguard.conversations.scoring import (
    ChatMessage,
    ConversationReport,
    ScoringConfig,
    score_conversation,
)
from safeguard.errors import InvalidInput

EVAL_DIR = Path(__file__).parent / "data" / "eval"
SPLITS = ("dev", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6",
          "heldout7", "heldout8", "heldout9", "heldout10")


@dataclass(frozen=True)
class LabelledConversation:
    id: str
    label: str  # "grooming" or "benign"
    language: str
    kind: str
    offender: str | None
    messages: tuple[ChatMessage, ...]
    split: str = ""


def parse_eval_text(text: str, split: str = "", source: str = "<text>"
                    ) -> list[LabelledConversation]:
    out: list[LabelledConversation] = []
    problems: list[str] = []
    head: dict[str, Any] | None = None
    msgs: list[ChatMessage] = []

    def flush() -> None:
        if head is not None:
            if not msgs:
                problems.append(f"{source}: conversation {head['id']} has no messages")
            out.append(LabelledConversation(head["id"], head["label"], head["lang"],
                                            head.get("kind", ""), head.get("offender"),
                                            tuple(msgs), split))

    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("==="):
            flush()
            parts = stripped[3:].split()
            if len(parts) < 3 or parts[1] not in ("grooming", "benign"):
                problems.append(f"{source}:{n}: header needs '<id> <grooming|benign> <lang>'")
                head, msgs = None, []
                continue
            head = {"id": parts[0], "label": parts[1], "lang": parts[2]}
            for kv in parts[3:]:
                k, _, v = kv.partition("=")
                head[k] = v
            if head["label"] == "grooming" and not head.get("offender"):
                problems.append(f"{source}:{n}: grooming conversation without offender=")
            msgs = []
            continue
        author, sep, body = line.partition(":")
        if head is None or not sep or not author.strip():
            problems.append(f"{source}:{n}: expected '<author>: <text>' inside a conversation")
            continue
        msgs.append(ChatMessage(author.strip(), body.strip(), id=f"{head['id']}:{len(msgs)}"))
    flush()
    if problems:
        raise InvalidInput("; ".join(problems))
    return out


def load_eval_set(splits: Sequence[str] = SPLITS, directory: Path = EVAL_DIR
                  ) -> list[LabelledConversation]:
    out: list[LabelledConversation] = []
    for split in splits:
        path = directory / f"{split}.txt"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot read evaluation split {split!r}: {exc}") from exc
        out.extend(parse_eval_text(text, split, str(path)))
    return out




@dataclass(frozen=True)
class Outcome:
    conversation: LabelledConversation
    report: ConversationReport
    predicted: bool
    correct_author: bool
    latency: int | None  # messages read at the first correct warning


@dataclass
class EvalResult:
    outcomes: list[Outcome] = field(default_factory=list)

    def _counts(self) -> tuple[int, int, int, int]:
        tp = sum(1 for o in self.outcomes if o.conversation.label == "grooming"
                 and o.correct_author)
        fn = sum(1 for o in self.outcomes if o.conversation.label == "grooming"
                 and not o.correct_author)
        fp = sum(1 for o in self.outcomes if o.conversation.label == "benign" and o.predicted)
        tn = sum(1 for o in self.outcomes if o.conversation.label == "benign"
                 and not o.predicted)
        return tp, fp, fn, tn

    def metrics(self) -> dict[str, Any]:
        tp, fp, fn, tn = self._counts()
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0

        def f(beta: float) -> float:
            b2 = beta * beta
            return (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0

        lat = [o.latency for o in self.outcomes if o.latency is not None]
        speed = 1.0 - statistics.median(vogt_penalty(k) for k in lat) if lat else 0.0
        return {"conversations": len(self.outcomes), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
                "precision": p, "recall": r, "f05": f(0.5), "f1": f(1.0),
                "median_latency": statistics.median(lat) if lat else None,
                "speed": speed, "f_latency": f(1.0) * speed}

    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if (o.conversation.label == "benign") == o.predicted
                or (o.conversation.label == "grooming" and not o.correct_author)]


def evaluate(conversations: Iterable[LabelledConversation],
             config: ScoringConfig | None = None, layers: Layers | None = None) -> EvalResult:
    """Score every conversation (indicators only, or with the given layers)."""
    result = EvalResult()
    for conv in conversations:
        report = score_conversation(conv.messages, config,
                                    affinity=layers.affinity if layers else None,
                                    classifier=layers.classifier if layers else None,
                                    tactics=layers.tactics if layers else None)
        first_ok = min((w.message_index for w in report.warnings
                        if w.author == conv.offender), default=None)
        result.outcomes.append(Outcome(conv, report, report.warned, first_ok is not None,
                                       None if first_ok is None else first_ok + 1))
    return result


def evaluate_splits(splits: Sequence[str] = SPLITS, config: ScoringConfig | None = None,
                    layers: Layers | None = None) -> dict[str, EvalResult]:
    """The project's evaluation set, one result per split."""
    return {s: evaluate(load_eval_set([s]), config, layers) for s in splits}
