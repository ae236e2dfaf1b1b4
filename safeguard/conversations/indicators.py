"""Layer 1: interpretable indicators.

Patterns (``data/indicators.toml``; English, Spanish and French) are regular expressions over the
normalised text. Scanning every pattern at every position is slow in Python (about 5,000
messages/s for 300 patterns), so each pattern is indexed by the words a match can start with,
worked out from the parsed regex: a message is scanned by looking its tokens up in that index
and trying, at that token only, the few patterns that can start there. Patterns whose first word
cannot be enumerated (none in the default lexicon) are searched in full.

Each match names its family, stage, language, the normalised words that triggered it and their
span in the original message.
"""

from __future__ import annotations

import importlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from safeguard.conversations.lexicon import Lexicon, default_lexicon, expand
from safeguard.conversations.normalize import Normalized, Normalizer

# The regex parser (private but stable since 3.11, the minimum this project supports).
_sre_c: Any = importlib.import_module("re._constants")
_sre_p: Any = importlib.import_module("re._parser")

_ENUM_CAP = 2_000


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator found in one message."""

    family: str
    stage: int
    language: str
    words: str  # normalised words that matched, e.g. "dont tell your parents"
    span: tuple[int, int]  # where they were written in the original message
    weight: float

    def as_dict(self) -> dict[str, object]:
        return {"family": self.family, "stage": self.stage, "language": self.language,
                "words": self.words, "span": list(self.span), "weight": self.weight}


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a composed family (lexicon ``[compositions]``) found in a message; not an
    indicator by itself."""

    family: str
    part: str
    language: str
    words: str
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class MessageIndicators:
    normalized: Normalized
    indicators: tuple[Indicator, ...]
    parts: tuple[Part, ...] = ()

    @property
    def families(self) -> frozenset[str]:
        return frozenset(i.family for i in self.indicators)


# ----------------------------------------------------------------- first-word enumeration
_State = tuple[str, bool]  # (first word so far, finished: a space was reached)


def _item(op: Any, av: Any) -> set[_State] | None:
    if op is _sre_c.LITERAL:
        ch = chr(av)
        return {("", True)} if ch == " " else {(ch, False)}
    if op is _sre_c.AT:
        return {("", False)}
    if op is _sre_c.SUBPATTERN:
        return _seq(av[-1])
    if op is _sre_c.BRANCH:
        out: set[_State] = set()
        for branch in av[1]:
            sub = _seq(branch)
            if sub is None:
                return None
            out |= sub
        return out
    if op is _sre_c.IN:
        chars: set[str] = set()
        for kind, val in av:
            if kind is _sre_c.LITERAL:
                chars.add(chr(val))
            elif kind is _sre_c.RANGE and val[1] - val[0] < 40:
                chars.update(chr(c) for c in range(val[0], val[1] + 1))
            else:
                return None
        return {("", True) if c == " " else (c, False) for c in chars}
    if op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT):
        lo, hi, sub_items = av
        if hi > 3:
            return None
        out = set()
        for k in range(lo, hi + 1):
            sub = _seq(list(sub_items) * k)
            if sub is None:
                return None
            out |= sub
        return out
    return None


def _seq(items: Any) -> set[_State] | None:
    states: set[_State] = {("", False)}
    for op, av in items:
        if all(done for _, done in states):
            break
        opts = _item(op, av)
        if opts is None:
            return None
        new: set[_State] = set()
        for s, done in states:
            if done:
                new.add((s, done))
                continue
            for o, o_done in opts:
                new.add((s + o, o_done))
        if len(new) > _ENUM_CAP:
            return None
        states = new
    return states


def first_words(pattern: str) -> set[str] | None:
    """Every word a match of `pattern` (normalised-text syntax) can start with, or None."""
    try:
        states = _seq(_sre_p.parse(pattern))
    except (re.error, RecursionError):
        return None
    if states is None or any(not s for s, _ in states):
        return None
    return {s for s, _ in states}


