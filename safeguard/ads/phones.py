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

from safeguard.ads.text import fold, word_trie

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
# Numbers from 10 to 99 said as words, as phone numbers are read in pairs ("zéro six, douze,
# trente-quatre", "treinta y cuatro", "forty two"). Codes: "E" a complete 10-19, "N" any
# other complete number, "T" a tens word waiting for its unit, "V" French "vingt" (after
# "quatre" it makes 80). `_settle` turns a run of codes into digits.
TENS_WORDS: dict[str, str] = {
    # English
    "ten": "E10", "eleven": "E11", "twelve": "E12", "thirteen": "E13", "fourteen": "E14",
    "fifteen": "E15", "sixteen": "E16", "seventeen": "E17", "eighteen": "E18",
    "nineteen": "E19", "twenty": "T2", "thirty": "T3", "forty": "T4", "fifty": "T5",
    "sixty": "T6", "seventy": "T7", "eighty": "T8", "ninety": "T9",
    # Spanish
    "diez": "E10", "once": "E11", "doce": "E12", "trece": "E13", "catorce": "E14",
    "quince": "E15", "dieciséis": "E16", "dieciseis": "E16", "diecisiete": "E17",
    "dieciocho": "E18", "diecinueve": "E19", "veinte": "N20", "veintiuno": "N21",
    "veintidós": "N22", "veintidos": "N22", "veintitrés": "N23", "veintitres": "N23",
    "veinticuatro": "N24", "veinticinco": "N25", "veintiséis": "N26", "veintiseis": "N26",
    "veintisiete": "N27", "veintiocho": "N28", "veintinueve": "N29", "treinta": "T3",
    "cuarenta": "T4", "cincuenta": "T5", "sesenta": "T6", "setenta": "T7", "ochenta": "T8",
    "noventa": "T9",
    # French ("dix-sept" is dix + sept; "soixante-dix" 70, "quatre-vingt-dix" 90)
    "dix": "E10", "onze": "E11", "douze": "E12", "treize": "E13", "quatorze": "E14",
    "quinze": "E15", "seize": "E16", "vingt": "V", "vingts": "V", "trente": "T3",
    "quarante": "T4", "cinquante": "T5", "soixante": "T6",
}
_ALL_WORDS = {**{w: "W" + d for w, d in NUMBER_WORDS.items()}, **TENS_WORDS}
# Words that are also ordinary words ("one", "un", "dos", "oh", "once", "seize", "ten"): they
# join a run but never start or end one on their own.
_WEAK_WORDS = frozenset({"oh", "one", "un", "une", "una", "uno", "dos", "six", "sept",
                         *TENS_WORDS})
_CONNECTOR = re.compile(r"[\s-]*(?:y|et|and)[\s-]*")  # "treinta y cuatro", "vingt et un"
_WORDS_RE = re.compile(
    "(?:" + "|".join(sorted((re.escape(w) for w in _ALL_WORDS), key=len, reverse=True)) + ")+"
)
_SPLIT_WORDS_RE = re.compile(
    "|".join(sorted((re.escape(w) for w in _ALL_WORDS), key=len, reverse=True))
)
_LETTER_DIGITS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1", "S": "5",
                                "s": "5", "Z": "2", "z": "2", "B": "8"})
# Only tokens that can stand for digits: with a digit, made of number words, or short O/l runs.
# Every branch starts at a word start and the number words form a trie: this scan runs over
# every word of every ad, so it is written to fail fast (about 2.5x faster than a flat list).
_TOKEN = re.compile(
    r"(?<![^\W_])(?:[^\W\d_]*\d[^\W_]*|(?i:(?:" + word_trie(_ALL_WORDS) + r")+)(?![^\W_])"
    r"|[OolI]{1,4}(?![^\W_]))")
_MIXED_PIECE = re.compile(
    r"\d|(?i:" + word_trie(_ALL_WORDS) + r")|[OolI]|[SsZzB](?=[\dOolI])")
