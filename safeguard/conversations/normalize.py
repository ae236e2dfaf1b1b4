"""Text normalisation for indicator matching.

Chat text hides words in many ways; every one of them is undone here, so the indicator patterns
can be written once, in plain words:

- encodings: bytes are decoded as UTF-8 (with or without BOM), UTF-16/32 with a BOM, then
  Windows-1252, then Latin-1 (which never fails), and the result says which;
- size: text longer than ``max_chars`` (20,000 by default) is cut, with a note;
- look-alikes: NFKC folds fullwidth and mathematical letters (``ｓｅｃｒｅｔ``, ``𝐬𝐞𝐜𝐫𝐞𝐭``);
  accents are stripped; Cyrillic and Greek letters that look Latin are mapped when a word is made
  only of Latin and look-alike letters (``ѕесrеt``), so real Russian or Greek words are left alone;
  zero-width and control characters are removed;
- leetspeak inside words: ``s3cr3t``, ``p@rents``, ``$nap`` (``13yo``, ``10pm`` stay numbers);
- repeated letters: runs of three or more become two (``sooooo`` -> ``soo``), and a word is
  squeezed to single letters when that gives an indicator word (``seeecret`` -> ``secret``);
- spacing tricks: runs of single letters (``s e c r e t``, ``s.e.c.r.e.t``) are joined, and two
  halves of an indicator word are joined (``se cret``);
- chat abbreviations: ``u`` -> ``you``, ``r`` -> ``are``, ``wyd`` -> ``what are you doing``,
  ``q`` -> ``que``, ``tkt`` -> ``tinquiete`` (the list lives in the lexicon file);
- misspellings: a word one edit (insertion, deletion, substitution, transposition) away from an
  indicator word of five letters or more is corrected to it, unless it is a protected word.

The result is lower-case tokens joined by single spaces, with, for each token, its span in the
original text, so a match can be shown to a moderator where it was written.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from safeguard.conversations.lexicon import Lexicon, default_lexicon
from safeguard.errors import InvalidInput
from safeguard.jsonlines import decode_text

DEFAULT_MAX_CHARS = 20_000
_CACHE_LIMIT = 200_000

_CHUNK = re.compile(r"\S+")
_PIECE = re.compile(r"(?:[^\W_]|[@$])+(?:['’ʼ`´](?:[^\W_]|[@$])+)*")
_APOSTROPHES = str.maketrans("", "", "'’ʼ`´")
_REPEAT3 = re.compile(r"([a-z])\1{2,}")
_REPEAT2 = re.compile(r"([a-z])\1+")
_NUMBER_UNIT = re.compile(r"\d+[a-z]{0,3}")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "8": "b"})
_CONTRACTION_TAILS = frozenset({"t", "s", "m", "ll", "re", "ve", "d"})  # don t, i m, you re
_LEET_CHARS = frozenset("0134578@$")
# Cyrillic, Greek and other letters that look Latin, after case folding.
_HOMOGLYPHS = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
    "ԛ": "q", "ԝ": "w", "һ": "h", "ɡ": "g", "ʏ": "y", "ᴄ": "c", "ᴏ": "o", "ᴠ": "v", "ᴡ": "w",
    "ᴢ": "z", "ı": "i", "ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe", "ð": "d",
    "þ": "th", "ŀ": "l",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "μ": "u", "ς": "c",
})
# A few emoji carry meaning in these conversations; they become words (never matched alone).
_EMOJI_WORDS = {"🤫": "shh", "🤐": "shh", "📸": "photo", "📷": "photo", "🎁": "gift",
                "💰": "money", "💵": "money", "💸": "money", "📹": "video"}


@dataclass(frozen=True, slots=True)
class Normalized:
    """Normalised text with each token's span in the original (possibly truncated) text."""

    text: str
    tokens: tuple[str, ...]
    starts: tuple[int, ...]  # original start of each token
    ends: tuple[int, ...]  # original end of each token
    original_length: int
    truncated: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def offsets(self) -> list[int]:
        """Start of each token in `text` (computed on demand: only matches need it)."""
        out, pos = [], 0
        for t in self.tokens:
            out.append(pos)
            pos += len(t) + 1
        return out

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original span covering normalised characters [start, end)."""
        if not self.tokens:
            return (0, 0)
        offsets = self.offsets
        first = max(bisect.bisect_right(offsets, start) - 1, 0)
        last = max(bisect.bisect_right(offsets, max(end - 1, start)) - 1, first)
        return (min(self.starts[first:last + 1]), max(self.ends[first:last + 1]))


def _osa_distance_le1(a: str, b: str) -> bool:
    """True when a and b differ by at most one insertion, deletion, substitution or swap."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1:] == b[i + 1:]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]
    if la > lb:
        return a[i + 1:] == b[i:]
    return a[i:] == b[i + 1:]


