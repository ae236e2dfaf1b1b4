"""Risk per message, per participant pair and per conversation, batch and streaming.

The unit of evidence is the *pair* (author -> the person they write to): grooming is one person
working on another, so a pattern spread over two people (a teen asking an age, the other keeping
a party secret) must not add up.

For each pair the watcher keeps, per indicator family, an evidence value that grows by 1 with
each matching message and decays with a half-life counted in messages of the conversation. The
pair's risk is

    risk = (1 - exp(-sum_f weight_f * min(evidence_f, 1))) * stage_factor[n_stages]

where ``n_stages`` counts the grooming stages (access, trust, isolation, escalation, coercion)
with a family at evidence >= 0.5. A family repeated many times counts once, and one stage alone
is damped hard (x0.3): a single hard-negative phrase ("it's a surprise, don't tell anyone",
"how old are you?") never crosses the default threshold. A warning is raised the first time a
pair's risk reaches the threshold, with the index of that message. A sextortion threat raises an
urgent item at once (and a warning); a meeting proposal is urgent when the pair is already at
or above the threshold.

Per-message work is constant: one indicator scan, a fixed number of families, a bounded number
of kept reasons per family, and at most ``max_pairs`` pairs per conversation (the least recently
active pair is dropped beyond that).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from safeguard.conversations.affinity import Affinity, AffinityLike, unavailable_affinity
from safeguard.conversations.classifier import Classifier
from safeguard.conversations.indicators import (
    Indicator,
    IndicatorMatcher,
    Part,
    default_matcher,
)
from safeguard.conversations.tactics import TacticModel, TacticPrediction
from safeguard.errors import InvalidInput

UNKNOWN = "*"  # the recipient when nobody else has spoken yet


@dataclass(frozen=True, slots=True)
class ChatMessage:
    author: str
    text: str | bytes | None
    time: float | None = None  # seconds since the epoch, if known
    to: str | None = None  # explicit recipient (group chats); inferred otherwise
    id: str | None = None

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], index: int = 0) -> ChatMessage:
        """A message from JSON-like data (author/text/time/to/id), with a clear error."""
        if not isinstance(raw, Mapping):
            raise InvalidInput(f"message {index}: expected an object, got {type(raw).__name__}")
        author = raw.get("author")
        if not isinstance(author, str | int) or str(author).strip() == "":
            raise InvalidInput(f"message {index}: 'author' is required")
        text = raw.get("text", "")
        if text is not None and not isinstance(text, str | bytes):
            raise InvalidInput(f"message {index}: 'text' must be a string")
        return cls(str(author), text, _time(raw.get("time"), index),
                   None if raw.get("to") is None else str(raw.get("to")),
                   None if raw.get("id") is None else str(raw.get("id")))


def _time(value: Any, index: int) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"message {index}: bad time {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
        try:  # PAN 2012 writes times as HH:MM
            hh, mm = value.split(":")
            return int(hh) * 3600.0 + int(mm) * 60.0
        except ValueError:
            pass
    raise InvalidInput(f"message {index}: cannot read time {value!r}")


@dataclass(frozen=True)
class ScoringConfig:
    threshold: float = 0.5
    half_life_messages: float = 200.0
    active_evidence: float = 0.5
    # risk multiplier by number of active stages: 0, 1, 2, 3, 4+
    stage_factor: tuple[float, ...] = (0.0, 0.3, 0.6, 0.85, 1.0)
    max_pairs: int = 32
    reasons_per_family: int = 3
    # Warnings and urgent signals kept for the conversation's report: the first urgent signal
    # of each (author, target, kind) and the first of each pair's warnings, up to this many;
    # repeats and overflow are still returned by `push` and counted, so a chat repeating a
    # threat thousands of times does not grow the state.
    max_kept_warnings: int = 64
    # Layer 2: a message at least `affinity_margin` closer to the harmful exemplars than to the
    # ordinary ones adds up to `affinity_evidence` (full at margin + `affinity_ramp`) to the
    # family of its nearest harmful exemplar, when no indicator of that family fired in it.
    # Kept below `active_evidence`, so one embedding match never activates a stage by itself.
    affinity_margin: float = 0.2
    affinity_ramp: float = 0.1
    affinity_evidence: float = 0.3
    # Layer 3: a trained classifier's probability for the pair counts as risk once the pair
    # has written this many messages (a frequency over two words means little).
    model_min_messages: int = 3
    model_explain: int = 5
    # Layer 2b (tactics.py): a message whose most likely tactic has at least
    # `tactic_probability` adds `tactic_evidence` x probability to that family (when no
    # indicator of the family fired in it). A sextortion threat raises the urgent item only from
    # `tactic_urgent_probability`; a meeting proposal is urgent, as for indicators, once the
    # pair is at the threshold.
    tactic_probability: float = 0.5
    tactic_evidence: float = 1.0
    tactic_urgent_probability: float = 0.8

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1:
            raise InvalidInput("threshold must be in (0, 1]")
        if self.half_life_messages <= 0:
            raise InvalidInput("half_life_messages must be positive")
        if len(self.stage_factor) < 2:
            raise InvalidInput("stage_factor needs at least two values")
        if self.affinity_ramp <= 0 or not 0 <= self.affinity_evidence <= 1:
            raise InvalidInput("affinity_ramp must be positive, affinity_evidence in [0, 1]")
        if self.model_min_messages < 1:
            raise InvalidInput("model_min_messages must be at least 1")
        if not (0 < self.tactic_probability <= 1 and 0 <= self.tactic_evidence <= 1
                and 0 < self.tactic_urgent_probability <= 1):
            raise InvalidInput("tactic_probability, tactic_urgent_probability must be in "
                               "(0, 1] and tactic_evidence in [0, 1]")
        if self.max_pairs < 1 or self.max_kept_warnings < 1:
            raise InvalidInput("max_pairs and max_kept_warnings must be at least 1")


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a pair scores: one indicator, where it was seen."""

    message_index: int
    family: str
    stage: int
    words: str
    span: tuple[int, int]
    message_id: str | None = None
    # or "affinity" (then `words` names the nearest exemplar), "tactics" (the tactic model's
    # probability and the words that pushed it), "model" (the trained classifier)
    layer: str = "indicators"

    def as_dict(self) -> dict[str, Any]:
        return {"message_index": self.message_index, "message_id": self.message_id,
                "family": self.family, "stage": self.stage, "words": self.words,
                "span": list(self.span), "layer": self.layer}


