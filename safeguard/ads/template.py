"""Template view of a network's texts: the words every text shares, with varying slots marked."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

_MAX_TEXTS = 30


@dataclass(frozen=True, slots=True)
class TemplateView:
    template: str  # e.g. "Relaxing {1} in {2}, call now"
    slots: tuple[tuple[str, ...], ...]  # distinct values seen in each slot (up to 10)
    texts_compared: int


def template_view(texts: list[str]) -> TemplateView:
    """Align every text to the first on words; words present in all stay, the rest are slots."""
    texts = [t for t in texts if t.strip()][:_MAX_TEXTS]
    if not texts:
        return TemplateView("", (), 0)
    base = texts[0].split()
    others = [t.split() for t in texts[1:]]
    kept = [True] * len(base)
    alignments: list[list[int | None]] = []  # for each other text: base index -> other index
    for words in others:
        matched = [False] * len(base)
        mapping: list[int | None] = [None] * len(base)
        for block in SequenceMatcher(None, base, words, autojunk=False).get_matching_blocks():
            for k in range(block.size):
                matched[block.a + k] = True
                mapping[block.a + k] = block.b + k
        kept = [k and m for k, m in zip(kept, matched, strict=True)]
        alignments.append(mapping)
    parts: list[str] = []
    slots: list[tuple[str, ...]] = []
    index = 0
    while index < len(base):
        if kept[index]:
            parts.append(base[index])
            index += 1
            continue
        end = index
        while end < len(base) and not kept[end]:
            end += 1
        values = [" ".join(base[index:end])]
        for words, mapping in zip(others, alignments, strict=True):
            left = mapping[index - 1] if index > 0 else -1
            right = mapping[end] if end < len(base) else len(words)
            if left is not None and right is not None:
                values.append(" ".join(words[left + 1:right]))
        slots.append(tuple(dict.fromkeys(values))[:10])
        parts.append("{" + str(len(slots)) + "}")
        index = end
    return TemplateView(" ".join(parts), tuple(slots), len(texts))
