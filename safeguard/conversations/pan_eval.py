"""PAN 2012 evaluation on data the user supplies (``safeguard conversations evaluate
--pan-dir DIR``): predator identification with the official split, and early detection with
the protocol of Vogt et al. (2021).

- Training split → the layer-3 classifier (unless a trained model is given).
- Test split, predator identification: an author is predicted a predator when the classifier's
  probability for their side of any conversation reaches its threshold ("classifier" row), and,
  for the whole scorer, when any of their pairs raised a warning ("all layers" row).
- Test split, early detection: conversations with a predator are the positives. At each
  message the window of the last 50 messages is classified (the classifier's probability for
  each author's words in the window, the highest counts); a warning is raised once at least s
  of the last 10 window classifications are positive. Reported for several s. The scorer's own
  early warning (its first warning in the conversation) is reported beside it.

Everything streams: the XML is read one conversation at a time, and the window is kept as
running sums (the classifier is linear in frequencies), so a window step costs one message's
features whatever the window size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safeguard.conversations.affinity import AffinityLike
from safeguard.conversations.classifier import Classifier, TrainingReport, documents_from, train
from safeguard.conversations.loaders import (
    Conversation,
    find_pan_split,
    iter_pan_xml,
    read_id_list,
)
from safeguard.conversations.metrics import WINDOW, early_detection, identification, warning_latency
from safeguard.conversations.normalize import Normalizer, default_normalizer
from safeguard.conversations.scoring import ConversationWatcher, ScoringConfig
from safeguard.conversations.tactics import TacticModel

SKEPTICISM = (1, 3, 5, 7, 9)


@dataclass
class PanEvaluation:
    identification: dict[str, dict[str, Any]] = field(default_factory=dict)
    early: dict[str, dict[str, Any]] = field(default_factory=dict)
    conversations: int = 0
    messages: int = 0
    authors: int = 0
    predators: int = 0
    positives: int = 0
    training: TrainingReport | None = None


def window_flags(conv: Conversation, model: Classifier, normalizer: Normalizer,
                 window: int = WINDOW) -> list[bool]:
    """Per message: is the window of the last `window` messages classified positive?"""
    per_author: dict[str, list[float]] = {}  # author -> [weight sum, features]
    recent: deque[tuple[str, float, int]] = deque()
    flags = []
    for msg in conv.messages:
        ws, n, _ = model.contribution(normalizer.normalize(msg.text).tokens)
        acc = per_author.setdefault(msg.author, [0.0, 0.0])
        acc[0] += ws
        acc[1] += n
        recent.append((msg.author, ws, n))
        if len(recent) > window:
            old_author, old_ws, old_n = recent.popleft()
            old = per_author[old_author]
            old[0] -= old_ws
            old[1] -= old_n
        best = max((model.probability(s, int(k)) for s, k in per_author.values() if k > 0),
                   default=0.0)
        flags.append(best >= model.threshold)
    return flags


def train_on(xml: Path, predators: Path, progress: Callable[[str, int], None] | None = None,
             epochs: int = 300) -> tuple[Classifier, TrainingReport]:
    labels = read_id_list(predators)
    tick = (lambda n: progress("reading training conversations", n)) if progress else None
    docs, y, _ = documents_from(iter_pan_xml(xml), labels, progress=tick)
    step = (lambda n: progress("training", n)) if progress else None
    return train(docs, y, epochs=epochs, progress=step)


def evaluate_pan(directory: Path, model: Classifier | None = None, *,
                 affinity: AffinityLike | None = None, tactics: TacticModel | None = None,
                 config: ScoringConfig | None = None,
                 skepticism: Sequence[int] = SKEPTICISM, watcher: bool = True,
                 progress: Callable[[str, int], None] | None = None,
                 epochs: int = 300) -> PanEvaluation:
    split = find_pan_split(directory)
    result = PanEvaluation()
    if model is None:
        model, result.training = train_on(split.train_xml, split.train_predators, progress,
                                          epochs)
    truth = read_id_list(split.test_predators)
    normalizer = default_normalizer()
    best: dict[str, float] = {}
    warned_authors: set[str] = set()
    outcomes: dict[int, list[tuple[bool, int | None]]] = {s: [] for s in skepticism}
    native: list[tuple[bool, int | None]] = []
    for conv in _each(iter_pan_xml(split.test_xml), progress):
        result.conversations += 1
        result.messages += len(conv.messages)
        positive = bool(conv.authors & truth)
        result.positives += positive
        docs, _, keys = documents_from([conv], truth, normalizer)
        for doc, (_, author) in zip(docs, keys, strict=True):
            best[author] = max(best.get(author, 0.0), model.score_document(doc))
        flags = window_flags(conv, model, normalizer)
        for s in skepticism:
            outcomes[s].append((positive, warning_latency(flags, s)))
        if watcher:
            w = ConversationWatcher(config, affinity=affinity, classifier=model,
                                    tactics=tactics)
            for msg in conv.messages:
                w.push(msg)
            warned_authors.update(x.author for x in w.warnings)
            first = min((x.message_index for x in w.warnings), default=None)
            native.append((positive, None if first is None else first + 1))
    result.authors = len(best)
    result.predators = len(truth & set(best))
    result.identification["classifier"] = identification(
        (a for a, p in best.items() if p >= model.threshold), truth)
    if watcher:
        result.identification["all layers (warnings)"] = identification(warned_authors, truth)
        result.early["all layers: first warning"] = early_detection(native)
    for s in skepticism:
        result.early[f"classifier windows, s={s}"] = early_detection(outcomes[s])
    return result


def _each(items: Iterable[Conversation], progress: Callable[[str, int], None] | None
          ) -> Iterable[Conversation]:
    for item in items:
        yield item
        if progress:
            progress("scoring test conversations", 1)
