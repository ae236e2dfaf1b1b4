"""Phone numbers, including obfuscated ones, normalised to E.164 with `phonenumbers`.

Obfuscation is decoded before parsing: the text is NFKC-folded (fullwidth, mathematical, circled
and keycap-emoji digits become ASCII; invisible joiners are dropped), digits spelled out in
English, Spanish or French become digits ("five", "cinco", "cinq", also run together as
"fivefive"), O/o and l/I next to digits become 0 and 1, and runs of digit groups separated by
spaces or punctuation (".", "-", "*", "|", "~", ...) are joined. A run with 7 to 17 digits is a
candidate; `phonenumbers` validates it for the ad's region hint. Numbers that are not valid are
kept with status "possible" rather than dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from safeguard.ads.text import fold

NUMBER_WORDS: dict[str, str] = {
    # English
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
    # Spanish
    "cero": "0", "uno": "1", "una": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5",
    "seis": "6", "siete": "7", "ocho": "8", "nueve": "9",
    # French
    "zéro": "0", "un": "1", "une": "1", "deux": "2", "trois": "3", "quatre": "4", "cinq": "5",
    "sept": "7", "huit": "8", "neuf": "9",
}
# Words that are also ordinary words ("one", "un", "dos", "oh"): they join a run but never start
# or end one on their own.
_WEAK_WORDS = frozenset({"oh", "one", "un", "une", "una", "uno", "dos", "six", "sept"})
_WORDS_RE = re.compile(
    "(?:" + "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True)) + ")+"
)
_SPLIT_WORDS_RE = re.compile(
    "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
)
_LETTER_DIGITS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"})
_WORD_ALTERNATION = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
# Only tokens that can stand for digits: with a digit, made of number words, or short O/l runs.
_TOKEN = re.compile(
    r"[^\W_]*\d[^\W_]*|(?<![^\W_])(?i:(?:" + _WORD_ALTERNATION + r")+)(?![^\W_])"
    r"|(?<![^\W_])[OolI]{1,2}(?![^\W_])")
_GAP = re.compile(r"[\s\-._/\\()\[\]*+|~,:;•·'\"=>]*")
_MAX_GAP = 4
_MIN_DIGITS, _MAX_DIGITS = 7, 17
_NORMAL_SEPARATORS = frozenset(" -.()/+")


@dataclass(frozen=True, slots=True)
class PhoneMatch:
    value: str  # E.164 ("+15551234567") when parsed, else "?" + the digits
    status: str  # "valid" | "possible"
    span: tuple[int, int]  # in the original text
    raw: str
    obfuscated: bool
    tricks: tuple[str, ...]  # which obfuscations were decoded


@dataclass(slots=True)
class _Unit:
    digits: str
    start: int  # folded offsets
    end: int
    kind: str  # "digit" | "word" | "letter"
    weak: bool
    nonascii: bool


def find_phones(text: str, region: str | None = None) -> list[PhoneMatch]:
    """Every phone-number-like run in `text`, decoded and normalised."""
    folded, maybe_offsets = fold(text)
    offsets = maybe_offsets if maybe_offsets is not None else _Identity()
    units = _units(folded, text, offsets, maybe_offsets is None)
    found: list[PhoneMatch] = []
    for run, plus in _runs(units, folded):
        match = _resolve(run, plus, folded, text, offsets, region)
        if match is not None:
            found.append(match)
    return found


def normalise_phone(value: str, region: str | None = None) -> str | None:
    """E.164 of one phone field value (a contact field), or None when it is not a valid number."""
    matches = find_phones(value, region)
    for match in matches:
        if match.status == "valid":
            return match.value
    return None


class _Identity:
    def __getitem__(self, index: int) -> int:
        return index


def _units(folded: str, text: str, offsets: list[int] | _Identity, ascii_only: bool
           ) -> list[_Unit]:
    units: list[_Unit] = []
    for token in _TOKEN.finditer(folded):
        word, start, end = token.group(), token.start(), token.end()
        nonascii = not ascii_only and any(
            not text[offsets[i]].isascii() for i in range(start, end))
        if word.isdigit():
            units.append(_Unit(word, start, end, "digit", False, nonascii))
            continue
        if word.isalpha():
            lower = word.lower()
            if _WORDS_RE.fullmatch(lower):
                pieces = _SPLIT_WORDS_RE.findall(lower)
                weak = len(pieces) == 1 and lower in _WEAK_WORDS
                units.append(_Unit("".join(NUMBER_WORDS[p] for p in pieces), start, end, "word",
                                   weak, nonascii))
            elif len(word) <= 2 and set(word) <= set("OolI"):
                units.append(_Unit(word.translate(_LETTER_DIGITS), start, end, "letter", True,
                                   nonascii))
            continue
        # Mixed letters and digits: only O/o/l/I standing in for digits qualify.
        letters = {c for c in word if not c.isdigit()}
        if letters <= set("OolI"):
            units.append(_Unit(word.translate(_LETTER_DIGITS), start, end, "letter", False,
                               nonascii))
    return units


def _runs(units: list[_Unit], folded: str) -> list[tuple[list[_Unit], bool]]:
    runs: list[tuple[list[_Unit], bool]] = []
    current: list[_Unit] = []
    for unit in units:
        if current:
            gap = folded[current[-1].end:unit.start]
            if len(gap) <= _MAX_GAP and _GAP.fullmatch(gap):
                current.append(unit)
                continue
            runs.append((current, _has_plus(folded, current[0].start)))
        current = [unit]
    if current:
        runs.append((current, _has_plus(folded, current[0].start)))
    return runs


def _has_plus(folded: str, start: int) -> bool:
    before = folded[max(0, start - 3):start]
    return "+" in before


def _trim(run: list[_Unit]) -> list[_Unit]:
    begin, end = 0, len(run)
    while begin < end and run[begin].weak:
        begin += 1
    while end > begin and run[end - 1].weak:
        end -= 1
    return run[begin:end]


def _resolve(run: list[_Unit], plus: bool, folded: str, text: str,
             offsets: list[int] | _Identity,
             region: str | None) -> PhoneMatch | None:
    trimmed = _trim(run)
    if not trimmed or not any(u.kind == "digit" or not u.weak for u in trimmed):
        return None
    candidates = [trimmed]
    if len(trimmed) != len(run):
        candidates.append(run)
    best: tuple[list[_Unit], phonenumbers.PhoneNumber | None, str] | None = None
    for candidate in candidates:
        digits = "".join(u.digits for u in candidate)
        if not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS:
            continue
        number, status = _parse(digits, plus, region)
        if status == "valid":
            best = (candidate, number, status)
            break
        if best is None or len(candidate) > len(best[0]):
            best = (candidate, number, status)  # none valid: keep the longest reading
    if best is None:
        return None
    candidate, number, status = best
    digits = "".join(u.digits for u in candidate)
    start, end = offsets[candidate[0].start], offsets[candidate[-1].end - 1] + 1
    if plus and start > 0 and "+" in text[max(0, start - 3):start]:
        start = text.rindex("+", max(0, start - 3), start)
    if start > 0 and text[start - 1] == "(":
        start -= 1
    if number is not None and status != "unparsed":
        value = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    else:
        value = "?" + digits
    tricks = _tricks(candidate, folded)
    if not text[start:end].isascii() and "look-alike or invisible characters" not in tricks:
        tricks = tuple(sorted({*tricks, "look-alike or invisible characters"}))
    return PhoneMatch(value=value, status="valid" if status == "valid" else "possible",
                      span=(start, end), raw=text[start:end], obfuscated=bool(tricks),
                      tricks=tricks)


def _parse(digits: str, plus: bool, region: str | None
           ) -> tuple[phonenumbers.PhoneNumber | None, str]:
    try:
        number = phonenumbers.parse(("+" if plus else "") + digits, region or "US")
    except phonenumbers.NumberParseException:
        return None, "unparsed"
    if phonenumbers.is_valid_number(number):
        return number, "valid"
    if not plus and region is None:
        # No hint: an international number written without "+" is still worth a try.
        try:
            international = phonenumbers.parse("+" + digits, None)
        except phonenumbers.NumberParseException:
            international = None
        if international is not None and phonenumbers.is_valid_number(international):
            return international, "valid"
    return number, "possible"


def _tricks(run: list[_Unit], folded: str) -> tuple[str, ...]:
    tricks: set[str] = set()
    for unit in run:
        if unit.kind == "word":
            tricks.add("spelled-out digits")
        elif unit.kind == "letter":
            tricks.add("letters for digits")
        if unit.nonascii:
            tricks.add("look-alike or invisible characters")
    gaps = [folded[a.end:b.start] for a, b in zip(run, run[1:], strict=False)]
    if any(set(gap) - _NORMAL_SEPARATORS - {" "} for gap in gaps):
        tricks.add("unusual separators")
    if sum(1 for u in run if u.kind == "digit" and len(u.digits) == 1) >= 4:
        tricks.add("spaced-out digits")
    return tuple(sorted(tricks))
