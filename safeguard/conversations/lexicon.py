"""The indicator lexicon: families, stages, weights, multilingual patterns, chat abbreviations and
the words fuzzy correction must leave alone, read from a TOML file (``data/indicators.toml`` by
default; operators may point to their own)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from safeguard.errors import InvalidInput

DEFAULT_PATH = Path(__file__).parent / "data" / "indicators.toml"
LANGUAGES = ("en", "es", "fr")
URGENCY = ("never", "elevated", "always")
_GAP = r"(?:[a-z0-9]+ ){0,2}"
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    stage: int
    weight: float
    urgent: str  # one of URGENCY
    description: str
    patterns: dict[str, tuple[str, ...]]  # language -> regex sources (normalised-text syntax)


@dataclass(frozen=True, slots=True)
class Lexicon:
    families: tuple[Family, ...]
    stages: dict[int, str]
    abbreviations: dict[str, tuple[str, ...]]
    protected: frozenset[str]
    vocabulary: frozenset[str]  # every word the patterns can match literally
    source: str

    def family(self, name: str) -> Family:
        for fam in self.families:
            if fam.name == name:
                return fam
        raise InvalidInput(f"unknown indicator family {name!r}")


def expand(source: str) -> str:
    """A pattern as written in the data file -> a Python regex over normalised text."""
    return source.replace("{w}", _GAP)


def _family(name: str, raw: dict[str, Any], problems: list[str]) -> Family | None:
    stage, weight = raw.get("stage"), raw.get("weight")
    urgent = raw.get("urgent", "never")
    if not isinstance(stage, int) or isinstance(stage, bool) or not 1 <= stage <= 9:
        problems.append(f"family {name}: stage must be a whole number 1..9, got {stage!r}")
    if not isinstance(weight, int | float) or not 0 < float(weight) <= 1:
        problems.append(f"family {name}: weight must be in (0, 1], got {weight!r}")
    if urgent not in URGENCY:
        problems.append(f"family {name}: urgent must be one of {URGENCY}, got {urgent!r}")
    patterns: dict[str, tuple[str, ...]] = {}
    for key, value in raw.items():
        if key in ("stage", "weight", "urgent", "description"):
            continue
        if not (isinstance(value, list) and all(isinstance(v, str) and v for v in value)):
            problems.append(f"family {name}: {key} must be a list of non-empty pattern strings")
            continue
        for src in value:
            try:
                re.compile(expand(src))
            except re.error as exc:
                problems.append(f"family {name} ({key}): bad pattern {src!r}: {exc}")
        patterns[key] = tuple(value)
    if not patterns:
        problems.append(f"family {name}: no patterns")
    if problems:
        return None
    return Family(name, int(stage), float(weight), str(urgent),  # type: ignore[arg-type]
                  str(raw.get("description", "")), patterns)


def parse_lexicon(data: dict[str, Any], source: str = "<memory>") -> Lexicon:
    problems: list[str] = []
    families: list[Family] = []
    raw_families = data.get("families")
    if not isinstance(raw_families, dict) or not raw_families:
        raise InvalidInput(f"{source}: no [families.*] tables")
    for name, raw in raw_families.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or not isinstance(raw, dict):
            problems.append(f"bad family {name!r}")
            continue
        local: list[str] = []
        fam = _family(name, raw, local)
        problems.extend(local)
        if fam:
            families.append(fam)
    abbreviations: dict[str, tuple[str, ...]] = {}
    for key, value in dict(data.get("abbreviations", {})).items():
        if not isinstance(value, str) or not value.strip():
            problems.append(f"abbreviation {key!r}: expansion must be a non-empty string")
            continue
        abbreviations[str(key).lower()] = tuple(value.split())
    if problems:
        raise InvalidInput(f"{source}: " + "; ".join(problems))
    stages = {int(k): str(v) for k, v in dict(data.get("stages", {})).items()}
    vocabulary = {w for fam in families for srcs in fam.patterns.values() for s in srcs
                  for w in _WORD.findall(s.replace("{w}", " "))}
    vocabulary |= {w for exp in abbreviations.values() for w in exp}
    protected = frozenset(str(w) for w in dict(data.get("correction", {})).get("protected", []))
    return Lexicon(tuple(families), stages, abbreviations, protected, frozenset(vocabulary),
                   source)


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Read a lexicon file; every problem in it is named in one InvalidInput."""
    if path is None:
        return default_lexicon()
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"cannot read indicator lexicon {p}: {exc}") from exc
    return parse_lexicon(data, str(p))


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    data = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    return parse_lexicon(data, str(DEFAULT_PATH))
