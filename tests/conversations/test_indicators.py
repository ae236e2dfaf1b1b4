"""Indicators: every family in three languages, through obfuscations, and the token index never
loses a match a plain regex scan would find."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.conversations.indicators import (
    IndicatorMatcher,
    default_matcher,
    find_indicators,
    first_words,
)
from safeguard.conversations.lexicon import default_lexicon, expand, parse_lexicon
from safeguard.errors import InvalidInput

EXAMPLES = {
    "age_probe": ["how old are you?", "what grade are you in", "¿cuántos años tienes?",
                  "en que curso estas", "t'as quel âge", "tu es en quelle classe ?"],
    "supervision_check": ["are your parents home?", "do your parents check your phone",
                          "¿estás sola en casa?", "tus papás revisan tu celular?",
                          "tes parents sont là ?", "ta mère fouille ton téléphone ?"],
    "trust_building": ["you're so mature for your age", "nobody understands you like i do",
                       "eres muy madura", "nadie te entiende como yo",
                       "t'es trop mature", "personne ne te comprend comme moi"],
    "gifts": ["i'll send you robux", "want free vbucks?", "te regalo unos robux",
              "tengo un regalo para ti", "je peux t'envoyer des robux", "j'ai un cadeau pour toi"],
    "secrecy": ["don't tell anyone", "this is our secret", "no le digas a nadie",
                "es nuestro secreto", "dis rien à tes parents", "c'est notre petit secret"],
    "platform_move": ["add me on snapchat", "let's talk somewhere private",
                      "agregame a whatsapp", "hablemos por privado", "ajoute moi sur snap",
                      "on parle en privé"],
    "image_request": ["send me a pic of you", "turn on your camera", "mandame una foto",
                      "prende la camara", "envoie moi une photo", "allume ta caméra"],
    "meeting": ["let's meet at the mall, come alone", "i can pick you up",
                "podemos vernos en persona", "ven sola", "on pourrait se voir samedi",
                "viens seule"],
    "sextortion_threat": ["pay or i'll send the photos to your friends",
                          "i'll share what you sent with your school",
                          "si no pagas voy a mandar tus fotos a todos tus amigos",
                          "tienes 5 horas para pagar",
                          "je vais envoyer tes photos à tous tes amis",
                          "tu as 2 heures pour payer",
                          # written for the third held-out file (first run missed them)
                          "if you don't, your whole class gets them tonight",
                          "o me pagas 100 euros o se las mando a todos tus contactos",
                          "si tu m'envoies pas 50 euros je les montre à toute ton école"],
}

# Chat phrasings from the third held-out file that the lexicon lacked at its first run
# (docs/conversations.md, "held-out 3"): fillers, dropped auxiliaries, misspellings.
FRESH = [("age_probe", "what are you like 13?"),
         ("age_probe", "which bus stop do you get off at"),
         ("supervision_check", "ur parnets chek ur fone?"),
         ("supervision_check", "are your folks usually around in the evenings?"),
         ("trust_building", "u seem suuuper matur 4 ur age"),
         ("trust_building", "you talk like someone way older"),
         ("gifts", "i've got a spare battle pass code"),
         ("gifts", "I got you something"),
         ("secrecy", "just don't go telling your mom and dad"),
         ("secrecy", "no need to mention it at home"),
         ("secrecy", "keep this btwn us"),
         ("image_request", "you got a camera on that laptop?"),
         ("image_request", "snd me a selfy"),
         ("meeting", "come on your own"),
         ("meeting", "I can drop it off")]


@pytest.mark.parametrize(("family", "text"), FRESH)
def test_chat_phrasings_from_the_third_held_out_file(family: str, text: str) -> None:
    assert family in {i.family for i in find_indicators(text)}, (text, find_indicators(text))


@pytest.mark.parametrize(("family", "text"),
                         [(f, t) for f, ts in EXAMPLES.items() for t in ts])
def test_each_family_in_each_language(family: str, text: str) -> None:
    found = find_indicators(text)
    assert family in {i.family for i in found}, (text, found)


def test_match_names_family_stage_words_and_span() -> None:
    text = "ok but dont   t3ll ur p@rents!!"
    [ind] = find_indicators(text)
    assert (ind.family, ind.stage, ind.language) == ("secrecy", 3, "en")
    assert ind.words == "dont tell your parents"
    assert text[ind.span[0]:ind.span[1]] == "dont   t3ll ur p@rents"


@pytest.mark.parametrize("text", [
    "i met him at the park yesterday",
    "i have your photos from the trip",
    "i'll send the photos to everyone tonight",
    "if you don't pay me back i'll tell mom lol",
    "a nature walk",
    "what a lovely secret garden",
    "my parents are cool",
    "send me the homework",
    "the photos you sent from the trip are lovely",
    "if you dont hurry your friends will see the movie without you",
    "range tes dessins, sinon je les montre à tes parents",
    "o me lo devuelves o se lo digo a mamá",
    "no need to tell me twice",
])
def test_benign_phrases_have_no_indicator_of_the_dangerous_kinds(text: str) -> None:
    fams = {i.family for i in find_indicators(text)}
    assert not fams & {"sextortion_threat", "meeting", "image_request", "secrecy"}, fams


_HOMO = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "x": "х", "y": "у"}
_LEET = {"a": "4", "e": "3", "o": "0", "s": "5", "t": "7"}


@st.composite
def obfuscated(draw: st.DrawFn, phrase: str) -> str:
    words = phrase.split()
    out = []
    for w in words:
        how = draw(st.sampled_from(["plain", "homoglyph", "leet", "spaced", "repeat", "upper",
                                    "fullwidth"]))
        if how == "homoglyph":
            w = "".join(_HOMO.get(c, c) for c in w)
        elif how == "leet" and len(w) > 2:
            i = draw(st.integers(1, len(w) - 1))  # keep the first letter: a word, not a number
            w = w[:i] + "".join(_LEET.get(c, c) for c in w[i:])
        elif how == "spaced" and len(w) >= 4:
            w = " ".join(w)
        elif how == "repeat":
            i = draw(st.integers(0, len(w) - 1))
            if w[i].isalpha():
                w = w[:i] + w[i] * 4 + w[i + 1:]
        elif how == "upper":
            w = w.upper()
        elif how == "fullwidth":
            w = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in w)
        out.append(w)
    return "  ".join(out)


PHRASES = [("secrecy", "dont tell your parents"), ("platform_move", "add me on snapchat"),
           ("image_request", "turn on your camera"), ("age_probe", "how old are you"),
           ("meeting", "come alone"), ("supervision_check", "are your parents home"),
           ("secrecy", "no le digas a nadie"), ("image_request", "prende la camara"),
           ("secrecy", "dis rien a tes parents"), ("platform_move", "ajoute moi sur snap")]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PHRASES).flatmap(
    lambda fp: st.tuples(st.just(fp[0]), obfuscated(fp[1]))))
def test_detection_survives_obfuscation(case: tuple[str, str]) -> None:
    family, text = case
    assert family in {i.family for i in find_indicators(text)}, text


def test_every_default_pattern_is_indexed_by_its_first_words() -> None:
    assert default_matcher().unindexed_patterns == 0
    assert first_words("(are|is) your (x|y)") == {"are", "is"}
    assert first_words("(lets |we )?meet") == {"lets", "we", "meet"}
    assert first_words(r"\d+ years") is None


_CORPUS = [t for ts in EXAMPLES.values() for t in ts] + [
    "hey lol how old are you and are your parents home? add me on snap",
    "dont tell anyone, its a surprise party for mom",
    "je vais envoyer tes photos à tous tes amis si tu paies pas",
    "gg wp", "", "😀", "i can pick you up and we should meet in person",
]


@pytest.mark.parametrize("text", _CORPUS)
def test_index_finds_what_a_full_scan_finds(text: str) -> None:
    matcher = default_matcher()
    norm = matcher.normalizer.normalize(text).text
    brute = {f.name for f in default_lexicon().families for srcs in f.patterns.values()
             for s in srcs if re.search(r"\b(?:" + expand(s) + r")\b", norm)}
    assert {i.family for i in matcher.scan(text).indicators} == brute


def test_bad_lexicon_names_every_problem() -> None:
    data = {"families": {"a": {"stage": 1, "weight": 2, "en": ["(unclosed"]},
                         "b": {"stage": 0, "weight": 0.5, "en": ["fine"]}}}
    with pytest.raises(InvalidInput) as err:
        parse_lexicon(data, "custom.toml")
    msg = str(err.value)
    assert "weight must be in (0, 1]" in msg and "bad pattern '(unclosed'" in msg
    assert "family b: stage" in msg


def test_operator_lexicon_is_used() -> None:
    lex = parse_lexicon({"families": {"custom": {"stage": 2, "weight": 0.5,
                                                 "en": ["purple elephant"]}}})
    m = IndicatorMatcher(lex)
    assert [i.family for i in m.scan("the PURPLE eleph4nt").indicators] == ["custom"]


# A threat recognised by its parts (lexicon [compositions], decision 032): exposure + leverage.
THREATS = [
    "0.01 btc to this wallet or they get posted online with your name",
    "send three more tonight unless you want your dad to get them first",
    "50 euros en tarjetas regalo antes del domingo, si no la subo y etiqueto a tu colegio",
    "sinon tes parents vont recevoir celles que tu m'as déjà envoyées",
]
NOT_THREATS = [  # one part only: ordinary chat
    "I'll send them to all your parents tonight through the school app",  # exposure
    "pay up by friday or I'm posting that karaoke video of you lol",  # leverage, no audience
    "les photos du tournoi sont prêtes, je les envoie à tous les parents ce soir",
    "si no me devuelves el libro mañana se lo digo a la profe jaja",
]


@pytest.mark.parametrize("text", THREATS)
def test_a_threat_is_recognised_by_its_parts_and_names_them(text: str) -> None:
    threat = [i for i in find_indicators(text) if i.family == "sextortion_threat"]
    assert threat, text
    assert "exposure: " in threat[0].words and "leverage: " in threat[0].words
    assert threat[0].stage == 5 and threat[0].span[1] > threat[0].span[0]


@pytest.mark.parametrize("text", NOT_THREATS)
def test_one_part_alone_is_not_a_threat(text: str) -> None:
    assert "sextortion_threat" not in {i.family for i in find_indicators(text)}


def test_parts_compose_across_the_same_authors_recent_messages_only() -> None:
    from safeguard.conversations.scoring import ChatMessage, score_conversation

    split = [("T", "it'd be a shame if your followers saw them"), ("U", "what?"),
             ("T", "do what I say and nobody has to")]
    report = score_conversation([ChatMessage(a, t) for a, t in split])
    (urgent,) = report.urgent
    assert (urgent.kind, urgent.author, urgent.message_index) == ("sextortion_threat", "T", 2)
    words = [r.words for r in urgent.reasons if r.family == "sextortion_threat"][0]
    assert "(message 0)" in words and "leverage: do what i say" in words
    # the other person supplying the second part composes nothing
    crossed = [("T", "it'd be a shame if your followers saw them"),
               ("U", "do what I say lol")]
    assert not score_conversation([ChatMessage(a, t) for a, t in crossed]).urgent
    # nor do parts further apart than `within` (3 messages)
    far = [("T", "your followers saw them"), ("U", "?"), ("T", "hm"), ("U", "ok"), ("T", "hi"),
           ("T", "do what I say")]
    assert not score_conversation([ChatMessage(a, t) for a, t in far]).urgent


def test_bad_compositions_are_named() -> None:
    base = {"families": {"x": {"stage": 1, "weight": 0.5, "en": ["hello"]}}}
    with pytest.raises(InvalidInput) as err:
        parse_lexicon({**base, "compositions": {
            "nope": {"parts": {"a": {"en": ["x"]}, "b": {"en": ["y"]}}},
            "x": {"within": -1, "parts": {"a": {"en": ["(bad"]}}}}})
    msg = str(err.value)
    assert "composition nope: no family" in msg and "within must be" in msg
    assert "at least two" in msg