@dataclass(frozen=True, slots=True)
class Warning:
    message_index: int
    author: str
    target: str
    risk: float
    urgent: bool
    kind: str  # "pattern" (risk crossed the threshold) or "sextortion_threat" / "meeting"
    reasons: tuple[Reason, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"message_index": self.message_index, "author": self.author,
                "target": self.target, "risk": round(self.risk, 4), "urgent": self.urgent,
                "kind": self.kind, "reasons": [r.as_dict() for r in self.reasons]}


@dataclass(frozen=True, slots=True)
class MessageScore:
    index: int
    author: str
    target: str
    score: float  # this message alone: 1 - prod(1 - weight) over its families
    pair_risk: float  # the author->target pair after this message
    indicators: tuple[Indicator, ...]
    affinity: Affinity
    notes: tuple[str, ...] = ()
    warning: Warning | None = None
    urgent: Warning | None = None
    tactic: TacticPrediction | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "author": self.author, "target": self.target,
                "score": round(self.score, 4), "pair_risk": round(self.pair_risk, 4),
                "indicators": [i.as_dict() for i in self.indicators],
                "affinity": self.affinity.as_dict(),
                "tactic": self.tactic.as_dict() if self.tactic else None,
                "notes": list(self.notes),
                "warning": self.warning.as_dict() if self.warning else None,
                "urgent": self.urgent.as_dict() if self.urgent else None}


class _Pair:
    __slots__ = ("evidence", "updated", "reasons", "peak", "peak_index", "warning", "live",
                 "aff", "aff_top", "model", "parts")

    def __init__(self, n_families: int, index: int):
        self.evidence = [0.0] * n_families
        self.updated = index
        self.reasons: list[list[Reason]] = [[] for _ in range(n_families)]
        self.peak = 0.0
        self.peak_index: int | None = None
        self.warning: Warning | None = None
        self.live = False  # any evidence yet (saves decaying zeros)
        # Sentinel-style running moments of the pair's affinity scores: n, sum, sum², sum³
        self.aff = [0.0, 0.0, 0.0, 0.0]
        # the pair's message closest to the harmful examples: (score, index, nearest ids)
        self.aff_top: tuple[float, int, tuple[str, ...]] | None = None
        self.model: _ModelState | None = None
        # parts of composed families seen lately: (family, part) -> (message index, part);
        # at most one entry per part of the lexicon, so bounded
        self.parts: dict[tuple[str, str], tuple[int, Part]] | None = None


