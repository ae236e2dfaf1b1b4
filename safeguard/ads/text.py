"""Text cleaning shared by the ads domain: safe HTML stripping, truncation and a character-level
normalisation that keeps a map back to the original offsets."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import Any

MAX_TEXT_CHARS = 20_000
_TAG_HINT = re.compile(r"<[a-zA-Z/!]|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_BLOCK_TAGS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr"})
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript"})
# Invisible characters used to break up numbers and words; dropped before matching.
INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\ufe0e\ufe0f\u20e3\u180e")
# Look-alikes NFKC leaves alone: emoji and enclosed letters used for O (read as 0 next to digits).
_LOOK_ALIKES = {"\U0001f17e": "O", "\U0001f15e": "O", "\U0001f13e": "O", "\u2b55": "O",
                "\U0001f1f4": "O", "\u24c4": "O", "\u24de": "o",
                # the katakana prolonged sound mark is a word character that reads as a dash
                "\u30fc": "-", "\uff70": "-"}
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _TextOnly(HTMLParser):
    """Collects character data; script/style content is dropped, block tags become newlines.
    The stdlib parser never executes or fetches anything and tolerates broken markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def strip_html(text: str) -> str:
    """Plain text of an HTML fragment (entities decoded). Text without markup is returned as is."""
    if not _TAG_HINT.search(text):
        return text
    parser = _TextOnly()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def clean_text(text: str, *, limit: int = MAX_TEXT_CHARS) -> tuple[str, list[str]]:
    """Strip HTML and control characters, truncate; return the text and notes on what changed."""
    notes: list[str] = []
    if len(text) > 4 * limit:  # bound the HTML parser's work too
        text = text[: 4 * limit]
    stripped = strip_html(text)
    if stripped != text:
        notes.append("HTML removed")
    stripped = _CONTROL.sub(" ", stripped).strip()
    if len(stripped) > limit:
        notes.append(f"text truncated from {len(stripped)} to {limit} characters")
        stripped = stripped[:limit]
    return stripped, notes


def fold(text: str) -> tuple[str, list[int] | None]:
    """NFKC-fold a text character by character and drop invisible characters, returning the
    folded string and, for each folded character, the index of the original character (None
    when the text is ASCII: offsets are then the identity).

    Folding maps fullwidth, mathematical, circled and superscript digits to ASCII; other decimal
    digits (Arabic-Indic, Devanagari, ...) are mapped with `unicodedata.digit`.
    """
    if text.isascii():
        return text, None
    out: list[str] = []
    offsets: list[int] = []
    done = 0
    for run in _NON_ASCII_RUN.finditer(text):  # ASCII stretches between runs are copied whole
        start, end = run.span()
        out.append(text[done:start])
        offsets.extend(range(done, start))
        done = end
        for index in range(start, end):
            char = text[index]
            if char in INVISIBLE:
                continue
            for folded in unicodedata.normalize("NFKC", _LOOK_ALIKES.get(char, char)):
                if not folded.isascii() and folded.isdigit():
                    value = unicodedata.digit(folded, None)
                    folded = str(value) if value is not None else folded
                out.append(folded)
                offsets.extend([index] * len(folded))
    out.append(text[done:])
    offsets.extend(range(done, len(text)))
    return "".join(out), offsets


def word_trie(words: Iterable[str]) -> str:
    """A regular expression alternation of `words` shaped as a trie ("c(?:ero|inco)|...").

    Python's `re` tries each branch of a flat alternation at every position; sharing prefixes
    makes a failed attempt cost one character test instead of one per word."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_body(trie)


def _trie_body(node: dict[str, Any]) -> str:
    branches = [re.escape(char) + _trie_body(child)
                for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    if "" in node:
        return "(?:" + "|".join(branches) + ")?"
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
