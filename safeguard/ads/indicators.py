"""Trafficking indicators in ads, with reasons, from an operator-editable rule set.

The default rules (`data/rules.toml`) hold the four indicators that predicted trafficking in a
2024 study of ads with known case outcomes (trustworthy-provider language, an obscured phone
number, ethnicity stated, youth-suggestive language) plus a few operator rules. Indicators
the same study found NOT predictive (stated age under 23, client screening, "new in town") are
deliberately absent.

The score combines rule weights as independent evidence, ``1 - prod(1 - w)``, so it stays in
[0, 1) and every point of it is traceable to a listed reason. It orders leads for review; it is
never a finding.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from safeguard.ads.extract import Entity
from safeguard.ads.records import Ad
from safeguard.errors import InvalidInput

DISCLAIMER = ("Indicators are leads for a trained reviewer, not proof of trafficking or of any "
              "offence. Many ads with these features are unrelated to exploitation.")
_ENTITY_CONDITIONS = ("obfuscated-phone", "crypto")
_PHONES_AT_LEAST = re.compile(r"^phones>=(\d+)$")
_EVIDENCE = frozenset({"study", "operator"})


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    label: str
    weight: float
    evidence: str
    reason: str
    pattern: re.Pattern[str] | None = None
    entity: str | None = None


@dataclass(frozen=True, slots=True)
class RuleSet:
    version: int
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Hit:
    rule: str
    label: str
    weight: float
    evidence: str
    reason: str
    matches: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]

    def as_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "label": self.label, "weight": self.weight,
                "evidence": self.evidence, "reason": self.reason, "matches": list(self.matches),
                "spans": [list(s) for s in self.spans]}


@dataclass(frozen=True, slots=True)
class Assessment:
    score: float
    hits: tuple[Hit, ...]
    disclaimer: str = DISCLAIMER

    def explain(self) -> str:
        if not self.hits:
            return f"No indicator found (score 0.00). {self.disclaimer}"
        lines = [f"Score {self.score:.2f} from {len(self.hits)} indicator(s):"]
        lines += [f"- {h.label} (+{h.weight:.2f}): {h.reason}" for h in self.hits]
        lines.append(self.disclaimer)
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        return {"score": round(self.score, 4), "hits": [h.as_dict() for h in self.hits],
                "disclaimer": self.disclaimer}


def parse_rules(data: dict[str, Any]) -> RuleSet:
    """Validate a rule-set document; InvalidInput names every problem."""
    problems: list[str] = []
    rules: list[Rule] = []
    version = data.get("version", 1)
    if not isinstance(version, int):
        problems.append("version must be an integer")
        version = 0
    raw_rules = data.get("rule")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise InvalidInput("rule set has no [[rule]] entries")
    seen: set[str] = set()
    for number, raw in enumerate(raw_rules, start=1):
        where = f"rule {number}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be a table")
            continue
        rule_id = raw.get("id")
        if not isinstance(rule_id, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", rule_id):
            problems.append(f"{where}: id must be lower-case letters, digits and dashes")
            continue
        where = f"rule {rule_id!r}"
        if rule_id in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(rule_id)
        weight = raw.get("weight")
        if not isinstance(weight, int | float) or not 0 <= weight < 1:
            problems.append(f"{where}: weight must be a number in [0, 1)")
            weight = 0.0
        evidence = raw.get("evidence", "operator")
        if evidence not in _EVIDENCE:
            problems.append(f"{where}: evidence must be one of {sorted(_EVIDENCE)}")
        label, reason = raw.get("label"), raw.get("reason")
        if not isinstance(label, str) or not isinstance(reason, str):
            problems.append(f"{where}: label and reason must be strings")
            continue
        patterns, entity = raw.get("patterns"), raw.get("entity")
        if (patterns is None) == (entity is None):
            problems.append(f"{where}: give exactly one of patterns or entity")
            continue
        compiled = None
        if patterns is not None:
            if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
                problems.append(f"{where}: patterns must be a list of strings")
                continue
            try:
                compiled = re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\b",
                                      re.IGNORECASE)
            except re.error as error:
                problems.append(f"{where}: bad pattern: {error}")
                continue
        elif entity not in _ENTITY_CONDITIONS and not (
                isinstance(entity, str) and _PHONES_AT_LEAST.match(entity)):
            problems.append(f"{where}: unknown entity condition {entity!r}")
            continue
        rules.append(Rule(rule_id, label, float(weight), str(evidence), reason, compiled,
                          entity if isinstance(entity, str) else None))
    if problems:
        raise InvalidInput("; ".join(problems))
    return RuleSet(version, tuple(rules))


def load_rules(path: Path | None = None) -> RuleSet:
    """The operator's rule file, or the shipped defaults."""
    if path is None:
        return default_rules()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InvalidInput(f"cannot read rule file {path}: {error}") from None
    return parse_rules(data)


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    text = resources.files("safeguard.ads").joinpath("data/rules.toml").read_text("utf-8")
    return parse_rules(tomllib.loads(text))


def assess(ad: Ad, entities: list[Entity], rules: RuleSet | None = None) -> Assessment:
    """Indicators of one ad, with the reason for each and a combined score."""
    rules = rules or default_rules()
    text = ad.full_text
    hits: list[Hit] = []
    for rule in rules.rules:
        matches: list[str] = []
        spans: list[tuple[int, int]] = []
        count = 0
        if rule.pattern is not None:
            for m in rule.pattern.finditer(text):
                matches.append(m.group())
                spans.append(m.span())
        else:
            selected = _entity_hits(rule.entity or "", entities)
            count = len({e.value for e in selected})
            for e in selected:
                matches.append(e.raw + (f" ({e.detail})" if e.detail else ""))
                if e.span:
                    spans.append(e.span)
        if not matches:
            continue
        shown = ", ".join(f"“{m}”" for m in dict.fromkeys(matches[:5]))
        reason = rule.reason.replace("{matches}", shown).replace("{count}", str(count))
        hits.append(Hit(rule.id, rule.label, rule.weight, rule.evidence, reason,
                        tuple(matches), tuple(spans)))
    remaining = 1.0
    for hit in hits:
        remaining *= 1.0 - hit.weight
    return Assessment(score=1.0 - remaining, hits=tuple(hits))


def _entity_hits(condition: str, entities: list[Entity]) -> list[Entity]:
    if condition == "obfuscated-phone":
        # Valid numbers only: a "possible" run of digits is too often a price list or a date.
        return [e for e in entities if e.kind == "phone" and e.obfuscated and e.status == "valid"]
    if condition == "crypto":
        return [e for e in entities if e.kind == "crypto"]
    at_least = _PHONES_AT_LEAST.match(condition)
    if at_least:
        phones = [e for e in entities if e.kind == "phone" and e.status == "valid"]
        if len({e.value for e in phones}) >= int(at_least.group(1)):
            return phones
    return []