class _ModelState:
    """A pair's running sums for the linear classifier, and its strongest features (a
    bounded dict: the explanation)."""

    __slots__ = ("weight_sum", "n_features", "messages", "top", "probability")

    def __init__(self) -> None:
        self.weight_sum = 0.0
        self.n_features = 0
        self.messages = 0
        self.top: dict[str, float] = {}
        self.probability = 0.0

    def add(self, weight_sum: float, n: int, items: list[tuple[str, float]], keep: int) -> None:
        self.weight_sum += weight_sum
        self.n_features += n
        self.messages += 1
        top = self.top
        for feat, w in items:
            if w > 0:
                top[feat] = top.get(feat, 0.0) + w
        if len(top) > keep * 4:  # prune to the strongest, so memory stays bounded
            for feat, _ in sorted(top.items(), key=lambda kv: kv[1])[: len(top) - keep * 2]:
                del top[feat]


@dataclass(frozen=True, slots=True)
class PairRisk:
    author: str
    target: str
    risk: float
    peak: float
    peak_index: int | None
    families: dict[str, float]  # family -> current evidence (decayed)
    stages: tuple[int, ...]
    reasons: tuple[Reason, ...]
    warning: Warning | None
    affinity: dict[str, Any] | None = None  # Sentinel-style: n, mean, skewness, closest

    def as_dict(self) -> dict[str, Any]:
        return {"author": self.author, "target": self.target, "risk": round(self.risk, 4),
                "peak": round(self.peak, 4), "peak_index": self.peak_index,
                "families": {k: round(v, 4) for k, v in self.families.items()},
                "stages": list(self.stages), "reasons": [r.as_dict() for r in self.reasons],
                "warning": self.warning.as_dict() if self.warning else None,
                "affinity": self.affinity}


def _moments(m: list[float], top: tuple[float, int, tuple[str, ...]] | None
             ) -> dict[str, Any] | None:
    """Mean and skewness of a pair's affinity scores (Sentinel aggregates per user by
    skewness: a few messages far on the harmful side stand out of ordinary chat)."""
    n = m[0]
    if not n:
        return None
    mean = m[1] / n
    var = max(m[2] / n - mean * mean, 0.0)
    skew = 0.0
    if n >= 3 and var > 1e-12:
        third = m[3] / n - 3 * mean * m[2] / n + 2 * mean ** 3
        skew = third / var ** 1.5
    out: dict[str, Any] = {"messages": int(n), "mean": round(mean, 4),
                           "skewness": round(skew, 4)}
    if top is not None:  # the explanation: which reference examples the pair came closest to
        out["closest"] = {"message_index": top[1], "affinity": round(top[0], 4),
                          "nearest": list(top[2])}
    return out


@dataclass(frozen=True)
class ConversationReport:
    risk: float  # peak pair risk over the conversation
    warned: bool
    warning_index: int | None  # first warning (any pair)
    urgent: tuple[Warning, ...]
    warnings: tuple[Warning, ...]
    pairs: tuple[PairRisk, ...]  # sorted by peak risk, highest first
    messages: tuple[MessageScore, ...]
    layers: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def participants(self) -> dict[str, PairRisk]:
        """Each author's riskiest pair (who shows the pattern, towards whom)."""
        out: dict[str, PairRisk] = {}
        for pair in self.pairs:
            if pair.author not in out:
                out[pair.author] = pair
        return out

    def as_dict(self, include_messages: bool = True) -> dict[str, Any]:
        return {
            "risk": round(self.risk, 4), "warned": self.warned,
            "warning_index": self.warning_index,
            "urgent": [w.as_dict() for w in self.urgent],
            "warnings": [w.as_dict() for w in self.warnings],
            "participants": {a: p.as_dict() for a, p in self.participants.items()},
            "messages": [m.as_dict() for m in self.messages] if include_messages else None,
            "layers": list(self.layers), "notes": list(self.notes),
        }