# ----------------------------------------------------------------- matcher
class IndicatorMatcher:
    def __init__(self, lexicon: Lexicon | None = None, normalizer: Normalizer | None = None):
        self.lexicon = lexicon or default_lexicon()
        self.normalizer = normalizer or Normalizer(self.lexicon)
        by_word: dict[str, dict[tuple[str, int, str, float], list[str]]] = defaultdict(
            lambda: defaultdict(list))
        anywhere: dict[tuple[str, int, str, float], list[str]] = defaultdict(list)

        def index(key: tuple[str, int, str, float], sources: Sequence[str]) -> None:
            for src in sources:
                rx = expand(src)
                words = first_words(rx)
                if words is None:
                    anywhere[key].append(rx)
                else:
                    for w in words:
                        by_word[w][key].append(rx)

        for fam in self.lexicon.families:
            for lang, sources in fam.patterns.items():
                index((fam.name, fam.stage, lang, fam.weight), sources)
        # parts of composed families, indexed the same way; stage -1 marks a part
        self._compositions = {c.family: c for c in self.lexicon.compositions}
        for comp in self.lexicon.compositions:
            for part, langs in comp.parts.items():
                for lang, sources in langs.items():
                    index((f"{comp.family}/{part}", -1, lang, 0.0), sources)

        def compile_(sources: list[str]) -> re.Pattern[str]:
            return re.compile("(?:" + "|".join(f"(?:{s})" for s in sources) + r")\b")

        self._index: dict[str, tuple[tuple[tuple[str, int, str, float], re.Pattern[str]], ...]]
        self._index = {w: tuple((k, compile_(v)) for k, v in fams.items())
                       for w, fams in by_word.items()}
        self._anywhere = tuple((k, re.compile(r"\b(?:" + "|".join(f"(?:{s})" for s in v)
                                              + r")\b")) for k, v in anywhere.items())

    @property
    def unindexed_patterns(self) -> int:
        return len(self._anywhere)

    def scan(self, text: str | bytes | None) -> MessageIndicators:
        norm = self.normalizer.normalize(text)
        tokens = norm.tokens
        if not tokens:
            return MessageIndicators(norm, ())
        index = self._index
        hits: list[tuple[int, int, tuple[str, int, str, float]]] = []
        joined = norm.text
        pos = 0
        for tok in tokens:
            entry = index.get(tok)
            if entry is not None:
                for key, rx in entry:
                    m = rx.match(joined, pos)
                    if m is not None:
                        hits.append((pos, m.end(), key))
            pos += len(tok) + 1
        for key, rx in self._anywhere:
            hits.extend((m.start(), m.end(), key) for m in rx.finditer(joined))
        if not hits:
            return MessageIndicators(norm, ())
        found: list[Indicator] = []
        parts: list[Part] = []
        last_end: dict[str, int] = {}
        for start, end, (fam, stage, lang, weight) in sorted(hits, key=lambda h: (h[0], -h[1])):
            if start < last_end.get(fam, -1):
                continue  # the same family, inside a longer match
            last_end[fam] = end
            if stage < 0:
                family, _, part = fam.partition("/")
                parts.append(Part(family, part, lang, joined[start:end],
                                  norm.original_span(start, end)))
                continue
            found.append(Indicator(fam, stage, lang, joined[start:end],
                                   norm.original_span(start, end), weight))
        if parts:
            found.extend(self.compose(parts, {i.family for i in found}))
        return MessageIndicators(norm, tuple(found), tuple(parts))

    def compose(self, parts: list[Part], already: set[str]) -> list[Indicator]:
        """The composed families whose every part is among `parts` (and that no phrase of the
        family already matched): one indicator each, its words naming every part."""
        out = []
        for family, comp in self._compositions.items():
            if family in already:
                continue
            chosen = {p.part: p for p in parts if p.family == family}
            if len(chosen) < len(comp.parts):
                continue
            fam = self.lexicon.family(family)
            ordered = sorted(chosen.values(), key=lambda p: p.span)
            here = [p for p in ordered if p.span != (-1, -1)]
            span = (min(p.span[0] for p in here), max(p.span[1] for p in here)) if here \
                else (0, 0)
            out.append(Indicator(family, fam.stage, ordered[0].language,
                                 " … ".join(f"{p.part}: {p.words}" for p in ordered), span,
                                 fam.weight))
        return out


@lru_cache(maxsize=1)
def default_matcher() -> IndicatorMatcher:
    return IndicatorMatcher()


def find_indicators(text: str | bytes | None) -> tuple[Indicator, ...]:
    """Indicators in one message, with the default lexicon."""
    return default_matcher().scan(text).indicators