_MIXED = re.compile(r"(?:" + _MIXED_PIECE.pattern + r")+")
# Separators, with Unicode look-alike dashes and dots (‐ – — − ー ・ ～ ...).
_GAP = re.compile("[\\s\\-._/\\\\()\\[\\]*+|~,:;•·'\"=>"
                  "\u2010-\u2015\u2212\u30fb\u30fc\uff5e\u2022\u2027]*")
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
    code: str  # "D" + digits, or number-word codes (see TENS_WORDS); `_settle` reads them
    start: int  # folded offsets
    end: int
    kind: str  # "digit" | "word" | "letter"
    weak: bool
    nonascii: bool

    @property
    def digits(self) -> str:
        return _settle(self.code)


def _settle(code: str) -> str:
    """Digits of a run of codes: "T3W4" (thirty four) is 34, "W4VE10W8" (quatre-vingt-dix-huit)
    98, "T6E11" (soixante et onze) 71, a lone tens word "T5" 50."""
    if code.startswith("D") and code.count("D") == 1:
        return code[1:]
    code = code.replace("W4V", "T8").replace("V", "T2")
    code = _TEEN_UNIT.sub(r"E1\1", code)
    code = _FRENCH_TENS.sub(lambda m: f"N{int(m[1]) + 1}{m[2]}", code)
    code = _TENS_UNIT.sub(r"N\1\2", code)
    code = _TENS_ALONE.sub(r"N\g<1>0", code)
    return _CODE_LETTERS.sub("", code)


_TEEN_UNIT = re.compile(r"E10W([7-9])")  # dix-sept, dix-huit, dix-neuf
_FRENCH_TENS = re.compile(r"T([68])E1(\d)")  # soixante-dix..., quatre-vingt-dix...
_TENS_UNIT = re.compile(r"T(\d)W([1-9])")
_TENS_ALONE = re.compile(r"T(\d)")
_CODE_LETTERS = re.compile(r"[A-Z]")


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
            units.append(_Unit("D" + word, start, end, "digit", False, nonascii))
            continue
        if word.isalpha():
            lower = word.lower()
            if _WORDS_RE.fullmatch(lower):
                pieces = _SPLIT_WORDS_RE.findall(lower)
                weak = len(pieces) == 1 and lower in _WEAK_WORDS
                units.append(_Unit("".join(_ALL_WORDS[p] for p in pieces), start, end, "word",
                                   weak, nonascii))
            elif len(word) <= 4 and set(word) <= set("OolI"):
                units.append(_Unit("D" + word.translate(_LETTER_DIGITS), start, end, "letter",
                                   True, nonascii))
            continue
        # Mixed letters and digits ("2O1", "5five5", "Zero123", "5s5"): every letter must be
        # a number word, O/o/l/I, or S/Z/B standing between digits; "2nd", "10s" do not qualify.
        if _MIXED.fullmatch(word):
            pieces = _MIXED_PIECE.findall(word)
            words = any(len(p) > 1 for p in pieces)
            code = "".join(_ALL_WORDS[p.lower()] if len(p) > 1
                           else "D" + p.translate(_LETTER_DIGITS) for p in pieces)
            units.append(_Unit(code, start, end, "word" if words else "letter", False,
                               nonascii))
    return units


def _runs(units: list[_Unit], folded: str) -> list[tuple[list[_Unit], bool]]:
    runs: list[tuple[list[_Unit], bool]] = []
    current: list[_Unit] = []
    for unit in units:
        if current:
            gap = folded[current[-1].end:unit.start]
            if len(gap) <= _MAX_GAP and _GAP.fullmatch(gap) or (
                    current[-1].code[-2:-1] == "T" or current[-1].code.endswith("V")) and (
                    len(gap) <= 6 and _CONNECTOR.fullmatch(gap)):
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
        digits = _settle("".join(u.code for u in candidate))
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
    digits = _settle("".join(u.code for u in candidate))
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