class ConversationWatcher:
    """Streaming state for one conversation: feed messages in order with `push`."""

    def __init__(self, config: ScoringConfig | None = None,
                 matcher: IndicatorMatcher | None = None,
                 affinity: AffinityLike | None = None,
                 classifier: Classifier | None = None,
                 tactics: TacticModel | None = None):
        self.config = config or ScoringConfig()
        self.classifier = classifier
        self.tactics = tactics
        self.matcher = matcher or default_matcher()
        self.affinity = affinity
        fams = self.matcher.lexicon.families
        self._family_index = {f.name: i for i, f in enumerate(fams)}
        self._weights = [f.weight for f in fams]
        self._stages = [f.stage for f in fams]
        self._urgent = [f.urgent for f in fams]
        self._names = [f.name for f in fams]
        self._stage_bits = [1 << f.stage for f in fams]
        self._stage_list = sorted({f.stage for f in fams})
        # the tactic model's classes that are families of this lexicon
        self._tactic_family = {c: self._family_index[c] for c in
                               (tactics.classes if tactics else ()) if c in self._family_index}
        self._decay = 0.5 ** (1.0 / self.config.half_life_messages)
        self._pairs: OrderedDict[tuple[str, str], _Pair] = OrderedDict()
        self._last_author: str | None = None
        # author -> last different author seen before (bounded like the pairs: least
        # recently active authors forgotten first)
        self._last_other: OrderedDict[str, str] = OrderedDict()
        self._last_time: float | None = None
        self.index = -1
        self.out_of_order = 0
        self.truncated = 0
        self.warnings: list[Warning] = []
        self.urgent: list[Warning] = []
        self.warnings_dropped = 0  # beyond max_kept_warnings: counted, not kept
        self.urgent_dropped = 0
        self.urgent_repeats = 0  # same (author, target, kind) again: counted, not kept
        self._urgent_keys: set[tuple[str, str, str]] = set()

    # ------------------------------------------------------------------ state
    def _target(self, msg: ChatMessage) -> str:
        if msg.to:
            return msg.to
        if self._last_author is not None and self._last_author != msg.author:
            return self._last_author
        return self._last_other.get(msg.author, UNKNOWN)

    def _pair(self, author: str, target: str) -> _Pair:
        key = (author, target)
        pair = self._pairs.get(key)
        if pair is None:
            pair = _Pair(len(self._weights), self.index)
            orphan = self._pairs.pop((author, UNKNOWN), None) if target != UNKNOWN else None
            if orphan is not None:  # evidence gathered before the recipient was known
                self._age(orphan)
                pair.evidence = orphan.evidence
                pair.reasons = orphan.reasons
                pair.peak, pair.peak_index = orphan.peak, orphan.peak_index
                pair.warning = orphan.warning
                pair.live = orphan.live
                pair.aff = orphan.aff
                pair.aff_top = orphan.aff_top
                pair.model = orphan.model
                pair.parts = orphan.parts
            self._pairs[key] = pair
            while len(self._pairs) > self.config.max_pairs:
                self._pairs.popitem(last=False)
        else:
            self._pairs.move_to_end(key)
        return pair

    def _age(self, pair: _Pair) -> None:
        steps = self.index - pair.updated
        if steps > 0:
            pair.updated = self.index
            if pair.live:
                factor = self._decay ** steps
                pair.evidence = [e * factor for e in pair.evidence]

    def _risk(self, evidence: list[float]) -> tuple[float, tuple[int, ...]]:
        cfg = self.config
        active = cfg.active_evidence
        weights, stage_bits = self._weights, self._stage_bits
        total = 0.0
        mask = 0
        for i, e in enumerate(evidence):
            if e > 0.0:
                total += weights[i] * (e if e < 1.0 else 1.0)
                if e >= active:
                    mask |= stage_bits[i]
        if not total:
            return 0.0, ()
        stages = tuple(s for s in self._stage_list if mask & (1 << s))
        factor = cfg.stage_factor[min(len(stages), len(cfg.stage_factor) - 1)]
        return (1.0 - math.exp(-total)) * factor, stages

    def _reasons(self, pair: _Pair) -> tuple[Reason, ...]:
        out = [r for rs in pair.reasons for r in rs]
        out.sort(key=lambda r: r.message_index)
        state = pair.model
        if state is not None and state.messages >= self.config.model_min_messages:
            top = sorted(state.top.items(), key=lambda kv: -kv[1])[: self.config.model_explain]
            out.append(Reason(self.index, "classifier", 0,
                              f"probability {state.probability:.2f}; strongest features: "
                              + ", ".join(f for f, _ in top), (0, 0), None, "model"))
        return tuple(out)

    def _model(self, pair: _Pair, tokens: tuple[str, ...]) -> float:
        """Layer 3: update the pair's running sums; its probability once it has enough
        messages (0 before)."""
        assert self.classifier is not None
        state = pair.model
        if state is None:
            state = pair.model = _ModelState()
        weight_sum, n, items = self.classifier.contribution(tokens)
        state.add(weight_sum, n, items, self.config.model_explain)
        state.probability = self.classifier.probability(state.weight_sum, state.n_features)
        if state.messages < self.config.model_min_messages:
            return 0.0
        return state.probability

    # ------------------------------------------------------------------ API
    def push(self, msg: ChatMessage) -> MessageScore:
        """Score one new message and update the conversation's state (constant work)."""
        self.index += 1
        index = self.index
        notes: list[str] = []
        if msg.time is not None:
            if self._last_time is not None and msg.time < self._last_time:
                self.out_of_order += 1
                notes.append("timestamp earlier than the previous message (kept in arrival "
                             "order)")
            self._last_time = msg.time if self._last_time is None else max(self._last_time,
                                                                           msg.time)
        scan = self.matcher.scan(msg.text)
        notes.extend(scan.normalized.notes)
        if scan.normalized.truncated:
            self.truncated += 1
        target = self._target(msg)
        if self._last_author is not None and self._last_author != msg.author:
            others = self._last_other
            others[msg.author] = self._last_author
            others.move_to_end(msg.author)
            others.setdefault(self._last_author, msg.author)
            while len(others) > 2 * self.config.max_pairs:
                others.popitem(last=False)
        self._last_author = msg.author

        pair = self._pair(msg.author, target)
        self._age(pair)
        indicators = scan.indicators
        if scan.parts or pair.parts:
            indicators = indicators + self._composed(pair, scan.parts, scan.families, index)
        seen: set[int] = set()
        urgent_kind: str | None = None
        keep = self.config.reasons_per_family
        for ind in indicators:
            fi = self._family_index[ind.family]
            reasons = pair.reasons[fi]
            reasons.append(Reason(index, ind.family, ind.stage, ind.words, ind.span, msg.id))
            if len(reasons) > keep:
                del reasons[0]
            if fi in seen:
                continue
            seen.add(fi)
            pair.evidence[fi] = min(pair.evidence[fi] + 1.0, 3.0)
            pair.live = True
            if self._urgent[fi] == "always":
                urgent_kind = ind.family
            elif self._urgent[fi] == "elevated" and urgent_kind is None:
                urgent_kind = "?" + ind.family
        score = 1.0
        for fi in seen:
            score *= 1.0 - self._weights[fi]
        tactic = None
        if self.tactics is not None and scan.normalized.tokens:
            tactic = self.tactics.predict(scan.normalized.tokens)
            factor, candidate = self._tactic_evidence(pair, tactic, index, msg.id, seen)
            score *= factor
            urgent_kind = _stronger_urgency(urgent_kind, candidate)
        affinity = self.affinity.score(scan.normalized.text) if self.affinity \
            else unavailable_affinity()
        if affinity.score is not None and scan.normalized.text:
            score *= self._affinity_evidence(pair, affinity, index, msg.id, seen)
        score = 1.0 - score
        risk = self._risk(pair.evidence)[0] if pair.live else 0.0
        if self.classifier is not None and scan.normalized.tokens:
            risk = max(risk, self._model(pair, scan.normalized.tokens))
        if risk > pair.peak:
            pair.peak, pair.peak_index = risk, index

        warning = urgent = None
        threshold = self.config.threshold
        if urgent_kind is not None and urgent_kind.startswith("?"):
            urgent_kind = urgent_kind[1:] if risk >= threshold else None
        if urgent_kind is not None:
            urgent = Warning(index, msg.author, target, risk, True, urgent_kind,
                             self._reasons(pair))
            key = (msg.author, target, urgent_kind)
            if key in self._urgent_keys:
                self.urgent_repeats += 1
            elif len(self.urgent) < self.config.max_kept_warnings:
                self._urgent_keys.add(key)
                self.urgent.append(urgent)
            else:
                self.urgent_dropped += 1
        if pair.warning is None and (risk >= threshold or urgent is not None):
            kind = "pattern" if risk >= threshold else (urgent_kind or "pattern")
            warning = Warning(index, msg.author, target, risk, urgent is not None, kind,
                              self._reasons(pair))
            pair.warning = warning
            if len(self.warnings) < self.config.max_kept_warnings:
                self.warnings.append(warning)
            else:
                self.warnings_dropped += 1
        return MessageScore(index, msg.author, target, score, risk, indicators, affinity,
                            tuple(notes), warning, urgent, tactic)

    def _composed(self, pair: _Pair, parts: tuple[Part, ...], found: frozenset[str],
                  index: int) -> tuple[Indicator, ...]:
        """Composed families completed across this author's recent messages (a threat's
        exposure in one message, its leverage in the next): remember this message's parts and
        compose with the ones seen at most `within` messages ago."""
        if pair.parts is None:
            pair.parts = {}
        memory = pair.parts
        for part in parts:
            memory[(part.family, part.part)] = (index, part)
        out: list[Indicator] = []
        for comp in self.matcher.lexicon.compositions:
            if comp.family in found or not any(p.family == comp.family for p in parts):
                continue  # complete in this message already, or nothing new for it here
            recent = [part if i == index else
                      Part(part.family, part.part, part.language,
                           f"{part.words} (message {i})", (-1, -1))
                      for (fam, _), (i, part) in memory.items()
                      if fam == comp.family and index - i <= comp.within]
            out.extend(self.matcher.compose(recent, set(found)))
        for key in [k for k, (i, _) in memory.items() if index - i > 50]:
            del memory[key]
        return tuple(out)

    def _affinity_evidence(self, pair: _Pair, affinity: Affinity, index: int,
                           message_id: str | None, seen: set[int]) -> float:
        """Layer 2's share: update the pair's affinity moments and, for a message clearly
        closer to harmful than to ordinary exemplars, add bounded evidence to the family of
        its nearest harmful exemplar. Returns the factor for the message's own score."""
        value = float(affinity.score or 0.0)
        m = pair.aff
        m[0] += 1.0
        m[1] += value
        m[2] += value * value
        m[3] += value * value * value
        if affinity.nearest and (pair.aff_top is None or value > pair.aff_top[0]):
            pair.aff_top = (value, index, tuple(n.exemplar_id for n in affinity.nearest))
        cfg = self.config
        if value < cfg.affinity_margin or not affinity.nearest:
            return 1.0
        top = affinity.nearest[0]
        fi = self._family_index.get(top.family) if top.family else None
        if fi is None or fi in seen:  # the indicator already counted this family
            return 1.0
        gain = cfg.affinity_evidence * min(1.0, (value - cfg.affinity_margin)
                                           / cfg.affinity_ramp + 0.5)
        pair.evidence[fi] = min(pair.evidence[fi] + gain, 3.0)
        pair.live = True
        reasons = pair.reasons[fi]
        reasons.append(Reason(index, self._names[fi], self._stages[fi],
                              f"≈ {top.exemplar_id} (similarity {top.similarity:.2f}, "
                              f"affinity {value:.2f})", (0, 0), message_id, "affinity"))
        if len(reasons) > cfg.reasons_per_family:
            del reasons[0]
        return 1.0 - self._weights[fi] * gain

    def _tactic_evidence(self, pair: _Pair, tactic: TacticPrediction | None, index: int,
                         message_id: str | None, seen: set[int]) -> tuple[float, str | None]:
        """Layer 2b's share: evidence for the family the tactic model recognises in this
        message. Returns the factor for the message's own score and the urgent kind it asks
        for (``?family`` when urgent only once the pair is at the threshold)."""
        cfg = self.config
        if tactic is None or tactic.probability < cfg.tactic_probability:
            return 1.0, None
        fi = self._tactic_family.get(tactic.family)
        if fi is None or fi in seen:  # not a family of this lexicon, or already counted
            return 1.0, None
        gain = cfg.tactic_evidence * tactic.probability
        pair.evidence[fi] = min(pair.evidence[fi] + gain, 3.0)
        pair.live = True
        reasons = pair.reasons[fi]
        words = ", ".join(tactic.words) or "(whole message)"
        reasons.append(Reason(index, self._names[fi], self._stages[fi],
                              f"tactic model {tactic.probability:.2f}: {words}", (0, 0),
                              message_id, "tactics"))
        if len(reasons) > cfg.reasons_per_family:
            del reasons[0]
        urgency = self._urgent[fi]
        candidate = None
        if urgency == "always" and tactic.probability >= cfg.tactic_urgent_probability:
            candidate = tactic.family
        elif urgency == "elevated":
            candidate = "?" + tactic.family
        return 1.0 - self._weights[fi] * gain, candidate

    def pair_risks(self) -> list[PairRisk]:
        out = []
        for (author, target), pair in self._pairs.items():
            self._age(pair)
            risk, stages = self._risk(pair.evidence)
            if pair.model is not None and pair.model.messages >= self.config.model_min_messages:
                risk = max(risk, pair.model.probability)
            fams = {self._names[i]: e for i, e in enumerate(pair.evidence) if e > 1e-9}
            if target == UNKNOWN:  # spoke first and not since: the one who answered
                other = self._last_other.get(author)
                if other is not None and (author, other) not in self._pairs:
                    target = other
            out.append(PairRisk(author, target, risk, pair.peak, pair.peak_index, fams, stages,
                                self._reasons(pair), pair.warning,
                                _moments(pair.aff, pair.aff_top)))
        out.sort(key=lambda p: (-p.peak, p.author, p.target))
        return out

    def report(self, messages: Iterable[MessageScore] = ()) -> ConversationReport:
        pairs = tuple(self.pair_risks())
        notes: list[str] = []
        if self.index < 0:
            notes.append("empty conversation: nothing to score")
        elif self.index == 0:
            notes.append("one-message conversation: a pattern needs several messages")
        if self.out_of_order:
            notes.append(f"{self.out_of_order} message(s) with a timestamp earlier than the "
                         "previous one; scored in arrival order")
        if self.truncated:
            notes.append(f"{self.truncated} message(s) truncated before analysis")
        if self.urgent_repeats:
            notes.append(f"{self.urgent_repeats} repeated urgent signal(s) from the same "
                         "author towards the same person (the first of each is listed)")
        if self.warnings_dropped or self.urgent_dropped:
            notes.append(f"{self.warnings_dropped} later warning(s) and {self.urgent_dropped} "
                         f"later urgent signal(s) not listed (the first "
                         f"{self.config.max_kept_warnings} of each are)")
        layers = ["indicators"]
        if self.affinity is not None and self.affinity.available:
            layers.append(f"affinity:{self.affinity.name}")
        else:
            reason = getattr(self.affinity, "reason", None)
            notes.append(unavailable_affinity(reason).note)
        if self.tactics is not None:
            layers.append(self.tactics.name)
        if self.classifier is not None:
            layers.append(self.classifier.name)
        return ConversationReport(
            risk=max((p.peak for p in pairs), default=0.0),
            warned=bool(self.warnings),
            warning_index=min((w.message_index for w in self.warnings), default=None),
            urgent=tuple(self.urgent), warnings=tuple(self.warnings), pairs=pairs,
            messages=tuple(messages), layers=tuple(layers), notes=tuple(notes))


def _stronger_urgency(current: str | None, candidate: str | None) -> str | None:
    """An urgent kind raised at once beats one that waits for the threshold (``?kind``)."""
    if candidate is None or (current is not None and not current.startswith("?")):
        return current
    if current is not None and candidate.startswith("?"):
        return current
    return candidate


def score_conversation(messages: Iterable[ChatMessage | Mapping[str, Any]],
                       config: ScoringConfig | None = None,
                       matcher: IndicatorMatcher | None = None,
                       affinity: AffinityLike | None = None,
                       classifier: Classifier | None = None,
                       tactics: TacticModel | None = None) -> ConversationReport:
    """Batch scoring: the streaming watcher run over the whole conversation, so a batch report
    and a live watch can never disagree."""
    watcher = ConversationWatcher(config, matcher, affinity, classifier, tactics)
    scored = []
    for i, raw in enumerate(messages):
        msg = raw if isinstance(raw, ChatMessage) else ChatMessage.from_mapping(raw, i)
        scored.append(watcher.push(msg))
    return watcher.report(scored)