def _has_single_run(pieces: list[tuple[str, int, int]]) -> bool:
    run = 0
    for p, _, _ in pieces:
        if len(p) == 1:
            run += 1
            if run >= 3:
                return True
        else:
            run = 0
    return False


def _runs(word: str) -> list[tuple[str, int]]:
    """Run-length encoding: "ccome" -> [("c", 2), ("o", 1), ("m", 1), ("e", 1)]."""
    out: list[tuple[str, int]] = []
    for c in word:
        if out and out[-1][0] == c:
            out[-1] = (c, out[-1][1] + 1)
        else:
            out.append((c, 1))
    return out


def _deletes(word: str) -> Iterable[str]:
    return (word[:i] + word[i + 1:] for i in range(len(word)))


class Normalizer:
    """Normaliser bound to a lexicon (its vocabulary, abbreviations and protected words).

    Thread-safe for reading; its caches are plain dicts bounded by clearing.
    """

    def __init__(self, lexicon: Lexicon | None = None, max_chars: int = DEFAULT_MAX_CHARS):
        if max_chars < 1:
            raise InvalidInput("max_chars must be at least 1")
        self.lexicon = lexicon or default_lexicon()
        self.max_chars = max_chars
        self.vocabulary = self.lexicon.vocabulary
        self.abbreviations = self.lexicon.abbreviations
        self.protected = self.lexicon.protected | self.vocabulary
        self._squeezed: dict[str, list[str]] = {}
        self._deleted: dict[str, set[str]] = {}
        for word in sorted(self.vocabulary):
            if len(word) >= 2:
                self._squeezed.setdefault(_REPEAT2.sub(r"\1", word), []).append(word)
            if len(word) >= 5:
                self._deleted.setdefault(word, set()).add(word)
                for d in _deletes(word):
                    self._deleted.setdefault(d, set()).add(word)
        # Proper prefixes of indicator words: the only tokens that can start a split word.
        self._heads = frozenset(w[:i] for w in self.vocabulary if len(w) >= 3
                                for i in range(1, len(w)))
        self._chunks: dict[str, tuple[tuple[str, int, int], ...]] = {}
        self._ascii_pieces: dict[str, str] = {}
        self._finals: dict[str, tuple[str, ...]] = {}
        self._ascii_finals: dict[str, tuple[str, ...]] = {}
        self._corrections: dict[str, str] = {}

    # ------------------------------------------------------------------ words
    def _clean(self, chunk: str) -> str:
        s = unicodedata.normalize("NFKC", chunk).casefold()
        s = "".join(_EMOJI_WORDS.get(c, c) if c in _EMOJI_WORDS else c for c in s) \
            if any(c in _EMOJI_WORDS for c in s) else s
        s = "".join(c for c in unicodedata.normalize("NFKD", s)
                    if unicodedata.category(c) not in ("Mn", "Me", "Cf", "Cc", "Cs", "Co"))
        if not s.isascii():
            words = []
            for word in re.split(r"([\W_]+)", s):
                mapped = word.translate(_HOMOGLYPHS)
                if mapped != word and all(c.isascii() or not c.isalpha() for c in mapped):
                    word = mapped
                words.append(word)
            s = "".join(words)
        return s

    def _piece(self, piece: str) -> str:
        piece = piece.translate(_APOSTROPHES)
        if not piece or piece in self.abbreviations:
            return piece
        if _LEET_CHARS.intersection(piece):
            if piece[0] == "@" and len(piece) > 1:  # a mention: @name
                piece = piece.lstrip("@")
            has_letter = any(c.isalpha() for c in piece)
            if not has_letter:
                piece = piece.replace("$", "").replace("@", "")
            elif not _NUMBER_UNIT.fullmatch(piece) and piece not in self.abbreviations:
                leet = piece.translate(_LEET)
                if "1" in piece and leet not in self.vocabulary:
                    alt = piece.replace("1", "l").translate(_LEET)
                    if alt in self.vocabulary:
                        leet = alt
                piece = leet
        if len(piece) > 2 and _REPEAT3.search(piece):
            piece = self._unstretch(piece)
        return piece

    def _unstretch(self, piece: str) -> str:
        """A run of three letters or more is emphasis, not spelling: it stands for one letter
        or two, whichever gives an indicator word ("commmme" is "come", "ttttell" is "tell").
        When both do, a run that ends the word stands for two ("telllll" is "tell", not
        French "tel"), elsewhere for one ("commmme" is not French "comme")."""
        single = _REPEAT3.sub(r"\1", piece)
        double = _REPEAT3.sub(r"\1\1", piece)
        if single in self.vocabulary and (
                double not in self.vocabulary or not _REPEAT3.search(piece[-3:])):
            return single
        return double

    def _chunk(self, chunk: str) -> tuple[tuple[str, int, int], ...]:
        hit = self._chunks.get(chunk)
        if hit is not None:
            return hit
        if chunk.isascii():
            s = chunk.lower()
            pieces = tuple((p, m.start(), m.end()) for m in _PIECE.finditer(s)
                           if (p := self._piece(m.group())))
        else:
            s = self._clean(chunk)
            n = len(chunk)
            pieces = tuple((p, 0, n) for m in _PIECE.finditer(s) if (p := self._piece(m.group())))
        if len(self._chunks) >= _CACHE_LIMIT:
            self._chunks.clear()
        self._chunks[chunk] = pieces
        return pieces

    def correct(self, token: str) -> str:
        """The indicator word a misspelt token stands for, or the token itself."""
        hit = self._corrections.get(token)
        if hit is not None:
            return hit
        out = token
        if len(token) >= 3 and token not in self.protected and token.isalpha() \
                and token.isascii():
            squeezed = _REPEAT2.sub(r"\1", token)
            if squeezed in self._squeezed:  # the longest word the repeats can stand for
                runs = _runs(token)
                fits = [w for w in self._squeezed[squeezed]
                        if all(n <= m for (_, n), (_, m) in zip(_runs(w), runs, strict=True))]
                if fits:
                    out = max(fits, key=len)
            elif len(token) >= 5:
                candidates: set[str] = set(self._deleted.get(token, ()))
                for d in _deletes(token):
                    candidates |= self._deleted.get(d, set())
                best = sorted((abs(len(w) - len(token)), w) for w in candidates
                              if _osa_distance_le1(token, w))
                if best:
                    out = best[0][1]
        if len(self._corrections) >= _CACHE_LIMIT:
            self._corrections.clear()
        self._corrections[token] = out
        return out

    # ------------------------------------------------------------------ text
    def _final(self, piece: str) -> tuple[str, ...]:
        """A normalised piece of two or more characters -> its final tokens (abbreviation
        expanded, misspelling corrected); cached."""
        hit = self._finals.get(piece)
        if hit is None:
            exp = self.abbreviations.get(piece)
            if exp is not None:
                hit = exp
            elif len(piece) >= 3 and piece not in self.vocabulary:
                fixed = self.correct(piece)
                hit = self.abbreviations.get(fixed) or (fixed,)
            else:
                hit = (piece,)
            if len(self._finals) >= _CACHE_LIMIT:
                self._finals.clear()
            self._finals[piece] = hit
        return hit

    def _ascii_piece(self, raw: str) -> str:
        hit = self._ascii_pieces.get(raw)
        if hit is None:
            hit = self._piece(raw)
            if len(self._ascii_pieces) >= _CACHE_LIMIT:
                self._ascii_pieces.clear()
            self._ascii_pieces[raw] = hit
        return hit

    def _ascii_final(self, raw: str) -> tuple[str, ...]:
        piece = self._piece(raw)
        if not piece:
            out: tuple[str, ...] = ()
        elif len(piece) == 1:
            out = self.abbreviations.get(piece) or (piece,)
        else:
            out = self._final(piece)
        if len(self._ascii_finals) >= _CACHE_LIMIT:
            self._ascii_finals.clear()
        self._ascii_finals[raw] = out
        return out

    def _fast_ascii(self, lower: str) -> tuple[list[str], list[int], list[int]] | None:
        """The common case in one pass: ASCII text without runs of one-letter pieces.
        None sends the text down the general path."""
        finals = self._ascii_finals
        toks: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        run = 0
        for m in _PIECE.finditer(lower):
            raw = m.group()
            hit = finals.get(raw)
            if hit is None:
                hit = self._ascii_final(raw)
            if len(raw) == 1 or (len(hit) == 1 and len(hit[0]) == 1):
                run += 1
                if run >= 3:
                    return None
            else:
                run = 0
            if not hit:
                continue
            a, b = m.span()
            if len(hit) == 1:
                toks.append(hit[0])
                starts.append(a)
                ends.append(b)
            else:
                toks.extend(hit)
                starts.extend([a] * len(hit))
                ends.extend([b] * len(hit))
        return toks, starts, ends

    def normalize(self, text: str | bytes | None) -> Normalized:
        notes: list[str] = []
        if text is None:
            text = ""
        if isinstance(text, bytes | bytearray | memoryview):
            raw = bytes(text)
            if len(raw) > self.max_chars * 4:
                raw = raw[: self.max_chars * 4]
            text, note = decode_text(raw)
            if note:
                notes.append(note)
        elif not isinstance(text, str):
            raise InvalidInput(f"message text must be a string, got {type(text).__name__}")
        original_length = len(text)
        truncated = False
        if original_length > self.max_chars:
            text = text[: self.max_chars]
            truncated = True
            notes.append(f"message truncated from {original_length:,} to "
                         f"{self.max_chars:,} characters before analysis")
        if text.isascii():
            fast = self._fast_ascii(text.lower())
            if fast is not None:
                toks, starts, ends = fast
                if not toks:
                    if text.strip():
                        notes.append("no words: emoji or symbols only")
                    return Normalized("", (), (), (), original_length, truncated, tuple(notes))
                self._join_halves(toks, starts, ends)
                return Normalized(" ".join(toks), tuple(toks), tuple(starts), tuple(ends),
                                  original_length, truncated, tuple(notes))
        pieces: list[tuple[str, int, int]]
        if text.isascii():
            ap = self._ascii_piece
            pieces = [(p, m.start(), m.end()) for m in _PIECE.finditer(text.lower())
                      if (p := ap(m.group()))]
        else:
            pieces = []
            for m in _CHUNK.finditer(text):
                base = m.start()
                pieces.extend((p, base + a, base + b) for p, a, b in self._chunk(m.group()))
        if not pieces:
            if text.strip():
                notes.append("no words: emoji or symbols only")
            return Normalized("", (), (), (), original_length, truncated, tuple(notes))
        if _has_single_run(pieces):
            pieces = self._join_spaced(pieces)
        toks = []
        starts = []
        ends = []
        final = self._final
        for p, a, b in pieces:
            if len(p) == 1:
                exp: tuple[str, ...] = self.abbreviations.get(p) or (p,)
            else:
                exp = final(p)
            if len(exp) == 1:
                toks.append(exp[0])
                starts.append(a)
                ends.append(b)
            else:
                toks.extend(exp)
                starts.extend([a] * len(exp))
                ends.extend([b] * len(exp))
        self._join_halves(toks, starts, ends)
        return Normalized(" ".join(toks), tuple(toks), tuple(starts), tuple(ends),
                          original_length, truncated, tuple(notes))

    def _join_spaced(self, pieces: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
        """s e c r e t -> secret: runs of four or more one-character pieces (three when the
        result is an indicator word). A run breaks where the gap between letters changes
        ("y o u r  p a r e n t s" is two words); a run that is not a word itself is split into
        indicator words when it can be ("d o n t t e l l" -> "dont tell")."""
        out: list[tuple[str, int, int]] = []
        i, n = 0, len(pieces)
        while i < n:
            j = i
            gap: int | None = None
            apart = False
            while j < n and len(pieces[j][0]) == 1 and (pieces[j][0].isalpha()
                                                       or pieces[j][0] in _LEET_CHARS):
                if j > i:
                    g = max(pieces[j][1] - pieces[j - 1][2], 0)
                    if gap is None:
                        gap = g
                    elif g != gap:
                        if j == i + 2 and g < gap and self._joinable(self._run(pieces, i + 1)):
                            # a one-letter word before a spaced-out one ("a  n a d i e"):
                            # the wider gap sets it apart when the rest makes a word
                            apart = True
                            break
                        if self._joinable(pieces[i:j]):
                            break
                j += 1
            if apart:
                out.append(pieces[i])
                i += 1
                continue
            run = j - i
            if run >= 3:
                joined = "".join(p for p, _, _ in pieces[i:j])
                word = self._piece(joined)
                if sum(c.isalpha() for c in joined) >= 2 and (
                        run >= 4 or word in self.vocabulary):
                    a, b = pieces[i][1], pieces[j - 1][2]
                    parts = [word] if word in self.vocabulary else self._segment(word)
                    out.extend((w, a, b) for w in parts)
                    i = j
                    continue
            end = max(j, i + 1)
            out.extend(pieces[i:end])
            i = end
        return out

    @staticmethod
    def _run(pieces: list[tuple[str, int, int]], i: int) -> list[tuple[str, int, int]]:
        """The one-character pieces from i on that share the gap between the first two."""
        j, gap = i + 1, None
        while j < len(pieces) and len(pieces[j][0]) == 1 and (pieces[j][0].isalpha()
                                                              or pieces[j][0] in _LEET_CHARS):
            g = max(pieces[j][1] - pieces[j - 1][2], 0)
            if gap is not None and g != gap:
                break
            gap = g
            j += 1
        return pieces[i:j]

    def _joinable(self, run: list[tuple[str, int, int]]) -> bool:
        if len(run) < 3:
            return False
        joined = "".join(p for p, _, _ in run)
        return sum(c.isalpha() for c in joined) >= 2 and (
            len(run) >= 4 or self._piece(joined) in self.vocabulary)

    def _segment(self, word: str) -> list[str]:
        """Split a run of letters into the fewest indicator words, or leave it whole."""
        n = len(word)
        if n > 60:
            return [word]
        best: list[list[str] | None] = [None] * (n + 1)
        best[0] = []
        for end in range(1, n + 1):
            for start in range(max(0, end - 20), end):
                prev = best[start]
                piece = word[start:end]
                if prev is not None and len(piece) > 1 and piece in self.vocabulary and (
                        best[end] is None or len(prev) + 1 < len(best[end] or ())):
                    best[end] = [*prev, piece]
        return best[n] or [word]

    def _join_halves(self, toks: list[str], starts: list[int], ends: list[int]) -> None:
        """se cret -> secret: two adjacent tokens that make an indicator word of five letters or
        more when at least one of them is not an indicator word."""
        vocabulary, heads = self.vocabulary, self._heads
        i = 0
        while i < len(toks) - 1:
            a = toks[i]
            if a not in heads:
                i += 1
                continue
            b = toks[i + 1]
            if (a not in vocabulary or b not in vocabulary) \
                    and (len(a) + len(b) >= 5 or b in _CONTRACTION_TAILS) \
                    and (a + b) in vocabulary and a.isalpha() and b.isalpha():
                toks[i:i + 2] = [a + b]
                starts[i:i + 2] = [starts[i]]
                ends[i:i + 2] = [ends[i + 1]]
            else:
                i += 1


_DEFAULT: Normalizer | None = None


def default_normalizer() -> Normalizer:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Normalizer()
    return _DEFAULT


def normalize(text: str | bytes | None, *, max_chars: int | None = None) -> Normalized:
    """Normalise one message with the default lexicon (see module docstring)."""
    if max_chars is not None and max_chars != DEFAULT_MAX_CHARS:
        return Normalizer(default_lexicon(), max_chars).normalize(text)
    return default_normalizer().normalize(text)
