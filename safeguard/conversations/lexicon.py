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
class Composition:
    """A family recognised by its parts rather than by one phrase: e.g. a sextortion threat is
    an *exposure* (your pictures reaching your school, "they get posted online") together with
    *leverage* (a payment or more pictures demanded, "unless", "or else"), in one message or in
    the same author's messages at most `within` messages apart. Each part alone is not an
    indicator."""

    family: str
    within: int
    parts: dict[str, dict[str, tuple[str, ...]]]  # part -> language -> regex sources


@dataclass(frozen=True, slots=True)
class Lexicon:
    families: tuple[Family, ...]
    stages: dict[int, str]
    abbreviations: dict[str, tuple[str, ...]]
    protected: frozenset[str]
    vocabulary: frozenset[str]  # every word the patterns can match literally
    source: str
    compositions: tuple[Composition, ...] = ()

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


def _composition(name: str, raw: Any, families: dict[str, Family],
                 problems: list[str]) -> Composition | None:
    if not isinstance(raw, dict):
        problems.append(f"composition {name}: expected a table")
        return None
    if name not in families:
        problems.append(f"composition {name}: no family of that name")
    within = raw.get("within", 3)
    if not isinstance(within, int) or isinstance(within, bool) or not 0 <= within <= 50:
        problems.append(f"composition {name}: within must be a whole number 0..50")
    raw_parts = raw.get("parts")
    parts: dict[str, dict[str, tuple[str, ...]]] = {}
    if not isinstance(raw_parts, dict) or len(raw_parts) < 2:
        problems.append(f"composition {name}: needs at least two [parts.*] tables")
        return None
    for part, langs in raw_parts.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(part)) or not isinstance(langs, dict):
            problems.append(f"composition {name}: bad part {part!r}")
            continue
        parts[part] = {}
        for lang, value in langs.items():
            if not (isinstance(value, list) and value
                    and all(isinstance(v, str) and v for v in value)):
                problems.append(f"composition {name}.{part} ({lang}): must be a list of "
                                "non-empty pattern strings")
                continue
            for src in value:
                try:
                    re.compile(expand(src))
                except re.error as exc:
                    problems.append(f"composition {name}.{part} ({lang}): bad pattern "
                                    f"{src!r}: {exc}")
            parts[part][str(lang)] = tuple(value)
    if problems:
        return None
    return Composition(name, int(within), parts)


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
    compositions: list[Composition] = []
    by_name = {f.name: f for f in families}
    raw_compositions = data.get("compositions", {})
    if not isinstance(raw_compositions, dict):
        problems.append("[compositions] must be tables")
        raw_compositions = {}
    for name, raw in raw_compositions.items():
        local = []
        comp = _composition(str(name), raw, by_name, local)
        problems.extend(local)
        if comp:
            compositions.append(comp)
    if problems:
        raise InvalidInput(f"{source}: " + "; ".join(problems))
    stages = {int(k): str(v) for k, v in dict(data.get("stages", {})).items()}
    vocabulary = {w for fam in families for srcs in fam.patterns.values() for s in srcs
                  for w in _WORD.findall(s.replace("{w}", " "))}
    vocabulary |= {w for comp in compositions for langs in comp.parts.values()
                   for srcs in langs.values() for s in srcs
                   for w in _WORD.findall(s.replace("{w}", " "))}
    vocabulary |= {w for exp in abbreviations.values() for w in exp}
    protected = frozenset(str(w) for w in dict(data.get("correction", {})).get("protected", []))
    return Lexicon(tuple(families), stages, abbreviations, protected, frozenset(vocabulary),
                   source, tuple(compositions))


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
