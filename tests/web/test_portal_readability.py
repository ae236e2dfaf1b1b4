"""Readability gate (CR-04): every English child-facing string of the portal at
Flesch-Kincaid grade 6 or below, scored one string at a time.

Strings of fewer than five words (labels, buttons, headings) pass: the formula says nothing
useful about them. A failing string is to be rewritten more simply, never the gate loosened.
"""

from __future__ import annotations

import re

import pytest
import textstat

from safeguard.web.i18n_extract import collect, msgids

pytestmark = pytest.mark.cr("CR-04")

MAX_GRADE = 6.0
MIN_WORDS = 5


def _plain(msgid: str) -> str:
    # Placeholders stand for a name or a country: score them as one short word.
    return re.sub(r"%\(\w+\)[sd]", "it", msgid)


def test_the_scorer_works_offline_and_can_fail() -> None:
    hard = ("Notwithstanding the aforementioned considerations, jurisdictional "
            "determinations necessitate comprehensive institutional deliberation.")
    assert textstat.flesch_kincaid_grade(hard) > MAX_GRADE
    assert textstat.flesch_kincaid_grade("You can tell us. We will help you.") <= MAX_GRADE


def test_every_english_portal_string_is_grade_6_or_below() -> None:
    strings = sorted(msgids(collect()))
    scored = [s for s in strings if len(_plain(s).split()) >= MIN_WORDS]
    assert len(scored) > 50
    too_hard = {s: round(textstat.flesch_kincaid_grade(_plain(s)), 1) for s in scored
                if textstat.flesch_kincaid_grade(_plain(s)) > MAX_GRADE}
    assert too_hard == {}, "rewrite these more simply (grade shown): " + "; ".join(
        f"{grade}: {text!r}" for text, grade in too_hard.items())
