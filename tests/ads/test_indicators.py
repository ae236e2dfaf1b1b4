from pathlib import Path

import pytest

from safeguard.ads.extract import extract
from safeguard.ads.indicators import DISCLAIMER, assess, default_rules, load_rules
from safeguard.ads.records import make_ad
from safeguard.errors import InvalidInput


def score(text: str):
    ad = make_ad({"site": "s", "id": "1", "text": text, "region": "US"})
    return assess(ad, extract(ad))


def test_neutral_ad_scores_zero():
    result = score("Window cleaning on weekdays. Call (201) 555-0123.")
    assert result.score == 0
    assert result.hits == ()
    assert DISCLAIMER in result.explain()


def test_each_study_indicator_has_a_reason_and_span():
    result = score("Genuine, reliable tutoring by a young student, Brazilian. "
                   "Call two oh one 555 0123")
    rules = {h.rule for h in result.hits}
    assert rules == {"trustworthy-provider", "obscured-phone", "ethnicity-stated",
                     "youth-suggestive"}
    for hit in result.hits:
        assert hit.reason and "{matches}" not in hit.reason
        assert hit.matches
    assert 0.8 < result.score < 1
    assert "not proof" in result.explain()


def test_score_is_monotone_in_hits():
    one = score("Reliable gardening service")
    two = score("Reliable gardening service by a student")
    assert 0 < one.score < two.score < 1


def test_stated_age_alone_is_not_an_indicator():
    # The 2024 study found stated age under 23 not predictive; it is deliberately not a rule.
    assert score("Piano lessons, age 21").hits == ()


def test_default_rules_validate():
    rules = default_rules()
    assert {r.evidence for r in rules.rules} == {"study", "operator"}
    assert all(0 <= r.weight < 1 for r in rules.rules)


def test_operator_rule_file_is_validated(tmp_path: Path):
    good = tmp_path / "rules.toml"
    good.write_text('[[rule]]\nid = "local"\nlabel = "Local"\nweight = 0.2\n'
                    'reason = "found {matches}"\npatterns = ["cash only"]\n')
    rules = load_rules(good)
    ad = make_ad({"site": "s", "id": "1", "text": "Ironing, cash only"})
    [hit] = assess(ad, extract(ad), rules).hits
    assert hit.reason == "found “cash only”"
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nid = "Bad Id"\nlabel = "x"\nweight = 2\nreason = "r"\n'
                   '[[rule]]\nid = "x"\nlabel = "x"\nweight = 0.1\nreason = "r"\n'
                   'patterns = ["("]\n')
    with pytest.raises(InvalidInput) as error:
        load_rules(bad)
    assert "id must be" in str(error.value)
    assert "bad pattern" in str(error.value)


def test_obscured_phone_needs_a_valid_number():
    # "100*150*200" decodes to digits but is no valid number: no indicator.
    assert score("Rates 100*150*200 per session").hits == ()
    [hit] = score("Text 2O1*555*Ol23").hits
    assert hit.rule == "obscured-phone"
    assert "letters for digits" in hit.reason
